#!/usr/bin/env bash
# bench/lookups.sh - latency by lookup chain through Postfix + mxguard (make
# bench, after run.sh's side-by-side comparison; BENCH_LOOKUPS=0 skips it).
#
# testdns.py answers every query BENCH_DELAY_MS late; a Python client
# (tests/bench/latency.py) times MAIL FROM -> RCPT reply (the decision,
# reject_stage rcpt) for BENCH_LAT_MESSAGES transactions over 10 sessions:
# with a different sender domain each time (first seen: two chains in
# parallel, MX -> A/AAAA of the exchanger and the SPF TXT record, so the
# floor is 2 x BENCH_DELAY_MS), with one domain (answered from mxguard's DNS
# cache after the first), with a domain whose SPF record has an mx term
# (TXT -> MX -> A: the MX and A lookups it shares with the MX check are
# asked once), and with sets and lists (mx_addr, a DNSBL on the client, an
# RHSBL on the MX hosts). Median and p99 as the client saw them and from
# the elapsed_ms of mxguard's log line, and the queries per transaction.
# Fails only on errors (a transaction not answered 250).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh
T_TIER="bench lookups"

LAT_N=${BENCH_LAT_MESSAGES:-400}
DELAY=${BENCH_DELAY_MS:-100}
DOMAINS=1000
RCPT=sink@$PF_RCPT_DOMAIN

[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_die "build failed"
W=$(t_tmpdir)

# The zone: bench.test plus d1..dN.bench.test, each with an MX, an address
# (A only: AAAA is NODATA, as for most real exchangers) and an SPF record
# that allows the loopback client. SOA and NS for NSD; testdns.py serves
# the same file.
{
	echo '$ORIGIN bench.test.'
	echo '$TTL 300'
	echo '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300'
	echo '@ NS ns.bench.test.'
	echo 'ns A 127.0.0.1'
	echo '@ MX 10 mx.bench.test.'
	echo 'mx A 192.0.2.25'
	echo '@ TXT "v=spf1 ip4:127.0.0.0/8 -all"'
	# DMARC for bench.test and (by the tree walk, sp) every dN.bench.test
	echo '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@bench.test"'
	# SPF's mx term asks what the MX check asks (MX, then A of the exchanger)
	echo 'mxspf MX 10 mx.mxspf.bench.test.'
	echo 'mx.mxspf A 192.0.2.26'
	echo 'mxspf TXT "v=spf1 mx ip4:127.0.0.0/8 -all"'
	for ((i = 1; i <= DOMAINS; i++)); do
		echo "d$i MX 10 mx.d$i.bench.test."
		echo "mx.d$i A 192.0.2.$((i % 250 + 1))"
		echo "d$i TXT \"v=spf1 ip4:127.0.0.0/8 -all\""
	done
} >"$W/bench.zone"
for ((i = 1; i <= DOMAINS; i++)); do echo "d$i.bench.test"; done | shuf >"$W/domains"

# the parent, so the DMARC tree walk's last step (_dmarc.test) gets NXDOMAIN, not REFUSED
printf '%s\n' '$ORIGIN test.' '$TTL 300' '@ SOA ns.bench.test. hostmaster.bench.test. 1 3600 600 86400 300' \
	'@ NS ns.bench.test.' >"$W/test.zone"
t_dns_start --delay-ms "$DELAY" "$W/bench.zone" || t_die "slow testdns did not start"
SLOW_DNS=$DNS_PORT

MPORT=$(t_free_port)
CONF=$W/mxguard.conf
# write_conf DNS_PORT - the bench configuration (the e2e rules).
write_conf() {
	mxconf_write "$CONF" "$MPORT" "dns_servers = 127.0.0.1:$1" "dns_timeout = 5s" \
		"trusted_networks = 198.51.100.0/24" <<EOF
rule null-mx       mx = nullmx    reject 550 5.7.27 "sender domain %{domain} does not accept mail (null MX)"
rule no-domain     mx = nxdomain  reject 550 5.1.8 "sender domain %{domain} does not exist"
rule no-route      mx in {none, bogus} reject 550 5.1.8 "sender domain %{domain} has no usable mail exchanger"
rule mx-temperror  mx = temperror tempfail 451 4.4.3 "cannot verify sender domain %{domain} now"
rule spf-temperror spf = temperror tempfail 451 4.7.24 "cannot check SPF for %{domain} now"
rule spf-fail      spf = fail     reject 550 5.7.23 "SPF check failed for %{domain}"
rule from-several  from_header = multiple reject 550 5.7.1 "more than one From:"
rule dmarc-temperror dmarc = temperror tempfail 451 4.4.3 "cannot check DMARC for %{from_domain} now"
rule dmarc-reject  dmarc = fail and dmarc_policy = reject reject 550 5.7.1 "Email rejected per DMARC policy for %{from_domain}"
default accept
EOF
}

write_conf "$SLOW_DNS"
t_mxguard_start "$CONF" "$MPORT" || t_die "mxguard did not start"
pf_setup "$W/pf-milter" "inet:127.0.0.1:$MPORT"
# These transactions end with RSET after RCPT: smtpd opens a queue file at
# the first accepted RCPT (smtpd_delay_open_until_valid_rcpt) and takes an
# in-flow token for it, but no message ever reaches the queue manager, which
# is what hands tokens back - so after a while smtpd pauses in_flow_delay
# (1 s) before a RCPT reply. That was the "1 s stall" this bench saw with
# every answer cached (gone with in_flow_delay = 0s, mxguard's debug
# timings unchanged); it is Postfix's flow control, not milter latency.
pf_set 'in_flow_delay = 0s'
pf_start || t_die "postfix (with mxguard) did not start"
BENCH_ERRORS=0
SUMMARY=()

# stats FILE - "median p99 max n" of the first column.
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- - - 0"; exit }
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = int(NR * 0.99 + 0.999999); if (p > NR) p = NR
		printf "%.0f %.0f %.0f %d", m, v[p], v[NR], NR }'
}

echo "bench: latency MAIL FROM -> RCPT reply, every DNS answer delayed $DELAY ms," \
	"$LAT_N transactions, 10 sessions; longest chain MX -> A/AAAA = $((2 * DELAY)) ms"
# reload_conf - CONF is rewritten: SIGHUP and wait for the reload to be logged
reload_conf() {
	local n i
	n=$(grep -c 'reloaded configuration' "$MXG_LOG")
	kill -HUP "$MXG_PID"
	for ((i = 0; i < 100; i++)); do
		[[ $(grep -c 'reloaded configuration' "$MXG_LOG") -gt $n ]] && return 0
		sleep 0.05
	done
	t_die "mxguard did not reload"
}

# lat_run MODE LABEL - LAT_N transactions from the domains in lat.domains; prints, adds a summary row
lat_run() {
	local mode=$1 label=$2 q0 q1 bad med p99 max cnt c_med c_p99
	q0=$(wc -l <"$DNS_LOG")
	"$T_PY" tests/bench/latency.py "$PF_PORT" "$W/lat.domains" "$LAT_N" 10 "$RCPT" \
		>"$W/lat.out" 2>"$W/lat.err" || { cat "$W/lat.err" >&2; BENCH_ERRORS=1; }
	q1=$(wc -l <"$DNS_LOG")
	bad=$(awk '$2 != 250' "$W/lat.out" | wc -l)
	read -r med p99 max cnt < <(stats "$W/lat.out")
	printf '  %-30s median %5s ms   p99 %5s ms   max %5s ms   (%s transactions, %s not 250, %s queries)\n' \
		"$label:" "$med" "$p99" "$max" "$cnt" "$bad" "$((q1 - q0))"
	c_med=$med c_p99=$p99
	# mxguard's own view: elapsed_ms of the line logged when RSET aborts
	# the transaction (MAIL FROM -> decision known -> RSET).
	grep -E ' stage=abort ' "$MXG_LOG" | grep -F -f <(sed 's/^/sender=<bench@/; s/$/>/' "$W/lat.domains") |
		sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p' | tail -n "$LAT_N" >"$W/lat.srv"
	read -r med p99 max cnt < <(stats "$W/lat.srv")
	printf '  %-30s median %5s ms   p99 %5s ms   max %5s ms   (%s log lines)\n' \
		"  mxguard log elapsed_ms:" "$med" "$p99" "$max" "$cnt"
	SUMMARY+=("$(printf '  latency, %-21s %5s / %-5s ms (client)   %5s / %-5s ms (mxguard log)   %s queries/msg' \
		"$mode:" "$c_med" "$c_p99" "$med" "$p99" \
		"$(awk -v q="$((q1 - q0))" -v n="$LAT_N" 'BEGIN { printf "%.1f", q / n }')")")
	[[ $bad -eq 0 && $cnt -eq $LAT_N ]] || BENCH_ERRORS=1
}

for mode in distinct one mxspf; do
	if [[ $mode == distinct ]]; then
		head -n "$LAT_N" "$W/domains" >"$W/lat.domains"
		label="a different domain each time"
	elif [[ $mode == one ]]; then
		echo bench.test >"$W/lat.domains"
		label="always the same domain"
	else
		echo mxspf.bench.test >"$W/lat.domains"
		label="SPF record with an mx term"
	fi
	lat_run "$mode" "$label"
done

# Sets and lists: a DROP-style rule on mx_addr (every address of every MX
# host), a DNSBL on the client and one on the MX host names. Three chains
# start at MAIL FROM: MX -> A/AAAA, MX -> the host's list query, and the
# client's list query; the longest is two answers deep.
mxconf_write "$CONF" "$MPORT" "dns_servers = 127.0.0.1:$SLOW_DNS" "dns_timeout = 5s" \
	"trusted_networks = 198.51.100.0/24" <<LISTS
dnsbl zen zen.bench.test 127.0.0.[2..11] client_ip
dnsbl dbl dbl.bench.test 127.0.1.[2..99] mx_host
rule drop-mx mx_addr in {203.0.113.0/24} reject 550 5.7.1 "mail for %{domain} is served from a refused network"
rule lists-down dnsbl.zen in {temperror, unusable} or dnsbl.dbl in {temperror, unusable} tempfail 451 4.7.1 "lists down"
rule in-zen dnsbl.zen = listed reject 550 5.7.1 "listed"
rule in-dbl dnsbl.dbl = listed reject 550 5.7.1 "listed"
default accept
LISTS
reload_conf
head -n "$LAT_N" "$W/domains" >"$W/lat.domains"
lat_run lists "mx_addr, DNSBL, RHSBL on mx_host"
echo "    longest chain (MX -> A/AAAA, MX -> list query): $((2 * DELAY)) ms; 1.1x of it: $((22 * DELAY / 10)) ms"

[[ $BENCH_ERRORS -eq 0 ]] || t_die "errors during the run (see above)"
printf '  %-30s %s\n' "latency (+$DELAY ms per answer)" "median / p99"
printf '%s\n' "${SUMMARY[@]}"
