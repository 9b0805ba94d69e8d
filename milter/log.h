/*
 * log.h - the daemon's one small logging API: syslog, or stderr in the
 * foreground.
 *
 * log_open() chooses the target once at start-up (and again after a
 * reload changes the facility). Every function may be called from any
 * thread: syslog(3) is thread-safe, and a stderr line is written with
 * one fputs under the stream lock so lines never interleave.
 *
 * policy/ never logs; only milter/ calls these.
 */
#ifndef MXGUARD_LOG_H
#define MXGUARD_LOG_H

#include <stdbool.h>

/*
 * log_open - log as ident to syslog with facility (a <syslog.h> LOG_MAIL,
 * LOG_LOCAL0, ... code, as the config parser stores it), or to stderr when
 * to_stderr.
 */
void log_open(const char *ident, int facility, bool to_stderr);

/* log_close - close syslog, if open. */
void log_close(void);

/* log_err - something failed that an operator must look at. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn - something odd, handled. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_info - state changes: start-up, reloads, stop. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_debug - only when log_set_debug(true). */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* log_set_debug - turn debug lines on or off. */
void log_set_debug(bool on);
/* log_debug_enabled - are debug lines on? (to skip building them) */
bool log_debug_enabled(void);

/* log_decision - one preformatted decision line, written as is (syslog LOG_INFO). */
void log_decision(const char *line);

#endif
