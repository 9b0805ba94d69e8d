/*
 * netlist.c - CIDR lists: parse, match.
 *
 * Entries are kept as 16-byte IPv6 addresses (IPv4 as ::ffff:a.b.c.d with
 * the prefix shifted by 96), so one comparison routine serves both families.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/netlist.h"

struct net_entry {
	unsigned char addr[16];
	unsigned prefix;          /* 0..128 in the mapped space */
};

struct netlist {
	struct net_entry *entries;
	size_t count, cap;
};

/* netlist_new - see netlist.h */
struct netlist *netlist_new(void)
{
	return calloc(1, sizeof(struct netlist));
}

/* netlist_free - see netlist.h */
void netlist_free(struct netlist *nl)
{
	if (!nl)
		return;
	free(nl->entries);
	free(nl);
}

/* netlist_count - see netlist.h */
size_t netlist_count(const struct netlist *nl)
{
	return nl ? nl->count : 0;
}

/* map_v4 - IPv4 address to its ::ffff:0:0/96 form */
static void map_v4(unsigned char out[16], const void *v4)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* mask_bits - clear every bit after prefix, so "10.1.2.3/8" stores 10.0.0.0 */
static void mask_bits(unsigned char a[16], unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;
		if (keep >= 8)
			continue;
		a[i] &= (unsigned char)(0xff00u >> keep);
	}
}

/* netlist_add - see netlist.h */
int netlist_add(struct netlist *nl, const char *cidr, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	struct net_entry e;
	unsigned char raw[16];
	unsigned max, prefix;
	const char *slash;

	if (strlen(cidr) >= sizeof(buf)) {
		snprintf(err, errlen, "not a network: %.60s...", cidr);
		return -1;
	}
	strcpy(buf, cidr);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';

	if (inet_pton(AF_INET, buf, raw) == 1) {
		map_v4(e.addr, raw);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, raw) == 1) {
		memcpy(e.addr, raw, 16);
		max = 128;
	} else {
		snprintf(err, errlen, "not an IP address: %s", buf);
		return -1;
	}
	prefix = max;
	if (slash) {
		char *end;
		errno = 0;
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || p > max) {
			snprintf(err, errlen, "bad prefix length in %s (0..%u)", cidr, max);
			return -1;
		}
		prefix = (unsigned)p;
	}
	e.prefix = max == 32 ? prefix + 96 : prefix;
	mask_bits(e.addr, e.prefix);

	if (nl->count == nl->cap) {
		size_t cap = nl->cap ? nl->cap * 2 : 8;
		struct net_entry *n = realloc(nl->entries, cap * sizeof(*n));
		if (!n) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		nl->entries = n;
		nl->cap = cap;
	}
	nl->entries[nl->count++] = e;
	return 0;
}

/* entry_matches - does the 16-byte address fall inside the entry? */
static bool entry_matches(const struct net_entry *e, const unsigned char a[16])
{
	unsigned full = e->prefix / 8, rest = e->prefix % 8;
	if (memcmp(e->addr, a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (a[full] & mask) == e->addr[full];
}

/* netlist_contains_raw - see netlist.h */
bool netlist_contains_raw(const struct netlist *nl, int family, const void *addr)
{
	unsigned char a[16];

	if (!nl)
		return false;
	if (family == AF_INET)
		map_v4(a, addr);
	else if (family == AF_INET6)
		memcpy(a, addr, 16);
	else
		return false;
	for (size_t i = 0; i < nl->count; i++)
		if (entry_matches(&nl->entries[i], a))
			return true;
	return false;
}

/* netlist_contains - see netlist.h */
bool netlist_contains(const struct netlist *nl, const struct sockaddr *sa)
{
	if (!sa)
		return false;
	if (sa->sa_family == AF_INET)
		return netlist_contains_raw(nl, AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return netlist_contains_raw(nl, AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

/* netlist_bogus_default - see netlist.h */
struct netlist *netlist_bogus_default(void)
{
	/* private, loopback, link-local, CGNAT, multicast, reserved, and RFC 6890's
	 * special-purpose ranges nobody receives mail at: IETF protocol
	 * assignments, the three TEST-NETs, benchmarking, IPv6 documentation
	 * and discard-only */
	static const char *const bogus[] = {
		"0.0.0.0/8", "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12",
		"192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "224.0.0.0/4",
		"240.0.0.0/4", "192.0.0.0/24", "192.0.2.0/24", "198.51.100.0/24",
		"203.0.113.0/24", "198.18.0.0/15",
		"::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "2001:db8::/32", "100::/64",
	};
	char err[128];
	struct netlist *nl = netlist_new();

	if (!nl)
		return NULL;
	for (size_t i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++)
		if (netlist_add(nl, bogus[i], err, sizeof(err)) != 0) {
			netlist_free(nl);
			return NULL;
		}
	return nl;
}
