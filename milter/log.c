/*
 * log.c - syslog or stderr logging for the daemon (see log.h).
 *
 * State: the target and debug flag, set at start-up (log_open) from the
 * main thread before any connection thread exists; later calls only read
 * them. log_open may run again at reload, so both are atomics.
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "milter/log.h"

static atomic_bool to_stderr_flag;
static atomic_bool debug_flag;
static atomic_bool syslog_open;
static char ident_buf[64] = "mxguard";

/* log_open - choose syslog (with facility) or stderr */
void log_open(const char *ident, int facility, bool to_stderr)
{
	if (ident)
		snprintf(ident_buf, sizeof ident_buf, "%s", ident);
	atomic_store(&to_stderr_flag, to_stderr);
	if (!to_stderr) {
		/* openlog keeps the ident pointer: ident_buf is static and stable */
		openlog(ident_buf, LOG_PID | LOG_NDELAY, facility);
		atomic_store(&syslog_open, true);
	}
}

/* log_close - close syslog, if open */
void log_close(void)
{
	if (atomic_exchange(&syslog_open, false))
		closelog();
}

/* log_set_debug - turn debug lines on or off */
void log_set_debug(bool on)
{
	atomic_store(&debug_flag, on);
}

/* log_debug_enabled - are debug lines on? */
bool log_debug_enabled(void)
{
	return atomic_load(&debug_flag);
}

/* emit - one line to the chosen target; label is "" or "warning: " etc. */
static void emit(int prio, const char *label, const char *fmt, va_list ap)
{
	char msg[2048];

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (atomic_load(&to_stderr_flag)) {
		char line[2200];

		snprintf(line, sizeof line, "%s[%ld]: %s%s\n", ident_buf,
			 (long)getpid(), label, msg);
		fputs(line, stderr);
		fflush(stderr);
	} else {
		syslog(prio, "%s%s", label, msg);
	}
}

/* log_err - something failed that an operator must look at */
void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_ERR, "error: ", fmt, ap);
	va_end(ap);
}

/* log_warn - something odd, handled */
void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_WARNING, "warning: ", fmt, ap);
	va_end(ap);
}

/* log_info - state changes */
void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(LOG_INFO, "", fmt, ap);
	va_end(ap);
}

/* log_debug - only when enabled */
void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!atomic_load(&debug_flag))
		return;
	va_start(ap, fmt);
	emit(LOG_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

/* log_decision - a preformatted line, bare on stderr so JSON lines stay parseable */
void log_decision(const char *line)
{
	if (atomic_load(&to_stderr_flag)) {
		/* the stream lock keeps concurrent decision lines whole */
		flockfile(stderr);
		fwrite(line, 1, strlen(line), stderr);
		fputc('\n', stderr);
		fflush(stderr);
		funlockfile(stderr);
	} else {
		syslog(LOG_INFO, "%s", line);
	}
}
