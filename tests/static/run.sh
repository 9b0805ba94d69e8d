#!/usr/bin/env bash
# static/run.sh - the quality tier: static analysis, sanitizers, fuzzing.
#
#   tests/static/run.sh                  every part
#   tests/static/run.sh lint fuzz        just these parts
#   FUZZ_TIME=60 tests/static/run.sh fuzz    fuzz longer (default 5 s each)
#   FUZZ_SEED=N                          fixed libFuzzer seed (default: random)
#   SAN_TIERS="milter e2e"               tiers the daemon part runs (default milter e2e auth faults)
#
# Parts:
#   lint      cppcheck over policy/ conf/ milter/ and the C under tests/ (make lint)
#   sanitize  every unit test binary built with ASan+UBSan (and LeakSanitizer),
#             and the DNS cache's thread test with ThreadSanitizer (build/tsan)
#             in build/asan, no recovery: any report fails it (make san-bins);
#             deliberate leaks are listed, with reasons, in lsan.supp
#   daemon    the milter, e2e, auth and faults tiers (SAN_TIERS), MXG_BIN pointing
#             at build/asan/mxguard (through a wrapper that notes each run: a
#             tier that never started the daemon with -f fails); every
#             sanitizer report of the daemon and of `mxguard check` fails it
#             (the tier's own result is only shown). A tier listed here runs
#             every mxguard it starts as "$MXG_BIN" (tests/lib/common.sh).
#   fuzz      every tests/fuzz/fuzz_*.c harness, built with clang + libFuzzer +
#             ASan+UBSan in build/fuzz, first over its committed seed corpus
#             tests/fuzz/corpus/NAME/, then mutating for FUZZ_TIME seconds
#             (with the dictionary tests/fuzz/dict/NAME.dict when there is one)
#
# The sanitizer and fuzz builds have their own build dirs and never touch
# build/ or ./mxguard. New corpus entries go to a scratch dir (the committed
# corpus is only read). A crash's input is kept in build/fuzz/crashes/ and
# the command to reproduce it is printed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh

ROOT=$(pwd)
FUZZ_TIME=${FUZZ_TIME:-5}
JOBS=${JOBS:-2}
parts=("$@")
[[ ${#parts[@]} -eq 0 ]] && parts=(lint sanitize daemon fuzz)

# part_lint - cppcheck must report nothing (findings are errors)
part_lint() {
	local out
	if out=$(make --no-print-directory -s lint 2>&1); then
		t_ok "cppcheck: policy/ conf/ milter/ tests/ clean"
	else
		t_fail "cppcheck: findings" "$out"
	fi
}

# san_report - the first sanitizer report line in a test's output, if any
san_report() {
	grep -m1 -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' <<<"$1"
}

# part_sanitize - build the unit tests under ASan+UBSan and run each binary
part_sanitize() {
	local out src bin name rc rep passed
	if ! out=$(make --no-print-directory -s -j"$JOBS" san-bins 2>&1); then
		t_fail "sanitize: build of build/asan failed" "$(tail -n 20 <<<"$out")"
		return
	fi
	t_ok "sanitize: unit tests and daemon build with -fsanitize=address,undefined"
	for src in tests/unit/test_*.c; do
		[[ -e $src ]] || continue
		name=$(basename "$src" .c)
		bin=build/asan/tests/$name
		# full stacks at malloc (slower), so suppressions match through libspf2's frames
		out=$(ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:fast_unwind_on_malloc=0 \
			LSAN_OPTIONS=suppressions=$ROOT/tests/static/lsan.supp \
			UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$bin" 2>&1 </dev/null)
		rc=$?
		rep=$(san_report "$out")
		passed=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' <<<"$out" | tail -n1)
		if [[ $rc -eq 0 && -z $rep ]]; then
			t_ok "sanitize: $name (${passed:-0} tests, no sanitizer report)"
		else
			t_fail "sanitize: $name (exit $rc)" "$(grep -E -A12 'Sanitizer|runtime error|FAILED' <<<"$out" | head -n 30)"
		fi
	done
	# The shared DNS cache's joins across threads, under ThreadSanitizer too
	if ! out=$(make --no-print-directory -s BUILD=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread" \
		build/tsan/tests/test_dns_cache 2>&1); then
		t_fail "sanitize: build of build/tsan/tests/test_dns_cache failed" "$(tail -n 20 <<<"$out")"
	else
		out=$(TSAN_OPTIONS=halt_on_error=1 build/tsan/tests/test_dns_cache 2>&1)
		rc=$?
		if [[ $rc -eq 0 && $out != *"ThreadSanitizer"* ]]; then
			t_ok "sanitize: test_dns_cache under ThreadSanitizer (no data race)"
		else
			t_fail "sanitize: test_dns_cache under ThreadSanitizer (exit $rc)" "$(grep -A20 'WARNING\|FAILED' <<<"$out" | head -n 30)"
		fi
	fi
	# The daemon's own config check, under the sanitizers, on the shipped file
	out=$(ASAN_OPTIONS=detect_leaks=1 build/asan/mxguard -n -c conf/mxguard.conf 2>&1 </dev/null)
	rc=$?
	if [[ $rc -eq 0 && $out == *"configuration OK"* && -z $(san_report "$out") ]]; then
		t_ok "sanitize: mxguard -n on conf/mxguard.conf"
	else
		t_fail "sanitize: mxguard -n on conf/mxguard.conf (exit $rc)" "$out"
	fi
}

# part_daemon - other tiers against the ASan+UBSan daemon; any sanitizer report fails
part_daemon() {
	local out reports wrap t t0 log line n=0 runs tiers=${SAN_TIERS:-milter e2e auth faults}
	if ! out=$(make --no-print-directory -s -j"$JOBS" san-bins 2>&1); then
		t_fail "daemon: build of build/asan failed" "$(tail -n 20 <<<"$out")"
		return
	fi
	# Written to by the daemon after it dropped to "nobody" (the milter tier's unix socket daemon)
	reports=$(t_tmpdir)
	chmod 1777 "$reports"
	# MXG_BIN for the tiers: notes each run, then is the sanitized daemon (same PID)
	wrap=$reports/mxguard-asan
	printf '#!/bin/sh\necho "$*" >>"%s/runs.$TIER"\nexec "%s" "$@"\n' "$reports" "$ROOT/build/asan/mxguard" >"$wrap"
	chmod 755 "$wrap"
	for t in $tiers; do
		log=$(t_tmpdir)/$t.log
		t0=$SECONDS
		TIER=$t MXG_BIN=$wrap ASAN_OPTIONS=log_path=$reports/asan:detect_leaks=1 \
			LSAN_OPTIONS=suppressions=$ROOT/tests/static/lsan.supp \
			UBSAN_OPTIONS=log_path=$reports/ubsan:print_stacktrace=1 \
			bash "tests/$t/run.sh" >"$log" 2>&1 </dev/null
		line=$(grep -E '^([A-Za-z0-9_-]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		runs=$(grep -c -- ' *-f ' "$reports/runs.$t" 2>/dev/null)
		if [[ -z $line || ${runs:-0} -eq 0 ]]; then
			t_fail "daemon: tier $t ran the sanitized daemon (MXG_BIN)" \
				"daemon runs: ${runs:-0}; result line: ${line:-none}
$(tail -n 20 "$log")"
			continue
		fi
		# the tier's own verdict is its business (it runs on its own too); shown for reference
		echo "       tier $t against build/asan/mxguard ($runs daemon runs, $((SECONDS - t0)) s): $line"
		n=$((n + 1))
	done
	[[ $n -gt 0 ]] || return
	out=$(grep -l -E 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$reports"/asan* "$reports"/ubsan* 2>/dev/null)
	if [[ -z $out ]]; then
		t_ok "daemon: no sanitizer report from mxguard during tier(s) $tiers"
	else
		t_fail "daemon: sanitizer reports during tier(s) $tiers" \
			"$(for f in $out; do echo "== $f"; grep -E -A20 'ERROR|runtime error' "$f" | head -n 25; done)"
	fi
}

# fuzz_one - one harness: seeds, then FUZZ_TIME seconds of mutation
fuzz_one() {
	local bin=$1 name corpus work out rc seed_arg=() crash keep runs cov
	name=$(basename "$bin")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	if [[ ! -d $corpus ]] || [[ -z $(ls -A "$corpus") ]]; then
		t_fail "fuzz: $name has no seed corpus in $corpus"
		return
	fi
	work=$(t_tmpdir)
	mkdir -p "$work/new" "$work/art"
	# small list files for the config harness's relative file: items
	printf '192.0.2.0/24\n# comment\n2001:db8::/32, 198.51.100.1\n' >"$work/nets.txt"
	printf 'example.org\n*.example.net\n' >"$work/names.txt"
	[[ -n ${FUZZ_SEED:-} ]] && seed_arg=(-seed="$FUZZ_SEED")
	[[ -f tests/fuzz/dict/${name#fuzz_}.dict ]] && seed_arg+=(-dict="$ROOT/tests/fuzz/dict/${name#fuzz_}.dict")
	out=$(cd "$work" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		timeout $((FUZZ_TIME * 3 + 60)) "$ROOT/$bin" "${seed_arg[@]}" \
		-max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=1536 -print_final_stats=1 \
		-artifact_prefix="$work/art/" "$work/new" "$ROOT/$corpus" 2>&1 </dev/null)
	rc=$?
	runs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+)/\1/p' <<<"$out")
	# coverage at the end: libFuzzer's last status line ("#N DONE cov: C ft: F corp: ...")
	cov=$(grep -E '^#[0-9]+.*cov: ' <<<"$out" | tail -n 1 | sed -nE 's/.*cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+).*/\1 edges, \2 features, corpus \3/p')
	if [[ $rc -eq 0 && -d $work/art && -z $(ls -A "$work/art") ]]; then
		t_ok "fuzz: $name (${runs:-?} inputs in ${FUZZ_TIME}s, $(ls "$corpus" | wc -l) seeds; ${cov:-coverage not reported})"
		return
	fi
	keep=build/fuzz/crashes
	mkdir -p "$keep"
	for crash in "$work"/art/*; do
		[[ -e $crash ]] || continue
		cp "$crash" "$keep/$name-$(basename "$crash")"
		echo "$name: input kept in $keep/$name-$(basename "$crash"); reproduce: $bin $keep/$name-$(basename "$crash")"
	done
	t_fail "fuzz: $name (exit $rc)" "$(grep -E -m1 '^INFO: Seed' <<<"$out")
$(grep -E -A25 'ERROR: |FUZZ_CHECK|runtime error|SUMMARY' <<<"$out" | head -n 40)"
}

# part_fuzz - build every harness with clang and run each
part_fuzz() {
	local out bin n=0
	if ! command -v "${FUZZ_CC:-clang}" >/dev/null; then
		t_fail "fuzz: clang not installed (make deps installs it)"
		return
	fi
	if ! out=$(make --no-print-directory -s -j"$JOBS" fuzz-bins 2>&1); then
		t_fail "fuzz: build of build/fuzz failed (clang, -Werror)" "$(tail -n 20 <<<"$out")"
		return
	fi
	t_ok "fuzz: core and harnesses build with clang -Werror and -fsanitize=fuzzer,address,undefined"
	for bin in build/fuzz/fuzz/fuzz_*; do
		[[ -x $bin && -e tests/fuzz/$(basename "$bin").c ]] || continue
		fuzz_one "$bin"
		n=$((n + 1))
	done
	[[ $n -gt 0 ]] || t_fail "fuzz: no harness found in tests/fuzz/"
}

for p in "${parts[@]}"; do
	case $p in
	lint) part_lint ;;
	sanitize) part_sanitize ;;
	fuzz) part_fuzz ;;
	daemon) part_daemon ;;
	*) t_fail "static: unknown part '$p' (lint, sanitize, daemon, fuzz)" ;;
	esac
done
t_summary static
