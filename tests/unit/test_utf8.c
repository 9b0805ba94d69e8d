/*
 * test_utf8.c - policy/utf8.h: what counts as UTF-8 (RFC 3629).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy/utf8.h"

static size_t len(const char *s)
{
	return utf8_seq_len((const unsigned char *)s);
}

static void test_valid(void **state)
{
	(void)state;
	assert_int_equal(len("a"), 1);
	assert_int_equal(len("\xc3\xa9"), 2);              /* é */
	assert_int_equal(len("\xe2\x82\xac"), 3);          /* € */
	assert_int_equal(len("\xf0\x9f\x93\xa7"), 4);      /* 📧 */
	assert_int_equal(len("\xf4\x8f\xbf\xbf"), 4);      /* U+10FFFF */
}

static void test_invalid(void **state)
{
	(void)state;
	assert_int_equal(len("\x80"), 0);                  /* a stray continuation byte */
	assert_int_equal(len("\xc0\xaf"), 0);              /* overlong '/' */
	assert_int_equal(len("\xe0\x80\xaf"), 0);          /* overlong, 3 bytes */
	assert_int_equal(len("\xed\xa0\x80"), 0);          /* a surrogate */
	assert_int_equal(len("\xf4\x90\x80\x80"), 0);      /* past U+10FFFF */
	assert_int_equal(len("\xe2\x82"), 0);              /* cut by the NUL */
	assert_int_equal(len("\xff"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
