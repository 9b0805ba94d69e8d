/*
 * conf_ctx.h - state of one config load, shared by the parser modules
 * (conf_params.c, conf_lists.c, conf_rules.c) and owned by config.c.
 *
 * The first error wins: conf_error() formats "FILE:LINE: message" into
 * the caller's buffer once; later errors (from unwinding) are ignored.
 */
#ifndef MXGUARD_CONF_CTX_H
#define MXGUARD_CONF_CTX_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"

#define CONF_MAX_PARAMS 48

struct conf_ctx {
	const char *name;                 /* file name used in messages */
	const char *dir;                  /* base for relative file: paths; NULL = cwd */
	char *err;
	size_t errlen;
	bool failed;
	struct config *cfg;               /* the snapshot being built */
	int set_line[CONF_MAX_PARAMS];    /* line each parameter was set on; 0 = default */
	int default_line;                 /* line of the "default" directive; 0 = none yet */
};

/*
 * conf_error - record "file:line: message" (file NULL = ctx->name) unless
 * an error is already recorded. Always returns -1 so callers can
 * `return conf_error(...)`.
 */
int conf_error(struct conf_ctx *, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
