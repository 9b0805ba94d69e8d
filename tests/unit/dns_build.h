/*
 * dns_build.h - build DNS reply packets from a one-line description, for
 * unit tests (the fake resolver, dns_parse tests, SPF/DKIM tests).
 *
 * spec is a list of records separated by ';' (not inside quotes). Each record is
 *     [@owner] [/TTL] TYPE rdata          (TTL in seconds, default 300)
 * where owner defaults to the question name and TYPE/rdata is one of
 *     A 192.0.2.1            AAAA 2001:db8::1
 *     MX 10 mx1.example.org  MX 0 .        (the null MX)
 *     CNAME target.example   PTR host.example   NS ns1.example
 *     TXT "v=spf1 " "-all"   (one or more quoted strings; \" and \\ escape)
 *     SOA ns.example hostmaster.example 1 3600 600 86400 300
 *                            (serial refresh retry expire minimum)
 * Names are written uncompressed. NULL or "" means no records. A record
 * written "&[@owner] TYPE rdata" goes to the additional section (glue),
 * one written "^..." to the authority section (an SOA for a negative
 * answer), each section in that order whatever the places in spec.
 *
 * Output is the full reply: header (QR, RD, RA set; the given RCODE),
 * the question, the answer, authority and additional records.
 */
#ifndef MXGUARD_TEST_DNS_BUILD_H
#define MXGUARD_TEST_DNS_BUILD_H

#include <stddef.h>

/* dns_build - returns the packet length, or -1 when spec is bad or buf too small. */
int dns_build(unsigned char *buf, size_t size, const char *qname, int qtype,
	      int rcode, const char *spec);

#endif
