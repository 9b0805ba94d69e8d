/*
 * dns_status.c - names and classes of resolver statuses (policy/resolver.h).
 *
 * Kept apart from resolver.c so that the unit tests, which link a fake
 * resolver instead, share these with the daemon.
 */
#include "policy/resolver.h"

/* dns_status_temporary - SERVFAIL, timeout and "other" may clear up; the rest are answers */
bool dns_status_temporary(enum dns_status s)
{
	return s == DNS_SERVFAIL || s == DNS_TIMEOUT || s == DNS_ERROR;
}

/* dns_status_name - for logs and details */
const char *dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:       return "ok";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_NODATA:   return "nodata";
	case DNS_SERVFAIL: return "servfail";
	case DNS_TIMEOUT:  return "timeout";
	case DNS_BADNAME:  return "badname";
	case DNS_ERROR:    return "error";
	}
	return "error";
}
