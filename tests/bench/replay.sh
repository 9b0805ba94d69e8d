#!/usr/bin/env bash
# bench/replay.sh - how fast `mxguard replay` reads a log (issue 11: at
# least 200,000 lines a second on one core).
#
# A large JSON decision log is made from the replay tier's golden log
# (tests/bench/replay_log.py: copies whose txns differ, so every message
# stays one), then replayed against the configuration that wrote it
# (tests/replay/logged.conf: every line read, decided again stage by stage
# and compared with the log; the report asked for as JSON and checked:
# every line reproduced). The yardstick on the same file: `jq -c .
# >/dev/null`, which only parses and prints each line. Best of
# REPLAY_BENCH_RUNS runs of each, CPU time (user + system: replay is one
# thread, so this is one core) and wall time; lines a second and the
# ratio to jq. Nothing about time is asserted; it fails only when
# something does not work.
#
#   REPLAY_BENCH_LINES   lines of the log (default 500000, ~0.5 GB)
#   REPLAY_BENCH_RUNS    runs of each, the best kept (default 3)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
T_TIER=bench-replay
. tests/lib/common.sh

LINES=${REPLAY_BENCH_LINES:-500000}
RUNS=${REPLAY_BENCH_RUNS:-3}
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_die "build failed"
command -v jq >/dev/null || t_die "jq is not installed (make test-deps)"
W=$(t_tmpdir)
LOG=$W/big.jsonl

"$T_PY" tests/bench/replay_log.py tests/replay/golden/log.jsonl "$LINES" "$LOG" || t_die "replay_log.py failed"
MB=$(( $(stat -c %s "$LOG") / 1048576 ))

# best CMD... - run RUNS times; BEST_CPU and BEST_WALL (seconds) of the run with the least CPU
best() {
	local i t
	BEST_CPU= BEST_WALL=
	for ((i = 0; i < RUNS; i++)); do
		t=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>"$W/err"; } 2>&1 ) || t_die "$1 failed: $(tail -n 3 "$W/err")"
		read -r wall user sys <<<"$t"
		cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.3f", u + s }')
		if [[ -z $BEST_CPU ]] || awk -v a="$cpu" -v b="$BEST_CPU" 'BEGIN { exit !(a < b) }'; then
			BEST_CPU=$cpu BEST_WALL=$wall
		fi
	done
}

./mxguard replay -c tests/replay/logged.conf --json "$LOG" >"$W/report.json" 2>"$W/err" ||
	t_die "replay of the generated log did not exit 0: $(tail -n 3 "$W/err")"
"$T_PY" -c 'import json, sys
R = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert R["decision_lines"] == R["lines_same"] == n and R["changed"] == 0, (R["decision_lines"], R["lines_same"], R["changed"])' \
	"$W/report.json" "$LINES" || t_die "the generated log is not reproduced line by line"

best ./mxguard replay -c tests/replay/logged.conf "$LOG"
r_cpu=$BEST_CPU r_wall=$BEST_WALL
best jq -c . "$LOG"
j_cpu=$BEST_CPU j_wall=$BEST_WALL
awk -v n="$LINES" -v mb="$MB" -v rc="$r_cpu" -v rw="$r_wall" -v jc="$j_cpu" -v jw="$j_wall" -v runs="$RUNS" 'BEGIN {
	printf "bench replay: %d lines (%d MB), best of %d runs, CPU time (one core) and wall time\n", n, mb, runs
	printf "  mxguard replay (read, decide again, compare): %8.0f lines/s CPU, %8.0f lines/s wall (%.2f s / %.2f s)\n", n / rc, n / rw, rc, rw
	printf "  jq -c . >/dev/null (parse and print):         %8.0f lines/s CPU, %8.0f lines/s wall (%.2f s / %.2f s)\n", n / jc, n / jw, jc, jw
	printf "  replay / jq: %.1fx; target 200,000 lines/s on one core: %s\n", jc / rc, ((n / rc) >= 200000 ? "met" : "missed")
}'
