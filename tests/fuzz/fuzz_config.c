/*
 * fuzz_config.c - libFuzzer harness for the config loader (conf/config.h).
 *
 * The input is a config file's text. config_load_string() must either
 * return a snapshot or NULL with a "fuzz:LINE: message" error; never crash,
 * leak (LeakSanitizer runs at exit and on -detect_leaks) or hang.
 *
 * A snapshot that loads is then used the way the daemon uses it: its rules
 * are evaluated against facts with every result value and hostile strings,
 * a decided verdict's reply is formatted (its text must stay printable
 * ASCII, the SMTP text must have every '%' doubled, the code must fit the
 * action), and its network lists are asked about a few addresses. This
 * reaches the rule, reply and netlist code with operator-shaped input.
 *
 * file: list items are read relative to the working directory; to keep the
 * fuzzer away from /dev/zero, /dev/stdin and such, an input with a '/' or a
 * '\' (an escape could spell one) after "file:" on the same line is skipped. The
 * static tier runs this harness in a scratch directory holding small list
 * files (nets.txt, names.txt).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "conf/config.h"
#include "policy/netlist.h"
#include "policy/reply.h"
#include "policy/rules.h"
#include "tests/fuzz/fuzz.h"

/* hostile_facts - everything known, strings a client could send */
static void hostile_facts(struct facts *f, unsigned k)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&f->client_ip.sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&f->client_ip.sa;

	memset(f, 0, sizeof(*f));
	f->known = FACT_MASK_ALL;
	if (k & 1) {
		in6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, "::1", &in6->sin6_addr);
		snprintf(f->client_ip.text, sizeof(f->client_ip.text), "::1");
	} else {
		in4->sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.1", &in4->sin_addr);
		snprintf(f->client_ip.text, sizeof(f->client_ip.text), "192.0.2.1");
	}
	f->trusted = k & 2;
	f->authenticated = k & 4;
	snprintf(f->helo, sizeof(f->helo), "evil\r\n250 ok %%s %%{rule}");
	memset(f->sender, 'a', sizeof(f->sender) - 1);
	f->sender[100] = '\n';
	f->sender[200] = '%';
	snprintf(f->sender_domain, sizeof(f->sender_domain), "example.org");
	/* results start at 1: 0 is "unknown" */
	f->mx = (enum mx_result)(1 + k % (MX_RESULT_COUNT - 1));
	f->spf = (enum spf_result)(1 + k % (SPFR_RESULT_COUNT - 1));
	f->helo_spf = (enum spf_result)(1 + (k + 3) % (SPFR_RESULT_COUNT - 1));
	f->dkim = (enum dkim_result)(1 + k % (DKIMR_RESULT_COUNT - 1));
	f->dkim_aligned = k & 8;
	snprintf(f->mx_detail, sizeof(f->mx_detail), "mx.example.org\x7f resolves \x01 to 10.0.0.1");
	snprintf(f->spf_detail, sizeof(f->spf_detail), "%%%%%%");
	snprintf(f->from_domain, sizeof(f->from_domain), "example.net");
	snprintf(f->rcpt, sizeof(f->rcpt), "postmaster@example.com");
	snprintf(f->rcpt_domain, sizeof(f->rcpt_domain), "example.com");
	/* every other result fact of the table (ns, mx_dnssec, the lists' dnsbl.LIST, ...) has a value too */
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		int v = (int)(1 + (k + i) % (fact_table[i].nvalues - 1));

		if (fact_table[i].kind == FACT_KIND_ENUM && facts_enum(f, (enum fact_id)i) == 0)
			memcpy((char *)facts_field(f, (enum fact_id)i), &v, sizeof v);
	}
}

/* check_reply - what the milter would send for a decided verdict */
static void check_reply(const struct verdict *v, const struct facts *f)
{
	struct reply r;

	FUZZ_CHECK(v->rule_name != NULL && v->reply != NULL);
	memset(&r, 0xa5, sizeof(r));
	reply_format(v, f, &r);
	FUZZ_CHECK(fuzz_terminated(r.code, sizeof(r.code)));
	FUZZ_CHECK(fuzz_terminated(r.xcode, sizeof(r.xcode)));
	FUZZ_CHECK(fuzz_terminated(r.text, sizeof(r.text)));
	FUZZ_CHECK(fuzz_terminated(r.smtp_text, sizeof(r.smtp_text)));
	FUZZ_CHECK(fuzz_printable(r.text) && fuzz_printable(r.smtp_text));
	for (const char *p = r.smtp_text; *p; p++)
		if (*p == '%')
			FUZZ_CHECK(*++p == '%');
	if (v->action == ACTION_REJECT)
		FUZZ_CHECK(r.code[0] == '5' && r.xcode[0] == '5');
	if (v->action == ACTION_TEMPFAIL)
		FUZZ_CHECK(r.code[0] == '4' && r.xcode[0] == '4');
}

/* exercise - use a loaded snapshot as the daemon would */
static void exercise(const struct config *c)
{
	static const unsigned char v4[4] = { 10, 1, 2, 3 };
	static const unsigned char v6[16] = { 0xfe, 0x80, [15] = 1 };
	struct facts f;
	struct verdict v;

	FUZZ_CHECK(c->refcount == 1 && c->rules != NULL && c->path != NULL);
	memset(&f, 0, sizeof(f));
	if (rules_eval(c->rules, &f, &v))
		check_reply(&v, &f);
	(void)rules_needed_facts(c->rules, &f);
	for (unsigned k = 0; k < 16; k++) {
		hostile_facts(&f, k);
		f.list_name = c->list_name;
		/* with every fact known, some rule or the default must decide */
		FUZZ_CHECK(rules_eval(c->rules, &f, &v));
		FUZZ_CHECK(v.action != ACTION_NONE);
		check_reply(&v, &f);
	}
	if (c->bogus_networks) {
		(void)netlist_contains_raw(c->bogus_networks, AF_INET, v4);
		(void)netlist_contains_raw(c->bogus_networks, AF_INET6, v6);
	}
	if (c->trusted_networks) {
		(void)netlist_contains_raw(c->trusted_networks, AF_INET, v4);
		(void)netlist_contains_raw(c->trusted_networks, AF_INET6, v6);
	}
}

/* says_where - err starts with "NAME:LINE: " and a message follows */
static bool says_where(const char *err)
{
	const char *colon = strchr(err, ':');
	const char *p = colon ? colon + 1 : NULL;

	if (!colon || colon == err || !isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p))
		p++;
	return p[0] == ':' && p[1] == ' ' && p[2] != '\0';
}

/* names_other_file - a file: item whose line holds '/' or '\\' (it could leave the scratch dir) */
static bool names_other_file(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size, *p = data;

	while ((p = memmem(p, (size_t)(end - p), "file:", 5)) != NULL) {
		for (p += 5; p < end && *p != '\n'; p++)
			if (*p == '/' || *p == '\\')
				return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *text;
	struct config *c;

	if (names_other_file(data, size))
		return 0;
	if (!(text = fuzz_cstr(data, size)))
		return 0;
	memset(err, 0xa5, sizeof(err));
	c = config_load_string("fuzz", text, err, sizeof(err));
	FUZZ_CHECK(fuzz_terminated(err, sizeof(err)));
	if (c) {
		exercise(c);
		FUZZ_CHECK(config_ref(c) == c);
		config_unref(c);
		config_unref(c);
	} else {
		/* a refusal always says where: "fuzz:LINE: " or, for a file: list, "FILE:LINE: " */
		FUZZ_CHECK(says_where(err));
	}
	free(text);
	return 0;
}
