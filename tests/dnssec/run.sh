#!/usr/bin/env bash
# dnssec/run.sh - the mx_dnssec fact against a real validating resolver.
#
# Set-up, all in this run's temp dir and on loopback ports picked now:
#   - sec.test, signed here (ldns-keygen, ldns-signzone), with an insecure
#     delegation to plain.sec.test (unsigned, no DS) and one tampered record
#     (bad.sec.test: its signature no longer matches -> bogus);
#   - other.test, unsigned and outside the trust anchor;
#   - nsd serves all three; unbound validates, with sec.test's DS as its
#     only trust anchor and nsd as the only server it may ask (stub zones,
#     and "." forwarded to nsd too, so nothing is ever asked elsewhere).
# Then `mxguard check` with dns_servers = unbound: secure, insecure (both
# kinds), unverified (bogus = SERVFAIL), skipped, the query and answer AD
# bits on the wire, and a configuration whose resolver is not loopback
# (unverified, no lookup made for it: it is never contacted).
# End to end: a private Postfix (tests/lib/postfix.sh) with the real
# mxguard as its milter, resolving through the same unbound; swaks with
# XCLIENT from an IPv4 and an IPv6 client: good.sec.test accepted
# (mx_dnssec=secure), plain.sec.test refused at RCPT with the exact 550
# (mx_dnssec=insecure), the decision lines and the sink checked.
# The whole tier runs in a network namespace of its own (unshare -n, only
# loopback up) when it can: not a packet can leave the machine.
# Needs unbound, ldnsutils, nsd, dig, postfix, swaks (contrib/install-deps.sh).
# Prints "dnssec: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

if [[ -z ${MXG_DNSSEC_NETNS:-} ]] && unshare -n true 2>/dev/null; then
	exec unshare -n env MXG_DNSSEC_NETNS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

. tests/lib/common.sh

for tool in unbound ldns-keygen ldns-signzone nsd dig; do
	command -v "$tool" >/dev/null || t_abort "$tool is installed (make deps)"
done
[[ -x ./mxguard ]] || t_abort "./mxguard is built (make mxguard)"
if [[ -n ${MXG_DNSSEC_NETNS:-} ]]; then
	t_ok "running in a network namespace of its own (loopback only)"
fi

d=$(t_tmpdir)
NSD_PORT=$(t_free_port)
UB_PORT=$(t_free_port)
[[ $NSD_PORT != "$UB_PORT" ]] || UB_PORT=$(t_free_port)

# --- zones ---------------------------------------------------------------
cat >"$d/sec.test.zone" <<'EOF'
$TTL 300
sec.test.            IN SOA ns.sec.test. hostmaster.sec.test. 1 3600 600 86400 60
sec.test.            IN NS ns.sec.test.
ns.sec.test.         IN A 127.0.0.1
good.sec.test.       IN MX 10 mx1.good.sec.test.
good.sec.test.       IN MX 20 mx2.good.sec.test.
mx1.good.sec.test.   IN A 192.0.2.10
mx2.good.sec.test.   IN A 192.0.2.11
mx2.good.sec.test.   IN AAAA 2001:db8::11
implicit.sec.test.   IN A 192.0.2.12
nullmx.sec.test.     IN MX 0 .
mixed.sec.test.      IN MX 10 mx.plain.sec.test.
bad.sec.test.        IN MX 10 mx.bad.sec.test.
mx.bad.sec.test.     IN A 192.0.2.66
plain.sec.test.      IN NS ns.plain.sec.test.
ns.plain.sec.test.   IN A 127.0.0.1
EOF
cat >"$d/plain.sec.test.zone" <<'EOF'
$TTL 300
plain.sec.test.      IN SOA ns.plain.sec.test. hostmaster.sec.test. 1 3600 600 86400 60
plain.sec.test.      IN NS ns.plain.sec.test.
ns.plain.sec.test.   IN A 127.0.0.1
plain.sec.test.      IN MX 10 mx.plain.sec.test.
mx.plain.sec.test.   IN A 192.0.2.20
EOF
cat >"$d/other.test.zone" <<'EOF'
$TTL 300
other.test.          IN SOA ns.other.test. hostmaster.other.test. 1 3600 600 86400 60
other.test.          IN NS ns.other.test.
ns.other.test.       IN A 127.0.0.1
other.test.          IN MX 10 mx.other.test.
mx.other.test.       IN A 192.0.2.30
EOF

# Sign sec.test with one key (KSK flag, signs everything), then tamper with
# one record: its RRSIG stays, the data changes, the answer is bogus.
if ! (cd "$d" && ldns-keygen -a ECDSAP256SHA256 -k sec.test >"$d/keyname" 2>"$d/keygen.err"); then
	t_abort "ldns-keygen makes a key" "$(cat "$d/keygen.err")"
fi
key=$(<"$d/keyname")
if ! ldns-signzone -f "$d/sec.test.signed" "$d/sec.test.zone" "$d/$key" 2>"$d/sign.err"; then
	t_abort "ldns-signzone signs sec.test" "$(cat "$d/sign.err")"
fi
sed -i -E 's/(^mx\.bad\.sec\.test\.[[:space:]].*[[:space:]]A[[:space:]]+)192\.0\.2\.66$/\1192.0.2.67/' "$d/sec.test.signed"
grep -qE '^mx\.bad\.sec\.test\..*192\.0\.2\.67$' "$d/sec.test.signed" ||
	t_abort "tamper with mx.bad.sec.test in the signed zone"
t_ok "sec.test signed at test time (key $key)"

# --- nsd: the authoritative side ------------------------------------------
cat >"$d/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$d/nsd.log"
  server-count: 1
  verbosity: 0
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: sec.test
  zonefile: "$d/sec.test.signed"
zone:
  name: plain.sec.test
  zonefile: "$d/plain.sec.test.zone"
zone:
  name: other.test
  zonefile: "$d/other.test.zone"
EOF
t_bg nsd nsd -d -c "$d/nsd.conf"
NSD_PID=$T_LAST_PID
up=0
for ((i = 0; i < 200; i++)); do
	t_alive "$NSD_PID" || break
	if dig +tries=1 +time=1 +short -p "$NSD_PORT" @127.0.0.1 sec.test SOA 2>/dev/null | grep -q .; then
		up=1
		break
	fi
	sleep 0.05
done
[[ $up -eq 1 ]] || t_abort "nsd serves the test zones" "$(cat "$T_BASE/nsd.out" "$d/nsd.log" 2>/dev/null)"

# --- unbound: the validating resolver --------------------------------------
cp "$d/$key.ds" "$d/anchor.ds"
cat >"$d/unbound.conf" <<EOF
server:
  interface: 127.0.0.1
  port: $UB_PORT
  do-ip6: no
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$d"
  pidfile: "$d/unbound.pid"
  use-syslog: no
  logfile: "$d/unbound.log"
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  so-reuseport: no
  access-control: 127.0.0.0/8 allow
  outgoing-interface: 127.0.0.1
  do-not-query-localhost: no
  qname-minimisation: no
  module-config: "validator iterator"
  trust-anchor-file: "$d/anchor.ds"
  local-zone: "test." nodefault
  cache-max-ttl: 0
stub-zone:
  name: "sec.test."
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "plain.sec.test."
  stub-addr: 127.0.0.1@$NSD_PORT
stub-zone:
  name: "other.test."
  stub-addr: 127.0.0.1@$NSD_PORT
# anything else goes to nsd too (which refuses it): never off this machine
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$NSD_PORT
remote-control:
  control-enable: no
EOF
if ! unbound-checkconf "$d/unbound.conf" >"$d/checkconf.out" 2>&1; then
	t_abort "unbound-checkconf accepts the test configuration" "$(cat "$d/checkconf.out")"
fi
t_bg unbound unbound -d -c "$d/unbound.conf"
UB_PID=$T_LAST_PID
up=0
for ((i = 0; i < 200; i++)); do
	t_alive "$UB_PID" || break
	if dig +tries=1 +time=1 +short -p "$UB_PORT" @127.0.0.1 sec.test SOA 2>/dev/null | grep -q .; then
		up=1
		break
	fi
	sleep 0.05
done
[[ $up -eq 1 ]] || t_abort "unbound answers" "$(cat "$T_BASE/unbound.out" "$d/unbound.log" 2>/dev/null)"

# ub - dig through unbound; flags - the header flags of its answer
ub() { dig +tries=1 +time=3 -p "$UB_PORT" @127.0.0.1 "$@" 2>&1; }
flags() { sed -nE 's/^;; flags: ([a-z ]*);.*/\1/p' <<<"$1"; }
status() { grep -oE 'status: [A-Z]+' <<<"$1" | cut -d' ' -f2; }
t_expect_match "$(flags "$(ub +adflag good.sec.test MX)")" '(^| )ad( |$)' "unbound validates sec.test (AD)"
# RFC 6840 5.7: AD only for a query that had AD (or DO) - so every secure
# below also shows that mxguard's queries carried AD.
t_expect_nomatch "$(flags "$(ub +noadflag good.sec.test MX)")" '(^| )ad( |$)' \
	"unbound sets AD only when the query asks with AD"
t_expect_nomatch "$(flags "$(ub +adflag other.test MX)")" '(^| )ad( |$)' "other.test: no trust anchor, no AD"
t_expect_nomatch "$(flags "$(ub +adflag plain.sec.test MX)")" '(^| )ad( |$)' "plain.sec.test: insecure delegation, no AD"
t_expect_eq "$(status "$(ub mx.bad.sec.test A)")" SERVFAIL "mx.bad.sec.test: bogus, SERVFAIL"

# --- mxguard check -----------------------------------------------------------
conf=$d/mxguard.conf
cat >"$conf" <<EOF
dns_servers = 127.0.0.1:$UB_PORT
dns_timeout = 5s
rule not-secure mx_dnssec != secure and mx != nullmx reject 550 5.7.1 "%{mx_dnssec}: %{mx_dnssec_detail}"
default accept
EOF
# chk SENDER [CONF] - mxguard check's output for one sender; exit code in RC
chk() {
	OUT=$(./mxguard check -c "${2:-$conf}" --from "$1" --ip 192.0.2.1 --helo client.test 2>&1)
	RC=$?
}
# fact NAME - its value in the last check's output
fact() { sed -nE "s/^$1: //p" <<<"$OUT" | head -n 1; }

chk a@good.sec.test
t_expect_eq "$(fact mx_dnssec)" secure "signed MX and exchanges: secure"
t_expect_match "$(fact mx_dnssec_detail)" "2 exchanges" "secure: the detail counts the exchanges"
t_expect_eq "$RC" 0 "secure: accepted"
chk a@implicit.sec.test
t_expect_eq "$(fact mx_dnssec)" secure "implicit MX, authenticated NODATA and addresses: secure"
chk a@nullmx.sec.test
t_expect_eq "$(fact mx_dnssec)" secure "null MX: the MX answer alone, secure"
chk a@nx.sec.test
t_expect_eq "$(fact mx_dnssec)/$(fact mx)" secure/nxdomain "NXDOMAIN with an authenticated denial: secure"
chk a@other.test
t_expect_eq "$(fact mx_dnssec)" insecure "zone outside the trust anchor: insecure"
t_expect_match "$(fact mx_dnssec_detail)" "MX answer for other.test" "insecure: the detail names the answer"
t_expect_eq "$RC" 1 "insecure: the rule refuses"
chk a@plain.sec.test
t_expect_eq "$(fact mx_dnssec)" insecure "insecure delegation (no DS): insecure"
chk a@mixed.sec.test
t_expect_eq "$(fact mx_dnssec)" insecure "signed MX, exchange in an unsigned zone: insecure"
t_expect_match "$(fact mx_dnssec_detail)" "answer for mx\.plain\.sec\.test" "insecure: the exchange named"
chk a@bad.sec.test
t_expect_eq "$(fact mx_dnssec)" unverified "bogus exchange address (SERVFAIL): unverified"
t_expect_match "$(fact mx_dnssec_detail)" "mx\.bad\.sec\.test lookup failed: servfail" "unverified: the detail says why"
chk '<>'
t_expect_eq "$(fact mx_dnssec)" skipped "null sender: skipped"
chk 'a@[192.0.2.1]'
t_expect_eq "$(fact mx_dnssec)" skipped "address literal: skipped"

# The same through dns_trust_ad: the loopback resolver needs no setting,
# and the setting changes nothing for it.
printf 'dns_trust_ad = yes\n' | cat - "$conf" >"$d/trust.conf"
chk a@good.sec.test "$d/trust.conf"
t_expect_eq "$(fact mx_dnssec)" secure "dns_trust_ad = yes: secure as before"

# A resolver that is not loopback: AD is not trusted, nothing is asked for
# mx_dnssec, so the non-loopback entry (listed after the loopback one, and
# only a rule on mx_dnssec) is never contacted.
cat >"$d/remote.conf" <<EOF
dns_servers = 127.0.0.1:$UB_PORT, 192.0.2.53
rule not-secure mx_dnssec != secure reject
default accept
EOF
if command -v strace >/dev/null; then
	# the control: with a trusted resolver the same trace shows the lookups
	strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg -o "$d/strace0" \
		./mxguard check -c "$conf" --from a@good.sec.test --ip 192.0.2.1 --helo client.test >/dev/null 2>&1
	t_expect_match "$(grep -E 'sin_port=htons\('"$UB_PORT"'\)' "$d/strace0" | head -n 1)" . \
		"trusted resolver: the trace shows the lookups (control)"
	OUT=$(strace -f -qq -e trace=connect,sendto,sendmsg,sendmmsg -o "$d/strace" \
		./mxguard check -c "$d/remote.conf" --from a@good.sec.test --ip 192.0.2.1 --helo client.test 2>&1)
	t_expect_nomatch "$(grep -E 'sin6?_addr' "$d/strace")" . "untrusted resolver: no DNS packet at all"
else
	chk a@good.sec.test "$d/remote.conf"
fi
t_expect_eq "$(fact mx_dnssec)" unverified "resolver 192.0.2.53 listed: unverified"
t_expect_match "$(fact mx_dnssec_detail)" "resolver 192\.0\.2\.53 is not loopback; set dns_trust_ad" \
	"unverified: the detail says why"

# unbound saw nothing wrong but the record tampered with.
t_expect_nomatch "$(grep -iE 'error|fail' "$d/unbound.log" | grep -v 'validation failure' | grep -v 'bad\.sec\.test')" . \
	"unbound logged no error but the bogus record"
t_expect_match "$(grep -i 'validation failure' "$d/unbound.log")" "bad\.sec\.test" "unbound: validation failure for the bogus record"

# --- end to end: Postfix, mxguard and XCLIENT ---------------------------------
# A private Postfix (tests/lib/postfix.sh) in this same namespace, its
# smtpd_milters the real mxguard resolving through the unbound above;
# swaks presents IPv4 and IPv6 clients with XCLIENT (metadata only).
. tests/lib/postfix.sh
. tests/lib/mxconf.sh
for tool in swaks postconf smtp-sink; do
	command -v "$tool" >/dev/null || t_abort "$tool is installed (make deps)"
done
MPORT=$(t_free_port)
mxconf_write "$d/e2e.conf" "$MPORT" "dns_servers = 127.0.0.1:$UB_PORT" "dns_timeout = 5s" <<'EOF' ||
rule not-secure mx_dnssec != secure reject 550 5.7.1 "%{domain}: %{mx_dnssec_detail}"
default accept
EOF
	t_abort "write the end-to-end configuration"
out=$(./mxguard -n -c "$d/e2e.conf" 2>&1)
t_expect_eq "$?:$out" "0:configuration OK" "mxguard -n accepts the end-to-end configuration"
t_mxguard_start "$d/e2e.conf" "$MPORT" || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"
pf_setup "$d/pf" "inet:127.0.0.1:$MPORT"
# XCLIENT ADDR=IPV6:... needs IPv6 in Postfix (it still listens on 127.0.0.1 only)
postconf -c "$PF_CONF" -e inet_protocols=all || t_abort "postconf inet_protocols"
pf_touch_conf
pf_start || t_abort "postfix starts in the tier's namespace" "$(tail -n 20 "$PF_LOG")"
t_ok "Postfix and mxguard are up (loopback only)"

# lit STRING - STRING as an ERE matching itself
lit() {
	# shellcheck disable=SC2016 # the $ is one of the characters escaped
	sed -E 's/[][\.*^$(){}+?|]/\\&/g' <<<"$1"
}
# send ID IP SENDER - one message; RC (swaks exit), REPLY (the refusal or
# the final 250 line)
send() {
	local out xa=$2
	[[ $xa == *:* ]] && xa="IPV6:$xa"
	out=$(swaks --server "127.0.0.1:$PF_PORT" --helo client.sec.test --xclient-addr "$xa" \
		--from "$3" --to "$1@$PF_RCPT_DOMAIN" --timeout 60 2>&1 </dev/null)
	RC=$?
	REPLY=$(sed -nE 's/^<~?\*\* //p' <<<"$out" | head -n 1)
	[[ -n $REPLY ]] || REPLY=$(sed -nE 's/^<[-~] +(250 .*queued as.*)/\1/p' <<<"$out" | tail -n 1)
}
# e2e DESC IP DOMAIN WANT DNSSEC TAIL - one message from eN@DOMAIN at IP:
# WANT "accepted" or the exact refusal (swaks exit 24, at RCPT); the one
# decision line says mx_dnssec=DNSSEC and ends in TAIL and elapsed_ms
N=0
e2e() {
	local desc=$1 ip=$2 dom=$3 want=$4 sec=$5 tail=$6 id line
	N=$((N + 1))
	id=e$N
	send "$id" "$ip" "$id@$dom"
	if [[ $want == accepted ]]; then
		t_expect_match "$RC $REPLY" '^0 250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$' "$desc: accepted (250)"
	else
		t_expect_eq "$RC $REPLY" "24 $want" "$desc: refused with the rule's reply"
	fi
	line=$(t_wait_grep -F "sender=<$id@$dom> " "$MXG_LOG" 10)
	if [[ $(grep -c . <<<"$line") -ne 1 ]]; then
		t_fail "$desc: one decision line" "$line"
		return 0
	fi
	t_expect_match "$line" \
		"^queue_id=[-0-9A-Za-z]+ client_ip=$(lit "$ip") helo=client\.sec\.test sender=<$id@$(lit "$dom")> .*(^| )mx_dnssec=$sec( .*)? $(lit "$tail") elapsed_ms=[0-9]+\$" \
		"$desc: decision line (mx_dnssec=$sec)"
}
ACCEPT_TAIL="rule=default action=accept reply=- dry_run=no stage=eom"
PLAIN_DETAIL="the MX answer for plain.sec.test was not authenticated (no AD)"
PLAIN_REPLY="550 5.7.1 plain.sec.test: $PLAIN_DETAIL"
chk a@plain.sec.test
t_expect_eq "$(fact mx_dnssec_detail)" "$PLAIN_DETAIL" "plain.sec.test's detail in mxguard check, as the reply carries it"
for ip in 192.0.2.7 2001:db8::7; do
	e2e "good.sec.test from $ip" "$ip" good.sec.test accepted secure "$ACCEPT_TAIL"
	e2e "plain.sec.test from $ip" "$ip" plain.sec.test "$PLAIN_REPLY" insecure \
		"rcpt=<e$((N + 1))@$PF_RCPT_DOMAIN> rule=not-secure action=reject reply=\"$PLAIN_REPLY\" dry_run=no stage=rcpt"
done
pf_sink_wait 2 10
t_expect_eq "$(pf_sink_count)" 2 "the sink got the two secure messages, nothing else"
# sink_has ID - the sink received the message for ID@rcpt.test
sink_has() {
	grep -lqsF "X-Rcpt-Args: <$1@$PF_RCPT_DOMAIN>" "$PF_SINK_DIR"/msg-* 2>/dev/null
}
t_expect_eq "$(for id in e1 e2 e3 e4; do sink_has "$id" && echo "$id"; done | tr '\n' ' ')" "e1 e3 " \
	"delivered: good.sec.test's two, neither of plain.sec.test's"
t_expect_match "$(t_alive "$MXG_PID" && echo alive)" alive "mxguard survived the end-to-end part"

t_summary dnssec
