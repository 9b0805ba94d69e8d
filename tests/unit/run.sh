#!/usr/bin/env bash
# unit/run.sh - run every cmocka binary built from tests/unit/test_*.c.
set -uo pipefail
cd "$(dirname "$0")/../.."
make --no-print-directory -s unit-bins >/dev/null || { echo "unit: build failed"; echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
for src in tests/unit/test_*.c; do
	[[ -e $src ]] || continue
	bin=build/tests/$(basename "$src" .c)
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[  (FAILED|PASSED|ERROR)' | sed "s|^|$(basename "$bin"): |"
	p=$(printf '%s\n' "$out" | sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' | tail -n1)
	f=$(printf '%s\n' "$out" | sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' | tail -n1)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
	if [[ $rc -ne 0 && ${f:-0} -eq 0 ]]; then
		printf '%s\n' "$out" | tail -n 20
		fail=$((fail + 1))
	fi
done
echo "unit: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
