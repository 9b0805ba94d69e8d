#!/usr/bin/env bash
# faults/soak.sh - `make soak`: the faults tier's harness, long and without
# the faults. SOAK_MESSAGES messages (default 100,000), SOAK_CONCURRENCY at
# a time (20), through the private Postfix to mxguard with the shipped
# rules; a SIGHUP reload every SOAK_RELOAD_EVERY seconds (30; 0: none),
# as logrotate or a list update would send. Every second mxguard's RSS,
# open descriptors (/proc/PID/fd) and threads go into a CSV (SOAK_CSV,
# default build/soak/samples.csv, kept). At the end: the same delivery
# checks as the tier (tests/faults/verify.py: every good message delivered
# exactly once with mxguard's Authentication-Results, every null-MX one
# refused), then tests/faults/sample.py's verdict: after warm-up (the first
# SOAK_WARMUP of the messages, 0.2) RSS, fds and threads must be flat - the
# median of the last tenth of the samples within SOAK_TOLERANCE percent
# (10) of the median after warm-up, plus a small slack.
# Not part of `make test`. Prints "soak: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
T_TIER=soak
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh
. tests/faults/lib.sh

N=${SOAK_MESSAGES:-100000}
C=${SOAK_CONCURRENCY:-20}
RELOAD_EVERY=${SOAK_RELOAD_EVERY:-30}
CSV=${SOAK_CSV:-$T_ROOT/build/soak/samples.csv}
# a client that cannot get 10 messages a second through is stuck, not slow
DEADLINE=$((N / 10 + 600))

chmod 755 "$T_BASE"
W=$(t_tmpdir)
t_mxguard_build "$W/build.log" || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"
mkdir -p "$(dirname "$CSV")" || t_abort "make $(dirname "$CSV")"
fl_setup "$W"
t_ok "DNS, mxguard (shipped rules) and Postfix are up"
echo "       soak: $N messages, $C at a time, reload every ${RELOAD_EVERY}s, samples in $CSV"

fl_load_start --count "$N" --concurrency "$C" --deadline "$DEADLINE" --run-id s
t_bg sampler "$T_PY" "$T_ROOT/tests/faults/sample.py" record --pid "$MXG_PID" --csv "$CSV" \
	--progress "$FL_OUT/progress"
SAMPLER_PID=$T_LAST_PID
t0=$SECONDS last=$SECONDS reloads=0 shown=0
while t_alive "$FL_LOAD_PID"; do
	sleep 1
	if ((RELOAD_EVERY > 0 && SECONDS - last >= RELOAD_EVERY)); then
		kill -HUP "$MXG_PID"
		reloads=$((reloads + 1))
		last=$SECONDS
	fi
	if ((SECONDS - shown >= 60)); then
		shown=$SECONDS
		echo "       $((SECONDS - t0)) s: $(fl_done) messages, mxguard $(awk '/^VmRSS/ {print $2, $3}' "/proc/$MXG_PID/status" 2>/dev/null)"
	fi
done
wait "$FL_LOAD_PID"
t_expect_eq "$?" 0 "load client ran to its end"
# the figures are of mxguard under load: sampling ends with the load
t_stop "$SAMPLER_PID"
echo "       $(grep '^loadclient:' "$T_BASE/loadclient.out")"
t_alive "$MXG_PID" && t_ok "mxguard running after $N messages" || t_fail "mxguard died during the soak"
for ((i = 0; i < 100; i++)); do
	got=$(grep -c 'reloaded configuration' "$MXG_LOG")
	((got >= reloads)) && break
	sleep 0.05
done
t_expect_eq "$got" "$reloads" "every one of the $reloads SIGHUPs reloaded the configuration"
fl_drain_postfix 120 || t_fail "postfix: queue empty and every accepted message in the sink within 120 s" \
	"queue: $(pf_queue_count), sink: $(pf_sink_count), accepted: $(fl_accepted)"
fl_verify

# a clean stop, then the verdict on the figures
kill -TERM "$MXG_PID"
for ((i = 0; i < 400; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
if t_alive "$MXG_PID"; then
	t_fail "mxguard stops within 20 s of SIGTERM"
else
	wait "$MXG_PID"
	t_expect_eq "$?" 0 "mxguard stops cleanly (exit 0)"
fi
fl_checks "$T_PY" "$T_ROOT/tests/faults/sample.py" report --csv "$CSV" \
	--warmup "${SOAK_WARMUP:-0.2}" --tolerance "${SOAK_TOLERANCE:-10}"
echo "       samples: $CSV"
t_summary soak
