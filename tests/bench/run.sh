#!/usr/bin/env bash
# bench/run.sh - throughput and latency of mxguard behind a private Postfix
# (make bench; not part of make test).
#
#  1. Throughput: smtp-source sends BENCH_MESSAGES messages over
#     BENCH_SESSIONS parallel sessions to (a) Postfix without a milter and
#     (b) Postfix + mxguard (MX and SPF checks against testdns.py), once
#     with one sender domain and once spread over BENCH_SESSIONS domains.
#     Prints messages/s and the ratio to (a).
#  2. Latency: testdns.py answers every query BENCH_DELAY_MS late; a Python
#     client times MAIL FROM -> RCPT TO reply (the decision, reject_stage
#     rcpt) for BENCH_LAT_MESSAGES transactions over 10 sessions, with a
#     different sender domain each time and with one domain.
#     Prints median and p99, measured by the client and from the
#     elapsed_ms of mxguard's log line for each transaction.
# mxguard keeps no DNS cache between messages; the two domain spreads are
# there to show that, not to hide anything.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh

N=${BENCH_MESSAGES:-3000}
S=${BENCH_SESSIONS:-20}
LAT_N=${BENCH_LAT_MESSAGES:-400}
DELAY=${BENCH_DELAY_MS:-100}
DOMAINS=1000
RCPT=sink@$PF_RCPT_DOMAIN

die() {
	echo "bench: $*" >&2
	exit 1
}
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || die "build failed"
W=$(t_tmpdir)

# The zone: bench.test plus d1..dN.bench.test, each with an MX, an address
# and an SPF record that allows the loopback client.
{
	echo '$TTL 300'
	echo 'bench.test.        MX  10 mx.bench.test.'
	echo 'mx.bench.test.     A   192.0.2.25'
	echo 'bench.test.        TXT "v=spf1 ip4:127.0.0.0/8 -all"'
	for ((i = 1; i <= DOMAINS; i++)); do
		echo "d$i.bench.test. MX 10 mx.d$i.bench.test."
		echo "mx.d$i.bench.test. A 192.0.2.$((i % 250 + 1))"
		echo "d$i.bench.test. TXT \"v=spf1 ip4:127.0.0.0/8 -all\""
	done
} >"$W/bench.zone"
for ((i = 1; i <= DOMAINS; i++)); do echo "d$i.bench.test"; done | shuf >"$W/domains"

t_dns_start "$W/bench.zone" || die "testdns did not start"
FAST_DNS=$DNS_PORT
t_dns_start --delay-ms "$DELAY" "$W/bench.zone" || die "slow testdns did not start"
SLOW_DNS=$DNS_PORT

MPORT=$(t_free_port)
CONF=$W/mxguard.conf
# write_conf DNS_PORT - the bench configuration (the e2e rules).
write_conf() {
	cat >"$CONF.new" <<EOF
socket = inet:$MPORT@127.0.0.1
dns_servers = 127.0.0.1:$1
dns_timeout = 5s
trusted_networks = 198.51.100.0/24
rule null-mx       mx = nullmx    reject 550 5.7.27 "sender domain %{domain} does not accept mail (null MX)"
rule no-domain     mx = nxdomain  reject 550 5.1.8 "sender domain %{domain} does not exist"
rule no-route      mx in {none, bogus} reject 550 5.1.8 "sender domain %{domain} has no usable mail exchanger"
rule mx-temperror  mx = temperror tempfail 451 4.4.3 "cannot verify sender domain %{domain} now"
rule spf-temperror spf = temperror tempfail 451 4.7.24 "cannot check SPF for %{domain} now"
rule spf-fail      spf = fail     reject 550 5.7.23 "SPF check failed for %{domain}"
default accept
EOF
	mv "$CONF.new" "$CONF"
}

# blast LABEL - smtp-source load; sets RATE (msg/s) and SECS. With SPREAD=1,
# S processes of one session each, every one with its own sender domain.
blast() {
	local label=$1 t0 t1 i pids=() per=$((N / S)) bad=0
	t0=$(date +%s%N)
	if [[ ${SPREAD:-0} == 1 ]]; then
		for ((i = 1; i <= S; i++)); do
			smtp-source -s 1 -m "$per" -f "bench@d$i.bench.test" -t "$RCPT" \
				"127.0.0.1:$PF_PORT" >"$W/src.$i.out" 2>&1 &
			pids+=($!)
		done
		for i in "${pids[@]}"; do wait "$i" || bad=1; done
		sent=$((per * S))
	else
		smtp-source -s "$S" -m "$N" -f bench@bench.test -t "$RCPT" \
			"127.0.0.1:$PF_PORT" >"$W/src.1.out" 2>&1 || bad=1
		sent=$N
	fi
	t1=$(date +%s%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	RATE=$(awk -v n="$sent" -v s="$SECS" 'BEGIN { printf "%.1f", n / s }')
	if [[ $bad != 0 ]] || grep -qs . "$W"/src.*.out; then
		echo "bench: $label: smtp-source reported errors:" >&2
		cat "$W"/src.*.out | head -n 5 >&2
		BENCH_ERRORS=1
	fi
	rm -f "$W"/src.*.out
}
BENCH_ERRORS=0

echo "bench: throughput, $N messages, $S parallel sessions (smtp-source), $(nproc) CPUs"
pf_setup "$W/pf-plain"
pf_start || die "postfix (no milter) did not start"
blast "postfix alone"
base=$RATE
printf '  %-34s %8s msg/s  (%s s)\n' "postfix alone" "$RATE" "$SECS"
pf_stop

write_conf "$FAST_DNS"
t_mxguard_start "$CONF" "$MPORT" || die "mxguard did not start"
pf_setup "$W/pf-milter" "inet:127.0.0.1:$MPORT"
pf_start || die "postfix (with mxguard) did not start"
blast "postfix + mxguard"
printf '  %-34s %8s msg/s  (%s s)  ratio %s\n' "postfix + mxguard, 1 domain" "$RATE" "$SECS" \
	"$(awk -v a="$RATE" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
SPREAD=1 blast "postfix + mxguard, spread"
printf '  %-34s %8s msg/s  (%s s)  ratio %s\n' "postfix + mxguard, $S domains" "$RATE" "$SECS" \
	"$(awk -v a="$RATE" -v b="$base" 'BEGIN { printf "%.2f", a / b }')"
acc=$(grep -c ' action=accept ' "$MXG_LOG")
other=$(grep -E ' action=' "$MXG_LOG" | grep -vc ' action=accept ')
echo "  decision log: $acc accepted, $other other"
[[ $other -eq 0 ]] || { grep ' action=' "$MXG_LOG" | grep -v ' action=accept ' | head -n 3; BENCH_ERRORS=1; }

# --- latency ---------------------------------------------------------------
write_conf "$SLOW_DNS"
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do
	grep -q 'reloaded configuration' "$MXG_LOG" && break
	sleep 0.05
done
grep -q 'reloaded configuration' "$MXG_LOG" || die "mxguard did not reload"

# stats FILE - "median p99 n" of the first column.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = int(NR * 0.99 + 0.999999); if (p > NR) p = NR
		printf "%.0f %.0f %d", m, v[p], NR }'
}

echo "bench: latency MAIL FROM -> RCPT reply, every DNS answer delayed $DELAY ms," \
	"$LAT_N transactions, 10 sessions"
for mode in distinct one; do
	if [[ $mode == distinct ]]; then
		head -n "$LAT_N" "$W/domains" >"$W/lat.domains"
		label="a different domain each time"
	else
		echo bench.test >"$W/lat.domains"
		label="always the same domain"
	fi
	"$T_PY" tests/bench/latency.py "$PF_PORT" "$W/lat.domains" "$LAT_N" 10 "$RCPT" \
		>"$W/lat.out" 2>"$W/lat.err" || { cat "$W/lat.err" >&2; BENCH_ERRORS=1; }
	bad=$(awk '$2 != 250' "$W/lat.out" | wc -l)
	read -r med p99 cnt < <(stats "$W/lat.out")
	printf '  %-30s median %5s ms   p99 %5s ms   (%s transactions, %s not 250)\n' \
		"$label:" "$med" "$p99" "$cnt" "$bad"
	# mxguard's own view: elapsed_ms of the line logged when RSET aborts
	# the transaction (MAIL FROM -> decision known -> RSET).
	grep -E ' stage=abort ' "$MXG_LOG" | grep -F -f <(sed 's/^/sender=<bench@/; s/$/>/' "$W/lat.domains") |
		sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p' | tail -n "$LAT_N" >"$W/lat.srv"
	read -r med p99 cnt < <(stats "$W/lat.srv")
	printf '  %-30s median %5s ms   p99 %5s ms   (%s log lines)\n' "  mxguard log elapsed_ms:" "$med" "$p99" "$cnt"
	[[ $bad -eq 0 && $cnt -eq $LAT_N ]] || BENCH_ERRORS=1
done
queries=$(wc -l <"$DNS_LOG")
echo "  slow DNS server answered $queries queries"

[[ $BENCH_ERRORS -eq 0 ]] || die "errors during the run (see above)"
bash tests/bench/chain.sh || die "lookup chains (tests/bench/chain.sh) failed"
echo "bench: done"
