/*
 * netlist.h - lists of IPv4/IPv6 networks (CIDR), for trusted_networks,
 * bogus_networks and rule conditions such as "client_ip in {...}".
 *
 * A netlist is built once (at config load) and then only read, so one
 * list may be shared by every connection thread without locks.
 * The owner frees it with netlist_free().
 */
#ifndef MXGUARD_NETLIST_H
#define MXGUARD_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct netlist;

/* netlist_new - an empty list; NULL when out of memory. */
struct netlist *netlist_new(void);
void netlist_free(struct netlist *);

/*
 * netlist_add - add "192.0.2.0/24", "2001:db8::/32", or a bare address
 * (a host route). Returns 0, or -1 with a reason in err ("bad prefix
 * length in ...", "not an IP address: ...").
 */
int netlist_add(struct netlist *, const char *cidr, char *err, size_t errlen);

/* netlist_contains - is the address (AF_INET or AF_INET6) in the list? IPv4-mapped IPv6 matches IPv4 entries. */
bool netlist_contains(const struct netlist *, const struct sockaddr *);
/* netlist_contains_raw - same for a raw address: family AF_INET (4 bytes) or AF_INET6 (16 bytes). */
bool netlist_contains_raw(const struct netlist *, int family, const void *addr);

/* netlist_count - number of entries. */
size_t netlist_count(const struct netlist *);

/* netlist_bogus_default - the design's default bogus_networks; NULL when out of memory. */
struct netlist *netlist_bogus_default(void);

#endif
