/*
 * conf_params.h - the table of simple parameters ("name value") and
 * their value parsers. Every parameter is declared once in
 * conf_params.c with its name, type, default and range (Postfix style);
 * defaults are written in config syntax and parsed by the same code as
 * the file, so a bad default cannot hide.
 */
#ifndef MXGUARD_CONF_PARAMS_H
#define MXGUARD_CONF_PARAMS_H

#include <stddef.h>

#include "conf/conf_ctx.h"
#include "conf/conf_lex.h"

/* conf_param_index - table index of a parameter name, or -1. */
int conf_param_index(const char *name);

/* conf_param_suggest - the known name closest to a misspelt one, or NULL. */
const char *conf_param_suggest(const char *name);

/*
 * conf_param_set - apply the parameter line l (l->tok[0] is a known
 * name; an optional '=' may follow it). Rejects a second setting of the
 * same parameter. Returns 0 or -1 (error recorded in ctx).
 */
int conf_param_set(struct conf_ctx *, const struct conf_line *l);

/* conf_params_defaults - give every parameter not set in the file its default. */
int conf_params_defaults(struct conf_ctx *);

/* conf_params_check - cross-parameter checks after the whole file was read. */
int conf_params_check(struct conf_ctx *);

/* conf_params_free - free what the parameters own inside cfg (strings, netlists). */
void conf_params_free(struct config *cfg);

#endif
