#!/usr/bin/env bash
# dns/run.sh - self-test of tests/dns/testdns.py with dig: every record kind,
# every fault, TC/TCP, EDNS, reload, clean exit. Prints "dns: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh

command -v dig >/dev/null || { echo "dns: dig missing (dnsutils)"; echo "dns: 0 passed, 1 failed"; exit 1; }

dir=$(t_tmpdir)
zone=$dir/test.zone
long=$(printf 'x%.0s' $(seq 1 700))
cat >"$zone" <<EOF
\$TTL 300
test.            IN SOA ns.test. hostmaster.test. ( 1 ; serial
                     3600 600 86400 60 )
good.test.       IN MX 10 mx.good.test.
mx.good.test.    IN A 192.0.2.10
                 IN AAAA 2001:db8::10
nullmx.test.     IN MX 0 .
cname.test.      IN MX 10 alias.cname.test.
alias.cname.test. IN CNAME mx.good.test.
dangling.test.   IN CNAME nowhere.test.
sel._domainkey.good.test. IN TXT "v=DKIM1; k=rsa; p=abc"
big.test.        IN TXT "$long"
*.wild.test.     IN MX 10 mx.good.test.
xn--bcher-kva.test. IN MX 10 mx.good.test.
\$ORIGIN many.test.
@ IN MX 10 mx1.many.test.
EOF
for i in $(seq 2 20); do echo "@ IN MX $((i * 10)) mx$i.many.test." >>"$zone"; done
cat >>"$zone" <<'EOF'
$ORIGIN .
sf.test.         IN A 192.0.2.1
$FAULT sf.test. servfail
$FAULT ref.test. refused
$FAULT drop.test. drop
tr.test.         IN MX 10 mx.good.test.
tr.test.         IN A 192.0.2.20
$FAULT tr.test. truncate MX
$FAULT mal.test. malformed
slow.test.       IN A 192.0.2.3
$FAULT slow.test. delay=1500
aaaa-only.test.  IN A 192.0.2.4
$FAULT aaaa-only.test. servfail AAAA
val.test.        IN A 192.0.2.5
$FAULT val.test. validated
EOF

if ! t_dns_start "$zone"; then
	t_fail "testdns starts"
	t_summary dns
	exit 1
fi
t_ok "testdns starts and writes its port file ($DNS_PORT)"

# dq - dig against the test server, no retries, short timeout.
dq() { dig +tries=1 +time=2 +norec @127.0.0.1 -p "$DNS_PORT" "$@" 2>&1; }
status() { grep -oE 'status: [A-Z]+' <<<"$1" | cut -d' ' -f2; }
flags() { sed -nE 's/^;; flags: ([a-z ]*);.*/\1/p' <<<"$1"; }
ancount() { sed -nE 's/.*ANSWER: ([0-9]+),.*/\1/p' <<<"$1"; }
answers() { dq +noall +answer "$@" | awk '{ $2 = ""; print }' | tr -s ' '; }

# --- records -----------------------------------------------------------
t_expect_eq "$(dq +short good.test MX)" "10 mx.good.test." "MX record"
t_expect_eq "$(dq +short nullmx.test MX)" "0 ." "null MX 0 ."
t_expect_eq "$(dq +short mx.good.test A)" "192.0.2.10" "A record"
t_expect_eq "$(dq +short mx.good.test AAAA)" "2001:db8::10" "AAAA record (owner continued on next line)"
out=$(dq nope.test MX)
t_expect_eq "$(status "$out")" NXDOMAIN "unknown name is NXDOMAIN"
t_expect_match "$out" 'AUTHORITY: 1' "NXDOMAIN carries the SOA"
out=$(dq good.test A)
t_expect_eq "$(status "$out"):$(ancount "$out")" "NOERROR:0" "existing name without the type is NODATA"
out=$(dq _domainkey.good.test TXT)
t_expect_eq "$(status "$out"):$(ancount "$out")" "NOERROR:0" "empty non-terminal is NODATA"
out=$(dq aa.nope.test. TXT)
t_expect_eq "$(status "$out")" NXDOMAIN "name under a nonexistent name is NXDOMAIN"
t_expect_eq "$(answers alias.cname.test A)" "alias.cname.test. IN CNAME mx.good.test.
mx.good.test. IN A 192.0.2.10" "CNAME followed, target appended"
out=$(dq dangling.test A)
t_expect_eq "$(status "$out"):$(ancount "$out")" "NXDOMAIN:1" "CNAME to a missing name: NXDOMAIN with the CNAME"
t_expect_eq "$(dq +short anything.wild.test MX)" "10 mx.good.test." "wildcard owner synthesised"
t_expect_eq "$(dq +short xn--bcher-kva.test MX)" "10 mx.good.test." "IDN (A-label) owner"
t_expect_eq "$(dq +short many.test MX | wc -l)" "20" "20 MX records via \$ORIGIN and @"
t_expect_eq "$(dq +short sel._domainkey.good.test TXT)" '"v=DKIM1; k=rsa; p=abc"' "TXT with ';' inside quotes"

# --- size: TC over UDP, whole over TCP -------------------------------------
out=$(dq +noedns +ignore big.test TXT)
t_expect_match "$(flags "$out")" '(^| )tc( |$)' "700-byte TXT over plain UDP sets TC"
t_expect_eq "$(ancount "$out")" 0 "truncated answer carries no records"
got=$(dq +tcp +short big.test TXT | tr -d '" \n')
t_expect_eq "${#got}" 700 "TCP returns the whole 700-byte TXT (split in 255-byte strings)"
out=$(dq +bufsize=4096 +ignore big.test TXT)
t_expect_nomatch "$(flags "$out")" '(^| )tc( |$)' "EDNS0 4096 gets the big TXT over UDP"
out=$(dq big.test TXT)
t_expect_eq "$(ancount "$out")" 1 "dig defaults (EDNS0 1232) get the big TXT"

# --- faults --------------------------------------------------------------
t_expect_eq "$(status "$(dq sf.test A)")" SERVFAIL "\$FAULT servfail"
t_expect_eq "$(status "$(dq ref.test A)")" REFUSED "\$FAULT refused"
out=$(dq +time=1 drop.test A); rc=$?
t_expect_match "$out" 'timed out' "\$FAULT drop never answers"
out=$(dq +ignore tr.test MX)
t_expect_eq "$(flags "$out" | grep -c tc):$(ancount "$out")" "1:0" "\$FAULT truncate: TC, empty answer over UDP"
t_expect_eq "$(dq +tcp +short tr.test MX)" "10 mx.good.test." "\$FAULT truncate: full answer over TCP"
t_expect_eq "$(dq +short tr.test A)" "192.0.2.20" "typed fault (MX) leaves A alone"
t_expect_eq "$(dq +short aaaa-only.test A)" "192.0.2.4" "servfail AAAA leaves A alone"
t_expect_eq "$(status "$(dq aaaa-only.test AAAA)")" SERVFAIL "servfail AAAA hits AAAA"
t_expect_match "$(flags "$(dq +adflag val.test A)")" '(^| )ad( |$)' "\$FAULT validated: AD asked, AD answered"
t_expect_nomatch "$(flags "$(dq +noadflag val.test A)")" '(^| )ad( |$)' "\$FAULT validated: no AD asked, none answered"
t_expect_nomatch "$(flags "$(dq +adflag mx.good.test A)")" '(^| )ad( |$)' "no fault: AD never answered"
t_expect_eq "$(grep -oE 'val\.test\. A [a-z,]+' "$DNS_LOG" | tr '\n' ' ')" \
	"val.test. A validated,ad, val.test. A validated,noad, " "\$FAULT validated: the log says whether the query had AD"

mal=$("$T_PY" - "$DNS_PORT" <<'EOF'
import socket, sys
from dnslib import DNSRecord
q = DNSRecord.question("mal.test", "A")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q.pack(), ("127.0.0.1", int(sys.argv[1])))
data = s.recv(4096)
same_id = int.from_bytes(data[:2], "big") == q.header.id
try:
    DNSRecord.parse(data)
    parses = "parses"
except Exception:
    parses = "garbage"
print("id" if same_id else "wrong-id", parses)
EOF
)
t_expect_eq "$mal" "id garbage" "\$FAULT malformed: right id, unparseable body"

start=$(date +%s%N)
dq +short slow.test A >"$dir/slow.out" &
slow_pid=$!
sleep 0.2
q0=$(date +%s%N)
fast=$(dq +short mx.good.test A)
q1=$(date +%s%N)
wait "$slow_pid"
end=$(date +%s%N)
t_expect_eq "$(cat "$dir/slow.out")" "192.0.2.3" "\$FAULT delay answers"
ms=$(((end - start) / 1000000))
(( ms >= 1500 )) && t_ok "delay=1500 takes >= 1500 ms ($ms)" || t_fail "delay=1500 takes >= 1500 ms ($ms)"
fast_ms=$(((q1 - q0) / 1000000))
[[ $fast == 192.0.2.10 ]] && (( fast_ms < 1000 )) &&
	t_ok "other queries answered during a delay ($fast_ms ms)" ||
	t_fail "other queries answered during a delay ($fast_ms ms, '$fast')"

# --- query log -----------------------------------------------------------
log=$(cat "$DNS_LOG")
t_expect_match "$log" 'udp good\.test\. MX NOERROR/1' "query log: name, type, outcome"
t_expect_match "$log" 'tcp tr\.test\. MX truncate,NOERROR/1' "query log: proto and fault"
t_expect_match "$log" '^[0-9]+\.[0-9]{3} ' "query log: timestamp"

# --- reload ----------------------------------------------------------------
# hup_wait - SIGHUP testdns and wait until it reports the reload outcome.
hup_wait() {
	local n i
	n=$(grep -c 'reload' "$DNS_ERR")
	kill -HUP "$DNS_PID"
	for ((i = 0; i < 100; i++)); do
		(( $(grep -c 'reload' "$DNS_ERR") > n )) && return 0
		sleep 0.05
	done
	return 1
}
echo "new.test. IN A 192.0.2.99" >>"$zone"
hup_wait
t_expect_eq "$(dq +short new.test A)" "192.0.2.99" "SIGHUP reloads the zones"
cp "$zone" "$dir/good.zone"
echo 'broken.test. IN MX notanumber' >>"$zone"
hup_wait
t_expect_eq "$(dq +short new.test A)" "192.0.2.99" "broken zone on SIGHUP keeps the old data"
t_expect_match "$(cat "$DNS_ERR")" 'reload failed.*test\.zone:[0-9]+' "broken reload names file:line"
cp "$dir/good.zone" "$zone"

# --- --delay-ms, bad start, clean exit --------------------------------------
main_pid=$DNS_PID main_port=$DNS_PORT
if t_dns_start --delay-ms 200 "$zone"; then
	t0=$(date +%s%N)
	got=$(dq +short mx.good.test A)
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ $got == 192.0.2.10 ]] && (( ms >= 200 )) &&
		t_ok "--delay-ms 200 delays answers ($ms ms)" ||
		t_fail "--delay-ms 200 delays answers ($ms ms, '$got')"
	kill -TERM "$DNS_PID"
else
	t_fail "second testdns with --delay-ms starts"
fi

echo 'oops.test. IN FROB 1' >"$dir/bad.zone"
err=$("$T_PY" tests/dns/testdns.py --zones "$dir/bad.zone" --port 0 2>&1); rc=$?
t_expect_eq "$rc" 2 "bad zone at start: exit 2"
t_expect_match "$err" 'bad\.zone:1' "bad zone at start: file:line"
echo '$FAULT x.test. explode' >"$dir/bad2.zone"
err=$("$T_PY" tests/dns/testdns.py --zones "$dir/bad2.zone" --port 0 2>&1)
t_expect_match "$err" "bad2\.zone:1: unknown fault" "unknown fault kind rejected"

kill -TERM "$main_pid"
for ((i = 0; i < 40; i++)); do t_alive "$main_pid" || break; sleep 0.05; done
if t_alive "$main_pid"; then
	t_fail "SIGTERM stops testdns within 2 s"
else
	wait "$main_pid"; rc=$?
	t_expect_eq "$rc" 0 "SIGTERM: clean exit 0"
fi
DNS_PORT=$main_port
out=$(dq +time=1 good.test MX)
t_expect_match "$out" 'timed out|refused' "nothing answers after SIGTERM"

t_summary dns
