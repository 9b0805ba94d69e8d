/*
 * config.c - load a configuration snapshot; reference counting.
 *
 * config_load reads the whole file, then walks its logical lines:
 * "rule" and "default" go to conf_rules.c, everything else is a
 * parameter for conf_params.c. Unset parameters get their defaults
 * last, then cross-parameter checks run. On any error the half-built
 * snapshot is freed and NULL returned with "FILE:LINE: message".
 *
 * The snapshot owns every string, list and the ruleset it points to;
 * the last config_unref frees them (config_free).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_ctx.h"
#include "conf/conf_lex.h"
#include "conf/conf_params.h"
#include "conf/conf_dnsbl.h"
#include "conf/conf_rules.h"
#include "conf/config.h"
#include "policy/resolver.h"
#include "policy/rules_ast.h"

#define CONFIG_FILE_MAX (16u << 20)

/* conf_error - see conf_ctx.h */
int conf_error(struct conf_ctx *ctx, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (ctx->failed || !ctx->err || ctx->errlen == 0) {
		ctx->failed = true;
		return -1;
	}
	ctx->failed = true;
	snprintf(ctx->err, ctx->errlen, "%s:%d: ", file ? file : ctx->name, line);
	n = strlen(ctx->err);
	va_start(ap, fmt);
	vsnprintf(ctx->err + n, ctx->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* config_free - everything the snapshot owns, then the snapshot */
static void config_free(struct config *c)
{
	if (!c)
		return;
	conf_params_free(c);
	free(c->dnsbl);
	rules_free(c->rules);
	free(c->path);
	free(c);
}

/* parse_line - dispatch one logical line */
static int parse_line(struct conf_ctx *ctx, const struct conf_line *l)
{
	const struct conf_token *t = &l->tok[0];
	const char *hint;
	char d[80];

	if (t->type != TOK_WORD)
		return conf_error(ctx, NULL, l->line, "expected a parameter name, \"rule\" or \"default\", got %s",
				  conf_tok_describe(t, d, sizeof(d)));
	if (strcmp(t->text, "rule") == 0)
		return conf_rule_parse(ctx, l);
	if (strcmp(t->text, "default") == 0)
		return conf_default_parse(ctx, l);
	if (strcmp(t->text, "dnsbl") == 0)
		return conf_dnsbl_parse(ctx, l);
	if (conf_param_index(t->text) >= 0)
		return conf_param_set(ctx, l);
	hint = conf_param_suggest(t->text);
	if (hint)
		return conf_error(ctx, NULL, l->line, "unknown parameter \"%.60s\" (did you mean %s?)", t->text, hint);
	return conf_error(ctx, NULL, l->line, "unknown parameter \"%.60s\"", t->text);
}

/* parse_text - the whole file into ctx->cfg */
static int parse_text(struct conf_ctx *ctx, const char *text)
{
	struct conf_lex lx;
	struct conf_line l = { 0 };
	char why[200];
	int rc, eline = 0;

	conf_lex_init(&lx, text);
	while ((rc = conf_lex_next(&lx, &l, why, sizeof(why), &eline)) > 0)
		if (parse_line(ctx, &l) != 0)
			break;
	conf_line_clear(&l);
	if (rc < 0)
		return conf_error(ctx, NULL, eline, "%s", why);
	if (ctx->failed)
		return -1;
	if (conf_params_defaults(ctx) != 0 || conf_params_check(ctx) != 0)
		return -1;
	return 0;
}

/* dir_of - the directory part of path for relative file: items; NULL for "." */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return NULL;
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* load - shared by config_load and config_load_string */
static struct config *load(const char *name, const char *dir, const char *text, size_t len,
			   char *err, size_t errlen)
{
	struct conf_ctx ctx = { .name = name, .dir = dir, .err = err, .errlen = errlen };
	struct config *c = calloc(1, sizeof(*c));

	if (errlen)
		err[0] = '\0';
	if (!c || !(c->path = strdup(name)) || !(c->rules = rules_new())) {
		config_free(c);
		snprintf(err, errlen, "%s: out of memory", name);
		return NULL;
	}
	c->refcount = 1;
	ctx.cfg = c;
	if (strlen(text) != len) {
		int line = 1;
		for (const char *p = text; *p; p++)
			line += *p == '\n';
		conf_error(&ctx, NULL, line, "NUL byte in the file");
	} else {
		parse_text(&ctx, text);
	}
	if (ctx.failed) {
		config_free(c);
		return NULL;
	}
	return c;
}

/* config_load_string - see config.h */
struct config *config_load_string(const char *name, const char *text, char *err, size_t errlen)
{
	return load(name ? name : "(string)", NULL, text ? text : "", text ? strlen(text) : 0, err, errlen);
}

/* config_load - see config.h */
struct config *config_load(const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *text = NULL, *dir;
	size_t len = 0, cap = 0;
	struct config *c;

	if (!fp) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *n = cap >= CONFIG_FILE_MAX ? NULL : realloc(text, cap ? cap * 2 : 8192);
			if (!n) {
				snprintf(err, errlen, "%s: %s", path, cap >= CONFIG_FILE_MAX ? "file too large" : "out of memory");
				free(text);
				fclose(fp);
				return NULL;
			}
			text = n;
			cap = cap ? cap * 2 : 8192;
		}
		size_t got = fread(text + len, 1, cap - len - 1, fp);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		free(text);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	text[len] = '\0';
	dir = dir_of(path);
	c = load(path, dir, text, len, err, errlen);
	free(dir);
	free(text);
	return c;
}

/* config_ref - see config.h */
struct config *config_ref(struct config *c)
{
	if (c)
		__atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED);
	return c;
}

/* config_unref - see config.h */
void config_unref(struct config *c)
{
	if (c && __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL) == 0)
		config_free(c);
}

/* config_resolver_options - see config.h */
void config_resolver_options(const struct config *c, struct resolver_options *out)
{
	memset(out, 0, sizeof *out);
	out->servers = c->dns_servers;
	out->try_timeout_ms = c->dns_try_timeout_ms;
}

/* config_same_resolver - see config.h; compares exactly what config_resolver_options copies */
bool config_same_resolver(const struct config *a, const struct config *b)
{
	struct resolver_options x, y;

	config_resolver_options(a, &x);
	config_resolver_options(b, &y);
	return ((!x.servers && !y.servers) ||
		(x.servers && y.servers && strcmp(x.servers, y.servers) == 0)) &&
	       x.try_timeout_ms == y.try_timeout_ms && x.tries == y.tries;
}
