#!/usr/bin/env bash
# bench/chain.sh - do mxguard's DNS lookups overlap? (make bench, after run.sh)
#
# One message, sent BENCH_CHAIN_RUNS times through a private Postfix to
# mxguard (the shipped configuration: dkim_verify = always) with XCLIENT ADDR=192.0.2.5, each time to a
# fast DNS server and to one that delays every answer by BENCH_DELAY_MS
# (testdns.py --delay-ms, per-request threads), interleaved. Its sender
# domain needs three chains of lookups:
#   mx    MX chain.bench.test, then A and AAAA of its two exchangers
#   spf   TXT chain.bench.test -> include: TXT -> a: A -> include: TXT
#         (each term waits for the one before: four deep)
#   dkim  the keys of its two signatures (k1, k2), asked at end of headers
#   dmarc the _dmarc names of the From: domain's tree walk (its own record,
#         p=reject, and its parents'), asked at end of headers too: DMARC
#         should add no round trip of its own to the DKIM keys'
# The daemons run with dns_cache = no: every message asks its lookups anew.
# chain_report.py reads testdns.py's query log to count the lookups of
# each chain and how deep it really ran, and compares the added latency
# (slow minus fast; as the client saw it, MAIL FROM -> final reply, and as
# mxguard logged it, elapsed_ms) with the critical path, the longest single
# chain and the sum of all lookups. Exits non-zero when a message was not
# accepted with spf=pass and dkim=pass, or a lookup fits no chain.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh

RUNS=${BENCH_CHAIN_RUNS:-7}
DELAY=${BENCH_DELAY_MS:-100}
DOM=chain.bench.test

T_TIER="bench chain"
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_die "build failed"
chmod 755 "$T_BASE"
W=$(t_tmpdir)
chmod 755 "$W"

# --- keys, zone, message ----------------------------------------------------------
for k in k1 k2; do
	dkim_genkey "$W" "$k" "$DOM" 2048 || t_die "opendkim-genkey: $(cat "$W/genkey.log")"
done
cat >"$W/chain.zone" <<EOF
\$TTL 300
$DOM.             MX    10 mx1.$DOM.
$DOM.             MX    20 mx2.$DOM.
mx1.$DOM.         A     192.0.2.31
mx1.$DOM.         AAAA  2001:db8::31
mx2.$DOM.         A     192.0.2.32
mx2.$DOM.         AAAA  2001:db8::32
$DOM.             TXT   "v=spf1 include:s1.$DOM -all"
s1.$DOM.          TXT   "v=spf1 a:h1.$DOM include:s2.$DOM -all"
h1.$DOM.          A     198.51.100.1
s2.$DOM.          TXT   "v=spf1 ip4:192.0.2.0/24 -all"
k1._domainkey.$DOM. TXT "$(dkim_key_record "$W/k1.txt")"
k2._domainkey.$DOM. TXT "$(dkim_key_record "$W/k2.txt")"
_dmarc.$DOM.      TXT   "v=DMARC1; p=reject; rua=mailto:dmarc@$DOM"
EOF
printf '%s\r\n' "From: Alice <alice@$DOM>" "To: <bench@$PF_RCPT_DOMAIN>" \
	"Subject: lookup chains" "Date: Mon, 01 Jan 2024 10:00:00 +0000" \
	"Message-ID: <chain@$DOM>" "" "One message, three chains of lookups." >"$W/msg.eml"
for k in k1 k2; do
	"$T_PY" tests/dkim/sign.py --key "$W/$k.private" --selector "$k" --domain "$DOM" \
		"$W/msg.eml" "$W/msg.eml" || t_die "dkimpy could not sign"
done

# --- two DNS servers, two mxguards, one Postfix with a port for each -----------------
t_dns_start "$W/chain.zone" || t_die "testdns did not start"
FAST_DNS=$DNS_PORT FAST_LOG=$DNS_LOG
t_dns_start --delay-ms "$DELAY" "$W/chain.zone" || t_die "slow testdns did not start"
SLOW_DNS=$DNS_PORT SLOW_LOG=$DNS_LOG

# start_mxguard NAME DNS_PORT - one daemon, shipped configuration; sets M_PORT, M_LOG
start_mxguard() {
	local name=$1 port
	port=$(t_free_port)
	mxconf_write "$W/$name.conf" "$port" "dns_servers = 127.0.0.1:$2" "dns_timeout = 5s" \
		"trusted_networks = 10.99.0.0/16" "authserv_id = mx.bench.test" "dns_cache = no" <conf/mxguard.conf
	t_mxguard_start "$W/$name.conf" "$port" || t_die "mxguard ($name) did not start: $(cat "$MXG_LOG")"
	M_PORT=$port M_LOG=$MXG_LOG
}
start_mxguard fast "$FAST_DNS"
PORT_fast=$M_PORT LOG_fast=$M_LOG
start_mxguard slow "$SLOW_DNS"
PORT_slow=$M_PORT LOG_slow=$M_LOG

pf_setup "$W/pf" "inet:127.0.0.1:$PORT_fast"
SLOW_SMTP=$(t_free_port)
cat >>"$PF_CONF/master.cf" <<EOF
127.0.0.1:$SLOW_SMTP inet n - n - - smtpd
  -o smtpd_milters=inet:127.0.0.1:$PORT_slow
EOF
pf_start || t_die "postfix did not start"
t_wait_port "$SLOW_SMTP" 10 || t_die "postfix's second port does not listen"

# --- the runs, fast and slow interleaved -------------------------------------------
# one SERVER I - a transaction; appends its JSON line (client, mxguard, dns) to runs
one() {
	local server=$1 i=$2 port log dlog before sender out ms
	if [[ $server == fast ]]; then port=$PF_PORT log=$LOG_fast dlog=$FAST_LOG
	else port=$SLOW_SMTP log=$LOG_slow dlog=$SLOW_LOG; fi
	sender="run$i-$server@$DOM"
	before=$(wc -l <"$dlog")
	out=$("$T_PY" tests/bench/chain_client.py "$port" 192.0.2.5 "$sender" \
		"bench@$PF_RCPT_DOMAIN" "$W/msg.eml") || t_die "transaction $server $i failed"
	sleep 0.3   # let lookups abandoned after the decision be logged too
	line=$(grep -F "sender=<$sender>" "$log" | tail -n 1)
	[[ $line == *" mx=valid "*" spf=pass "*" dkim=pass "*" dmarc=pass "*" action=accept "* ]] ||
		t_die "run $server $i was not mx=valid, spf=pass, dkim=pass, dmarc=pass, accepted: $line"
	ms=$(sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p' <<<"$line")
	tail -n +"$((before + 1))" "$dlog" |
		"$T_PY" -c 'import json, sys
print(json.dumps({"server": sys.argv[1], "client": json.loads(sys.argv[2]),
                  "mxguard_ms": int(sys.argv[3]), "dns": sys.stdin.read().splitlines()}))' \
			"$server" "$out" "$ms" >>"$W/runs"
}

echo "bench: lookup chains of one message (MX, SPF, DKIM), every answer of the slow" \
	"DNS server ${DELAY} ms late; $RUNS messages to each server, medians"
one fast 0   # warm-up: Postfix's first smtpd and cleanup processes
: >"$W/runs"
for ((i = 1; i <= RUNS; i++)); do
	one fast "$i"
	one slow "$i"
done
"$T_PY" tests/bench/chain_report.py --delay "$DELAY" \
	--chain "mx=^(${DOM//./\\.}\. MX|mx[12]\.${DOM//./\\.}\. (A|AAAA))$" \
	--chain "spf=^((s[12]\.)?${DOM//./\\.}\. TXT|h1\.${DOM//./\\.}\. A)$" \
	--chain "dkim=^k[12]\._domainkey\.${DOM//./\\.}\. TXT$" \
	--chain "dmarc=^_dmarc\.((chain\.)?bench\.)?test\. TXT$" \
	"$W/runs" || t_die "see above"
