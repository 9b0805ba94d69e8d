#!/usr/bin/env bash
# bench/sessions.sh - COUNT concurrent milter sessions waiting on DNS: what
# do they cost mxguard in memory? (make bench, from tests/bench/run.sh)
#
#   sessions.sh COUNT OUT.json
#
# A separate ./mxguard (conf/mxguard.conf as shipped, dns_timeout 25 s, the
# longest allowed) asks a testdns.py that drops every query below wait.test;
# tests/bench/sessions.py opens COUNT milter sessions, each stopped at MAIL
# FROM from its own domain wN.wait.test, samples mxguard's RSS and threads,
# and writes OUT.json. Fails when a session could not be set up or got an
# answer before the end (it must be waiting).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
T_TIER="bench sessions"
. tests/lib/common.sh
. tests/lib/mxconf.sh

COUNT=$1 OUT=$2
W=$(t_tmpdir)
ulimit -n 16384 || t_die "cannot raise the open files limit"
printf '%s\n' '$ORIGIN test.' '$TTL 300' '@ SOA ns.test. hostmaster.test. 1 3600 600 86400 300' \
	'@ NS ns.test.' 'ns A 127.0.0.1' '$FAULT *.wait.test. drop' >"$W/zone"
t_dns_start "$W/zone" || t_die "testdns did not start"
port=$(t_free_port)
mxconf_write "$W/mxguard.conf" "$port" "dns_servers = 127.0.0.1:$DNS_PORT" "dns_timeout = 25s" "dns_try_timeout = 10s" \
	"authserv_id = mxguard.bench" <conf/mxguard.conf || t_die "cannot write mxguard.conf"
t_mxguard_start "$W/mxguard.conf" "$port" || t_die "mxguard did not start: $(cat "$MXG_LOG")"
sleep 0.5
"$T_PY" tests/bench/sessions.py "$port" "$MXG_PID" "$COUNT" "$OUT" "$DNS_LOG" || t_die "sessions did not all wait"
t_alive "$MXG_PID" || t_die "mxguard died: $(tail -n 5 "$MXG_LOG")"
