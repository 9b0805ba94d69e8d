/*
 * test_config.c - the config loader: every parameter, defaults, lists and
 * file: includes, exact FILE:LINE error messages, refcounting, and the
 * shipped conf/mxguard.conf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/config.h"
#include "policy/netlist.h"
#include "policy/rules_ast.h"

static char err[512];

/* load - config from a string named "t.conf" */
static struct config *load(const char *text)
{
	return config_load_string("t.conf", text, err, sizeof(err));
}

/* expect_error - text must fail with exactly this message */
static void expect_error(const char *text, const char *msg)
{
	struct config *c = load(text);
	if (c || strcmp(err, msg) != 0)
		fail_msg("config:\n%s\nexpected error: %s\ngot: %s", text, msg, c ? "(loaded)" : err);
}

/* has_v4 - does the netlist contain this IPv4 address? */
static bool has_v4(const struct netlist *nl, const char *ip)
{
	unsigned char a[4];
	assert_int_equal(inet_pton(AF_INET, ip, a), 1);
	return netlist_contains_raw(nl, AF_INET, a);
}

/* has_v6 - does the netlist contain this IPv6 address? */
static bool has_v6(const struct netlist *nl, const char *ip)
{
	unsigned char a[16];
	assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
	return netlist_contains_raw(nl, AF_INET6, a);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config *c = load("# nothing but a comment\n\n");
	char host[256];

	assert_non_null(c);
	assert_string_equal(err, "");
	assert_string_equal(c->path, "t.conf");
	assert_int_equal(c->refcount, 1);
	assert_string_equal(c->socket, "inet:8894@127.0.0.1");
	assert_int_equal(c->socket_mode, 0660);
	assert_null(c->socket_group);
	assert_null(c->user);
	assert_null(c->pidfile);
	assert_int_equal(c->log_format, LOG_TEXT);
	assert_string_equal(c->syslog_facility, "mail");
	assert_int_equal(c->syslog_facility_code, LOG_MAIL);
	assert_false(c->dry_run);
	assert_int_equal(c->on_error, ACTION_TEMPFAIL);
	assert_null(c->dns_servers);
	assert_int_equal(c->dns_timeout_ms, 8000);
	assert_int_equal(c->dns_try_timeout_ms, 1000);
	assert_int_equal(c->max_mx_targets, 10);
	assert_true(has_v4(c->bogus_networks, "10.1.2.3"));
	assert_true(has_v4(c->bogus_networks, "100.64.0.1"));
	assert_true(has_v6(c->bogus_networks, "fe80::1"));
	/* RFC 6890 special-purpose ranges nobody receives mail at */
	assert_true(has_v4(c->bogus_networks, "192.0.2.1"));
	assert_true(has_v4(c->bogus_networks, "198.51.100.1"));
	assert_true(has_v4(c->bogus_networks, "203.0.113.1"));
	assert_true(has_v4(c->bogus_networks, "198.19.255.255"));
	assert_true(has_v4(c->bogus_networks, "192.0.0.170"));
	assert_true(has_v6(c->bogus_networks, "2001:db8::25"));
	assert_true(has_v6(c->bogus_networks, "100::1"));
	assert_false(has_v4(c->bogus_networks, "192.0.3.1"));
	assert_false(has_v4(c->bogus_networks, "198.20.0.1"));
	assert_false(has_v6(c->bogus_networks, "2001:db9::1"));
	assert_int_equal(netlist_count(c->trusted_networks), 2);
	assert_true(has_v4(c->trusted_networks, "127.0.0.2"));
	assert_true(has_v6(c->trusted_networks, "::1"));
	assert_false(has_v4(c->trusted_networks, "10.0.0.1"));
	assert_true(c->skip_authenticated);
	assert_int_equal(c->reject_stage, STAGE_RCPT);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	assert_string_equal(c->authserv_id, host);
	assert_false(c->add_received_spf);
	assert_int_equal(c->dkim_min_key_bits, 1024);
	assert_int_equal(c->dkim_verify, DKIM_VERIFY_RULES);
	assert_non_null(c->rules);
	assert_int_equal(rules_count(c->rules), 0);
	assert_int_equal(rules_at(c->rules, 0)->action, ACTION_ACCEPT);
	config_unref(c);
}

static void test_every_key(void **state)
{
	(void)state;
	struct config *c = load(
		"socket = unix:/run/mxguard/mxguard.sock\n"
		"socket_mode 0600\n"
		"socket_group = postfix\n"
		"user = mxguard\n"
		"pidfile = /run/mxguard.pid\n"
		"log_format = json\n"
		"syslog_facility = local3\n"
		"dry_run = yes\n"
		"on_error = accept\n"
		"dns_servers = 127.0.0.1:5353, [::1]:5354 192.0.2.53\n"
		"dns_timeout = 2500ms\n"
		"dns_try_timeout = 500ms\n"
		"max_mx_targets = 3\n"
		"bogus_networks = 198.51.100.0/24\n"
		"trusted_networks = 192.0.2.0/24, 2001:db8::/32\n"
		"skip_authenticated = no\n"
		"reject_stage = mail\n"
		"authserv_id = mx.example.org\n"
		"add_received_spf = yes\n"
		"dkim_min_key_bits = 2048\n"
		"dkim_verify = always\n"
		"dmarc_discovery = psl\n"
		"quarantine_action = subject\n"
		"quarantine_header = X-Junk-Reason\n"
		"quarantine_subject_tag = \"*** SPAM ***\"\n");

	if (!c)
		fail_msg("%s", err);
	assert_string_equal(c->socket, "unix:/run/mxguard/mxguard.sock");
	assert_int_equal(c->socket_mode, 0600);
	assert_string_equal(c->socket_group, "postfix");
	assert_string_equal(c->user, "mxguard");
	assert_string_equal(c->pidfile, "/run/mxguard.pid");
	assert_int_equal(c->log_format, LOG_JSON);
	assert_string_equal(c->syslog_facility, "local3");
	assert_int_equal(c->syslog_facility_code, LOG_LOCAL3);
	assert_true(c->dry_run);
	assert_int_equal(c->on_error, ACTION_ACCEPT);
	assert_string_equal(c->dns_servers, "127.0.0.1:5353,[::1]:5354,192.0.2.53:53");
	assert_int_equal(c->dns_timeout_ms, 2500);
	assert_int_equal(c->dns_try_timeout_ms, 500);
	assert_int_equal(c->max_mx_targets, 3);
	assert_int_equal(netlist_count(c->bogus_networks), 1);
	assert_true(has_v4(c->bogus_networks, "198.51.100.7"));
	assert_false(has_v4(c->bogus_networks, "10.0.0.1"));
	assert_true(has_v4(c->trusted_networks, "192.0.2.200"));
	assert_true(has_v6(c->trusted_networks, "2001:db8:1::5"));
	assert_false(has_v4(c->trusted_networks, "127.0.0.1"));
	assert_false(c->skip_authenticated);
	assert_int_equal(c->reject_stage, STAGE_MAIL);
	assert_string_equal(c->authserv_id, "mx.example.org");
	assert_true(c->add_received_spf);
	assert_int_equal(c->dkim_min_key_bits, 2048);
	assert_int_equal(c->dkim_verify, DKIM_VERIFY_ALWAYS);
	assert_int_equal(c->dmarc_discovery, DMARC_DISCOVERY_PSL);
	assert_int_equal(c->quarantine_action, QUARANTINE_SUBJECT);
	assert_string_equal(c->quarantine_header, "X-Junk-Reason");
	assert_string_equal(c->quarantine_subject_tag, "*** SPAM ***");
	config_unref(c);
}

static void test_value_forms(void **state)
{
	(void)state;
	struct config *c = load(
		"socket inet6:10025@::1\n"
		"dns_timeout \"20s\"   # trailing comment\n"
		"dns_try_timeout 10s\n"
		"dry_run ON\nsocket_mode 644\n"
		"trusted_networks =\n"
		"dns_servers = 2001:db8::53\n"
		"user =\n");

	if (!c)
		fail_msg("%s", err);
	assert_string_equal(c->socket, "inet6:10025@::1");
	assert_true(c->dry_run);
	assert_int_equal(c->socket_mode, 0644);
	assert_int_equal(c->dns_timeout_ms, 20000);
	assert_int_equal(netlist_count(c->trusted_networks), 0);
	assert_string_equal(c->dns_servers, "[2001:db8::53]:53");
	assert_null(c->user);
	config_unref(c);
	/* 1m is over the 25 s cap */
	assert_null(load("dns_timeout 1m\n"));
	assert_string_equal(err, "t.conf:1: dns_timeout: 1m is out of range (100ms..25s)");

	c = load("socket = inet:8894\nsocket local:/var/run/x.sock\n");
	assert_null(c);
	assert_string_equal(err, "t.conf:2: socket: already set on line 1");
	c = load("socket = inet:8894\n");
	assert_non_null(c);
	config_unref(c);
	c = load("socket = inet:8894@localhost\n");
	assert_non_null(c);
	config_unref(c);
}

static void test_bad_values(void **state)
{
	(void)state;
	static const struct { const char *text, *msg; } cases[] = {
		{ "\n\n\ndns_timeout = fast\n",
		  "t.conf:4: dns_timeout: expected a duration like 5s, 500ms or 1h, got \"fast\"" },
		{ "dns_timeout = 5\n", "t.conf:1: dns_timeout: expected a duration like 5s, 500ms or 1h, got \"5\"" },
		{ "dns_timeout = 99999999999s\n", "t.conf:1: dns_timeout: expected a duration like 5s, 500ms or 1h, got \"99999999999s\"" },
		{ "dns_timeout = 50ms\n", "t.conf:1: dns_timeout: 50ms is out of range (100ms..25s)" },
		{ "dns_timeout = 2s\ndns_try_timeout = 3s\n",
		  "t.conf:2: dns_try_timeout (3s) must not be longer than dns_timeout (2s)" },
		{ "dns_try_timeout = 10s\n",
		  "t.conf:1: dns_try_timeout (10s) must not be longer than dns_timeout (8s)" },
		{ "max_mx_targets = 0\n", "t.conf:1: max_mx_targets: 0 is out of range (1..100)" },
		{ "max_mx_targets = ten\n", "t.conf:1: max_mx_targets: expected a number, got \"ten\"" },
		{ "max_mx_targets = -1\n", "t.conf:1: max_mx_targets: expected a number, got \"-1\"" },
		{ "dkim_min_key_bits = 256\n", "t.conf:1: dkim_min_key_bits: 256 is out of range (512..16384)" },
		{ "dry_run = maybe\n", "t.conf:1: dry_run: expected yes or no, got \"maybe\"" },
		{ "skip_authenticated\n", "t.conf:1: skip_authenticated: missing value" },
		{ "log_format = xml\n", "t.conf:1: log_format: expected text or json, got \"xml\"" },
		{ "reject_stage = data\n", "t.conf:1: reject_stage: expected mail or rcpt, got \"data\"" },
		{ "dkim_verify = never\n", "t.conf:1: dkim_verify: expected rules or always, got \"never\"" },
		{ "dmarc_discovery = list\n", "t.conf:1: dmarc_discovery: expected treewalk or psl, got \"list\"" },
		{ "quarantine_action = junk\n",
		  "t.conf:1: quarantine_action: expected one of hold, header, subject, got \"junk\"" },
		{ "quarantine_header = \"X-Spam:\"\n", "t.conf:1: quarantine_header: \"X-Spam:\" is not a header field name" },
		{ "quarantine_header = \"X Spam\"\n", "t.conf:1: quarantine_header: \"X Spam\" is not a header field name" },
		{ "quarantine_subject_tag = \"\"\n",
		  "t.conf:1: quarantine_subject_tag: a Subject tag must be 1 to 64 printable ASCII characters" },
		{ "on_error = reject\n", "t.conf:1: on_error: expected tempfail or accept, got \"reject\"" },
		{ "syslog_facility = kern\n",
		  "t.conf:1: syslog_facility: expected one of mail, daemon, user, auth, authpriv, local0, "
		  "local1, local2, local3, local4, local5, local6, local7, got \"kern\"" },
		{ "socket_mode = 60\n", "t.conf:1: socket_mode: expected an octal mode like 0660, got \"60\"" },
		{ "socket_mode = 0668\n", "t.conf:1: socket_mode: expected an octal mode like 0660, got \"0668\"" },
		{ "socket_mode = 1777\n", "t.conf:1: socket_mode: 1777 is out of range (0..777)" },
		{ "socket = /var/run/x.sock\n",
		  "t.conf:1: socket: expected unix:/path, inet:PORT@HOST or inet6:PORT@HOST, got \"/var/run/x.sock\"" },
		{ "socket = unix:run/x.sock\n", "t.conf:1: socket: unix socket path must be absolute, got \"run/x.sock\"" },
		{ "socket = inet:0@127.0.0.1\n", "t.conf:1: socket: bad port in \"inet:0@127.0.0.1\" (expected 1..65535)" },
		{ "socket = inet:70000\n", "t.conf:1: socket: bad port in \"inet:70000\" (expected 1..65535)" },
		{ "socket = inet:25@::1\n",
		  "t.conf:1: socket: bad host in \"inet:25@::1\" (expected an IPv4 address or a host name)" },
		{ "socket = inet:25@a..b\n",
		  "t.conf:1: socket: bad host in \"inet:25@a..b\" (expected an IPv4 address or a host name)" },
		{ "socket\n", "t.conf:1: socket: missing value" },
		{ "socket = inet:25 inet:26\n", "t.conf:1: socket: takes one value; unexpected \"inet:26\" after it" },
		{ "socket = (\n", "t.conf:1: socket: expected a value, got '('" },
		{ "dns_servers = localhost\n",
		  "t.conf:1: dns_servers: expected an IP address with an optional port "
		  "(192.0.2.1:53, [2001:db8::1]:53), got \"localhost\"" },
		{ "dns_servers = 127.0.0.1:99999\n",
		  "t.conf:1: dns_servers: bad port in \"127.0.0.1:99999\" (expected 1..65535)" },
		{ "dns_servers = [::1:53\n",
		  "t.conf:1: dns_servers: expected an IP address with an optional port "
		  "(192.0.2.1:53, [2001:db8::1]:53), got \"[::1:53\"" },
		{ "dns_servers = [127.0.0.1]:53\n",
		  "t.conf:1: dns_servers: expected an IP address with an optional port "
		  "(192.0.2.1:53, [2001:db8::1]:53), got \"[127.0.0.1]:53\"" },
		{ "user = \"two words\"\n", "t.conf:1: user: \"two words\" is not a valid user or group name" },
		{ "pidfile = run/x.pid\n", "t.conf:1: pidfile: expected an absolute path, got \"run/x.pid\"" },
		{ "authserv_id = \"a;b\"\n",
		  "t.conf:1: authserv_id: expected a host name like mx.example.com (letters, digits, '.', '-', '_'), got \"a;b\"" },
		{ "authserv_id\n", "t.conf:1: authserv_id: missing value" },
		{ "trusted_networks = 10.0.0.0/33\n", "t.conf:1: trusted_networks: bad prefix length in 10.0.0.0/33 (0..32)" },
		{ "trusted_networks = 10.0.0.0/8,\n  example.com\n",
		  "t.conf:2: trusted_networks: not an IP address: example.com" },
		{ "trusted_networks = { 10.0.0.0/8 }\n", "t.conf:1: trusted_networks: unexpected '{' in a list" },
		{ "bogus_networks = file:\n", "t.conf:1: bogus_networks: file: needs a path" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].text, cases[i].msg);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	expect_error("dns_timout = 5s\n", "t.conf:1: unknown parameter \"dns_timout\" (did you mean dns_timeout?)");
	expect_error("frobnicate = 5s\n", "t.conf:1: unknown parameter \"frobnicate\"");
	expect_error("rules x mx = nullmx reject\n", "t.conf:1: unknown parameter \"rules\" (did you mean rule?)");
	expect_error("# c\n  socket = inet:1\n", "t.conf:2: line starts with white space but continues no directive");
	expect_error("authserv_id = \"abc\n", "t.conf:1: unterminated string (missing closing \")");
	expect_error("authserv_id = \"a\\qb\"\n",
		     "t.conf:1: unknown escape \\q in string (known: \\\" \\\\ \\t \\n \\r \\xHH)");
	expect_error("authserv_id = \"a\\x0\"\n", "t.conf:1: bad \\x escape in string (need two hex digits, not 00)");
	expect_error("authserv_id = ab\"cd\"\n", "t.conf:1: quote inside a word; quote the whole value instead");
	expect_error("authserv_id = \"ab\"cd\n", "t.conf:1: a quoted string must be followed by a space or punctuation");
	expect_error("= 5\n", "t.conf:1: expected a parameter name, \"rule\" or \"default\", got '='");
	expect_error("\"socket\" = inet:1\n",
		     "t.conf:1: expected a parameter name, \"rule\" or \"default\", got \"socket\"");

	/* a NUL byte is refused, with the line it is on */
	static const char nul[] = "socket = inet:1\n\nuser = a\0b\n";
	struct config *c = config_load_string("t.conf", nul, err, sizeof(err));
	assert_non_null(c);   /* config_load_string sees a C string: it ends at the NUL */
	config_unref(c);
}

/* tmpdir - a fresh directory for include files; freed by the caller */
static char *tmpdir(void)
{
	char *d = strdup("/tmp/mxguard-test-config-XXXXXX");
	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* write_file - dir/name := text; returns the full path (caller frees) */
static char *write_file(const char *dir, const char *name, const char *text, size_t len)
{
	if (len == (size_t)-1)
		len = strlen(text);
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *fp;

	assert_non_null(path);
	sprintf(path, "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	return path;
}

static void test_file_includes(void **state)
{
	(void)state;
	char *dir = tmpdir(), buf[1024];
	char *nets = write_file(dir, "trusted", "# our relays\n192.0.2.0/24\n\n198.51.100.7, 2001:db8::/48 # office\n", (size_t)-1);
	char *bad = write_file(dir, "bad", "10.0.0.0/8\n# x\nnot-an-ip\n", (size_t)-1);
	char *nul = write_file(dir, "nul", "10.0.0.0/8\0\n", 12);
	char *nested = write_file(dir, "nested", "file:/etc/hosts\n", (size_t)-1);
	char *drop = write_file(dir, "drop", "; Spamhaus DROP List\n203.0.113.0/24 ; SBL1\n198.18.0.0/15;SBL2\n", (size_t)-1);
	struct config *c;

	/* Spamhaus DROP style: ";" starts a comment too, with or without a space before it */
	snprintf(buf, sizeof(buf), "trusted_networks = file:%s\n", drop);
	c = load(buf);
	if (!c)
		fail_msg("%s", err);
	assert_int_equal(netlist_count(c->trusted_networks), 2);
	assert_true(has_v4(c->trusted_networks, "203.0.113.9"));
	assert_true(has_v4(c->trusted_networks, "198.19.1.1"));
	config_unref(c);
	free(drop);

	/* absolute path from a string config */
	snprintf(buf, sizeof(buf), "trusted_networks = 127.0.0.1, file:%s\n", nets);
	c = load(buf);
	if (!c)
		fail_msg("%s", err);
	assert_int_equal(netlist_count(c->trusted_networks), 4);
	assert_true(has_v4(c->trusted_networks, "192.0.2.9"));
	assert_true(has_v4(c->trusted_networks, "198.51.100.7"));
	assert_false(has_v4(c->trusted_networks, "198.51.100.8"));
	assert_true(has_v6(c->trusted_networks, "2001:db8:0:1::1"));
	assert_true(has_v4(c->trusted_networks, "127.0.0.1"));
	config_unref(c);

	/* relative path from a config file: relative to the file's directory */
	char *conf = write_file(dir, "m.conf", "\nbogus_networks = file:trusted\n", (size_t)-1);
	c = config_load(conf, err, sizeof(err));
	if (!c)
		fail_msg("%s", err);
	assert_int_equal(netlist_count(c->bogus_networks), 3);
	assert_string_equal(c->path, conf);
	config_unref(c);

	/* errors inside an include name the include file and its line */
	snprintf(buf, sizeof(buf), "\ntrusted_networks = file:%s\n", bad);
	assert_null(load(buf));
	char want[1024];
	snprintf(want, sizeof(want), "%s:3: trusted_networks: not an IP address: not-an-ip", bad);
	assert_string_equal(err, want);

	snprintf(buf, sizeof(buf), "trusted_networks = file:%s/missing\n", dir);
	assert_null(load(buf));
	snprintf(want, sizeof(want), "t.conf:1: trusted_networks: cannot read %s/missing: No such file or directory", dir);
	assert_string_equal(err, want);

	snprintf(buf, sizeof(buf), "trusted_networks = file:%s\n", nul);
	assert_null(load(buf));
	snprintf(want, sizeof(want), "t.conf:1: trusted_networks: cannot read %s: it contains a NUL byte", nul);
	assert_string_equal(err, want);

	snprintf(buf, sizeof(buf), "trusted_networks = file:%s\n", nested);
	assert_null(load(buf));
	snprintf(want, sizeof(want), "%s:1: trusted_networks: file: items cannot be nested", nested);
	assert_string_equal(err, want);

	/* the config file itself: missing, and with a NUL byte */
	snprintf(buf, sizeof(buf), "%s/nope.conf", dir);
	assert_null(config_load(buf, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s/nope.conf: cannot open: No such file or directory", dir);
	assert_string_equal(err, want);
	char *nulconf = write_file(dir, "nul.conf", "socket = inet:1\n\nuser = a\0b\n", 28);
	assert_null(config_load(nulconf, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s:3: NUL byte in the file", nulconf);
	assert_string_equal(err, want);

	const char *all[] = { nets, bad, nul, nested, conf, nulconf };
	for (size_t i = 0; i < 6; i++) {
		unlink(all[i]);
		free((void *)all[i]);
	}
	rmdir(dir);
	free(dir);
}

static void test_refcount(void **state)
{
	(void)state;
	struct config *c = load("dry_run = yes\n");

	assert_non_null(c);
	assert_ptr_equal(config_ref(c), c);
	assert_int_equal(c->refcount, 2);
	config_unref(c);
	assert_int_equal(c->refcount, 1);
	assert_true(c->dry_run);
	config_unref(c);          /* frees; ASan/valgrind would flag a leak or double free */
	config_unref(NULL);
	assert_null(config_ref(NULL));
}

static void test_shipped_conf(void **state)
{
	(void)state;
	static const char *const names[] = {
		"null-mx", "no-domain", "no-route", "bad-sender", "mx-temperror",
		"spf-temperror", "from-several", "from-domains", "from-invalid", "dmarc-temperror", "dmarc-reject",
		"dmarc-quarantine", "spf-fail", "spf-permerror",
	};
	struct config *c = config_load("conf/mxguard.conf", err, sizeof(err));

	if (!c)
		fail_msg("conf/mxguard.conf: %s", err);
	assert_string_equal(c->socket, "inet:8894@127.0.0.1");
	assert_null(c->dns_servers);
	assert_false(c->dry_run);
	/* no shipped rule needs dkim for most messages: verified for Authentication-Results */
	assert_int_equal(c->dkim_verify, DKIM_VERIFY_ALWAYS);
	/* DMARC by RFC 9989's tree walk; quarantine is the hold queue unless the operator says otherwise */
	assert_int_equal(c->dmarc_discovery, DMARC_DISCOVERY_TREEWALK);
	assert_int_equal(c->quarantine_action, QUARANTINE_HOLD);
	assert_string_equal(c->quarantine_header, "X-Spam");
	assert_string_equal(c->quarantine_subject_tag, "[SPAM]");
	assert_int_equal(rules_count(c->rules), sizeof(names) / sizeof(names[0]));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(rules_at(c->rules, i)->name, names[i]);
	assert_int_equal(rules_at(c->rules, rules_count(c->rules))->action, ACTION_ACCEPT);
	config_unref(c);
}

/* read_all - a whole file into a new buffer */
static char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *buf;

	assert_non_null(fp);
	buf = malloc(1 << 16);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 16) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static void test_mutations(void **state)
{
	(void)state;
	static const char alphabet[] = " \t\n#\"\\=!(){},%*:/.[]<>0123456789abcxyz\x01\xff";
	size_t len, loaded = 0, failed = 0;
	char *orig = read_all("conf/mxguard.conf", &len);
	char *buf = malloc(len + 64);
	unsigned seed = 12345;

	assert_non_null(buf);
	/* damaged copies of the shipped file: each must load or fail as "t.conf:N: ...", never crash */
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = len;
		memcpy(buf, orig, len + 1);
		for (int k = 0; k < 1 + iter % 4; k++) {
			size_t pos = (size_t)rand_r(&seed) % (n ? n : 1);
			char ch = alphabet[(size_t)rand_r(&seed) % (sizeof(alphabet) - 1)];
			switch (rand_r(&seed) % 3) {
			case 0: buf[pos] = ch; break;
			case 1: memmove(buf + pos + 1, buf + pos, n - pos + 1); buf[pos] = ch; n++; break;
			default: memmove(buf + pos, buf + pos + 1, n - pos); n--; break;
			}
		}
		struct config *c = config_load_string("t.conf", buf, err, sizeof(err));
		if (c) {
			loaded++;
			config_unref(c);
			continue;
		}
		failed++;
		unsigned line;
		char colon;
		if (sscanf(err, "t.conf:%u%c", &line, &colon) != 2 || colon != ':' || line < 1 ||
		    strstr(err, ": ") == NULL)
			fail_msg("iteration %d: error without t.conf:LINE: prefix: %s", iter, err);
	}
	print_message("mutations: %zu loaded, %zu refused\n", loaded, failed);
	/* the mutations must have exercised both outcomes */
	assert_true(loaded > 100);
	assert_true(failed > 100);
	free(buf);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_file_includes),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_shipped_conf),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
