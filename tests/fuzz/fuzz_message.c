/*
 * fuzz_message.c - libFuzzer harness for one whole message through the
 * check orchestrator (policy/checks.h), as the milter drives it, on the
 * unit tests' fake resolver.
 *
 * Everything a client controls is fuzzed: HELO, MAIL FROM, RCPT TO, the
 * header fields (From: for from_domain, DKIM-Signature for libopendkim,
 * Authentication-Results for the forgery filter) and the body. Input:
 *   byte 0    bits 0-1 client (IPv4, IPv6, none/unix socket, trusted),
 *             bit 2 authenticated, bits 3-4 status of names nobody
 *             registered (NXDOMAIN, NODATA, SERVFAIL, timeout), bit 5 a
 *             second recipient, bit 6 the message goes through
 *             milter/msgfile.c (what `mxguard check --message` reads)
 *             instead of this harness's own MTA-like splitting
 *   then NUL-terminated HELO, MAIL FROM and RCPT TO, then the message as
 *   an MTA receives it (header lines, an empty line, the body).
 * The config's rules need every fact (mx, spf, helo_spf, dkim,
 * dkim_aligned, from_domain, rcpt_domain), so every check runs; the zone
 * holds the DKIM fixture keys (tests/unit/dkim_fixtures.h) so signatures
 * made by dkimpy verify until the fuzzer changes them.
 * Promises checked: every stage keeps checks_decide within its statuses,
 * the message is decided (or fails with a reason) at end of message, an
 * A-R header claiming our id is reported as a forgery, replies are
 * printable ASCII, and the added headers hold no control byte but folds.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf/config.h"
#include "milter/msgfile.h"
#include "policy/authres.h"
#include "policy/checks.h"
#include "policy/reply.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/fake_resolver.h"

#include "tests/unit/dkim_fixtures.h"   /* the keys; its signed messages are seeds */

#define AUTHSERV  "mx.example.com"
#define MAX_HDRS  64
#define FIELD_MAX 8192

static const char conf_text[] =
	"authserv_id = " AUTHSERV "\n"
	"add_received_spf = yes\n"
	"trusted_networks = 10.1.0.0/16\n"
	"dns_timeout = 2s\n"
	"rule nullmx mx = nullmx reject 550 5.7.27 \"null MX %{domain}\"\n"
	"rule nodomain mx in {nxdomain, none, bogus, invalid} reject\n"
	"rule temp mx = temperror or spf = temperror tempfail 451 4.4.3 \"later %{sender}\"\n"
	"rule spf-fail spf = fail and not (dkim = pass and dkim_aligned = yes)\n"
	"\treject 550 5.7.23 \"SPF %{domain} %{client_ip} %{mx_detail}\"\n"
	"rule helo-spf helo_spf = fail and from_domain in {*.example.org} quarantine \"helo %{helo}\"\n"
	"rule dkim-bad dkim in {fail, permerror} and rcpt_domain = example.net discard\n"
	"rule dkim-temp dkim = temperror tempfail 451 4.7.5 \"DKIM later %{from_domain}\"\n"
	"default accept\n";

static struct config *cfg;
static bool verbose;   /* FUZZ_VERBOSE=1: print each message's facts and verdict (to read a seed or crash) */

/* add_key - a DKIM key TXT record at name, in 255-byte strings as DNS needs */
static void add_key(const char *name, const char *key)
{
	char spec[2048];
	size_t n = 0, len = strlen(key);

	n += (size_t)snprintf(spec, sizeof(spec), "TXT");
	for (size_t off = 0; off < len; off += 255)
		n += (size_t)snprintf(spec + n, sizeof(spec) - n, " \"%.*s\"",
				      (int)(len - off < 255 ? len - off : 255), key + off);
	FUZZ_CHECK(n < sizeof(spec) && fake_dns_add(name, ns_t_txt, DNS_OK, spec) == 0);
}

/* zone - the sender domains, SPF records and DKIM keys the seeds use */
static void zone(void)
{
	fake_dns_add("example.com", ns_t_mx, DNS_OK, "MX 10 mx.example.com");
	fake_dns_add("mx.example.com", ns_t_a, DNS_OK, "A 192.0.2.25");
	fake_dns_add("mx.example.com", ns_t_aaaa, DNS_OK, "AAAA 2001:db8::25");
	fake_dns_add("example.com", ns_t_txt, DNS_OK,
		     "TXT \"v=spf1 ip4:192.0.2.0/25 include:spf.example.net ~all\"");
	fake_dns_add("spf.example.net", ns_t_txt, DNS_OK, "TXT \"v=spf1 ip6:2001:db8::/64 -all\"");
	fake_dns_add("mail.example.com", ns_t_a, DNS_OK, "A 192.0.2.77");
	fake_dns_add("helo.example.org", ns_t_txt, DNS_OK, "TXT \"v=spf1 -all exp=e.example.org\"");
	fake_dns_add("e.example.org", ns_t_txt, DNS_OK, "TXT \"%{h} %{i} not allowed\"");
	fake_dns_add("nullmx.example", ns_t_mx, DNS_OK, "MX 0 .");
	fake_dns_add("bogus.example", ns_t_mx, DNS_OK, "MX 10 mx.bogus.example");
	fake_dns_add("mx.bogus.example", ns_t_a, DNS_OK, "A 10.0.0.1");
	fake_dns_add("implicit.example", ns_t_a, DNS_OK, "A 192.0.2.30");
	add_key("sel2048._domainkey.example.com", KEY_RSA2048);
	add_key("sel1024._domainkey.example.com", KEY_RSA1024);
	add_key("ed._domainkey.example.com", KEY_ED25519);
}

/* set_client - the connection's client address from the flag bits */
static void set_client(struct checks *ck, unsigned which)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	switch (which) {
	case 0:
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.77", &s4->sin_addr);
		break;
	case 1:
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", &s6->sin6_addr);
		break;
	case 2:
		checks_set_client(ck, NULL);
		return;
	default:
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, "10.1.2.3", &s4->sin_addr);
	}
	checks_set_client(ck, (const struct sockaddr *)&ss);
}

/* decide - checks_decide with its promises; true when decided */
static bool decide(struct checks *ck, bool final)
{
	struct verdict v;
	struct reply r;
	enum checks_status st = checks_decide(ck, &v);

	FUZZ_CHECK(st == CHECKS_DECIDED || st == CHECKS_UNDECIDED || st == CHECKS_ERROR);
	if (st == CHECKS_ERROR) {
		FUZZ_CHECK(checks_error(ck)[0] != '\0');
		return false;
	}
	if (st == CHECKS_UNDECIDED) {
		/* every fact is known at end of message, and the fake DNS always answers */
		FUZZ_CHECK(!final);
		return false;
	}
	FUZZ_CHECK(v.action != ACTION_NONE && v.rule_name && v.reply);
	reply_format(&v, checks_facts(ck), &r);
	if (verbose) {
		const struct facts *f = checks_facts(ck);
		fprintf(stderr, "stage %s: %s by %s (mx=%s spf=%s helo_spf=%s dkim=%s aligned=%d from=%s) %s %s %s\n",
			check_stage_name(checks_stage(ck)), action_name(v.action), v.rule_name,
			facts_mx_name(f->mx), facts_spf_name(f->spf), facts_spf_name(f->helo_spf),
			facts_dkim_name(f->dkim), f->dkim_aligned, f->from_domain, r.code, r.xcode, r.text);
	}
	FUZZ_CHECK(fuzz_printable(r.text) && fuzz_printable(r.smtp_text));
	return true;
}

/* check_added - the headers to add: only "\n\t" folds as control bytes */
static void check_added(const struct checks *ck)
{
	struct checks_hdr h[CHECKS_HDR_MAX];
	int n = checks_result_headers(ck, h);

	FUZZ_CHECK(n >= -1 && n <= CHECKS_HDR_MAX);
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(h[i].name && h[i].value);
		for (const char *p = h[i].value; *p; p++) {
			unsigned char c = (unsigned char)*p;
			if (c == '\n')
				FUZZ_CHECK(p[1] == '\t');
			else if (c == '\t')
				FUZZ_CHECK(p > h[i].value && p[-1] == '\n');
			else
				FUZZ_CHECK(c >= 0x20 && c != 0x7f);
		}
	}
	if (n > 0)
		checks_result_headers_free(h, n);
}

/* feed_headers - split the message's header block like an MTA and feed it; returns the body */
static const char *feed_headers(struct checks *ck, const char *msg)
{
	static char name[FIELD_MAX], value[FIELD_MAX];
	const char *p = msg;
	unsigned count = 0;

	while (*p && *p != '\n' && !(p[0] == '\r' && p[1] == '\n') && count < MAX_HDRS) {
		const char *colon = strchr(p, ':'), *end = p;
		size_t nl, vl;

		/* the field runs to a line end not followed by white space */
		while (*end && !((end[0] == '\n') && end[1] != ' ' && end[1] != '\t'))
			end++;
		if (!colon || colon > end) {
			p = *end ? end + 1 : end;
			continue;
		}
		nl = (size_t)(colon - p);
		vl = (size_t)(end - colon - 1);
		if (vl && colon[vl] == '\r')
			vl--;
		if (nl < FIELD_MAX && vl < FIELD_MAX) {
			bool forged, claims;
			memcpy(name, p, nl);
			name[nl] = '\0';
			memcpy(value, colon + 1, vl);
			value[vl] = '\0';
			forged = checks_header(ck, name, value);
			claims = strcasecmp(name, "Authentication-Results") == 0 &&
				 authres_claims_id(value, AUTHSERV);
			FUZZ_CHECK(forged == claims);
			count++;
		}
		p = *end ? end + 1 : end;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	return p;
}

/* feed_file - the message through msgfile_feed(), from a memory file */
static void feed_file(struct checks *ck, const char *msg)
{
	char path[64], err[256];
	size_t len = strlen(msg);
	int fd = memfd_create("fuzz-message", 0);

	if (fd < 0)
		return;
	if (write(fd, msg, len) == (ssize_t)len) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		memset(err, 0xa5, sizeof(err));
		if (msgfile_feed(ck, path, err, sizeof(err)) != 0)
			FUZZ_CHECK(fuzz_terminated(err, sizeof(err)) && err[0]);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_status defaults[] = { DNS_NXDOMAIN, DNS_NODATA, DNS_SERVFAIL, DNS_TIMEOUT };
	static char helo[256], from[600], rcpt[600];
	struct fuzz_in in = { data, size };
	struct resolver *res;
	struct checks *ck;
	const char *body;
	char *msg, err[256];
	unsigned flags;

	if (!cfg) {
		FUZZ_CHECK(checks_library_init(err, sizeof(err)) == 0);
		FUZZ_CHECK((cfg = config_load_string("fuzz", conf_text, err, sizeof(err))) != NULL);
		verbose = getenv("FUZZ_VERBOSE") != NULL;
	}
	if (size > 64 * 1024)
		return 0;
	flags = fuzz_byte(&in);
	fuzz_str(&in, helo, sizeof(helo));
	fuzz_str(&in, from, sizeof(from));
	fuzz_str(&in, rcpt, sizeof(rcpt));
	if (!(msg = fuzz_cstr(in.p, in.left)))
		return 0;

	fake_dns_reset();
	fake_dns_default(defaults[(flags >> 3) & 3]);
	zone();
	FUZZ_CHECK((res = resolver_new(NULL, err, sizeof(err))) != NULL);
	if (!(ck = checks_new(cfg, res))) {
		resolver_free(res);
		free(msg);
		return 0;
	}
	set_client(ck, flags & 3);
	checks_advance(ck, CHECK_STAGE_CONNECT);
	decide(ck, false);
	checks_set_helo(ck, helo[0] ? helo : NULL);
	checks_advance(ck, CHECK_STAGE_HELO);
	decide(ck, false);
	checks_set_sender(ck, from, flags & 4);
	checks_advance(ck, CHECK_STAGE_MAIL);
	decide(ck, false);
	checks_set_rcpt(ck, rcpt);
	checks_advance(ck, CHECK_STAGE_RCPT);
	decide(ck, false);
	if (flags & 32) {
		checks_set_rcpt(ck, "postmaster@example.net");
		decide(ck, false);
	}
	if (flags & 64) {
		feed_file(ck, msg);   /* headers, end of headers, body */
		decide(ck, false);
	} else {
		body = feed_headers(ck, msg);
		checks_advance(ck, CHECK_STAGE_HEADERS);
		decide(ck, false);
		if (checks_wants_body(ck)) {
			size_t blen = strlen(body), half = blen / 2;
			checks_body(ck, (const unsigned char *)body, half);
			checks_body(ck, (const unsigned char *)body + half, blen - half);
		}
	}
	checks_advance(ck, CHECK_STAGE_EOM);
	if (decide(ck, true))
		check_added(ck);
	checks_free(ck);
	resolver_free(res);
	fake_dns_reset();
	free(msg);
	return 0;
}
