#!/usr/bin/env bash
# spf/run.sh - SPF conformance tier.
#
# Runs mxguard's own SPF code (policy/spf*.c on the real c-ares resolver,
# built into build/tests/spf_driver from tests/spf/spf_driver.c) against
#   1. the RFC 7208 test suite shipped in python3-spf (203 tests), and
#   2. tests/spf/hostile.py: crafted records that must neither crash nor
#      hang the evaluator and must give the stated result,
#   3. the RFC 7208 suite again with every check run in 4 threads at once
#      on the one process-wide SPF context (results must agree),
# each served by tests/spf/rfc7208.py's loopback DNS server.
#
# Exits non-zero when the RFC 7208 score (single or threaded) drops below
# RFC_THRESHOLD (the score reached: every test passes) or any hostile case
# fails.
set -uo pipefail
cd "$(dirname "$0")/../.."

RFC_THRESHOLD=203
PY=/usr/bin/python3
DRIVER=build/tests/spf_driver

if ! make --no-print-directory -s "$DRIVER"; then
	echo "spf: build failed"
	echo "spf: 0 passed, 1 failed"
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

"$PY" tests/spf/rfc7208.py "$DRIVER" | tee "$log"
rfc_pass=$(sed -nE 's/^rfc7208: ([0-9]+) passed, ([0-9]+) failed/\1/p' "$log")
rfc_fail=$(sed -nE 's/^rfc7208: ([0-9]+) passed, ([0-9]+) failed/\2/p' "$log")
"$PY" tests/spf/hostile.py "$DRIVER" | tee "$log"
hos_pass=$(sed -nE 's/^hostile: ([0-9]+) passed, ([0-9]+) failed/\1/p' "$log")
hos_fail=$(sed -nE 's/^hostile: ([0-9]+) passed, ([0-9]+) failed/\2/p' "$log")
# 3. the suite again, each check in 4 threads at once on the one SPF context
"$PY" tests/spf/rfc7208.py "$DRIVER" --threads 4 --label threads | tee "$log"
thr_pass=$(sed -nE 's/^threads: ([0-9]+) passed, ([0-9]+) failed/\1/p' "$log")
thr_fail=$(sed -nE 's/^threads: ([0-9]+) passed, ([0-9]+) failed/\2/p' "$log")

rc=0
if [[ -z $rfc_pass || $rfc_pass -lt $RFC_THRESHOLD ]]; then
	echo "spf: RFC 7208 score ${rfc_pass:-none} is below the threshold $RFC_THRESHOLD"
	rc=1
fi
if [[ -z $hos_pass || ${hos_fail:-1} -ne 0 ]]; then
	echo "spf: hostile-record cases failed"
	rc=1
fi
if [[ -z $thr_pass || $thr_pass -lt $RFC_THRESHOLD ]]; then
	echo "spf: the suite run in 4 threads scored ${thr_pass:-none}"
	rc=1
fi
pass=$(( ${rfc_pass:-0} + ${hos_pass:-0} + ${thr_pass:-0} ))
fail=$(( ${rfc_fail:-1} + ${hos_fail:-1} + ${thr_fail:-1} ))
[[ $rc -ne 0 && $fail -eq 0 ]] && fail=1
echo "spf: $pass passed, $fail failed"
exit $rc
