/*
 * fuzz_decision_log.c - libFuzzer harness for milter/decision_log.h.
 *
 * The decision line carries what the client sent (HELO, MAIL FROM, RCPT,
 * From: domain, details quoting DNS data) into the operator's log and log
 * processors. Input: a flags byte (known facts, results, dry run), then
 * NUL-separated strings for the facts and the decision. Promises checked,
 * in both formats:
 *   - the line is one line: no byte below 0x20 and no DEL, ever;
 *   - text: printable ASCII only (everything else escaped);
 *   - json: a valid JSON object of strings, numbers, booleans and nulls,
 *     in valid UTF-8;
 *   - decision_format returns strlen(buf), and a small buffer truncates
 *     without overrunning (ASan watches its end);
 *   - with every fact at its longest and worst (invalid UTF-8: 6 bytes
 *     each as \ufffd), a DECISION_LINE_MAX line (decision_log()'s buffer)
 *     is not truncated (checked once, at start-up).
 */
#include <string.h>

#include "milter/decision_log.h"
#include "tests/fuzz/fuzz.h"


/* json_string_end - p at a string's opening quote: just past its closing one, NULL if invalid */
static const char *json_string_end(const char *p)
{
	for (p++; *p != '"'; ) {
		unsigned char c = (unsigned char)*p;
		if (c == '\0' || c < 0x20 || c == 0x7f)
			return NULL;
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
						return NULL;
				p += 5;
			} else if (*p && strchr("\"\\/bfnrt", *p)) {
				p++;
			} else {
				return NULL;
			}
		} else if (c < 0x80) {
			p++;
		} else {
			/* one valid UTF-8 sequence */
			int n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
			if (n == 0 || c > 0xf4)
				return NULL;
			for (int i = 1; i < n; i++)
				if (((unsigned char)p[i] & 0xc0) != 0x80)
					return NULL;
			p += n;
		}
	}
	return p + 1;
}

/* json_strings_end - p at '[': just past the ']' of an array of strings, NULL if invalid */
static const char *json_strings_end(const char *p)
{
	if (*++p == ']')
		return p + 1;
	for (;;) {
		if (*p != '"' || !(p = json_string_end(p)))
			return NULL;
		if (*p == ']')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

/* json_valid - a flat object {"k":v,...} of string, array of strings, number, true/false/null values, no white space */
static bool json_valid(const char *p)
{
	if (*p++ != '{')
		return false;
	for (;;) {
		if (*p != '"' || !(p = json_string_end(p)) || *p++ != ':')
			return false;
		if (*p == '"') {
			if (!(p = json_string_end(p)))
				return false;
		} else if (*p == '[') {
			if (!(p = json_strings_end(p)))
				return false;
		} else if (!strncmp(p, "null", 4) || !strncmp(p, "true", 4)) {
			p += 4;
		} else if (!strncmp(p, "false", 5)) {
			p += 5;
		} else {
			const char *s = p += *p == '-';
			while (*p >= '0' && *p <= '9')
				p++;
			if (p == s)
				return false;
		}
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != ',')
			return false;
	}
}

/* check_line - the promises for one formatted line */
static void check_line(enum log_format fmt, const struct decision *d)
{
	static char buf[DECISION_LINE_MAX];
	size_t n = decision_format(fmt, d, buf, sizeof(buf));
	char *small;

	FUZZ_CHECK(n == strlen(buf) && n < sizeof(buf) - 1);
	for (const char *p = buf; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f &&
			   (fmt == LOG_JSON || (unsigned char)*p < 0x7f));
	if (fmt == LOG_JSON)
		FUZZ_CHECK(json_valid(buf));
	if ((small = malloc(40)) != NULL) {
		FUZZ_CHECK(decision_format(fmt, d, small, 40) == strlen(small));
		free(small);
	}
}

/* worst_case - every fact string at its longest, all invalid UTF-8 */
static void worst_case(void)
{
	static struct facts f;
	static char rcpt[FACT_ADDR_MAX], reply[440], error[256];
	struct decision d = { .queue_id = "4BcD12", .facts = &f, .rcpt = rcpt, .stage = "rcpt",
			      .rule = "a-rule-name", .action = "reject", .reply = reply,
			      .dry_run = true, .elapsed_ms = 123456, .error = error };

#define FILL(s) (memset((s), 0xff, sizeof(s) - 1), (s)[sizeof(s) - 1] = '\0')
	f.known = FACT_MASK_ALL;
	/* every text of every fact in the table at its longest: a new fact is covered too */
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		char *p = (char *)facts_field(&f, (enum fact_id)i);

		switch (fact_table[i].kind) {
		case FACT_KIND_DOMAIN:
		case FACT_KIND_MAILBOX:
		case FACT_KIND_TEXT:
			memset(p, 0xff, fact_table[i].size - 1);
			break;
		case FACT_KIND_ADDRESS:
			FILL(((struct fact_address *)p)->text);
			break;
		case FACT_KIND_DOMAIN_SET: {
			/* as many of the longest names as the set holds, all 0xff but the first octet */
			char name[FACT_NAME_MAX];

			FILL(name);
			for (unsigned k = 0; k < FACT_SET_NAMES; k++) {
				name[0] = (char)('a' + k % 26);
				name[1] = (char)('a' + k / 26);
				if (!facts_set_add_name((struct fact_domain_set *)p, name))
					break;
			}
			break;
		}
		case FACT_KIND_ADDRESS_SET:
			((struct fact_address_set *)p)->count = FACT_SET_ADDRS;
			for (unsigned k = 0; k < FACT_SET_ADDRS; k++) {
				struct sockaddr_in6 *a6 = &((struct fact_address_set *)p)->addr[k].in6;
				a6->sin6_family = AF_INET6;
				memset(&a6->sin6_addr, 0xab, sizeof a6->sin6_addr);
			}
			break;
		case FACT_KIND_ENUM:
		case FACT_KIND_BOOL:
			break;
		}
	}
	FILL(rcpt);
	memset(reply, '"', sizeof(reply) - 1);   /* printable: 2 bytes each escaped */
	memcpy(reply, "550 5.7.1 ", 10);
	FILL(error);
#undef FILL
	f.mx = MX_TEMPERROR;
	f.spf = f.helo_spf = SPFR_PERMERROR;
	f.dkim = DKIMR_TEMPERROR;
	check_line(LOG_TEXT, &d);
	check_line(LOG_JSON, &d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;
	static struct facts f;
	static char queue_id[64], rcpt[FACT_ADDR_MAX], rule[128], reply[440], error[256];
	struct fuzz_in in = { data, size };
	struct decision d;
	unsigned flags;

	if (!once) {
		worst_case();
		once = true;
	}
	memset(&f, 0, sizeof(f));
	flags = fuzz_byte(&in);
	f.known = (fact_mask)fuzz_byte(&in) | (fact_mask)fuzz_byte(&in) << 8 | (fact_mask)fuzz_byte(&in) << 16;
	f.mx = (enum mx_result)(fuzz_byte(&in) % MX_RESULT_COUNT);
	f.spf = (enum spf_result)(fuzz_byte(&in) % SPFR_RESULT_COUNT);
	f.helo_spf = (enum spf_result)(fuzz_byte(&in) % SPFR_RESULT_COUNT);
	f.dkim = (enum dkim_result)(fuzz_byte(&in) % DKIMR_RESULT_COUNT);
	f.trusted = flags & 1;
	f.authenticated = flags & 2;
	f.dkim_aligned = flags & 4;
	fuzz_str(&in, f.client_ip.text, sizeof(f.client_ip.text));
	fuzz_str(&in, f.helo, sizeof(f.helo));
	fuzz_str(&in, f.sender, sizeof(f.sender));
	fuzz_str(&in, f.from_domain, sizeof(f.from_domain));
	fuzz_str(&in, f.mx_detail, sizeof(f.mx_detail));
	fuzz_str(&in, f.spf_detail, sizeof(f.spf_detail));
	fuzz_str(&in, f.dkim_detail, sizeof(f.dkim_detail));
	/* every set of names in the table gets a few members from the input */
	for (unsigned i = 0; i < FACT_COUNT; i++) {
		struct fact_domain_set *set = (struct fact_domain_set *)facts_field(&f, (enum fact_id)i);

		if (fact_table[i].kind != FACT_KIND_DOMAIN_SET)
			continue;
		unsigned n = fuzz_byte(&in) % 4;

		memset(set, 0, sizeof *set);
		for (unsigned k = 0; k < n; k++) {
			char name[FACT_NAME_MAX];

			fuzz_str(&in, name, sizeof name);
			facts_set_add_name(set, name);
		}
	}
	fuzz_str(&in, queue_id, sizeof(queue_id));
	fuzz_str(&in, rcpt, sizeof(rcpt));
	fuzz_str(&in, rule, sizeof(rule));
	fuzz_str(&in, reply, sizeof(reply));
	fuzz_str(&in, error, sizeof(error));

	memset(&d, 0, sizeof(d));
	d.facts = &f;
	d.queue_id = flags & 8 ? queue_id : NULL;
	d.rcpt = flags & 16 ? rcpt : NULL;
	d.rule = flags & 32 ? rule : NULL;
	d.action = flags & 64 ? "reject" : NULL;
	d.reply = reply;
	d.error = flags & 128 ? error : NULL;
	d.stage = "eom";
	d.dry_run = flags & 4;
	d.elapsed_ms = (long)size * (flags & 1 ? -1 : 1);
	check_line(LOG_TEXT, &d);
	check_line(LOG_JSON, &d);
	return 0;
}
