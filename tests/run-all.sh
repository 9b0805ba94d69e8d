#!/usr/bin/env bash
# run-all.sh - run test tiers and add up their "N passed, M failed" lines.
#   tests/run-all.sh            every tier
#   tests/run-all.sh unit e2e   just these
# A tier is any tests/TIER/run.sh; it must print "N passed, M failed" as
# its last such line and exit non-zero on any failure. Tiers run cheapest
# first (the order below), then any other tier found, alphabetically.
# A tier named on the command line that does not exist is an error.
# tests/bench/run.sh is a benchmark (make bench), never a default tier.
set -uo pipefail
cd "$(dirname "$0")/.."

tiers=("$@")
if [[ ${#tiers[@]} -eq 0 ]]; then
	for t in dns unit resolver milter spf dkim e2e $(ls tests/*/run.sh | cut -d/ -f2 | sort); do
		[[ $t != bench && -f tests/$t/run.sh && " ${tiers[*]-} " != *" $t "* ]] && tiers+=("$t")
	done
fi

total_pass=0 total_fail=0 bad=()
for t in "${tiers[@]}"; do
	script=tests/$t/run.sh
	echo "=== tier $t ==="
	if [[ ! -f $script ]]; then
		echo "tier $t: $script is missing"
		bad+=("$t"); total_fail=$((total_fail + 1)); continue
	fi
	log=$(mktemp)
	bash "$script" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	p=$(sed -E 's/^([A-Za-z0-9_-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
	f=$(sed -E 's/^.* ([0-9]+) failed.*/\1/' <<<"$line")
	[[ -z $line ]] && { p=0; f=1; echo "tier $t: printed no result line"; }
	if [[ $rc -ne 0 && $f -eq 0 ]]; then f=1; echo "tier $t: exited $rc"; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	[[ $f -ne 0 ]] && bad+=("$t")
done
echo "=== summary ==="
[[ ${#bad[@]} -gt 0 ]] && echo "failing tiers: ${bad[*]}"
echo "$total_pass passed, $total_fail failed"
[[ $total_fail -eq 0 ]]
