/*
 * fuzz_address.c - libFuzzer harness for policy/address.h.
 *
 * The input is a MAIL FROM argument (what libmilter hands over: a C string,
 * so it is cut at the first NUL). Besides not crashing, the parser must
 * keep address.h's promises: one class, every field terminated, a reason
 * for every refusal, and normalised output that is a fixed point (parsing
 * a NORMAL result's domain or address again gives the same thing back).
 * The same bytes also go to address_domain() and address_literal(), which
 * take HELO names, From: domains and literals directly.
 */
#include <ctype.h>
#include <string.h>

#include "policy/address.h"
#include "tests/fuzz/fuzz.h"

/* check_fields - every buffer terminated; the class matches what is filled in */
static void check_fields(const struct address *a)
{
	FUZZ_CHECK(fuzz_terminated(a->local, sizeof(a->local)));
	FUZZ_CHECK(fuzz_terminated(a->domain, sizeof(a->domain)));
	FUZZ_CHECK(fuzz_terminated(a->addr, sizeof(a->addr)));
	FUZZ_CHECK(fuzz_terminated(a->reason, sizeof(a->reason)));
	switch (a->cls) {
	case ADDR_NULL:
		FUZZ_CHECK(!a->local[0] && !a->domain[0] && !a->addr[0] && !a->reason[0]);
		break;
	case ADDR_NORMAL:
	case ADDR_LITERAL:
		FUZZ_CHECK(a->local[0] && a->domain[0] && !a->reason[0]);
		break;
	case ADDR_INVALID:
		FUZZ_CHECK(!a->local[0] && !a->domain[0] && !a->addr[0] && a->reason[0]);
		break;
	default:
		FUZZ_CHECK(!"class out of range");
	}
}

/* check_hostname - what address_domain() accepted is a short LDH name in lower case */
static void check_hostname(const char *name)
{
	size_t n = strlen(name);
	char again[FACT_NAME_MAX], why[ADDR_REASON_MAX];

	FUZZ_CHECK(n > 0 && n <= 253);
	for (const char *p = name; *p; p++)
		FUZZ_CHECK(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '.');
	FUZZ_CHECK(name[0] != '.' && name[n - 1] != '.' && !strstr(name, ".."));
	/* normalising a normalised name changes nothing */
	FUZZ_CHECK(address_domain(name, again, sizeof(again), why, sizeof(why)) == 0);
	FUZZ_CHECK(strcmp(again, name) == 0);
}

/* check_parse - address_parse on arg and, for accepted ones, on its own output */
static void check_parse(const char *arg)
{
	struct address a, b;
	enum addr_class c;

	memset(&a, 0xa5, sizeof(a));
	c = address_parse(arg, &a);
	FUZZ_CHECK(c == a.cls);
	check_fields(&a);
	if (c == ADDR_NORMAL)
		check_hostname(a.domain);
	if (c == ADDR_LITERAL) {
		char why[ADDR_REASON_MAX];
		FUZZ_CHECK(address_literal(a.domain, why, sizeof(why)) == 0);
	}
	if (c == ADDR_NORMAL || c == ADDR_LITERAL) {
		/* the normalised address is a fixed point */
		FUZZ_CHECK(address_parse(a.addr, &b) == c);
		FUZZ_CHECK(strcmp(a.addr, b.addr) == 0 && strcmp(a.domain, b.domain) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *arg = fuzz_cstr(data, size);
	char out[FACT_NAME_MAX], why[ADDR_REASON_MAX];

	if (!arg)
		return 0;
	check_parse(arg);

	memset(why, 0xa5, sizeof(why));
	if (address_domain(arg, out, sizeof(out), why, sizeof(why)) == 0)
		check_hostname(out);
	else
		FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0]);
	/* a small output buffer must be refused cleanly, never overrun (ASan watches its end) */
	char *small = malloc(8);
	if (small && address_domain(arg, small, 8, NULL, 0) == 0)
		FUZZ_CHECK(strlen(small) < 8);
	free(small);

	memset(why, 0xa5, sizeof(why));
	if (address_literal(arg, why, sizeof(why)) != 0)
		FUZZ_CHECK(fuzz_terminated(why, sizeof(why)) && why[0]);
	free(arg);
	return 0;
}
