#!/usr/bin/env bash
# resolver/run.sh - policy/resolver.c (and the MX check on it) against
# tests/dns/testdns.py on loopback: statuses, SERVFAIL/REFUSED, drops and
# the deadline, TC -> TCP, CNAME following, cancel/free/poll, parallelism;
# and the process's DNS cache across resolvers (tests/resolver/cache.sh).
# Its driver, tests/resolver/resolve.c on the real resolver, is built by
# make (build/tests/resolve). SAN="-fsanitize=address,undefined" builds it
# and the objects under it with sanitizers, in build/san-<checksum of SAN>.
# Prints "resolver: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh

build=build
[[ -n ${SAN:-} ]] && build=build/san-$(cksum <<<"$SAN" | cut -d' ' -f1)
bin=$build/tests/resolve
if ! make --no-print-directory -s BUILD="$build" SAN="${SAN:-}" "$bin" >"$T_BASE/cc.err" 2>&1; then
	t_fail "build tests/resolver/resolve.c" "$(cat "$T_BASE/cc.err")"
	t_summary resolver
	exit 1
fi

# write_zone - the test data; names with "nofollow" make the resolver follow CNAMEs itself.
write_zone() {
	local long i
	long=$(printf 'x%.0s' $(seq 1 700))
	cat <<ZONE
\$TTL 300
test.             IN SOA ns.test. hostmaster.test. ( 1 3600 600 86400 60 )
ok.test.          IN A 192.0.2.1
ok.test.          IN AAAA 2001:db8::1
good.test.        IN MX 10 mx.good.test.
good.test.        IN MX 20 mx2.good.test.
mx.good.test.     IN A 192.0.2.10
mx2.good.test.    IN A 10.0.0.2
bogus.test.       IN MX 10 mx.bogus.test.
mx.bogus.test.    IN A 10.0.0.1
mx.bogus.test.    IN AAAA ::1
nullmx.test.      IN MX 0 .
implicit.test.    IN A 192.0.2.30
txt.test.         IN TXT "v=spf1 " "-all"
big.test.         IN TXT "$long"
tr.test.          IN MX 10 mx.good.test.
\$FAULT tr.test. truncate MX
chain1.test.      IN CNAME chain2.test.
chain2.test.      IN CNAME chain3.test.
chain3.test.      IN A 192.0.2.33
\$FAULT chain1.test. nofollow
\$FAULT chain2.test. nofollow
loop1.test.       IN CNAME loop2.test.
loop2.test.       IN CNAME loop1.test.
\$FAULT loop1.test. nofollow
\$FAULT loop2.test. nofollow
cn.test.          IN CNAME ok.test.
\$FAULT cn.test. nofollow
dangling.test.    IN CNAME nowhere.test.
\$FAULT dangling.test. nofollow
mxalias.test.     IN MX 10 mxa.test.
mxa.test.         IN CNAME mx.good.test.
\$FAULT mxa.test. nofollow
sf.test.          IN A 192.0.2.1
\$FAULT sf.test. servfail
\$FAULT ref.test. refused
\$FAULT drop.test. drop
\$FAULT mal.test. malformed
slow.test.        IN A 192.0.2.3
\$FAULT slow.test. delay=1500
slowmx.test.      IN MX 10 mx.good.test.
\$FAULT slowmx.test. delay=1500 MX
1.2.0.192.in-addr.arpa. IN PTR ok.test.
share.test.       IN A 192.0.2.41
share.test.       IN MX 10 mx.good.test.
kept.test.        IN A 192.0.2.42
forget.test.      IN A 192.0.2.43
slowshare.test.   IN A 192.0.2.44
\$FAULT slowshare.test. delay=300
sfk.test.         IN A 192.0.2.45
\$FAULT sfk.test. servfail
sharecn.test.     IN CNAME share2.test.
share2.test.      IN A 192.0.2.46
\$FAULT sharecn.test. nofollow
adok.test.        IN A 192.0.2.60
\$FAULT adok.test. validated
adcn.test.        IN CNAME adok.test.
\$FAULT adcn.test. nofollow
advia.test.       IN CNAME adok.test.
\$FAULT advia.test. validated
adkept.test.      IN A 192.0.2.61
\$FAULT adkept.test. validated
ZONE
	for i in $(seq 1 100); do echo "many.test. IN A 192.0.2.$i"; done
	# hop0 -> hop1 -> ... -> hop8 (A) is 8 links; hopx -> hop0 makes 9.
	for i in $(seq 0 7); do
		echo "hop$i.test. IN CNAME hop$((i + 1)).test."
		echo "\$FAULT hop$i.test. nofollow"
	done
	echo "hop8.test. IN A 192.0.2.88"
	echo "hopx.test. IN CNAME hop0.test."
	echo "\$FAULT hopx.test. nofollow"
	for i in $(seq 0 9); do
		echo "par$i.test. IN A 192.0.2.$((50 + i))"
		echo "\$FAULT par$i.test. delay=400"
	done
}

zone=$(t_tmpdir)/test.zone
write_zone >"$zone"
if ! t_dns_start "$zone"; then
	t_fail "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"
	t_summary resolver
	exit 1
fi
S=127.0.0.1:$DNS_PORT

# rq - run the driver: output in OUT, exit code in RC; a contract breach (3) fails a check.
rq() {
	OUT=$("$bin" "$@" 2>"$T_BASE/rq.err")
	RC=$?
	if [[ $RC -eq 3 ]]; then
		t_fail "resolver contract ($*)" "$(cat "$T_BASE/rq.err")"
	fi
}
# line - the output line of one query
line() { grep -F -- "$1 " <<<"$OUT" | head -n 1; }
# ms - the elapsed milliseconds on a query's line
ms() { sed -nE 's/.* ms=([0-9]+).*/\1/p' <<<"$(line "$1")"; }
# within - pass when a query's elapsed time is in [lo, hi] ms
within() {
	local m
	m=$(ms "$1")
	if [[ -n $m && $m -ge $2 && $m -le $3 ]]; then
		t_ok "$4 ($m ms)"
	else
		t_fail "$4" "ms=$m, wanted $2..$3; output: $OUT"
	fi
}

# Plain answers.
rq -t 1000 -n 2 "$S" a:ok.test aaaa:ok.test mx:good.test txt:txt.test \
	ptr:1.2.0.192.in-addr.arpa a:nx.test mx:ok.test a:bad..name
t_expect_eq "$RC" 0 "plain queries: driver exits 0"
t_expect_match "$(line a:ok.test)" "^a:ok.test ok .* n=1 192\.0\.2\.1$" "A record"
t_expect_match "$(line aaaa:ok.test)" " ok .* n=1 2001:db8::1$" "AAAA record"
t_expect_match "$(line mx:good.test)" " ok .* n=2 10:mx\.good\.test 20:mx2\.good\.test$" "MX records, sorted"
t_expect_match "$(line txt:txt.test)" " ok .* n=1 len=11:v=spf1 -all$" "TXT strings joined"
t_expect_match "$(line ptr:1.2.0.192.in-addr.arpa)" " ok .* n=1 ok\.test$" "PTR record"
t_expect_match "$(line a:nx.test)" "^a:nx.test nxdomain " "NXDOMAIN -> nxdomain"
t_expect_match "$(line mx:ok.test)" "^mx:ok.test nodata " "NODATA -> nodata"
t_expect_match "$(line a:bad..name)" "^a:bad..name badname " "unencodable name -> badname"
t_expect_match "$OUT" "pending=0" "nothing pending after wait"

# Server failures.
rq -t 300 -n 2 "$S" a:sf.test a:ref.test a:mal.test
t_expect_match "$(line a:sf.test)" "^a:sf.test servfail " "SERVFAIL -> servfail"
t_expect_match "$(line a:ref.test)" "^a:ref.test servfail " "REFUSED -> servfail"
t_expect_match "$(line a:mal.test)" "^a:mal.test (error|timeout|servfail) " "malformed reply -> temporary failure"

# Drops: c-ares's own retries, then the deadline.
rq -t 200 -n 2 "$S" a:drop.test
t_expect_match "$(line a:drop.test)" "^a:drop.test timeout " "dropped query -> timeout"
within a:drop.test 350 1500 "timeout after c-ares's tries"
rq -d 700 -t 1000 -n 4 "$S" a:drop.test a:ok.test a:slow.test
t_expect_match "$(line a:drop.test)" " timeout " "deadline: dropped query times out"
t_expect_match "$(line a:slow.test)" " timeout " "deadline: slow (1.5 s) answer times out"
t_expect_match "$(line a:ok.test)" " ok " "deadline: the fast query still succeeds"
within a:drop.test 650 1000 "deadline of 700 ms honoured"
rq -d 0 "$S" a:ok.test mx-check:good.test
t_expect_match "$(line a:ok.test)" "^a:ok.test timeout " "deadline already passed: timeout"
within a:ok.test 0 50 "deadline already passed: at once"
t_expect_match "$(line mx-check:good.test)" " temperror .*timeout" "deadline already passed: MX check temperror"

# Truncation -> TCP.
rq -t 1000 "$S" txt:big.test a:many.test mx:tr.test
t_expect_match "$(line txt:big.test)" " ok .* n=1 len=700:x" "700-byte TXT over TCP"
t_expect_match "$(line a:many.test)" " ok .* n=100 " "100 A records over TCP"
t_expect_match "$(line mx:tr.test)" " ok .* n=1 10:mx\.good\.test" "forced TC answer retried over TCP"
t_expect_match "$(cat "$DNS_LOG")" "tcp tr\.test\. MX" "server saw the TCP retry"

# CNAME following by the resolver (the server answers each CNAME alone).
rq -t 1000 "$S" a:chain1.test a:hop0.test a:hopx.test a:loop1.test mx:cn.test a:dangling.test
t_expect_match "$(line a:chain1.test)" " ok .* n=1 192\.0\.2\.33$" "CNAME chain of 2 followed"
t_expect_match "$(cat "$DNS_LOG")" "chain3\.test\. A" "follow-up query for the chain's end"
t_expect_match "$(line a:hop0.test)" " ok .* 192\.0\.2\.88$" "8 CNAME links followed"
t_expect_match "$(line a:hopx.test)" "^a:hopx.test error " "9 CNAME links -> error"
t_expect_match "$(line a:loop1.test)" "^a:loop1.test error " "CNAME loop -> error"
t_expect_match "$(line mx:cn.test)" "^mx:cn.test nodata " "CNAME to a name without the type -> nodata"
t_expect_match "$(line a:dangling.test)" "^a:dangling.test nxdomain " "dangling CNAME -> nxdomain"

# Queries overlap: ten 400 ms answers take about 400 ms, not 4 s.
args=()
for i in $(seq 0 9); do args+=("a:par$i.test"); done
rq -t 2000 "$S" "${args[@]}"
t_expect_eq "$(grep -c ' ok ' <<<"$OUT")" 10 "ten delayed queries all answered"
within a:par9.test 350 1500 "ten delayed queries in parallel"

# Cancel, free, poll.
rq -t 2000 -c "$S" a:slow.test mx:good.test
t_expect_match "$(line a:slow.test)" "^a:slow.test error " "cancel_all -> error"
t_expect_match "$(line mx:good.test)" "^mx:good.test error " "cancel_all -> error for every query"
within a:slow.test 0 200 "cancel_all is immediate"
rq -t 2000 -f "$S" a:slow.test a:ok.test
t_expect_match "$(line a:slow.test)" "^a:slow.test error " "resolver_free runs pending callbacks with error"
t_expect_eq "$RC" 0 "resolver_free: each callback exactly once"
rq -t 1000 -p "$S" a:ok.test mx:good.test
t_expect_match "$(line a:ok.test)" " ok " "resolver_poll drives queries"
t_expect_match "$(line mx:good.test)" " ok " "resolver_poll drives every query"

# Identical queries are asked once per message (resolver_forget starts a
# new one): joined while out, answered again from the kept answer after.
# asked NAME TYPE - how many times the server saw the query so far.
asked() { grep -ciE " $1\. $2 " "$DNS_LOG"; }
rq -t 1000 "$S" a:share.test A:SHARE.test. a:share.test mx:share.test
t_expect_eq "$(grep -c ' ok ms=[0-9]* n=1 192\.0\.2\.41$' <<<"$OUT")" 3 \
	"identical queries at once: each gets the answer"
t_expect_eq "$(asked share.test A)" 1 "identical queries at once: asked once (case and trailing dot ignored)"
t_expect_eq "$(asked share.test MX)" 1 "another type of the same name is its own query"
rq -t 2000 "$S" a:slowshare.test a:slowshare.test
t_expect_eq "$(grep -c '^a:slowshare.test ok ' <<<"$OUT")" 2 "joined a slow query: both answered"
within a:slowshare.test 250 1500 "joined a slow query: answered with it, not later"
t_expect_eq "$(asked slowshare.test A)" 1 "joined a slow query: asked once"
rq -t 1000 "$S" a:sharecn.test a:sharecn.test
t_expect_eq "$(grep -c ' ok .*192\.0\.2\.46$' <<<"$OUT")" 2 "joined a CNAME chain: both get the end's answer"
t_expect_eq "$(asked share2.test A)" 1 "joined a CNAME chain: the chain's end asked once"
rq -t 1000 -2 "$S" a:kept.test mx:keptnx.test
t_expect_match "$(line again:a:kept.test)" "^again:a:kept.test ok ms=[0-9]+ n=1 192\.0\.2\.42$" \
	"asked again: the kept answer"
t_expect_match "$(line again:mx:keptnx.test)" "^again:mx:keptnx.test nxdomain " "asked again: NXDOMAIN kept too"
within again:a:kept.test 0 50 "asked again: at once"
t_expect_eq "$(asked kept.test A)/$(asked keptnx.test MX)" 1/1 "asked again: not on the wire"
rq -t 300 -n 1 "$S" a:sfk.test
n1=$(asked sfk.test A)
rq -t 300 -n 1 -2 "$S" a:sfk.test
t_expect_match "$(line again:a:sfk.test)" "^again:a:sfk.test servfail " "SERVFAIL is not kept: asked again"
t_expect_eq "$(asked sfk.test A)" "$((3 * n1))" "SERVFAIL is not kept: on the wire both times"
rq -t 1000 -F "$S" a:forget.test
t_expect_match "$(line again:a:forget.test)" " ok .*192\.0\.2\.43$" "after resolver_forget: answered"
t_expect_eq "$(asked forget.test A)" 2 "after resolver_forget: asked again on the wire"
rq -t 2000 -c "$S" a:slow.test a:slow.test
t_expect_eq "$(grep -c '^a:slow.test error ' <<<"$OUT")" 2 "cancel_all: a joined query fails too"
rq -d 300 -t 2000 "$S" a:slow.test a:slow.test
t_expect_eq "$(grep -c '^a:slow.test timeout ' <<<"$OUT")" 2 "deadline: a joined query times out too"

# The AD bit: every query asks with it (RFC 6840 5.7); the server's
# "validated" fault answers with AD only to a query that had it.
rq -a -t 1000 "$S" a:adok.test a:ok.test a:adcn.test a:advia.test a:nx.test
t_expect_match "$(line a:adok.test)" " ok .*192\.0\.2\.60 ad=1$" "AD: set in the query, read back from the answer"
t_expect_match "$(grep -F ' adok.test. A ' "$DNS_LOG")" "validated,ad," "AD: the server saw it in the query"
t_expect_match "$(line a:ok.test)" " ok .* ad=0$" "AD: clear when the server does not set it"
t_expect_match "$(line a:advia.test)" " ok .*192\.0\.2\.60 ad=1$" "AD: a chain in one authenticated answer keeps it"
t_expect_match "$(line a:adcn.test)" " ok .*192\.0\.2\.60 ad=0$" \
	"AD: a chain followed by the resolver keeps it only if every answer had it"
t_expect_match "$(line a:nx.test)" "^a:nx.test nxdomain .* ad=0$" "AD: an NXDOMAIN answer is read too"
t_expect_nomatch "$(grep -E ' (ok|nx|adcn)\.test\. ' "$DNS_LOG")" "validated" "AD: only the validated names answered with it"
rq -a -t 1000 -2 "$S" a:adkept.test
t_expect_match "$(line again:a:adkept.test)" " ok .* ad=1$" "AD: the kept answer of a message keeps it"
t_expect_eq "$(asked adkept.test A)" 1 "AD: the kept answer was not asked again"

# Servers.
closed=$(t_free_port)
rq -t 300 -n 1 "127.0.0.1:$closed" a:ok.test
t_expect_match "$(line a:ok.test)" "^a:ok.test (servfail|timeout) " "nothing listening -> temporary failure"
rq -t 300 -n 2 "127.0.0.1:$closed,$S" a:ok.test
t_expect_match "$(line a:ok.test)" " ok " "second server used when the first is down"
rq "not a server" a:ok.test
t_expect_eq "$RC" 2 "bad server list refused"
t_expect_match "$(cat "$T_BASE/rq.err")" "bad DNS server list" "bad server list: reason given"

# With servers given, nothing of the system resolver is read and only the
# configured (loopback) server is contacted. (LeakSanitizer cannot run under
# ptrace: off for this run of a SAN build.)
if ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -qq -e trace=openat,open,connect,sendto,sendmsg -o "$T_BASE/strace" \
	"$bin" -t 500 "$S" a:ok.test mx-check:good.test >/dev/null 2>&1; then
	t_expect_nomatch "$(grep -E 'resolv\.conf|nsswitch\.conf|/etc/hosts|svc\.conf' "$T_BASE/strace")" . \
		"no resolv.conf, nsswitch.conf or hosts file read"
	t_expect_eq "$(grep -oE 'sin6?_addr=[^)]*\)|inet_pton\([^)]*\)' "$T_BASE/strace" | sort -u)" \
		'sin_addr=inet_addr("127.0.0.1")' "only the configured loopback server contacted"
else
	t_fail "driver runs under strace" "$(tail -n 5 "$T_BASE/strace" 2>/dev/null)"
fi

# The MX check on the real resolver.
rq -t 1000 "$S" mx-check:good.test mx-check:bogus.test mx-check:nullmx.test mx-check:nx.test \
	mx-check:implicit.test mx-check:mxalias.test mx-check:sf.test mx-check:user_x.test
t_expect_match "$(line mx-check:good.test)" " valid .*mx\.good\.test has address 192\.0\.2\.10" "mx: valid"
t_expect_match "$(line mx-check:bogus.test)" " bogus .*resolves only to bogus address" "mx: bogus"
t_expect_match "$(line mx-check:nullmx.test)" " nullmx " "mx: null MX"
t_expect_match "$(line mx-check:nx.test)" " nxdomain " "mx: nxdomain"
t_expect_match "$(line mx-check:implicit.test)" " implicit .*192\.0\.2\.30" "mx: implicit MX"
t_expect_match "$(line mx-check:mxalias.test)" " valid .*mxa\.test has address 192\.0\.2\.10" "mx: exchange behind a CNAME"
t_expect_match "$(line mx-check:sf.test)" " temperror .*servfail" "mx: SERVFAIL -> temperror"
t_expect_match "$(line mx-check:user_x.test)" " invalid " "mx: bad domain, no DNS"
t_expect_nomatch "$(cat "$DNS_LOG")" "user_x" "mx: bad domain never queried"
rq -d 500 -t 1000 "$S" mx-check:slowmx.test
t_expect_match "$(line mx-check:slowmx.test)" " temperror .*timeout" "mx: deadline -> temperror"

# The shared DNS cache, with its own zone and server.
. tests/resolver/cache.sh

t_summary resolver
