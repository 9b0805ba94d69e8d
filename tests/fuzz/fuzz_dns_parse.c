/*
 * fuzz_dns_parse.c - libFuzzer harness for policy/dns_parse.h.
 *
 * The input is a raw DNS reply, as hostile as the sender's name servers
 * care to make it. Every reader runs over it; besides not crashing (ASan
 * sees any read past the exact-size buffer libFuzzer hands us), each must
 * keep dns_parse.h's promises: results within max and *total, names
 * terminated and short enough to pass on, MX sorted by preference, TXT
 * text terminated at len, an empty list on error.
 */
#include <arpa/nameser.h>
#include <sys/socket.h>
#include <string.h>

#include "policy/dns_parse.h"
#include "tests/fuzz/fuzz.h"

/* check_name - a host name as the readers hand it on */
static void check_name(const char *name, size_t cap)
{
	FUZZ_CHECK(fuzz_terminated(name, cap));
	FUZZ_CHECK(strlen(name) < DNS_HOST_BUF);
}

/* check_mx - MX with a small and a larger max, so truncation and sorting both run */
static void check_mx(const uint8_t *data, int len)
{
	static const size_t maxes[] = { 1, 16 };

	for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
		struct dns_mx mx[16];
		size_t total = (size_t)-1;
		int n;

		memset(mx, 0xa5, sizeof(mx));
		n = dns_parse_mx(data, len, mx, maxes[m], &total);
		FUZZ_CHECK(n >= -2 && n <= (int)maxes[m]);
		if (n < 0)
			continue;
		FUZZ_CHECK(total >= (size_t)n);
		for (int i = 0; i < n; i++) {
			check_name(mx[i].host, sizeof(mx[i].host));
			FUZZ_CHECK(mx[i].pref <= 65535);
			if (i > 0)
				FUZZ_CHECK(mx[i - 1].pref <= mx[i].pref);
		}
	}
}

/* check_addrs - A/AAAA, each formatted back to text */
static void check_addrs(const uint8_t *data, int len)
{
	struct dns_addr a[8];
	size_t total = 0;
	int n = dns_parse_addrs(data, len, a, 8, &total);

	FUZZ_CHECK(n >= -2 && n <= 8);
	if (n >= 0)
		FUZZ_CHECK(total >= (size_t)n);
	for (int i = 0; i < n; i++) {
		char buf[64];
		FUZZ_CHECK(a[i].family == AF_INET || a[i].family == AF_INET6);
		FUZZ_CHECK(dns_addr_format(&a[i], buf, sizeof(buf)) == buf);
		FUZZ_CHECK(fuzz_terminated(buf, sizeof(buf)) && buf[0]);
	}
}

/* check_names - PTR or NS targets */
static void check_names(const uint8_t *data, int len, int type)
{
	char names[4][DNS_HOST_BUF];
	size_t total = 0;
	int n = type == ns_t_ns ? dns_parse_ns(data, len, names, 4, &total)
				: dns_parse_ptr(data, len, names, 4, &total);

	FUZZ_CHECK(n >= -2 && n <= 4);
	if (n >= 0)
		FUZZ_CHECK(total >= (size_t)n);
	for (int i = 0; i < n; i++)
		check_name(names[i], sizeof(names[i]));
}

/* check_txt - TXT records owned by the list; empty on error */
static void check_txt(const uint8_t *data, int len)
{
	struct dns_txt_list l;
	int n;

	memset(&l, 0xa5, sizeof(l));
	n = dns_parse_txt(data, len, &l);
	FUZZ_CHECK(n >= -2 && n <= DNS_TXT_MAX);
	if (n < 0) {
		FUZZ_CHECK(l.rec == NULL && l.count == 0);
		return;
	}
	FUZZ_CHECK(l.count == (size_t)n);
	for (size_t i = 0; i < l.count; i++) {
		FUZZ_CHECK(l.rec[i].text != NULL);
		FUZZ_CHECK(l.rec[i].text[l.rec[i].len] == '\0');
	}
	dns_txt_free(&l);
}

/* check_follow - each qtype the checks ask for */
static void check_follow(const uint8_t *data, int len)
{
	static const int qtypes[] = { ns_t_a, ns_t_aaaa, ns_t_mx, ns_t_txt, ns_t_ptr, ns_t_ns, ns_t_cname };

	for (size_t q = 0; q < sizeof(qtypes) / sizeof(qtypes[0]); q++) {
		char target[DNS_NAME_BUF];
		int r;

		memset(target, 0xa5, sizeof(target));
		r = dns_parse_follow(data, len, qtypes[q], target, sizeof(target));
		FUZZ_CHECK(r == -1 || r == DNS_FOLLOW_HAS_TYPE || r == DNS_FOLLOW_CNAME ||
			   r == DNS_FOLLOW_EMPTY);
		if (r == DNS_FOLLOW_CNAME)
			FUZZ_CHECK(fuzz_terminated(target, sizeof(target)));
		/* the canonical name: terminated, within the buffer, also a short one */
		memset(target, 0xa5, sizeof(target));
		r = dns_parse_canonical(data, len, qtypes[q], target, sizeof(target));
		FUZZ_CHECK(r == 0 || r == -1);
		if (r == 0)
			FUZZ_CHECK(fuzz_terminated(target, sizeof(target)));
		r = dns_parse_canonical(data, len, qtypes[q], target, 8);
		FUZZ_CHECK(r == -1 || strlen(target) < 8);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int len, rc;

	if (size > 65535)   /* a DNS message is at most 64 KiB (TCP length prefix) */
		return 0;
	len = (int)size;
	rc = dns_parse_rcode(data, len);
	FUZZ_CHECK(rc >= -1 && rc <= 15);
	FUZZ_CHECK((rc == -1) == (size < 12));   /* the fixed header */
	check_follow(data, len);
	check_mx(data, len);
	check_addrs(data, len);
	check_names(data, len, ns_t_ptr);
	check_names(data, len, ns_t_ns);
	check_txt(data, len);
	{
		/* how long the cache would keep it: a TTL with the top bit set is 0 */
		unsigned long ttl = 1;
		int t = dns_parse_ttl(data, len, &ttl);

		FUZZ_CHECK(t >= -1 && t <= 1);
		FUZZ_CHECK(t != 0 || ttl <= 0x7fffffffUL);
	}
	return 0;
}
