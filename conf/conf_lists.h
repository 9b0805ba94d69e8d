/*
 * conf_lists.h - list values in the config: CIDR lists and name lists,
 * written inline and/or pulled from files.
 *
 *   trusted_networks = 127.0.0.0/8, ::1, file:/etc/mxguard/trusted
 *
 * Items are separated by commas and/or blanks. An item "file:PATH"
 * (relative PATHs are relative to the config file's directory, or to
 * the working directory for config_load_string) reads
 * PATH: items separated by blanks, commas or newlines, '#' comments.
 * Errors inside such a file are reported at that file's line.
 *
 * The builders return a new list owned by the caller (netlist_free,
 * namelist_free).
 */
#ifndef MXGUARD_CONF_LISTS_H
#define MXGUARD_CONF_LISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf_ctx.h"
#include "conf/conf_lex.h"

struct netlist;
struct namelist;

/* conf_item_fn - called per item with where it came from; return 0, or -1 after conf_error(). */
typedef int conf_item_fn(struct conf_ctx *, void *arg, const char *item,
			 const char *file, int line);

/*
 * conf_list_each - every item of tok[0..n), files expanded. what names
 * the setting in messages ("trusted_networks"). Returns 0 or -1 (error
 * recorded in ctx).
 */
int conf_list_each(struct conf_ctx *, const char *what, const struct conf_token *tok,
		   size_t n, conf_item_fn *fn, void *arg);

/* conf_netlist_parse - a CIDR list; *out may be empty. */
int conf_netlist_parse(struct conf_ctx *, const char *what, const struct conf_token *tok,
		       size_t n, struct netlist **out);

/* conf_namelist_parse - a sealed name list; allow_wild permits "*.domain" items. */
int conf_namelist_parse(struct conf_ctx *, const char *what, const struct conf_token *tok,
			size_t n, bool allow_wild, struct namelist **out);

#endif
