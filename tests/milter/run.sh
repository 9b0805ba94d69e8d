#!/usr/bin/env bash
# milter/run.sh - the milter protocol tier: the real daemon on a loopback
# socket, driven by miltertest (session.lua), with testdns.py serving
# zones.txt.
#
# Rule sets: each group of scenarios has its own, in tests/milter/rules/
# NAME.conf (named after what it checks; a new rule goes into the set of
# the scenarios it is for, and no other group's outcome moves). Each is
# appended to the tier's settings (conf_for) into $WORK/conf/NAME.conf.
# One daemon serves the whole tier (a libmilter filter takes seconds to
# exit): use_rules NAME makes NAME its configuration with a SIGHUP reload
# and waits for the daemon's "reloaded configuration" line, so every
# session after it is judged by NAME's rules. `mxguard check` reads the
# rule set's file directly.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh

T_TIER=milter
HERE=tests/milter
t_mxguard_build "$T_BASE/build.log" || t_abort "build mxguard" "$(tail -n 20 "$T_BASE/build.log")"

WORK=$(t_tmpdir)

# A DKIM key for valid.test, made now; its TXT record joins the zones.
dkim_genkey "$WORK" sel valid.test 1024 || t_abort "opendkim-genkey" "$(cat "$WORK/genkey.log")"
dkim_key_zone "$WORK" sel valid.test >"$WORK/keys.zone"
t_dns_start "$HERE/zones.txt" "$WORK/keys.zone" || t_abort "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"
PORT=$(t_free_port)
SOCK="inet:$PORT@127.0.0.1"
CONF=$WORK/mxguard.conf
mkdir -p "$WORK/conf"
# list files the rule sets name (file:NAME is read next to the config)
cp "$HERE/rules/drop.cidr" "$WORK/conf/drop.cidr"

# conf_for NAME - the tier's settings and rule set NAME; prints the file's path
conf_for() {
	local f=$WORK/conf/$1.conf
	mxconf_write "$f" "$SOCK" \
		"pidfile = $WORK/mxguard.pid" \
		"dns_timeout = 2s" \
		"dns_try_timeout = 500ms" \
		"trusted_networks = 10.9.0.0/16" \
		"authserv_id = mx.test" <"$HERE/rules/$1.conf" && echo "$f"
}

# use_rules NAME - make rule set NAME the daemon's configuration (SIGHUP)
# and wait until it is in force; RELOADED is the daemon's log line about it.
use_rules() {
	local n i
	n=$(grep -cE 'reloaded configuration|reload failed' "$MXG_LOG")
	cp "$WORK/conf/$1.conf" "$CONF.new" && mv "$CONF.new" "$CONF"
	kill -HUP "$MXG_PID"
	RELOADED=
	for ((i = 0; i < 200; i++)); do
		RELOADED=$(grep -E 'reloaded configuration|reload failed' "$MXG_LOG" | sed -n "$((n + 1))p")
		[[ -n $RELOADED ]] && break
		sleep 0.05
	done
	[[ $RELOADED == *"reloaded configuration"* ]] ||
		t_fail "rule set $1 taken by a SIGHUP reload" "${RELOADED:-no reload logged in 10 s}"
}

# session - run session.lua with NAME=VALUE parameters; echo its output on failure
session() {
	local args=(-D "sock=$SOCK") kv out
	for kv in "$@"; do args+=(-D "$kv"); done
	out=$(miltertest -s "$HERE/session.lua" "${args[@]}" 2>&1)
	local rc=$?
	[[ $rc -eq 0 ]] || printf '%s\n' "$out" >&2
	return $rc
}

# logline - the decision line(s) for a sender, from the daemon's log
logline() {
	grep -F "sender=<$1>" "$MXG_LOG"
}

# expect_session DESC REGEX params... - the session passes and its log line matches REGEX
expect_session() {
	local desc=$1 regex=$2 sender
	shift 2
	sender=$(printf '%s\n' "$@" | sed -n 's/^from=<\(.*\)>$/\1/p')
	if session "$@"; then
		t_expect_match "$(logline "$sender")" "$regex" "$desc"
	else
		t_fail "$desc" "miltertest failed; log: $(logline "$sender")"
	fi
}

for r in "$HERE"/rules/*.conf; do
	r=$(basename "$r" .conf)
	f=$(conf_for "$r") || t_abort "write the configuration of rule set $r"
	out=$("$MXG_BIN" -n -c "$f" 2>&1); rc=$?
	t_expect_eq "$rc:$out" "0:configuration OK" "-n accepts rule set $r"
done
cp "$WORK/conf/mx-classes.conf" "$CONF"
t_mxguard_start "$CONF" "$PORT" || t_abort "daemon starts" "$(cat "$MXG_LOG" 2>/dev/null)"
t_ok "daemon starts and listens on $SOCK"
t_expect_match "$(cat "$MXG_LOG")" "started: listening on $SOCK" "start-up is logged"
t_expect_eq "$(cat "$WORK/mxguard.pid" 2>/dev/null)" "$MXG_PID" "pid file holds the daemon's pid"

# --- decisions at RCPT (reject_stage = rcpt, the default): mx-classes ------
base=(ip=192.0.2.1 helo=client.test rcpt="<user@example.com>")
expect_session "null MX sender is refused at RCPT" \
	'queue_id=Q1 .*mx=nullmx .*rcpt=<user@example.com> rule=null-mx action=reject reply="550 5.7.27 sender domain nullmx.test does not accept mail \(null MX\)" dry_run=no stage=rcpt' \
	"${base[@]}" from="<n1@nullmx.test>" qid=Q1 expect_rcpt=replycode
expect_session "nonexistent sender domain is refused" \
	'mx=nxdomain .*rule=no-domain action=reject reply="550 5.1.8 ' \
	"${base[@]}" from="<n2@nosuch.test>" expect_rcpt=replycode
expect_session "MX pointing at private addresses is refused" \
	'mx=bogus .*rule=no-route action=reject' \
	"${base[@]}" from="<n3@bogus.test>" expect_rcpt=replycode
expect_session "SERVFAIL tempfails (and % in the text survives)" \
	'mx=temperror .*rule=mx-temperror action=tempfail reply="451 4.4.3 cannot verify servfail.test now, 100% sure"' \
	"${base[@]}" from="<n4@servfail.test>" expect_rcpt=replycode
expect_session "valid sender is accepted at end of message, one line" \
	'^queue_id=- client_ip=192.0.2.1 helo=client.test sender=<v1@valid.test> sender_domain=valid.test from_domain=valid.test .*mx=valid .*rule=default action=accept reply=- dry_run=no stage=eom elapsed_ms=[0-9]+$' \
	"${base[@]}" from="<v1@valid.test>" from_hdr="Valid Sender <v1@valid.test>"
t_expect_eq "$(logline v1@valid.test | wc -l)" 1 "exactly one decision line for an accepted message"
expect_session "implicit MX (A record only) is accepted" \
	'mx=implicit .*action=accept' \
	"${base[@]}" from="<v2@implicit.test>"

# --- clients and senders that skip or short-cut the checks: mx-classes -----
expect_session "trusted client skips all checks" \
	'client_ip=10.9.1.1 .*trusted=yes .*mx=skipped .*rule=trusted action=accept' \
	ip=10.9.1.1 helo=client.test rcpt="<user@example.com>" from="<s1@nullmx.test>"
expect_session "authenticated sender skips all checks" \
	'authenticated=yes mx=skipped .*rule=authenticated action=accept' \
	"${base[@]}" from="<s2@nullmx.test>" auth=alice
expect_session "null sender: mx skipped, accepted" \
	'sender=<> .*mx=skipped .*action=accept' \
	"${base[@]}" from="<>" helo=bounce.test
t_expect_eq "$(grep -c 'helo=bounce.test' "$MXG_LOG")" 1 "null sender logged once"
expect_session "invalid sender address is refused, not a crash" \
	'mx=invalid .*rule=bad-sender action=reject' \
	"${base[@]}" from="<i1@bad..test>" expect_rcpt=replycode
long=$(printf 'x%.0s' {1..600})
if session "${base[@]}" from="<$long@valid.test>" expect_rcpt=replycode; then
	t_expect_match "$(grep -F "sender=<xxxxxxxxxx" "$MXG_LOG" | tail -n 1)" 'mx=invalid .*action=reject' \
		"overlong sender address is refused"
else
	t_fail "overlong sender address is refused" "$(tail -n 3 "$MXG_LOG")"
fi
session "${base[@]}" from="garbage without brackets" expect_rcpt=replycode &&
	t_ok "unbracketed garbage sender gets an answer" || t_fail "unbracketed garbage sender gets an answer"
t_alive "$MXG_PID" && t_ok "daemon survives hostile senders" || t_fail "daemon survives hostile senders"

# --- concurrent connections (one resolver each): mx-classes -----------------
pids=()
for i in $(seq 1 12); do
	if ((i % 2)); then
		session "${base[@]}" from="<c$i@nullmx.test>" expect_rcpt=replycode 2>/dev/null &
	else
		session "${base[@]}" from="<c$i@valid.test>" 2>/dev/null &
	fi
	pids+=($!)
done
bad=0
for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
t_expect_eq "$bad" 0 "12 concurrent sessions all get their expected answers"
t_expect_eq "$(grep -cE 'sender=<c[0-9]+@nullmx.test>.*action=reject' "$MXG_LOG"):$(grep -cE 'sender=<c[0-9]+@valid.test>.*action=accept' "$MXG_LOG")" \
	"6:6" "one decision line per concurrent message"

# --- SPF: spf ------------------------------------------------------------------
use_rules spf
expect_session "SPF fail is refused at RCPT with 5.7.23" \
	'client_ip=192.0.2.200 .*mx=valid .*spf=fail .*rule=spf-fail action=reject reply="550 5.7.23 SPF check failed for valid.test"' \
	ip=192.0.2.200 helo=client.test rcpt="<user@example.com>" from="<f1@valid.test>" expect_rcpt=replycode

# --- a set fact: mx_host -------------------------------------------------------
use_rules mx-host
expect_session "mx_host: one exchange of two in a refused zone is refused at RCPT, at the MX answer (the set printed)" \
	'mx=- .*mx_host=mx1.valid.test,mx.listed-provider.test .*rule=listed-mx action=reject reply="550 5.7.1 mail for twomx.test goes to a refused provider \(mx1.valid.test,mx.listed-provider.test\)"' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<h1@twomx.test>" expect_rcpt=replycode
expect_session "mx_host: no exchange in the refused zone: accepted" \
	'mx_host=mx.valid.test .*rule=default action=accept' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<h2@valid.test>"

# --- a set of addresses: mx_addr against a DROP-style file ---------------------
cp "$HERE/rules/drop.cidr" "$(dirname "$CONF")/drop.cidr"
use_rules mx-addr
expect_session "mx_addr: one address of three in the DROP file is refused at RCPT" \
	'mx_addr=192.0.2.21,192.0.2.22,2001:db8:bad::9 .*rule=drop-mx action=reject reply="550 5.7.1 mail for dropmx.test is served from a refused network"' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<a1@dropmx.test>" expect_rcpt=replycode
expect_session "mx_addr: no address in the DROP file: accepted" \
	'mx_addr=192.0.2.10 .*rule=default action=accept' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<a2@valid.test>"
expect_session "mx_addr: an exchange that SERVFAILs leaves the set partial: tempfail at end of message, not accept" \
	'mx_addr=192.0.2.10 .*rule=dns-incomplete:mx_addr action=tempfail reply="451 4.4.3 cannot verify partialmx.test now: some DNS answers did not come, try again later" dry_run=no stage=eom' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<a3@partialmx.test>" expect_eom=replycode

# a list file is read again on SIGHUP; a broken one keeps the list in force
DROPF=$(dirname "$CONF")/drop.cidr
printf '198.51.100.0/24\n2001:db8:bad::/48\nnot-a-network\n' >"$DROPF"
n=$(grep -c 'reload failed' "$MXG_LOG")
kill -HUP "$MXG_PID"
for ((i = 0; i < 200; i++)); do [[ $(grep -c 'reload failed' "$MXG_LOG") -gt $n ]] && break; sleep 0.05; done
t_expect_match "$(grep 'reload failed' "$MXG_LOG" | tail -n 1)" "$DROPF:3: .*not an IP address: not-a-network.*keeping previous configuration" \
	"mx_addr: a broken list file on SIGHUP names FILE:LINE and keeps the old list"
expect_session "mx_addr: ... and the old list still refuses" \
	'rule=drop-mx action=reject' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<a4@dropmx.test>" expect_rcpt=replycode
printf '198.51.100.0/24\n192.0.2.10/32 ; valid.test now\n' >"$DROPF"
use_rules mx-addr
expect_session "mx_addr: the list file changed and reloaded: its new network refuses" \
	'mx_addr=192.0.2.10 .*rule=drop-mx action=reject' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<a5@valid.test>" expect_rcpt=replycode

# --- the sender domain's name servers: ns -------------------------------------
use_rules ns
expect_session "ns_addr: a name server in a refused network (found walking up) is refused at RCPT" \
	'ns=found ns_detail="2 name servers at badns.test" ns_host=ns1.badns-dns.test,ns2.badns-dns.test ns_addr=[0-9a-f:.,]*2001:db8:bad::53[0-9a-f:.,]* ns_addr_result=found .*rule=bad-ns-net action=reject reply="550 5.7.1 name servers of mail.badns.test are in a refused network \(ns1.badns-dns.test,ns2.badns-dns.test\)" dry_run=no stage=rcpt' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<s1@mail.badns.test>" expect_rcpt=replycode
expect_session "ns_addr: name servers outside the refused networks: accepted" \
	'ns=found .*ns_host=ns1.goodns.test ns_addr=[0-9a-f:.,]+ ns_addr_result=found .*rule=default action=accept' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<s2@goodns.test>"
expect_session "ns: the NS lookup SERVFAILs: tempfailed, never accepted as not listed" \
	'ns=temperror ns_detail="NS lookup for nsfail.test failed: servfail" ns_host="" ns_addr="" ns_addr_result=temperror .*rule=ns-temperror action=tempfail reply="451 4.4.3 cannot look up the name servers of nsfail.test now"' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<s3@nsfail.test>" expect_rcpt=replycode

# --- DNSSEC of the sender's MX: mx-dnssec --------------------------------------
use_rules mx-dnssec
expect_session "mx_dnssec: answers with AD from the loopback resolver are secure: accepted" \
	'mx_dnssec=secure mx_dnssec_detail="the MX answer for signed.test and the address answers of 1 exchange were authenticated" .*rule=default action=accept' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<d1@signed.test>"
expect_session "mx_dnssec: an answer without AD is insecure: refused at RCPT (the detail in the reply)" \
	'mx_dnssec=insecure .*rule=not-secure action=reject reply="550 5.7.1 valid.test: the MX answer for valid.test was not authenticated \(no AD\)"' \
	ip=192.0.2.1 helo=client.test rcpt="<user@example.com>" from="<d2@valid.test>" expect_rcpt=replycode

# --- DNS blocklists: dnsbl.LIST facts ------------------------------------------
use_rules dnsbl
expect_session "dnsbl: a listed client is refused at RCPT, the reply names the list, not its zone" \
	'dnsbl.zen=listed .*dnsbl_detail.zen="zen: 192.0.2.2 listed 127.0.0.2" .*rule=in-zen action=reject reply="550 5.7.1 your address is listed: zen: 192.0.2.2 listed 127.0.0.2"' \
	ip=192.0.2.2 helo=client.test rcpt="<user@example.com>" from="<b1@valid.test>" expect_rcpt=replycode
expect_session "dnsbl: a listed MX host (the MX check runs for the list) is refused" \
	'mx_host=mx.dblhost.test .*dnsbl.dbl=listed .*rule=in-dbl action=reject reply="550 5.7.1 dblmx.test is listed: dbl: mx.dblhost.test listed 127.0.1.2"' \
	ip=192.0.2.9 helo=client.test rcpt="<user@example.com>" from="<b2@dblmx.test>" expect_rcpt=replycode
expect_session "dnsbl: clean client and domain: accepted" \
	'dnsbl.zen=clean .*dnsbl.dbl=clean .*rule=default action=accept' \
	ip=192.0.2.9 helo=client.test rcpt="<user@example.com>" from="<b3@valid.test>"
expect_session "dnsbl: the list refuses us (127.255.255.254): unusable, tempfailed, never listed" \
	'dnsbl.zen=unusable .*rule=lists-down action=tempfail' \
	ip=192.0.2.3 helo=client.test rcpt="<user@example.com>" from="<b4@valid.test>" expect_rcpt=replycode
expect_session "dnsbl: ... again: still unusable" \
	'dnsbl.zen=unusable .*rule=lists-down action=tempfail' \
	ip=192.0.2.3 helo=client.test rcpt="<user@example.com>" from="<b6@valid.test>" expect_rcpt=replycode
t_expect_eq "$(grep -c 'dnsbl zen: the list refuses our queries or is misconfigured (zen: answer 127.255.255.254 for 192.0.2.3 is a list error' "$MXG_LOG")" 1 \
	"dnsbl: an unusable list is said in the log once per interval, not per message"
expect_session "dnsbl: the list does not answer: temperror within the deadline, tempfailed" \
	'dnsbl.zen=temperror .*rule=lists-down action=tempfail' \
	ip=192.0.2.4 helo=client.test rcpt="<user@example.com>" from="<b5@valid.test>" expect_rcpt=replycode
t_expect_nomatch "$(grep -E 'sender=<b[0-9]@' "$MXG_LOG")" 'zen\.test|dbl\.test' \
	"dnsbl: no decision line shows a list's zone"

# the start-up self-test (dnsbl_selftest = yes): a second daemon, stopped at once
SAVED=("$MXG_PID" "$MXG_LOG" "$MXG_PORT")
STPORT=$(t_free_port)
{
	printf 'socket = inet:%s@127.0.0.1\ndns_servers = 127.0.0.1:%s\ndns_timeout = 2s\n' "$STPORT" "$DNS_PORT"
	printf 'dnsbl_selftest = yes\ndnsbl zen zen.test client_ip\ndnsbl dbl dbl.test 127.0.1.[2..99] mx_host\n'
	printf 'dnsbl broken nowhere.test client_ip\n'
	printf 'milter_timeout = 2s\n'
} >"$WORK/selftest.conf"
if t_mxguard_start "$WORK/selftest.conf" "$STPORT"; then
	# milter_timeout (smfi_settimeout): an MTA that goes silent in the middle of a
	# packet loses the session after 2 s, not libmilter's default 7,210 s
	out=$("$T_PY" - "$STPORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"\x00\x00\x00\x40O\x00\x00")   # a 64-octet packet, 3 octets of it sent
s.settimeout(60)
t0 = time.monotonic()
try:
    data = s.recv(100)
    print("closed" if data == b"" else "answered %r" % data, round(time.monotonic() - t0))
except socket.timeout:
    print("still open after 60 s")
PY
)
	t_expect_match "$out" '^closed ' "milter_timeout = 2s: a session whose MTA goes silent mid-packet is closed (got: $out)"
	t_wait_grep -F 'dnsbl broken: self-test' "$MXG_LOG" 10 >/dev/null
	t_expect_match "$(cat "$MXG_LOG")" 'dnsbl zen: self-test passed' "dnsbl self-test: an address list that answers as RFC 5782 says passes"
	t_expect_match "$(cat "$MXG_LOG")" 'dnsbl dbl: self-test passed' "dnsbl self-test: a domain list (test/invalid) passes"
	t_expect_match "$(cat "$MXG_LOG")" 'dnsbl broken: self-test failed: broken: ' "dnsbl self-test: a list without its test entry is logged as failed"
	t_expect_nomatch "$(cat "$MXG_LOG")" 'nowhere\.test|zen\.test' "dnsbl self-test: the log never shows a zone"
	t_stop "$MXG_PID"
else
	t_fail "dnsbl self-test: the daemon starts"
fi
MXG_PID=${SAVED[0]} MXG_LOG=${SAVED[1]} MXG_PORT=${SAVED[2]}

# --- end-of-message actions: quarantine-discard --------------------------------
use_rules quarantine-discard
expect_session "quarantine rule quarantines at end of message" \
	'rule=quarantine-me action=quarantine reply="held for review" .*stage=eom' \
	"${base[@]}" from="<q1@quarantine.test>" expect_quarantine=yes
expect_session "discard rule discards at end of message" \
	'rule=discard-me action=discard .*stage=eom' \
	"${base[@]}" from="<d1@discard.test>" expect_eom=discard

# --- DKIM and Authentication-Results: dkim -----------------------------------
use_rules dkim
# make_msg FILE FROM BODY - a CRLF message; signed with the test key into FILE.signed
make_msg() {
	printf 'From: Sender <%s>\r\nTo: user@example.com\r\nSubject: dkim test\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <%s>\r\n\r\n%s\r\n' \
		"$2" "$RANDOM@valid.test" "$3" >"$1"
	"$T_PY" tests/dkim/sign.py --key "$WORK/sel.private" --selector sel --domain valid.test \
		"$1" "$1.signed" 2>>"$WORK/sign.log"
}
make_msg "$WORK/m1" k1@valid.test "a signed body"
# tampered: the body changed after signing
sed 's/a signed body/a changed body/' "$WORK/m1.signed" >"$WORK/m1.tampered"
expect_session "DKIM-signed message passes; Authentication-Results added" \
	'from_domain=valid.test .*mx=valid .*dkim=pass dkim_aligned=yes .*action=accept' \
	"${base[@]}" from="<k1@valid.test>" msgfile="$WORK/m1.signed" \
	expect_insert=Authentication-Results expect_insert_match='^ ?mx%.test %(mx=valid%);.*spf=pass .*smtp%.mailfrom=k1@valid%.test.*dkim=pass .*header%.d=valid%.test'
expect_session "tampered DKIM message is rejected at end of message" \
	'dkim=fail .*rule=dkim-fail action=reject reply="550 5.7.20 DKIM signature of valid.test does not verify" .*stage=eom' \
	"${base[@]}" from="<k2@valid.test>" msgfile="$WORK/m1.tampered" expect_eom=replycode
expect_session "forged Authentication-Results claiming our authserv-id is removed" \
	'action=accept' \
	"${base[@]}" from="<k3@valid.test>" from_hdr="k3@valid.test" \
	forged_ar="mx.test; spf=pass smtp.mailfrom=k3@valid.test" expect_delete=Authentication-Results \
	expect_insert=Authentication-Results

# An internal error answers on_error (tempfail 451 4.3.0): more forged
# Authentication-Results headers than the filter can remove; passing any
# of them on would be wrong, so the message is tempfailed.
{
	for i in $(seq 1 20); do printf 'Authentication-Results: mx.test; spf=pass\r\n'; done
	printf 'From: e1@valid.test\r\nSubject: forged\r\n\r\nbody\r\n'
} >"$WORK/forged20"
expect_session "internal error at end of message tempfails with 451 4.3.0 (on_error)" \
	'rule=on_error action=tempfail reply="451 4.3.0 temporary internal error, try again later" .*stage=eom .*error=' \
	"${base[@]}" from="<e1@valid.test>" msgfile="$WORK/forged20" expect_eom=replycode

# --- the built-in bogus_networks (no setting): RFC 6890's documentation ranges count
printf 'dns_servers = 127.0.0.1:%s\ndns_timeout = 2s\nrule no-route mx in {none, bogus} reject\n' "$DNS_PORT" \
	>"$WORK/default-bogus.conf"
out=$("$MXG_BIN" check -c "$WORK/default-bogus.conf" --from d@valid.test --ip 192.0.2.1 --helo client.test)
t_expect_match "$out" $'\nmx: bogus\nmx_detail: mx.valid.test resolves only to bogus address 192.0.2.10\n' \
	"default bogus_networks: an MX only in TEST-NET-1 (RFC 5737, RFC 6890) is bogus"

# --- mxguard check, on the rule sets' files ------------------------------------
# With a generous deadline: these show what the lookups found, and no answer
# here is dropped, so a test DNS server slowed by a busy machine must not
# turn an address into a timeout (seen once at load 22 with 2 s).
for f in mx-classes mx-addr quarantine-discard; do
	sed -E 's/^dns_timeout = .*/dns_timeout = 20s/; s/^dns_try_timeout = .*/dns_try_timeout = 5s/' \
		"$WORK/conf/$f.conf" >"$WORK/conf/check-$f.conf"
done
MXC=$WORK/conf/check-mx-classes.conf
out=$("$MXG_BIN" check -c "$MXC" --from n1@nullmx.test --ip 192.0.2.1 --helo client.test); rc=$?
t_expect_eq "$rc" 1 "check: null MX exits 1 (reject)"
t_expect_match "$out" $'mx: nullmx\n' "check: prints the mx fact"
t_expect_match "$out" $'rule: null-mx\naction: reject\nreply: 550 5.7.27 sender domain nullmx.test does not accept mail \\(null MX\\)' \
	"check: prints rule, action and reply"
"$MXG_BIN" check -c "$MXC" --from v1@valid.test --ip 192.0.2.1 --helo client.test >/dev/null
t_expect_eq "$?" 0 "check: valid sender exits 0 (accept)"
t_expect_match "$out" $'\nmx_record: 0 \\.\n' "check: a null MX is shown as dig would"
out=$("$MXG_BIN" check -c "$MXC" --from d@dropmx.test --ip 192.0.2.1 --helo client.test)
t_expect_match "$out" $'\nmx_record: 10 mx1.dropmx.test 192.0.2.21\nmx_record: 20 mx2.dropmx.test 192.0.2.22 2001:db8:bad::9\n' \
	"check: every MX with its preference and every address, though the first decided"
out=$("$MXG_BIN" check -c "$MXC" --from p@partialmx.test --ip 192.0.2.1 --helo client.test)
t_expect_match "$out" $'\nmx_record: 20 mx.sf.test \\(lookup failed: servfail\\)\n' \
	"check: an exchange whose lookup failed says so"
out=$("$MXG_BIN" check -c "$WORK/conf/check-mx-addr.conf" --from p@partialmx.test --ip 192.0.2.1 --helo client.test); rc=$?
t_expect_match "$rc:$out" $'^2:.*\nrule: dns-incomplete:mx_addr\naction: tempfail\nreply: 451 4.4.3 cannot verify partialmx.test now' \
	"check: a rule on a set DNS left incomplete: a DNS tempfail (exit 2), not an internal error"
"$MXG_BIN" check -c "$MXC" --from v1@servfail.test --ip 192.0.2.1 --helo client.test >/dev/null
t_expect_eq "$?" 2 "check: SERVFAIL exits 2 (tempfail)"
"$MXG_BIN" check -c "$WORK/conf/check-quarantine-discard.conf" --from q@quarantine.test --ip 192.0.2.1 --helo c.test >/dev/null
t_expect_eq "$?" 4 "check: quarantine exits 4"
"$MXG_BIN" check -c "$WORK/conf/check-quarantine-discard.conf" --from q@discard.test --ip 192.0.2.1 --helo c.test >/dev/null
t_expect_eq "$?" 3 "check: discard exits 3"
out=$("$MXG_BIN" check -c "$MXC" --from v@nullmx.test --ip 10.9.0.5 --helo c.test); rc=$?
t_expect_match "$rc:$out" $'^0:.*mx: skipped.*rule: trusted' "check: trusted client is skipped"
"$MXG_BIN" check -c "$MXC" --from a@b.test --helo c.test >/dev/null 2>&1
t_expect_eq "$?" 64 "check: missing --ip is a usage error (64)"
"$MXG_BIN" check -c "$MXC" --from a@b.test --ip not-an-ip --helo c.test >/dev/null 2>&1
t_expect_eq "$?" 64 "check: bad --ip is a usage error (64)"
DKC=$WORK/conf/dkim.conf
out=$("$MXG_BIN" check -c "$DKC" --from k1@valid.test --ip 192.0.2.1 --helo c.test --message "$WORK/m1.signed"); rc=$?
t_expect_match "$rc:$out" $'^0:.*dkim: pass\ndkim_aligned: yes.*header: Authentication-Results: mx.test \\(mx=valid\\);.*dkim=pass' \
	"check --message: DKIM pass and the A-R header it would add"
"$MXG_BIN" check -c "$DKC" --from k1@valid.test --ip 192.0.2.1 --helo c.test --message "$WORK/m1.tampered" >/dev/null
t_expect_eq "$?" 1 "check --message: tampered message exits 1 (reject)"
"$MXG_BIN" check -c "$DKC" --from k1@valid.test --ip 192.0.2.1 --helo c.test --message "$WORK/nope" >/dev/null 2>&1
t_expect_eq "$?" 66 "check --message: unreadable message exits 66"
"$MXG_BIN" check -c "$WORK/missing.conf" --from a@b.test --ip 192.0.2.1 --helo c.test >/dev/null 2>&1
t_expect_eq "$?" 78 "check: unreadable config exits 78"

# --- -n on a bad file ------------------------------------------------------
printf 'socket = inet:1@127.0.0.1\nrule broken mx = nosuchvalue reject\n' >"$WORK/bad.conf"
out=$("$MXG_BIN" -n -c "$WORK/bad.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/bad.conf:2: " "-n reports FILE:LINE and exits 1"
printf 'socket = inet:1@127.0.0.1\n\nmilter_timeout = 0s\n' >"$WORK/bad.conf"
out=$("$MXG_BIN" -n -c "$WORK/bad.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/bad.conf:3: .*milter_timeout" "-n refuses milter_timeout = 0s with its line"

# --- SIGHUP reload: reload -------------------------------------------------------
use_rules reload
t_expect_match "$RELOADED" "reloaded configuration from $CONF" "good reload is logged"
expect_session "reloaded rule applies" \
	'rule=helo-block action=reject .*stage=mail' \
	ip=192.0.2.1 helo=blocked.test rcpt="<user@example.com>" from="<r1@valid.test>" expect_mail=replycode
expect_session "reject_stage = mail refuses at MAIL FROM after reload" \
	'mx=nullmx .*rule=null-mx action=reject .*stage=mail' \
	"${base[@]}" from="<r2@nullmx.test>" expect_mail=replycode
printf 'this is not a setting\n' >>"$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do grep -q 'reload failed' "$MXG_LOG" && break; sleep 0.05; done
t_expect_match "$(grep 'reload failed' "$MXG_LOG")" \
	"reload failed: $CONF:$bad_line: .*; keeping previous configuration" "bad reload is refused with FILE:LINE"
expect_session "previous configuration still applies after a bad reload" \
	'rule=helo-block action=reject' \
	ip=192.0.2.1 helo=blocked.test rcpt="<user@example.com>" from="<r3@valid.test>" expect_mail=replycode

# --- dry run and JSON, via reload: dry-run-json --------------------------------
use_rules dry-run-json
# a hostile HELO (a control byte, a byte that is not UTF-8) must still give valid JSON
if session ip=192.0.2.1 helo=$'bad\x01\xffname' rcpt="<user@example.com>" from="<j1@nullmx.test>" qid='Q"2'; then
	json=$(grep -F '"sender":"<j1@nullmx.test>"' "$MXG_LOG")
	check=$(printf '%s\n' "$json" | "$T_PY" -c '
import json, sys
lines = sys.stdin.buffer.read().decode("utf-8").splitlines()
assert len(lines) == 1, lines
d = json.loads(lines[0])
assert d["queue_id"] == "Q\"2", d
assert d["helo"] == "bad\u0001\ufffdname", d
assert d["mx"] == "nullmx" and d["dkim"] is None and d["dry_run"] is True, d
assert d["action"] == "reject" and d["rule"] == "null-mx", d
assert isinstance(d["elapsed_ms"], int)
print("ok")' 2>&1)
	t_expect_eq "$check" ok "dry run accepts, logs one valid JSON line (hostile HELO escaped) saying what it would do"
else
	t_fail "dry run accepts, logs one valid JSON line saying what it would do" "$(tail -n 3 "$MXG_LOG")"
fi

# --- a unix socket daemon: stale socket removed, mode and group, user -------
USOCK=$WORK/u/mxguard.sock
mkdir -p "$WORK/u"
"$T_PY" -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$USOCK"
mxconf_write "$WORK/unix.conf" "unix:$USOCK" \
	"socket_mode = 0660" \
	"socket_group = nogroup" \
	"user = nobody" \
	"pidfile = $WORK/u/mxguard.pid" <<'CONF'
rule null-mx mx = nullmx reject 550 5.7.27 "null MX"
default accept
CONF
setsid "$MXG_BIN" -f -c "$WORK/unix.conf" </dev/null >/dev/null 2>"$WORK/unix.log" &
UPID=$!
echo "$UPID mxguard-unix" >>"$T_BASE/.pids"
for ((i = 0; i < 100; i++)); do grep -qs 'started' "$WORK/unix.log" && break; sleep 0.05; done
t_expect_eq "$(stat -c '%a %G %F' "$USOCK" 2>&1)" "660 nogroup socket" \
	"unix socket: stale one replaced, mode and group applied"
t_expect_eq "$(ps -o user= -p "$UPID" | tr -d ' ')" "nobody" "privileges dropped to user after binding"
out=$("$MXG_BIN" -f -c "$WORK/unix.conf" 2>&1 </dev/null); rc=$?
t_expect_match "$rc:$out" "^1:.*already running \\(pid $UPID\\)" "a second instance on the same pid file refuses to start"
t_expect_eq "$(stat -c '%F' "$USOCK" 2>&1)" "socket" "... and leaves the running instance's socket alone"
SOCK_SAVE=$SOCK
SOCK="unix:$USOCK"
if session "${base[@]}" from="<u1@nullmx.test>" expect_rcpt=replycode; then
	t_expect_match "$(grep -F 'sender=<u1@nullmx.test>' "$WORK/unix.log")" 'rule=null-mx action=reject' \
		"unix socket daemon decides"
else
	t_fail "unix socket daemon decides" "$(cat "$WORK/unix.log")"
fi
SOCK=$SOCK_SAVE
kill -TERM "$UPID"

# --- SIGTERM: open sessions finish, new ones get 421 (dry-run-json) ----------
# The slow session is open once its MAIL FROM has started the MX lookup
# (it then pauses 2 s before RCPT): wait for that query, not for a time. Its
# domain is asked by no other session: the shared DNS cache would answer a
# name asked before without a query.
mx_asked() { grep -c ' drain\.test\. MX ' "$DNS_LOG"; }
asked=$(mx_asked)
session "${base[@]}" from="<t1@drain.test>" pause=2 >"$WORK/slow.out" 2>&1 &
slow=$!
for ((i = 0; i < 200; i++)); do (($(mx_asked) > asked)) && break; sleep 0.05; done
(($(mx_asked) > asked)) || t_fail "the slow session asked its MX within 10 s (the drain test cannot tell it is open)"
kill -TERM "$MXG_PID"
for ((i = 0; i < 100; i++)); do grep -q 'stopping (SIGTERM)' "$MXG_LOG" && break; sleep 0.05; done
session "${base[@]}" from="<t2@valid.test>" expect_connect=replycode &&
	t_ok "while draining, a new connection is refused (421)" ||
	t_fail "while draining, a new connection is refused (421)"
wait "$slow" && t_ok "a session open at SIGTERM finishes normally" ||
	t_fail "a session open at SIGTERM finishes normally" "$(cat "$WORK/slow.out")"
# (the log is JSON since the last reload)
t_expect_match "$(grep -F '"sender":"<t1@drain.test>"' "$MXG_LOG")" '"action":"accept".*"stage":"eom"' \
	"... and its decision is logged"
for ((i = 0; i < 200; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
if t_alive "$MXG_PID"; then
	t_fail "SIGTERM stops the daemon within 10 s"
else
	t_ok "SIGTERM stops the daemon within 10 s"
	t_expect_match "$(cat "$MXG_LOG")" $'stopping \\(SIGTERM\\)\n.*stopped' "stop is logged"
	[[ -e $WORK/mxguard.pid ]] && t_fail "pid file removed at exit" || t_ok "pid file removed at exit"
fi

t_summary milter
