/*
 * test_facts.c - the fact table (policy/facts.def) holds together: every
 * row is well formed whatever rows are added, and the generic reading,
 * printing and skipping work for each kind.
 */
/* system */
#include <arpa/inet.h>
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "policy/facts.h"

/* expected_size - the size a kind's C type must have */
static size_t expected_size(enum fact_kind k)
{
	switch (k) {
	case FACT_KIND_ENUM:        return sizeof(int);
	case FACT_KIND_BOOL:        return sizeof(bool);
	case FACT_KIND_ADDRESS:     return sizeof(struct fact_address);
	case FACT_KIND_DOMAIN:      return sizeof(fact_domain_t);
	case FACT_KIND_MAILBOX:     return sizeof(fact_mailbox_t);
	case FACT_KIND_TEXT:        return sizeof(fact_text_t);
	case FACT_KIND_DOMAIN_SET:  return sizeof(struct fact_domain_set);
	case FACT_KIND_ADDRESS_SET: return sizeof(struct fact_address_set);
	}
	return 0;
}

static struct facts probe;

static void test_rows_well_formed(void **state)
{
	(void)state;
	assert_true(FACT_COUNT >= 17);
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		const struct fact_def *d = &fact_table[i];

		assert_non_null(d->name);
		for (const char *p = d->name; *p; p++)
			assert_true(islower((unsigned char)*p) || *p == '_' || isdigit((unsigned char)*p));
		assert_true(d->first <= i && i < d->first + d->instances);
		if (d->instances == 1)
			assert_int_equal(facts_find(d->name, NULL), i);
		else
			assert_int_equal(facts_find(d->name, NULL), FACT_COUNT);   /* a family is named per list */
		assert_int_equal(d->size, expected_size(d->kind));
		assert_true(d->offset + (i - d->first + 1) * d->size <= sizeof(struct facts));
		assert_true(d->stage >= CHECK_STAGE_CONNECT && d->stage <= CHECK_STAGE_EOM);
		assert_true(d->about && strlen(d->about) > 10);
		if (d->kind == FACT_KIND_ENUM) {
			assert_true(d->nvalues >= 3);
			assert_string_equal(d->values[0], "unknown");
			for (unsigned v = 1; v < d->nvalues; v++)
				assert_int_equal(facts_value_parse((enum fact_id)i, d->values[v]), v);
		} else {
			assert_null(d->values);
			assert_int_equal(d->nvalues, 0);
		}
		/* no two facts (nor two instances of a family) share storage */
		for (unsigned j = 0; j < i; j++) {
			const char *pi = facts_field(&probe, (enum fact_id)i), *pj = facts_field(&probe, (enum fact_id)j);

			assert_true(pj + fact_table[j].size <= pi || pi + d->size <= pj);
		}
	}
	assert_int_equal(facts_find("no_such_fact", NULL), FACT_COUNT);
}

static void test_enum_values(void **state)
{
	(void)state;
	assert_string_equal(facts_mx_name(MX_NULLMX), "nullmx");
	assert_string_equal(facts_spf_name(SPFR_PERMERROR), "permerror");
	assert_string_equal(facts_dkim_name(DKIMR_SKIPPED), "skipped");
	assert_string_equal(facts_mx_name((enum mx_result)99), "unknown");
	assert_int_equal(facts_value_parse(FID_mx, "NullMX"), MX_NULLMX);
	assert_int_equal(facts_value_parse(FID_mx, "unknown"), 0);
	assert_int_equal(facts_value_parse(FID_helo, "x"), 0);
}

static void test_render(void **state)
{
	struct facts f = { 0 };
	char buf[FACT_RENDER_MAX];

	(void)state;
	for (unsigned i = 0; i < FACT_COUNT; i++)
		assert_null(facts_render(&f, (enum fact_id)i, -1, buf, sizeof buf));
	f.known = FACT_MASK_ALL;
	assert_string_equal(facts_render(&f, FID_sender, -1, buf, sizeof buf), "<>");
	assert_string_equal(facts_render(&f, FID_mx, -1, buf, sizeof buf), "unknown");
	assert_string_equal(facts_render(&f, FID_trusted, -1, buf, sizeof buf), "no");
	snprintf(f.sender, sizeof f.sender, "a@example.org");
	f.mx = MX_VALID;
	f.trusted = true;
	snprintf(f.client_ip.text, sizeof f.client_ip.text, "192.0.2.1");
	assert_string_equal(facts_render(&f, FID_sender, -1, buf, sizeof buf), "<a@example.org>");
	assert_string_equal(facts_render(&f, FID_mx, -1, buf, sizeof buf), "valid");
	assert_string_equal(facts_render(&f, FID_mx, 0, buf, sizeof buf), "valid");
	assert_string_equal(facts_render(&f, FID_trusted, -1, buf, sizeof buf), "yes");
	assert_string_equal(facts_render(&f, FID_client_ip, -1, buf, sizeof buf), "192.0.2.1");
	assert_int_equal(facts_set_count(&f, FID_mx), 1);
	/* a short buffer is cut, never overrun */
	assert_string_equal(facts_render(&f, FID_sender, -1, buf, 4), "<a@");
	/* a buffer without its NUL is read no further than its size */
	memset(f.helo, 'h', sizeof f.helo);
	assert_int_equal(strlen(facts_render(&f, FID_helo, -1, buf, sizeof buf)), sizeof f.helo);
}

static void test_skip(void **state)
{
	struct facts f = { 0 };
	char buf[FACT_RENDER_MAX];

	(void)state;
	snprintf(f.mx_detail, sizeof f.mx_detail, "old");
	f.dkim_aligned = true;
	facts_skip(&f, FBIT(mx) | FBIT(mx_detail) | FBIT(dkim) | FBIT(dkim_aligned));
	assert_int_equal(f.mx, MX_SKIPPED);
	assert_int_equal(f.dkim, DKIMR_SKIPPED);
	assert_false(f.dkim_aligned);
	assert_string_equal(f.mx_detail, "");
	assert_true(facts_known(&f, FID_mx) && facts_known(&f, FID_mx_detail));
	assert_false(facts_known(&f, FID_spf));
	assert_string_equal(facts_render(&f, FID_mx, -1, buf, sizeof buf), "skipped");
}

static void test_stage(void **state)
{
	(void)state;
	assert_int_equal(facts_stage(0), CHECK_STAGE_NONE);
	assert_int_equal(facts_stage(FBIT(mx) | FBIT(mx_detail)), CHECK_STAGE_MAIL);
	assert_int_equal(facts_stage(FBIT(spf) | FBIT(dkim)), CHECK_STAGE_EOM);
	assert_int_equal(facts_stage(FACT_CLIENT), CHECK_STAGE_CONNECT);
}

/* test_name_set - names packed in order, once each; full by count or by octets: partial */
static void test_name_set(void **state)
{
	struct fact_domain_set s;
	char name[FACT_NAME_MAX];

	(void)state;
	memset(&s, 0, sizeof s);
	assert_true(facts_set_add_name(&s, "mx1.example.org"));
	assert_true(facts_set_add_name(&s, "mx2.example.org"));
	assert_true(facts_set_add_name(&s, "mx1.example.org"));     /* already there */
	assert_int_equal(s.count, 2);
	assert_string_equal(facts_set_name(&s, 0), "mx1.example.org");
	assert_string_equal(facts_set_name(&s, 1), "mx2.example.org");
	assert_false(s.partial);

	/* FACT_SET_NAMES short names fit; one more does not */
	memset(&s, 0, sizeof s);
	for (unsigned i = 0; i < FACT_SET_NAMES; i++) {
		snprintf(name, sizeof name, "mx%u.example.org", i);
		assert_true(facts_set_add_name(&s, name));
	}
	assert_false(facts_set_add_name(&s, "one-more.example.org"));
	assert_int_equal(s.count, FACT_SET_NAMES);
	assert_true(s.partial);
	assert_string_equal(facts_set_name(&s, FACT_SET_NAMES - 1), "mx31.example.org");

	/* the longest names (253 octets): at least 8 fit, then the set is partial and intact */
	memset(&s, 0, sizeof s);
	unsigned n = 0;
	for (;;) {
		memset(name, 'a' + (int)(n % 26), 253);
		name[253] = '\0';
		name[63] = name[127] = name[191] = '.';
		name[0] = (char)('0' + n % 10);
		name[1] = (char)('0' + n / 10);
		if (!facts_set_add_name(&s, name))
			break;
		n++;
	}
	assert_true(n >= 8);
	assert_int_equal(s.count, n);
	assert_true(s.partial);
	assert_int_equal(strlen(facts_set_name(&s, n - 1)), 253);
	assert_int_equal(facts_set_name(&s, n - 1)[0], (char)('0' + (n - 1) % 10));
}

/* test_address_set - IPv4 and IPv6 kept once each; full: partial; sorted by family then octets */
static void test_address_set_add(void **state)
{
	struct fact_address_set s;
	unsigned char v4[4] = { 192, 0, 2, 1 }, v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	char buf[FACT_RENDER_MAX];
	struct facts f;

	(void)state;
	memset(&s, 0, sizeof s);
	assert_true(facts_set_add_addr(&s, AF_INET6, v6));
	assert_true(facts_set_add_addr(&s, AF_INET, v4));
	assert_true(facts_set_add_addr(&s, AF_INET, v4));
	assert_int_equal(s.count, 2);
	facts_addrs_sort(&s);
	assert_int_equal(s.addr[0].sa.sa_family, AF_INET);
	memset(&f, 0, sizeof f);
	f.mx_addr = s;
	f.known = FBIT(mx_addr);
	assert_string_equal(facts_render(&f, FID_mx_addr, -1, buf, sizeof buf), "192.0.2.1,2001:db8::");

	memset(&s, 0, sizeof s);
	for (unsigned i = 0; i < FACT_SET_ADDRS; i++) {
		v4[3] = (unsigned char)i;
		assert_true(facts_set_add_addr(&s, AF_INET, v4));
	}
	v4[2] = 3;
	assert_false(facts_set_add_addr(&s, AF_INET, v4));
	assert_true(s.partial);
	assert_int_equal(s.count, FACT_SET_ADDRS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_well_formed),
		cmocka_unit_test(test_enum_values),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_stage),
		cmocka_unit_test(test_name_set),
		cmocka_unit_test(test_address_set_add),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
