/*
 * conf_lists.c - inline and file: list items for CIDR and name lists.
 * Files are read whole, split in place and freed before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_lists.h"
#include "policy/netlist.h"
#include "policy/rules_namelist.h"

#define LIST_FILE_MAX (64u << 20)   /* a list file bigger than this is a mistake */

/* resolve_path - PATH as written, or joined to the config's directory when relative */
static char *resolve_path(const struct conf_ctx *ctx, const char *path)
{
	size_t n;
	char *full;

	if (path[0] == '/' || !ctx->dir)
		return strdup(path);
	n = strlen(ctx->dir) + strlen(path) + 2;
	full = malloc(n);
	if (full)
		snprintf(full, n, "%s/%s", ctx->dir, path);
	return full;
}

/* read_file - whole file, NUL-terminated; NULL with errno set on failure (EINVAL: NUL byte, EFBIG: too big) */
static char *read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
	size_t cap = 4096, n = 0;
	char *buf;

	if (!fp)
		return NULL;
	buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
		if (n + 1 == cap) {
			char *nb = cap >= LIST_FILE_MAX ? NULL : realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				errno = cap >= LIST_FILE_MAX ? EFBIG : ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf && ferror(fp)) {
		free(buf);
		buf = NULL;
		errno = EIO;
	}
	fclose(fp);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (strlen(buf) != n) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	return buf;
}

/* is_sep - item separators inside a list file */
static bool is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == ',';
}

/* each_in_file - items of a list file, reported at their own line */
static int each_in_file(struct conf_ctx *ctx, const char *what, const char *item, int line,
			conf_item_fn *fn, void *arg)
{
	char *path, *text, *p;
	int fline = 1, rc = 0;

	if (item[5] == '\0')
		return conf_error(ctx, NULL, line, "%s: file: needs a path", what);
	path = resolve_path(ctx, item + 5);
	if (!path)
		return conf_error(ctx, NULL, line, "out of memory");
	text = read_file(path);
	if (!text) {
		rc = conf_error(ctx, NULL, line, "%s: cannot read %s: %s", what, path,
				errno == EINVAL ? "it contains a NUL byte" : strerror(errno));
		free(path);
		return rc;
	}
	for (p = text; *p && rc == 0; ) {
		while (is_sep(*p))
			p++;
		if (*p == '\n') {
			p++;
			fline++;
			continue;
		}
		if (*p == '\0')
			break;
		/* "#" comments, and ";" ones as in Spamhaus's DROP files ("192.0.2.0/24 ; SBL123") */
		if (*p == '#' || *p == ';') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		char *start = p;
		while (*p && *p != '\n' && !is_sep(*p) && *p != ';')
			p++;
		char saved = *p;
		*p = '\0';
		if (strncmp(start, "file:", 5) == 0)
			rc = conf_error(ctx, path, fline, "%s: file: items cannot be nested", what);
		else
			rc = fn(ctx, arg, start, path, fline);
		*p = saved;
	}
	free(text);
	free(path);
	return rc;
}

/* conf_list_each - see conf_lists.h */
int conf_list_each(struct conf_ctx *ctx, const char *what, const struct conf_token *tok,
		   size_t n, conf_item_fn *fn, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		const struct conf_token *t = &tok[i];
		char d[80];
		int rc;

		if (t->type == TOK_COMMA)
			continue;
		if (!conf_tok_is_value(t))
			return conf_error(ctx, NULL, t->line, "%s: unexpected %s in a list",
					  what, conf_tok_describe(t, d, sizeof(d)));
		if (strncmp(t->text, "file:", 5) == 0)
			rc = each_in_file(ctx, what, t->text, t->line, fn, arg);
		else
			rc = fn(ctx, arg, t->text, NULL, t->line);
		if (rc != 0)
			return -1;
	}
	return 0;
}

struct list_arg {
	const char *what;
	struct netlist *nets;
	struct namelist *names;
	bool wild;
};

/* add_net - conf_item_fn for CIDR items */
static int add_net(struct conf_ctx *ctx, void *arg, const char *item, const char *file, int line)
{
	struct list_arg *a = arg;
	char why[160];

	if (netlist_add(a->nets, item, why, sizeof(why)) != 0)
		return conf_error(ctx, file, line, "%s: %s", a->what, why);
	return 0;
}

/* add_name - conf_item_fn for name items */
static int add_name(struct conf_ctx *ctx, void *arg, const char *item, const char *file, int line)
{
	struct list_arg *a = arg;
	char why[200];

	if (namelist_add(a->names, item, a->wild, why, sizeof(why)) != 0)
		return conf_error(ctx, file, line, "%s: %s", a->what, why);
	return 0;
}

/* conf_netlist_parse - see conf_lists.h */
int conf_netlist_parse(struct conf_ctx *ctx, const char *what, const struct conf_token *tok,
		       size_t n, struct netlist **out)
{
	struct list_arg a = { what, netlist_new(), NULL, false };

	*out = NULL;
	if (!a.nets)
		return conf_error(ctx, NULL, tok ? tok->line : 0, "out of memory");
	if (conf_list_each(ctx, what, tok, n, add_net, &a) != 0) {
		netlist_free(a.nets);
		return -1;
	}
	*out = a.nets;
	return 0;
}

/* conf_namelist_parse - see conf_lists.h */
int conf_namelist_parse(struct conf_ctx *ctx, const char *what, const struct conf_token *tok,
			size_t n, bool allow_wild, struct namelist **out)
{
	struct list_arg a = { what, NULL, namelist_new(), allow_wild };

	*out = NULL;
	if (!a.names)
		return conf_error(ctx, NULL, tok ? tok->line : 0, "out of memory");
	if (conf_list_each(ctx, what, tok, n, add_name, &a) != 0) {
		namelist_free(a.names);
		return -1;
	}
	namelist_seal(a.names);
	*out = a.names;
	return 0;
}
