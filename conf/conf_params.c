/*
 * conf_params.c - every simple parameter, declared once, and the parsers
 * for its type. Values land in struct config through offsetof; strings
 * and netlists stored there are owned by the config and freed by
 * conf_params_free().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/conf_lists.h"
#include "conf/conf_params.h"
#include "conf/conf_values.h"
#include "policy/netlist.h"

enum ptype {
	PT_STRING,     /* checked by p->check; empty = NULL when p->optional */
	PT_BOOL,
	PT_DURATION,   /* stored in ms, range in ms */
	PT_UINT,
	PT_MODE,       /* octal file mode */
	PT_ENUM,
	PT_FACILITY,   /* syslog facility name, also stored as its LOG_ code */
	PT_NETLIST,
};

struct choice {
	const char *name;
	int value;
};

/* check_fn - validate a string value; *out gets a new (possibly normalised) copy */
typedef int check_fn(const char *in, char **out, char *why, size_t whylen);

struct conf_param {
	const char *name;
	enum ptype type;
	size_t off;                      /* offset of the field in struct config */
	const char *defval;              /* default in config syntax; NULL = none (NULL / empty) */
	unsigned min, max;               /* PT_DURATION (ms), PT_UINT, PT_MODE */
	const struct choice *choices;    /* PT_ENUM, NULL-name terminated */
	check_fn *check;                 /* PT_STRING */
	bool optional;                   /* PT_STRING: an empty value means "not set" (NULL) */
	struct netlist *(*defnet)(void); /* PT_NETLIST: default built in code */
};


static const struct choice log_formats[] = { { "text", LOG_TEXT }, { "json", LOG_JSON }, { NULL, 0 } };
static const struct choice dkim_verifies[] = {
	{ "rules", DKIM_VERIFY_RULES }, { "always", DKIM_VERIFY_ALWAYS }, { NULL, 0 },
};
static const struct choice dmarc_discoveries[] = {
	{ "treewalk", DMARC_DISCOVERY_TREEWALK }, { "psl", DMARC_DISCOVERY_PSL }, { NULL, 0 },
};
static const struct choice quarantine_modes[] = {
	{ "hold", QUARANTINE_HOLD }, { "header", QUARANTINE_HEADER }, { "subject", QUARANTINE_SUBJECT },
	{ NULL, 0 },
};
static const struct choice stages[] = { { "mail", STAGE_MAIL }, { "rcpt", STAGE_RCPT }, { NULL, 0 } };
static const struct choice on_errors[] = {
	{ "tempfail", ACTION_TEMPFAIL }, { "accept", ACTION_ACCEPT }, { NULL, 0 },
};
static const struct choice facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV }, { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 }, { NULL, 0 },
};

#define OFF(f) offsetof(struct config, f)

/* The parameters. Keep in step with the comments in conf/config.h and conf/mxguard.conf. */
#define P(n, t, f, d, ...) { .name = n, .type = t, .off = OFF(f), .defval = d, __VA_ARGS__ }

static const struct conf_param params[] = {
	P("socket",             PT_STRING,   socket,             "inet:8894@127.0.0.1", .check = conf_check_socket),
	P("socket_mode",        PT_MODE,     socket_mode,        "0660", .max = 0777),
	P("socket_group",       PT_STRING,   socket_group,       NULL, .check = conf_check_name, .optional = true),
	P("user",               PT_STRING,   user,               NULL, .check = conf_check_name, .optional = true),
	P("pidfile",            PT_STRING,   pidfile,            NULL, .check = conf_check_path, .optional = true),
	P("milter_timeout",     PT_DURATION, milter_timeout_ms,  "10m", .min = 1000, .max = 7200000),
	P("log_format",         PT_ENUM,     log_format,         "text", .choices = log_formats),
	P("syslog_facility",    PT_FACILITY, syslog_facility,    "mail", .choices = facilities),
	P("dry_run",            PT_BOOL,     dry_run,            "no", .min = 0),
	P("on_error",           PT_ENUM,     on_error,           "tempfail", .choices = on_errors),
	P("metrics_listen",     PT_STRING,   metrics_listen,     NULL, .check = conf_check_metrics_listen, .optional = true),
	P("dns_servers",        PT_STRING,   dns_servers,        NULL, .check = conf_check_servers, .optional = true),
	P("dns_timeout",        PT_DURATION, dns_timeout_ms,     "8s", .min = 100, .max = 25000),
	P("dns_try_timeout",    PT_DURATION, dns_try_timeout_ms, "1s", .min = 50, .max = 10000),
	P("dns_trust_ad",       PT_BOOL,     dns_trust_ad,       "no", .min = 0),
	P("dns_cache",          PT_BOOL,     dns_cache,          "yes", .min = 0),
	P("dns_cache_size",     PT_UINT,     dns_cache_size,     "64", .min = 1, .max = 4096),
	P("dns_cache_max_ttl",  PT_DURATION, dns_cache_max_ttl_ms, "1h", .min = 1000, .max = 86400000),
	P("dnsbl_selftest",     PT_BOOL,     dnsbl_selftest,     "no", .min = 0),
	P("max_mx_targets",     PT_UINT,     max_mx_targets,     "10", .min = 1, .max = 100),
	P("bogus_networks",     PT_NETLIST,  bogus_networks,     NULL, .defnet = netlist_bogus_default),
	P("trusted_networks",   PT_NETLIST,  trusted_networks,   "127.0.0.0/8, ::1", .min = 0),
	P("skip_authenticated", PT_BOOL,     skip_authenticated, "yes", .min = 0),
	P("reject_stage",       PT_ENUM,     reject_stage,       "rcpt", .choices = stages),
	P("authserv_id",        PT_STRING,   authserv_id,        NULL, .check = conf_check_authserv),
	P("add_received_spf",   PT_BOOL,     add_received_spf,   "no", .min = 0),
	P("dkim_min_key_bits",  PT_UINT,     dkim_min_key_bits,  "1024", .min = 512, .max = 16384),
	P("dkim_verify",        PT_ENUM,     dkim_verify,        "rules", .choices = dkim_verifies),
	P("dmarc_discovery",    PT_ENUM,     dmarc_discovery,    "treewalk", .choices = dmarc_discoveries),
	P("quarantine_action",  PT_ENUM,     quarantine_action,  "hold", .choices = quarantine_modes),
	P("quarantine_header",  PT_STRING,   quarantine_header,  "X-Spam", .check = conf_check_header_name),
	P("quarantine_subject_tag", PT_STRING, quarantine_subject_tag, "[SPAM]", .check = conf_check_subject_tag),
};
#define NPARAMS ((int)(sizeof(params) / sizeof(params[0])))

_Static_assert(sizeof(params) / sizeof(params[0]) <= CONF_MAX_PARAMS, "raise CONF_MAX_PARAMS");
_Static_assert(sizeof(enum log_format) == sizeof(int) && sizeof(enum reject_stage) == sizeof(int) &&
	       sizeof(enum action) == sizeof(int) && sizeof(enum dkim_verify) == sizeof(int) &&
	       sizeof(enum dmarc_discovery_mode) == sizeof(int) && sizeof(enum quarantine_mode) == sizeof(int), "enum fields are stored as int");

/* field - address of a parameter's field in cfg */
static void *field(struct config *cfg, const struct conf_param *p)
{
	return (char *)cfg + p->off;
}

/* conf_param_index - see conf_params.h */
int conf_param_index(const char *name)
{
	for (int i = 0; i < NPARAMS; i++)
		if (strcmp(params[i].name, name) == 0)
			return i;
	return -1;
}

/* conf_param_suggest - see conf_params.h */
const char *conf_param_suggest(const char *name)
{
	static const char *const extra[] = { "rule", "default", "dnsbl" };
	const char *best = NULL;
	unsigned bestd = 3;   /* suggest only close misspellings */

	for (int i = 0; i < NPARAMS; i++) {
		unsigned d = conf_edit_distance(name, params[i].name);
		if (d < bestd) {
			bestd = d;
			best = params[i].name;
		}
	}
	for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
		unsigned d = conf_edit_distance(name, extra[i]);
		if (d < bestd && d < 2) {
			bestd = d;
			best = extra[i];
		}
	}
	return best;
}

/* fmt_ms - "8s" or "500ms" */
static const char *fmt_ms(unsigned ms, char *buf, size_t len)
{
	if (ms % 1000 == 0)
		snprintf(buf, len, "%us", ms / 1000);
	else
		snprintf(buf, len, "%ums", ms);
	return buf;
}

/* parse_duration - "5s", "500ms", "1m", "1h" into milliseconds */
static bool parse_duration(const char *s, unsigned *ms)
{
	size_t digits = strspn(s, "0123456789");
	unsigned v;
	unsigned long long mult, total;

	if (!conf_parse_uint(s, digits, &v))
		return false;
	if (strcmp(s + digits, "ms") == 0)
		mult = 1;
	else if (strcmp(s + digits, "s") == 0)
		mult = 1000;
	else if (strcmp(s + digits, "m") == 0)
		mult = 60000;
	else if (strcmp(s + digits, "h") == 0)
		mult = 3600000;
	else
		return false;
	total = (unsigned long long)v * mult;
	/* out of every range, without overflowing */
	*ms = total > 0xffffffffULL ? 0xffffffffU : (unsigned)total;
	return true;
}

/* choices_list - "text or json" / "one of a, b, c" for messages */
static const char *choices_list(const struct choice *c, char *buf, size_t len)
{
	size_t n = 0, count = 0;

	while (c[count].name)
		count++;
	if (count == 2) {
		snprintf(buf, len, "%s or %s", c[0].name, c[1].name);
		return buf;
	}
	n = (size_t)snprintf(buf, len, "one of");
	for (size_t i = 0; i < count && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s %s", i ? "," : "", c[i].name);
	return buf;
}

/* parse_bool - yes/no and the usual synonyms */
static int parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "true", "on" }, *const no[] = { "no", "false", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* apply_scalar - one-value types */
static int apply_scalar(struct conf_ctx *ctx, const struct conf_param *p, const char *v, int line)
{
	struct config *cfg = ctx->cfg;
	char why[200], a[16], b[16];
	unsigned u;
	int iv;

	switch (p->type) {
	case PT_BOOL:
		if ((iv = parse_bool(v)) < 0)
			return conf_error(ctx, NULL, line, "%s: expected yes or no, got \"%s\"", p->name, v);
		*(bool *)field(cfg, p) = iv;
		return 0;
	case PT_DURATION:
		if (!parse_duration(v, &u))
			return conf_error(ctx, NULL, line, "%s: expected a duration like 5s, 500ms or 1h, got \"%s\"",
					  p->name, v);
		if (u < p->min || u > p->max)
			return conf_error(ctx, NULL, line, "%s: %s is out of range (%s..%s)", p->name, v,
					  fmt_ms(p->min, a, sizeof(a)), fmt_ms(p->max, b, sizeof(b)));
		*(unsigned *)field(cfg, p) = u;
		return 0;
	case PT_UINT:
		if (!conf_parse_uint(v, strlen(v), &u))
			return conf_error(ctx, NULL, line, "%s: expected a number, got \"%s\"", p->name, v);
		if (u < p->min || u > p->max)
			return conf_error(ctx, NULL, line, "%s: %u is out of range (%u..%u)", p->name, u,
					  p->min, p->max);
		*(unsigned *)field(cfg, p) = u;
		return 0;
	case PT_MODE: {
		char *end;
		unsigned long m = strtoul(v, &end, 8);
		if (strlen(v) < 3 || strlen(v) > 4 || *end || v[0] < '0' || v[0] > '7')
			return conf_error(ctx, NULL, line, "%s: expected an octal mode like 0660, got \"%s\"",
					  p->name, v);
		if (m > p->max)
			return conf_error(ctx, NULL, line, "%s: %s is out of range (0..%o)", p->name, v, p->max);
		*(unsigned *)field(cfg, p) = (unsigned)m;
		return 0;
	}
	case PT_ENUM:
	case PT_FACILITY:
		for (const struct choice *ch = p->choices; ch->name; ch++) {
			if (strcmp(ch->name, v) != 0)
				continue;
			if (p->type == PT_ENUM) {
				memcpy(field(cfg, p), &ch->value, sizeof(int));
				return 0;
			}
			char *copy = strdup(v);
			if (!copy)
				return conf_error(ctx, NULL, line, "out of memory");
			free(cfg->syslog_facility);
			cfg->syslog_facility = copy;
			cfg->syslog_facility_code = ch->value;
			return 0;
		}
		return conf_error(ctx, NULL, line, "%s: expected %s, got \"%s\"", p->name,
				  choices_list(p->choices, why, sizeof(why)), v);
	case PT_STRING: {
		char *out = NULL;
		if (p->check(v, &out, why, sizeof(why)) != 0)
			return conf_error(ctx, NULL, line, "%s: %s", p->name, why);
		if (!out)
			return conf_error(ctx, NULL, line, "out of memory");
		free(*(char **)field(cfg, p));
		*(char **)field(cfg, p) = out;
		return 0;
	}
	case PT_NETLIST:
		break;
	}
	return conf_error(ctx, NULL, line, "%s: internal error: bad parameter type", p->name);
}

/* apply - a parameter's value tokens (after the name and optional '=') */
static int apply(struct conf_ctx *ctx, const struct conf_param *p, const struct conf_token *tok,
		 size_t n, int line)
{
	char d[80];

	if (p->type == PT_NETLIST) {
		struct netlist *nl;
		if (conf_netlist_parse(ctx, p->name, tok, n, &nl) != 0)
			return -1;
		netlist_free(*(struct netlist **)field(ctx->cfg, p));
		*(struct netlist **)field(ctx->cfg, p) = nl;
		return 0;
	}
	if (p->type == PT_STRING && p->check == conf_check_servers) {
		/* a list written like the others: "127.0.0.1:5353, [::1]:5353" */
		char *joined = NULL;
		size_t len = 0;
		for (size_t i = 0; i < n; i++) {
			if (tok[i].type == TOK_COMMA)
				continue;
			if (!conf_tok_is_value(&tok[i])) {
				free(joined);
				return conf_error(ctx, NULL, tok[i].line, "%s: unexpected %s", p->name,
						  conf_tok_describe(&tok[i], d, sizeof(d)));
			}
			size_t add = strlen(tok[i].text) + 1;
			char *nj = realloc(joined, len + add + 1);
			if (!nj) {
				free(joined);
				return conf_error(ctx, NULL, line, "out of memory");
			}
			joined = nj;
			snprintf(joined + len, add + 1, "%s%s", len ? "," : "", tok[i].text);
			len = strlen(joined);
		}
		if (!joined) {
			free(*(char **)field(ctx->cfg, p));
			*(char **)field(ctx->cfg, p) = NULL;
			return 0;
		}
		int rc = apply_scalar(ctx, p, joined, line);
		free(joined);
		return rc;
	}
	if (n == 0) {
		if (p->type == PT_STRING && p->optional) {
			free(*(char **)field(ctx->cfg, p));
			*(char **)field(ctx->cfg, p) = NULL;
			return 0;
		}
		return conf_error(ctx, NULL, line, "%s: missing value", p->name);
	}
	if (!conf_tok_is_value(&tok[0]))
		return conf_error(ctx, NULL, tok[0].line, "%s: expected a value, got %s", p->name,
				  conf_tok_describe(&tok[0], d, sizeof(d)));
	if (n > 1)
		return conf_error(ctx, NULL, tok[1].line, "%s: takes one value; unexpected %s after it",
				  p->name, conf_tok_describe(&tok[1], d, sizeof(d)));
	if (p->type == PT_STRING && p->optional && tok[0].text[0] == '\0') {
		free(*(char **)field(ctx->cfg, p));
		*(char **)field(ctx->cfg, p) = NULL;
		return 0;
	}
	return apply_scalar(ctx, p, tok[0].text, tok[0].line);
}

/* conf_param_set - see conf_params.h */
int conf_param_set(struct conf_ctx *ctx, const struct conf_line *l)
{
	int i = conf_param_index(l->tok[0].text);
	size_t first = 1;

	if (i < 0)
		return conf_error(ctx, NULL, l->line, "unknown parameter \"%s\"", l->tok[0].text);
	if (ctx->set_line[i])
		return conf_error(ctx, NULL, l->line, "%s: already set on line %d", params[i].name,
				  ctx->set_line[i]);
	if (l->count > 1 && l->tok[1].type == TOK_EQ)
		first = 2;
	if (apply(ctx, &params[i], l->tok + first, l->count - first, l->line) != 0)
		return -1;
	ctx->set_line[i] = l->line;
	return 0;
}

/* apply_default - parse a default written in config syntax */
static int apply_default(struct conf_ctx *ctx, const struct conf_param *p, const char *text)
{
	struct conf_lex lx;
	struct conf_line l = { 0 };
	char why[160];
	int eline = 0, rc;

	conf_lex_init(&lx, text);
	rc = conf_lex_next(&lx, &l, why, sizeof(why), &eline);
	if (rc < 0)
		return conf_error(ctx, NULL, 0, "%s: bad built-in default: %s", p->name, why);
	rc = apply(ctx, p, l.tok, l.count, 0);
	conf_line_clear(&l);
	return rc;
}

/* conf_params_defaults - see conf_params.h */
int conf_params_defaults(struct conf_ctx *ctx)
{
	for (int i = 0; i < NPARAMS; i++) {
		const struct conf_param *p = &params[i];
		char host[256];

		if (ctx->set_line[i])
			continue;
		if (p->defnet) {
			struct netlist *nl = p->defnet();
			if (!nl)
				return conf_error(ctx, NULL, 0, "out of memory");
			*(struct netlist **)field(ctx->cfg, p) = nl;
		} else if (p->defval) {
			if (apply_default(ctx, p, p->defval) != 0)
				return -1;
		} else if (p->check == conf_check_authserv) {
			/* The host name, as RFC 8601 suggests; a name that is not a plain token is no use in a header. */
			char *out = NULL, why[160];
			if (gethostname(host, sizeof(host)) != 0)
				host[0] = '\0';
			host[sizeof(host) - 1] = '\0';
			if (conf_check_authserv(host, &out, why, sizeof(why)) != 0)
				out = strdup("localhost");
			if (!out)
				return conf_error(ctx, NULL, 0, "out of memory");
			*(char **)field(ctx->cfg, p) = out;
		}
	}
	return 0;
}

/* conf_params_check - see conf_params.h */
int conf_params_check(struct conf_ctx *ctx)
{
	struct config *c = ctx->cfg;
	int tline = ctx->set_line[conf_param_index("dns_try_timeout")];
	int dline = ctx->set_line[conf_param_index("dns_timeout")];
	char a[16], b[16];

	if (c->dns_try_timeout_ms > c->dns_timeout_ms)
		return conf_error(ctx, NULL, tline ? tline : dline,
				  "dns_try_timeout (%s) must not be longer than dns_timeout (%s)",
				  fmt_ms(c->dns_try_timeout_ms, a, sizeof(a)),
				  fmt_ms(c->dns_timeout_ms, b, sizeof(b)));
	return 0;
}

/* conf_params_free - see conf_params.h */
void conf_params_free(struct config *cfg)
{
	for (int i = 0; i < NPARAMS; i++) {
		const struct conf_param *p = &params[i];
		if (p->type == PT_STRING || p->type == PT_FACILITY) {
			free(*(char **)field(cfg, p));
			*(char **)field(cfg, p) = NULL;
		} else if (p->type == PT_NETLIST) {
			netlist_free(*(struct netlist **)field(cfg, p));
			*(struct netlist **)field(cfg, p) = NULL;
		}
	}
}
