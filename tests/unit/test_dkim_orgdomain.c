/* test_dkim_orgdomain.c - organizational domains and alignment (policy/orgdomain.c). */

/* system */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libraries */
#include <cmocka.h>

/* project */
#include "policy/orgdomain.h"

static struct orgdomain *sys_list;

/* setup_sys - load Debian's list once for the tests that use it. */
static int setup_sys(void **state)
{
	char err[256];

	(void)state;
	sys_list = orgdomain_load(NULL, err, sizeof err);
	if (sys_list == NULL)
		fprintf(stderr, "orgdomain_load: %s\n", err);
	return sys_list == NULL ? -1 : 0;
}

static int teardown_sys(void **state)
{
	(void)state;
	orgdomain_free(sys_list);
	return 0;
}

/* expect_org - orgdomain_get(name) succeeds and gives want. */
static void expect_org(const char *name, const char *want)
{
	char out[256];

	assert_true(orgdomain_get(sys_list, name, out, sizeof out));
	assert_string_equal(out, want);
}

static void test_registrable(void **state)
{
	(void)state;
	expect_org("mail.example.com", "example.com");
	expect_org("example.com", "example.com");
	expect_org("a.b.example.co.uk", "example.co.uk");
	expect_org("MAIL.Example.COM.", "example.com");
	/* private section of the list: every blogspot user is its own org */
	expect_org("x.foo.blogspot.com", "foo.blogspot.com");
	/* unlisted TLD: the default "*" rule applies */
	expect_org("deep.sub.example.test", "example.test");
	/* IDN in A-label form */
	expect_org("www.xn--85x722f.xn--55qx5d.cn", "xn--85x722f.xn--55qx5d.cn");
}

static void test_public_suffix_is_own_org(void **state)
{
	(void)state;
	expect_org("co.uk", "co.uk");
	expect_org("com", "com");
}

static void test_rejects_bad_names(void **state)
{
	char out[256];
	char longname[300];

	(void)state;
	assert_false(orgdomain_get(sys_list, "", out, sizeof out));
	assert_false(orgdomain_get(sys_list, NULL, out, sizeof out));
	assert_false(orgdomain_get(sys_list, ".", out, sizeof out));
	assert_false(orgdomain_get(sys_list, "a..example.com", out, sizeof out));
	assert_false(orgdomain_get(sys_list, ".example.com", out, sizeof out));
	assert_false(orgdomain_get(sys_list, "bad name.com", out, sizeof out));
	assert_false(orgdomain_get(sys_list, "evil\r\n.com", out, sizeof out));
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_false(orgdomain_get(sys_list, longname, out, sizeof out));
	/* does not fit the caller's buffer */
	assert_false(orgdomain_get(sys_list, "example.com", out, 5));
	assert_false(orgdomain_get(NULL, "example.com", out, sizeof out));
}

static void test_relaxed(void **state)
{
	(void)state;
	assert_true(orgdomain_aligned_relaxed(sys_list, "mail.example.com", "example.com"));
	assert_true(orgdomain_aligned_relaxed(sys_list, "a.example.com", "B.EXAMPLE.com."));
	assert_false(orgdomain_aligned_relaxed(sys_list, "example.com", "example.org"));
	/* sharing only a public suffix is not alignment */
	assert_false(orgdomain_aligned_relaxed(sys_list, "foo.co.uk", "bar.co.uk"));
	assert_false(orgdomain_aligned_relaxed(sys_list, "a.blogspot.com", "b.blogspot.com"));
	assert_false(orgdomain_aligned_relaxed(sys_list, "", "example.com"));
}

static void test_strict(void **state)
{
	(void)state;
	assert_true(orgdomain_aligned_strict("Example.com", "example.com."));
	assert_false(orgdomain_aligned_strict("mail.example.com", "example.com"));
	assert_false(orgdomain_aligned_strict("", ""));
}

/* test_own_file - a list from a given file replaces the system one. */
static void test_own_file(void **state)
{
	char dir[] = "/tmp/orgdomain-XXXXXX", path[300], err[256], out[256];
	struct orgdomain *od;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/list.dat", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("// ===BEGIN ICANN DOMAINS===\nzz\nshared.zz\n// ===END ICANN DOMAINS===\n", f);
	fclose(f);

	od = orgdomain_load(path, err, sizeof err);
	assert_non_null(od);
	assert_true(orgdomain_get(od, "a.b.shared.zz", out, sizeof out));
	assert_string_equal(out, "b.shared.zz");
	assert_true(orgdomain_get(od, "a.b.zz", out, sizeof out));
	assert_string_equal(out, "b.zz");
	assert_false(orgdomain_aligned_relaxed(od, "x.shared.zz", "y.shared.zz"));
	orgdomain_free(od);
	unlink(path);
	rmdir(dir);

	assert_null(orgdomain_load("/nonexistent/psl.dat", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/psl.dat"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registrable),
		cmocka_unit_test(test_public_suffix_is_own_org),
		cmocka_unit_test(test_rejects_bad_names),
		cmocka_unit_test(test_relaxed),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_own_file),
	};
	return cmocka_run_group_tests(tests, setup_sys, teardown_sys);
}
