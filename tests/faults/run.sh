#!/usr/bin/env bash
# faults/run.sh - mail survives faults: a client that behaves like a sending
# MTA (tests/faults/loadclient.py: retries on 4xx and connection failures,
# gives up only on 5xx) sends a thousand-odd messages, 10 at a time, through
# a private Postfix (milter_default_action = tempfail) to the real mxguard
# with the shipped rules, DNS from testdns.py (tests/faults/lib.sh sets it
# all up). 90 % come from good domains (SPF pass from the XCLIENT address,
# DKIM-signed, DMARC p=reject), 10 % from null-MX domains. While it runs,
# one after another, each once the client has finished FAULTS_SPACING more
# messages:
#   hup-storm   20 SIGHUPs within a second           (no attempt may fail)
#   bad-reload  a broken config file, SIGHUP, then the good one back
#                                                    (no attempt may fail)
#   kill9       kill -9 of mxguard, down 1 s, restarted  (attempts fail: retried)
#   sigterm     SIGTERM (drain, clean exit 0), down 1 s, restarted (attempts
#               fail: retried)
#   dns-down    testdns.py killed for 3 s (refused), restarted on its port
#   dns-silent  testdns.py SIGSTOPped for 5 s (no answers: dns_timeout), SIGCONT
# Then the client finishes (at least FAULTS_MESSAGES messages), and
# tests/faults/verify.py checks: every good message accepted once and in
# the sink exactly once, every null-MX one refused with 550 5.7.27 and in
# the sink never, every delivered message with mxguard's
# Authentication-Results (spf, dmarc pass), a decision line for each
# accepted queue id, and each fault's window as above. Last, one more
# message goes through, and mxguard stops cleanly.
# Prints "faults: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh
. tests/faults/lib.sh

FAULTS_MESSAGES=${FAULTS_MESSAGES:-1000}
FAULTS_SPACING=${FAULTS_SPACING:-120}
FAULTS_CONCURRENCY=${FAULTS_CONCURRENCY:-10}
# The DNS outages must outlast what the cache still answers (FL_TTL, 2 s) and,
# for a silent server, a query's deadline too (dns_timeout = 2s): a query
# sent just before the TTL ran out must time out before the server is back.
DOWN_S=$((FL_TTL + 1))
SILENT_S=$((FL_TTL + 2 + 1))

chmod 755 "$T_BASE"
W=$(t_tmpdir)
t_mxguard_build "$W/build.log" || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"
fl_setup "$W"
t_ok "DNS, mxguard (shipped rules) and Postfix are up"

STOP=$W/stop
fl_load_start --count "$FAULTS_MESSAGES" --stop-file "$STOP" --concurrency "$FAULTS_CONCURRENCY" \
	--deadline 300 --run-id f
fl_phase_begin warmup clean
k=0

# next_fault NAME EXPECT - wait for the next FAULTS_SPACING messages, open NAME's window
next_fault() {
	k=$((k + 1))
	fl_wait_done $((k * FAULTS_SPACING)) ||
		t_abort "load client: $((k * FAULTS_SPACING)) messages finished before $1" \
			"done: $(fl_done); $(tail -n 5 "$T_BASE/loadclient.out")"
	[[ -n $FL_PHASE ]] && fl_phase_end
	echo "       fault $k: $1 (after $(fl_done) messages)"
	fl_phase_begin "$1" "$2"
}

# settle N - let N more messages finish, then close the window
settle() {
	fl_wait_more "$1" || t_abort "load client: traffic flows again after ${FL_PHASE%% *}" \
		"done: $(fl_done); $(tail -n 5 "$T_BASE/loadclient.out")"
	fl_phase_end
}

# reloads - "reloaded configuration" lines in the current log
reloads() { grep -c 'reloaded configuration' "$MXG_LOG"; }

# --- a SIGHUP storm -----------------------------------------------------------
next_fault hup-storm clean
r0=$(reloads)
for ((i = 0; i < 20; i++)); do
	kill -HUP "$MXG_PID"
	sleep 0.05
done
t_wait_grep -E "reloaded configuration" "$MXG_LOG" 5 >/dev/null
sleep 0.5
r=$(($(reloads) - r0))
((r >= 1 && r <= 20)) && t_ok "hup-storm: 20 SIGHUPs, $r reloads (bursts coalesce)" ||
	t_fail "hup-storm: 20 SIGHUPs gave $r reloads (want 1..20)"
t_alive "$MXG_PID" && t_ok "hup-storm: mxguard still running" || t_fail "hup-storm: mxguard died"
settle 40

# --- a broken configuration, then the good one back --------------------------------
next_fault bad-reload clean
cp "$CONF" "$W/good.conf"
{ cat "$W/good.conf"; echo 'rule broken mx = = nullmx reject'; } >"$CONF.new" && mv "$CONF.new" "$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$MXG_PID"
line=$(t_wait_grep -F 'reload failed' "$MXG_LOG" 5)
t_expect_match "$line" "reload failed: .*mxguard\\.conf:$bad_line: .*keeping previous configuration" \
	"bad-reload: refused, naming file:line, previous configuration kept"
fl_wait_more 40
r0=$(reloads)
cp "$W/good.conf" "$CONF.new" && mv "$CONF.new" "$CONF"
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do (($(reloads) > r0)) && break; sleep 0.05; done
(($(reloads) > r0)) && t_ok "bad-reload: the good file back, reloaded" || t_fail "bad-reload: no reload of the good file logged"
settle 40

# --- kill -9, down for a second, restarted ---------------------------------------------
next_fault kill9 disrupt
{ kill -KILL "$MXG_PID" && wait "$MXG_PID"; } 2>/dev/null
sleep 1
fl_mxg_start || t_abort "kill9: mxguard restarts" "$(cat "$MXG_LOG")"
settle 40

# --- SIGTERM: drain, clean exit, restarted ---------------------------------------------
next_fault sigterm disrupt
kill -TERM "$MXG_PID"
for ((i = 0; i < 400; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
if t_alive "$MXG_PID"; then
	t_fail "sigterm: mxguard exits within 20 s of SIGTERM"
	{ kill -KILL "$MXG_PID" && wait "$MXG_PID"; } 2>/dev/null
else
	wait "$MXG_PID"
	t_expect_eq "$?" 0 "sigterm: mxguard drained and exited 0"
fi
t_expect_match "$(grep -E 'stopping|stopped' "$MXG_LOG" | tr '\n' ' ')" 'stopping \(SIGTERM\).*stopped' \
	"sigterm: 'stopping (SIGTERM)' and 'stopped' logged"
sleep 1
fl_mxg_start || t_abort "sigterm: mxguard restarts" "$(cat "$MXG_LOG")"
settle 40

# --- the DNS server gone (refused), then back on its port -----------------------------
next_fault dns-down disrupt
fl_dns_kill
sleep "$DOWN_S"
fl_dns_start || t_abort "dns-down: testdns restarts on port $FL_DNS_PORT" "$(tail -n 5 "$W/testdns.err")"
settle 40

# --- the DNS server silent (SIGSTOP: every query times out), then SIGCONT ------------
next_fault dns-silent disrupt
t_on_cleanup "kill -CONT $DNS_PID"
kill -STOP "$DNS_PID"
sleep "$SILENT_S"
kill -CONT "$DNS_PID"
settle 40

# --- the rest of the load, then the verdict ---------------------------------------------
fl_wait_done $(($(fl_done) + 150)) && fl_wait_done "$FAULTS_MESSAGES" ||
	t_fail "load client: $FAULTS_MESSAGES messages finished" "done: $(fl_done)"
: >"$STOP"
for ((i = 0; i < 3100; i++)); do t_alive "$FL_LOAD_PID" || break; sleep 0.1; done
if t_alive "$FL_LOAD_PID"; then
	t_abort "load client ends within 310 s" "$(cat "$FL_OUT/progress")"
fi
wait "$FL_LOAD_PID"
t_expect_eq "$?" 0 "load client ran to its end"
echo "       $(grep '^loadclient:' "$T_BASE/loadclient.out")"
fl_drain_postfix 60 || t_fail "postfix: queue empty and every accepted message in the sink within 60 s" \
	"queue: $(pf_queue_count), sink: $(pf_sink_count), accepted: $(fl_accepted)"
t_expect_eq "$(find "$PF_DIR/queue/hold" -type f | wc -l)" 0 "postfix: nothing in the hold queue"
fl_verify

# --- mxguard still answers --------------------------------------------------------------
out=$(swaks --server 127.0.0.1 --port "$PF_PORT" --helo mta.sender.faults.test --xclient-addr 192.0.2.5 \
	--from probe@good01.test --to probe@rcpt.test --header 'Message-ID: <probe@after.faults.test>' \
	--header 'From: <news@good01.test>' --timeout 60 2>&1 </dev/null)
t_expect_match "$(grep -E '^<- +250 .*queued as' <<<"$out")" '250 2\.0\.0 Ok: queued as' \
	"after the faults: one more message accepted"
pf_sink_wait $(($(fl_accepted) + 1)) 15
f=$(grep -lF '<probe@after.faults.test>' "$PF_SINK_DIR"/msg-* 2>/dev/null | head -n 1)
t_expect_match "$(grep -i '^Authentication-Results:' "${f:-/dev/null}")" "^Authentication-Results: $FL_AUTHSERV" \
	"after the faults: it was delivered with mxguard's Authentication-Results"
kill -TERM "$MXG_PID"
for ((i = 0; i < 400; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
if t_alive "$MXG_PID"; then
	t_fail "mxguard stops within 20 s of SIGTERM at the end"
else
	wait "$MXG_PID"
	t_expect_eq "$?" 0 "mxguard stops cleanly at the end (exit 0)"
fi

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- mxguard log (last 15 lines) ---"
	tail -n 15 "$MXG_LOG"
	echo "--- load client ---"
	tail -n 5 "$T_BASE/loadclient.out"
fi
t_summary faults
