/*
 * test_jsonline.c - replay/jsonline.h: a decision line read field by
 * field, prefixes, escapes decoded in place, values of unknown shape,
 * and every way a line is refused (with its status).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/jsonline.h"

static struct jl_line L;
static char buf[65536];

/* parse - a copy of text through jl_parse */
static enum jl_status parse(const char *text)
{
	size_t n = strlen(text);

	assert_true(n < sizeof buf);
	memcpy(buf, text, n + 1);
	return jl_parse(&L, buf, n);
}

/* str - the string value of key (fails the test when it is not one) */
static const char *str(const char *key)
{
	const struct jl_field *f = jl_find(&L, key);

	if (!f || f->type != JL_STRING)
		fail_msg("%s is not a string field", key);
	return f->str;
}

static void test_decision_line(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"queue_id\":\"4XyZ1\",\"client_ip\":\"192.0.2.1\",\"from_domain\":null,"
			       "\"mx_addr\":[\"192.0.2.1\",\"2001:db8::1\"],\"mx_host\":[],\"dry_run\":false,"
			       "\"ok\":true,\"elapsed_ms\":12,\"stage\":\"rcpt\"}"), JL_OK);
	assert_int_equal(L.nfields, 9);
	assert_string_equal(str("queue_id"), "4XyZ1");
	assert_int_equal(jl_find(&L, "from_domain")->type, JL_NULL);
	assert_int_equal(jl_find(&L, "mx_addr")->type, JL_ARRAY);
	assert_int_equal(jl_find(&L, "mx_addr")->n, 2);
	assert_string_equal(jl_find(&L, "mx_addr")->items[1], "2001:db8::1");
	assert_int_equal(jl_find(&L, "mx_host")->type, JL_ARRAY);
	assert_int_equal(jl_find(&L, "mx_host")->n, 0);
	assert_int_equal(jl_find(&L, "dry_run")->type, JL_FALSE);
	assert_int_equal(jl_find(&L, "ok")->type, JL_TRUE);
	assert_int_equal(jl_find(&L, "elapsed_ms")->type, JL_NUMBER);
	assert_string_equal(jl_find(&L, "elapsed_ms")->str, "12");
	assert_string_equal(str("stage"), "rcpt");
	assert_null(jl_find(&L, "rule"));
}

static void test_prefix_and_blanks(void **state)
{
	(void)state;
	/* syslog, journal and stderr prefixes; blanks inside and after; a CR */
	assert_int_equal(parse("Dec  3 10:00:00 mx mxguard[123]: {\"a\":\"b\"}"), JL_OK);
	assert_string_equal(str("a"), "b");
	assert_int_equal(parse("2026-12-03T10:00:00+00:00 mx mxguard[9]: { \"a\" : [ \"x\" , \"y\" ] , \"n\" : -0.5e-3 }  \r"), JL_OK);
	assert_int_equal(jl_find(&L, "a")->n, 2);
	assert_string_equal(jl_find(&L, "n")->str, "-0.5e-3");
	/* a brace in the prefix that opens no object is skipped */
	assert_int_equal(parse("note {x} then {\"k\":1}"), JL_OK);
	assert_string_equal(jl_find(&L, "k")->str, "1");
	assert_int_equal(parse("{}"), JL_OK);
	assert_int_equal(L.nfields, 0);
}

static void test_escapes(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"s\":\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\",\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\\u0001\"}"), JL_OK);
	assert_string_equal(str("s"), "q\"b\\s/n\nt\tr\rb\bf\f");
	assert_string_equal(str("u"), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\x01");
	/* what mxguard writes for bytes that are not UTF-8: U+FFFD */
	assert_int_equal(parse("{\"helo\":\"a\\ufffdb\",\"k\\u0041y\":\"raw \xc3\xa9\"}"), JL_OK);
	assert_string_equal(str("helo"), "a\xef\xbf\xbd" "b");
	assert_string_equal(str("kAy"), "raw \xc3\xa9");
}

static void test_other_values(void **state)
{
	(void)state;
	/* a future version's values of another shape are read through as JL_OTHER */
	assert_int_equal(parse("{\"a\":{\"b\":[1,{\"c\":[\"d\"]}],\"e\":null},\"f\":[1,\"x\"],\"g\":\"h\"}"), JL_OK);
	assert_int_equal(L.nfields, 3);
	assert_int_equal(jl_find(&L, "a")->type, JL_OTHER);
	assert_int_equal(jl_find(&L, "f")->type, JL_OTHER);
	assert_string_equal(str("g"), "h");
	assert_int_equal(L.nitems, 0);
}

/* refused - text gives status st with this error */
static void refused(const char *text, enum jl_status st, const char *why)
{
	enum jl_status got = parse(text);

	if (got != st || !L.error || strcmp(L.error, why) != 0)
		fail_msg("%s: got %s (%s), want %s (%s)", text, jl_status_name(got), L.error ? L.error : "-",
			 jl_status_name(st), why);
	assert_true(L.error_at <= strlen(text));
}

static void test_refused(void **state)
{
	(void)state;
	refused("", JL_NONE, "no JSON object in the line");
	refused("queue_id=4XyZ1 client_ip=192.0.2.1 action=reject", JL_NONE, "no JSON object in the line");
	refused("{\"queue_id\":\"4XyZ1\",\"helo\":\"cli", JL_BROKEN, "the line ends inside a string");
	refused("{\"queue_id\":\"4XyZ1\",", JL_BROKEN, "expected a key");
	refused("{\"queue_id\":\"4XyZ1\"", JL_BROKEN, "the line ends inside the object");
	refused("{\"a\":\"b\"} trailing", JL_BROKEN, "text after the object");
	refused("{\"a\":\"b\"}{\"c\":1}", JL_BROKEN, "text after the object");
	refused("{\"a\" \"b\"}", JL_BROKEN, "expected : after a key");
	refused("{\"a\":\"b\" \"c\":1}", JL_BROKEN, "expected , or } after a value");
	refused("{\"a\":tru}", JL_BROKEN, "not a value");
	refused("{\"a\":01}", JL_BROKEN, "expected , or } after a value");
	refused("{\"a\":-}", JL_BROKEN, "not a value");
	refused("{\"a\":1.}", JL_BROKEN, "a number without digits after its point");
	refused("{\"a\":1e+}", JL_BROKEN, "a number without digits in its exponent");
	refused("{\"a\":'b'}", JL_BROKEN, "not a value");
	refused("{\"a\":[\"b\" \"c\"]}", JL_BROKEN, "expected , or ] in an array");
	refused("{\"a\":\"\\x41\"}", JL_BROKEN, "unknown escape");
	refused("{\"a\":\"\\u12\"}", JL_BROKEN, "\\u needs four hex digits");
	refused("{\"a\":\"\\u0000\"}", JL_BROKEN, "\\u0000 cannot be held in a string");
	refused("{\"a\":\"\\ud800\"}", JL_BROKEN, "a high surrogate without its low one");
	refused("{\"a\":\"\\udc00\"}", JL_BROKEN, "a low surrogate without its high one");
	refused("{\"a\":\"tab\there\"}", JL_BROKEN, "a control character in a string");
	refused("{\"a\":\"\xff\"}", JL_BAD_UTF8, "bytes that are not UTF-8 in a string");
	refused("{\"a\":\"\xc0\xaf\"}", JL_BAD_UTF8, "bytes that are not UTF-8 in a string");        /* overlong '/' */
	refused("{\"a\":\"\xed\xa0\x80\"}", JL_BAD_UTF8, "bytes that are not UTF-8 in a string");    /* a surrogate */
	refused("{\"a\":\"\xf4\x90\x80\x80\"}", JL_BAD_UTF8, "bytes that are not UTF-8 in a string"); /* past U+10FFFF */
	refused("{\"a\":\"\xe2\x82\"}", JL_BAD_UTF8, "bytes that are not UTF-8 in a string");        /* cut short */
}

static void test_nul_and_limits(void **state)
{
	char *p;
	size_t n;

	(void)state;
	/* a NUL byte before the end */
	memcpy(buf, "{\"a\":\"b\"}\0x", 11);
	assert_int_equal(jl_parse(&L, buf, 11), JL_BROKEN);
	assert_string_equal(L.error, "a NUL byte in the line");
	memcpy(buf, "{\"a\":\"b\0c\"}", 12);
	assert_int_equal(jl_parse(&L, buf, 11), JL_BROKEN);
	/* nesting */
	p = buf;
	p += sprintf(p, "{\"a\":");
	for (int i = 0; i < 40; i++)
		*p++ = '[';
	for (int i = 0; i < 40; i++)
		*p++ = ']';
	strcpy(p, "}");
	assert_int_equal(jl_parse(&L, buf, strlen(buf)), JL_LIMIT);
	assert_string_equal(L.error, "values nested deeper than the reader follows");
	/* keys */
	p = buf;
	*p++ = '{';
	for (int i = 0; i <= JL_FIELDS_MAX; i++)
		p += sprintf(p, "%s\"k%d\":1", i ? "," : "", i);
	strcpy(p, "}");
	assert_int_equal(jl_parse(&L, buf, strlen(buf)), JL_LIMIT);
	assert_string_equal(L.error, "more keys than the reader holds");
	/* array strings */
	p = buf;
	p += sprintf(p, "{\"a\":[");
	for (int i = 0; i <= JL_ITEMS_MAX; i++)
		p += sprintf(p, "%s\"x\"", i ? "," : "");
	strcpy(p, "]}");
	n = strlen(buf);
	assert_int_equal(jl_parse(&L, buf, n), JL_LIMIT);
	assert_string_equal(L.error, "more array strings than the reader holds");
}

static void test_duplicates_kept(void **state)
{
	(void)state;
	/* the reader keeps both; jl_find gives the first (the caller refuses such lines) */
	assert_int_equal(parse("{\"a\":\"1\",\"a\":\"2\"}"), JL_OK);
	assert_int_equal(L.nfields, 2);
	assert_string_equal(str("a"), "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_line),
		cmocka_unit_test(test_prefix_and_blanks),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_other_values),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul_and_limits),
		cmocka_unit_test(test_duplicates_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
