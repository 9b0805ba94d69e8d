/*
 * daemon.h - the long-running milter: start-up, signals, reload, stop.
 */
#ifndef MXGUARD_DAEMON_H
#define MXGUARD_DAEMON_H

#include <stdbool.h>

#define MXGUARD_VERSION "0.1.0"

#ifndef MXGUARD_CONF_PATH
#define MXGUARD_CONF_PATH "/usr/local/etc/mxguard.conf"
#endif

/*
 * daemon_run - load conf_path, open the socket, (unless foreground)
 * detach, write the pid file, drop privileges and serve until SIGTERM.
 * Start-up errors go to stderr. Returns the process exit status.
 */
int daemon_run(const char *conf_path, bool foreground, bool debug);

/*
 * daemon_check_config - `mxguard -n`: load conf_path and the settings
 * only the daemon uses (do user and socket_group exist?); print
 * "configuration OK" (exit 0) or "FILE:LINE: message" lines (exit 1).
 */
int daemon_check_config(const char *conf_path);

#endif
