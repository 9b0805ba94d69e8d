#!/usr/bin/env bash
# metrics/run.sh - the Prometheus endpoint (metrics_listen) of the real
# daemon: messages driven through it by miltertest (the milter tier's
# session.lua) against testdns.py, the endpoint scraped with curl, and the
# counters asserted to have moved exactly as those messages make them
# move; `promtool check metrics` on the real scrape; what the responder
# answers to anything but GET /metrics and to slow or silent clients;
# reloads; an [::1] listener; `mxguard -n` on bad metrics_listen values;
# and contrib/mxguard-alerts.yml through `promtool check rules` and
# `promtool test rules` (alerts_test.yml).
#
# Needs curl and promtool (package prometheus): `make test-deps` installs
# them; without them the tier fails, saying so.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/mxconf.sh

T_TIER=metrics
HERE=tests/metrics
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_abort "build mxguard"
for tool in curl promtool miltertest; do
	command -v "$tool" >/dev/null ||
		t_abort "$tool is installed" "missing: run 'make test-deps' (as root) to install curl, prometheus (promtool), miltertest"
done

WORK=$(t_tmpdir)

# --- the alert rules shipped in contrib/ ----------------------------------------
out=$(promtool check rules contrib/mxguard-alerts.yml 2>&1); rc=$?
t_expect_match "$rc:$out" '^0:.*SUCCESS: [0-9]+ rules found' "promtool check rules accepts contrib/mxguard-alerts.yml"
out=$(cd "$HERE" && promtool test rules alerts_test.yml 2>&1); rc=$?
t_expect_match "$rc:$out" '^0:.*SUCCESS' "the alerts fire on the series they are for and stay quiet otherwise (promtool test rules)"
[[ $rc -eq 0 ]] || printf '%s\n' "$out" | head -n 40

# --- mxguard -n on metrics_listen -------------------------------------------------
# nl_conf FILE VALUE - a config whose line 3 sets metrics_listen = VALUE
nl_conf() {
	printf '# metrics tier\nsocket = inet:8894@127.0.0.1\nmetrics_listen = %s\ndefault accept\n' "$2" >"$1"
}
nl_conf "$WORK/n1.conf" 192.0.2.1:9894
out=$(./mxguard -n -c "$WORK/n1.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/n1.conf:3: metrics_listen: 192.0.2.1 is not a loopback address" \
	"-n refuses a non-loopback metrics_listen with FILE:LINE"
nl_conf "$WORK/n2.conf" '[2001:db8::1]:9894'
out=$(./mxguard -n -c "$WORK/n2.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/n2.conf:3: metrics_listen: 2001:db8::1 is not a loopback address" \
	"-n refuses a non-loopback IPv6 metrics_listen"
nl_conf "$WORK/n3.conf" localhost:9894
out=$(./mxguard -n -c "$WORK/n3.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/n3.conf:3: metrics_listen: expected a loopback address and a port" \
	"-n refuses a host name (only addresses: a name could resolve anywhere)"
nl_conf "$WORK/n4.conf" 127.0.0.1:70000
out=$(./mxguard -n -c "$WORK/n4.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:$WORK/n4.conf:3: metrics_listen: bad port" "-n refuses a bad port"
nl_conf "$WORK/n5.conf" '[::1]:9894'
out=$(./mxguard -n -c "$WORK/n5.conf" 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:configuration OK" "-n accepts [::1]:PORT"

# --- the daemon, with its endpoint --------------------------------------------------
t_dns_start "$HERE/zones.txt" || t_abort "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"
PORT=$(t_free_port)
MPORT=$(t_free_port)
SOCK="inet:$PORT@127.0.0.1"
URL=http://127.0.0.1:$MPORT/metrics
CONF=$WORK/mxguard.conf
# write_conf [METRICS_LISTEN] - the tier's configuration (atomically: safe to SIGHUP after).
# dns_timeout leaves a busy machine's test DNS server time to answer; c-ares's
# three tries (2 + 4 + 8 s) outlast it, so slow.test's MX query is first cut short
# by the message's deadline (5 s), then ends as a timeout on the wire (14 s).
write_conf() {
	mxconf_write "$CONF" "$SOCK" \
		"metrics_listen = ${1:-127.0.0.1:$MPORT}" \
		"dns_timeout = 5s" \
		"dns_try_timeout = 2s" \
		"trusted_networks = 10.9.0.0/16" <"$HERE/rules.conf"
}
write_conf || t_abort "write the configuration"
out=$(./mxguard -n -c "$CONF" 2>&1)
t_expect_eq "$out" "configuration OK" "-n accepts the tier's configuration"
t_mxguard_start "$CONF" "$PORT" || t_abort "daemon starts" "$(cat "$MXG_LOG" 2>/dev/null)"
t_expect_match "$(cat "$MXG_LOG")" "metrics on http://127.0.0.1:$MPORT/metrics" "start-up names the metrics URL"

# scrape FILE - GET /metrics into FILE (headers in FILE.hdr); non-zero unless 200
scrape() {
	local code
	code=$(curl -sS --max-time 10 -D "$1.hdr" -o "$1" -w '%{http_code}' "$URL" 2>"$1.err")
	[[ $code == 200 ]]
}

# val FILE SERIES - the value of one series (name{labels} exactly as written), "absent" when none
val() {
	awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$1"
}

# wait_val SERIES MIN [SECS] - scrape until SERIES is at least MIN (an event: a
# connection closing, c-ares giving up its tries); the last scrape is in $WORK/poll
wait_val() {
	local i v
	for ((i = 0; i < ${3:-15} * 10; i++)); do
		if scrape "$WORK/poll"; then
			v=$(val "$WORK/poll" "$1")
			[[ $v != absent ]] && awk -v v="$v" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' && return 0
		fi
		sleep 0.1
	done
	return 1
}

S0=$WORK/s0
scrape "$S0" && t_ok "GET /metrics answers 200" || t_fail "GET /metrics answers 200" "$(cat "$S0.err" "$S0.hdr" 2>/dev/null)"
t_expect_match "$(tr -d '\r' <"$S0.hdr")" $'\nContent-Type: text/plain; version=0.0.4' \
	"Content-Type: text/plain; version=0.0.4"
version=$(./mxguard -V | awk '{print $2}')
t_expect_eq "$(val "$S0" "mxguard_build_info{version=\"$version\"}")" 1 "mxguard_build_info carries the version ($version)"
start=$(val "$S0" process_start_time_seconds)
now=$(date +%s)
awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 600 && s <= n + 1) }' &&
	t_ok "process_start_time_seconds is the start ($start, now $now)" ||
	t_fail "process_start_time_seconds is the start" "got $start, now $now"
t_expect_eq "$(val "$S0" mxguard_messages_total):$(val "$S0" mxguard_connections_open)" "0:0" "a fresh daemon has counted nothing"

# --- traffic --------------------------------------------------------------------------
# session PARAM=VALUE... - one SMTP transaction (tests/milter/session.lua)
session() {
	local args=(-D "sock=$SOCK") kv out
	for kv in "$@"; do args+=(-D "$kv"); done
	out=$(miltertest -s tests/milter/session.lua "${args[@]}" 2>&1)
	local rc=$?
	[[ $rc -eq 0 ]] || printf '%s\n' "$out" >&2
	return $rc
}
# drive DESC PARAM=VALUE... - a session that must go as its expect_* say
drive() {
	local desc=$1
	shift
	session "$@" && t_ok "$desc" || t_fail "$desc" "$(tail -n 3 "$MXG_LOG")"
}
base=(ip=192.0.2.1 helo=client.test rcpt="<user@example.com>")

drive "valid sender accepted" "${base[@]}" from="<v1@valid.test>"
S1=$WORK/s1
scrape "$S1" || t_fail "scrape after the first message"
drive "the same domain again: accepted" "${base[@]}" from="<v2@valid.test>"
S2=$WORK/s2
scrape "$S2" || t_fail "scrape after the second message"
h1=$(val "$S1" mxguard_dns_cache_hits_total)
h2=$(val "$S2" mxguard_dns_cache_hits_total)
awk -v a="$h1" -v b="$h2" 'BEGIN { exit !(b > a && a >= 0) }' &&
	t_ok "the second message from valid.test is answered from the DNS cache (hits $h1 -> $h2)" ||
	t_fail "the second message from valid.test is answered from the DNS cache" "hits $h1 -> $h2"
t_expect_eq "$(val "$S1" 'mxguard_dns_queries_total{type="MX",outcome="ok"}'):$(val "$S2" 'mxguard_dns_queries_total{type="MX",outcome="ok"}')" \
	"1:1" "valid.test's MX went on the wire once for both messages"

drive "null MX sender refused at RCPT" "${base[@]}" from="<n1@nullmx.test>" expect_rcpt=replycode
drive "SERVFAIL: tempfailed at RCPT" "${base[@]}" from="<s1@servfail.test>" expect_rcpt=replycode
drive "nonexistent domain: the dry-run rule lets it through" "${base[@]}" from="<d1@nosuch.test>"
drive "listed client refused by the zen list" ip=192.0.2.2 helo=client.test rcpt="<user@example.com>" \
	from="<z1@valid.test>" expect_rcpt=replycode
drive "silent DNS: tempfailed at the deadline" "${base[@]}" from="<t1@slow.test>" expect_rcpt=replycode
# a connection held open (2 s between MAIL FROM and RCPT): the gauge sees it
session "${base[@]}" from="<p1@valid.test>" pause=2 &
held=$!
wait_val mxguard_connections_open 1 10 &&
	t_ok "mxguard_connections_open counts a connection in progress" ||
	t_fail "mxguard_connections_open counts a connection in progress" "$(grep connections_open "$WORK/poll")"
wait "$held" && t_ok "the held session is accepted" || t_fail "the held session is accepted"

# everything settled: connections closed, and c-ares has given up slow.test's MX tries
wait_val 'mxguard_dns_queries_total{type="MX",outcome="timeout"}' 1 30 ||
	t_fail "slow.test's MX query ends as a timeout" "$(grep 'outcome="timeout"' "$WORK/poll")"
for ((i = 0; i < 100; i++)); do
	scrape "$WORK/s3" && [[ $(val "$WORK/s3" mxguard_connections_open) == 0 ]] && break
	sleep 0.1
done
S3=$WORK/s3
t_expect_eq "$(val "$S3" mxguard_connections_open)" 0 "mxguard_connections_open is 0 once every session closed"

# expect SERIES WANT DESC - one series of the settled scrape
expect() {
	t_expect_eq "$(val "$S3" "$1")" "$2" "$3"
}
expect mxguard_connections_total 8 "8 connections"
expect mxguard_messages_total 8 "8 messages"
expect 'mxguard_decisions_total{action="accept",rule="default",dry_run="no"}' 3 "3 accepted by the default"
expect 'mxguard_decisions_total{action="reject",rule="null-mx",dry_run="no"}' 1 "one reject by rule null-mx"
expect 'mxguard_decisions_total{action="reject",rule="in-zen",dry_run="no"}' 1 "one reject by rule in-zen"
expect 'mxguard_decisions_total{action="tempfail",rule="mx-temperror",dry_run="no"}' 2 "two tempfails by rule mx-temperror (SERVFAIL, timeout)"
expect 'mxguard_decisions_total{action="reject",rule="dry-nx",dry_run="yes"}' 1 "one dry-run reject by rule dry-nx"
n=$(awk '/^mxguard_decisions_total\{/ { s += $2 } END { print s + 0 }' "$S3")
t_expect_eq "$n" 8 "no other decision was counted (8 lines in all)"
t_expect_eq "$(grep -c 'dry_run=' "$MXG_LOG")" 8 "... as many as the decision log has"
expect 'mxguard_refused_recipients_total{action="reject"}' 2 "2 recipients refused"
expect 'mxguard_refused_recipients_total{action="tempfail"}' 2 "2 recipients tempfailed"
expect 'mxguard_fact_values_total{fact="mx",value="nullmx"}' 1 "fact mx=nullmx once"
expect 'mxguard_fact_values_total{fact="mx",value="temperror"}' 2 "fact mx=temperror twice"
expect 'mxguard_fact_values_total{fact="mx",value="nxdomain"}' 1 "fact mx=nxdomain once"
expect 'mxguard_fact_values_total{fact="dnsbl.zen",value="listed"}' 1 "the dnsbl list by its configured name: listed once"
mxv=$(val "$S3" 'mxguard_fact_values_total{fact="mx",value="valid"}')
zc=$(val "$S3" 'mxguard_fact_values_total{fact="dnsbl.zen",value="clean"}')
[[ $mxv =~ ^[0-9]+$ && $mxv -ge 3 && $zc =~ ^[0-9]+$ && $zc -ge 1 ]] &&
	t_ok "mx=valid ($mxv) and dnsbl.zen=clean ($zc) counted" ||
	t_fail "mx=valid and dnsbl.zen=clean counted" "mx valid $mxv, zen clean $zc"
expect 'mxguard_stage_duration_seconds_count{stage="mail"}' 8 "every MAIL FROM answer timed"
expect 'mxguard_stage_duration_seconds_count{stage="rcpt"}' 8 "every RCPT answer timed"
expect 'mxguard_stage_duration_seconds_count{stage="eom"}' 4 "the 4 messages that got to their end timed at eom"
expect 'mxguard_stage_duration_seconds_count{stage="headers"}' 4 "... and at the end of their headers"
# the timeout message waited for its 5 s deadline at MAIL FROM: at least one answer
# above 2.5 s, and 5 s in the sum (lower bounds only: how fast is for make bench)
le=$(val "$S3" 'mxguard_stage_duration_seconds_bucket{stage="mail",le="2.5"}')
inf=$(val "$S3" 'mxguard_stage_duration_seconds_bucket{stage="mail",le="+Inf"}')
sum=$(val "$S3" 'mxguard_stage_duration_seconds_sum{stage="mail"}')
awk -v a="$le" -v i="$inf" -v s="$sum" 'BEGIN { exit !(a <= 7 && i == 8 && s >= 5) }' &&
	t_ok "the MAIL FROM that waited for the 5 s DNS deadline is above the 2.5 s bucket, in +Inf and the sum ($le/$inf, $sum s)" ||
	t_fail "the MAIL FROM that waited for the 5 s DNS deadline is above the 2.5 s bucket" "le=2.5: $le, +Inf: $inf, sum: $sum"
expect 'mxguard_dns_lookups_expired_total' 1 "one lookup cut short by a message's deadline (slow.test's MX)"
sf=$(val "$S3" 'mxguard_dns_queries_total{type="MX",outcome="servfail"}')
[[ $sf =~ ^[0-9]+$ && $sf -ge 1 ]] && t_ok "servfail.test's MX query counted as servfail ($sf)" ||
	t_fail "servfail.test's MX query counted as servfail" "$sf"
nx=$(val "$S3" 'mxguard_dns_queries_total{type="A",outcome="nxdomain"}')
[[ $nx =~ ^[0-9]+$ && $nx -ge 1 ]] && t_ok "the zen list's NXDOMAIN answers counted as A nxdomain ($nx)" ||
	t_fail "the zen list's NXDOMAIN answers counted" "$nx"
# each type's answer histogram counts exactly the queries that ended (none was cancelled)
check=$(awk '
	/^mxguard_dns_queries_total\{/ { match($1, /type="[^"]*"/); t = substr($1, RSTART, RLENGTH)
		if ($1 ~ /outcome="cancelled"/) { if ($2 != 0) bad = bad " cancelled:" t } else q[t] += $2 }
	/^mxguard_dns_answer_duration_seconds_count\{/ { match($1, /type="[^"]*"/); c[substr($1, RSTART, RLENGTH)] = $2 }
	/^mxguard_dns_answer_duration_seconds_bucket\{.*le="\+Inf"/ { match($1, /type="[^"]*"/); inf[substr($1, RSTART, RLENGTH)] = $2 }
	END { for (t in q) if (q[t] != c[t] || c[t] != inf[t]) bad = bad " " t ":" q[t] "/" c[t] "/" inf[t]
	      print bad == "" ? "ok" : bad }' "$S3")
t_expect_eq "$check" ok "each type's answer-time _count and +Inf bucket equal its queries"
out=$(promtool check metrics <"$S3" 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:" "promtool check metrics passes on the real scrape"
# never a domain, address or sender in a label
leak=$(grep -E '(valid|nullmx|servfail|nosuch|slow|zen)\.test|192\.0\.2\.|@|example\.com' "$S3" | head -n 3)
t_expect_eq "$leak" "" "no domain, address or sender appears in the scrape"
t_expect_eq "$(val "$S3" mxguard_metrics_label_sets_dropped_total)" 0 "no label set dropped"
# the docs name every family the scrape has
families=$(awk '/^# TYPE / { print $3 }' "$S3")
[[ $(wc -w <<<"$families") -ge 20 ]] || t_fail "the scrape has its metric families" "$families"
for doc in README.md contrib/mxguard.conf.5; do
	missing=()
	for f in $families; do grep -q -- "$f" "$doc" || missing+=("$f"); done
	t_expect_eq "${missing[*]-}" "" "$doc names every metric family"
done

# --- what the responder answers besides GET /metrics ------------------------------------
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/")
t_expect_eq "$code" 404 "GET / is 404"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$URL?name[]=x")
t_expect_eq "$code" 200 "a query string is ignored (200)"
hdr=$(curl -s --max-time 10 -X POST -D - -o /dev/null "$URL" | tr -d '\r')
t_expect_match "$hdr" $'^HTTP/1.1 405 .*\nAllow: GET' "POST /metrics is 405 with Allow: GET"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 5000 /dev/zero | tr '\0' x)" "$URL")
t_expect_eq "$code" 431 "a request over 4 KiB is refused (431)"
# raw REQUEST - send bytes, print the status line the responder answers
raw() {
	"$T_PY" - "$MPORT" "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode("latin-1"))
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.split(b"\r\n", 1)[0].decode("latin-1"))
EOF
}
t_expect_eq "$(raw $'garbage\r\n\r\n')" "HTTP/1.1 400 Bad Request" "a request line that is not HTTP is 400"
t_expect_eq "$(raw $'GET /metrics HTTP/2.0\r\n\r\n')" "HTTP/1.1 400 Bad Request" "an HTTP version other than 1.0/1.1 is 400"
t_expect_eq "$(raw $'GET /metrics HTTP/1.0\n\n')" "HTTP/1.1 200 OK" "bare LF line ends are read"
# a slow client: one byte every 0.3 s, never a whole request - it is dropped, not waited for
slow=$("$T_PY" - "$MPORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 200
try:
    for i in range(len(req)):
        s.send(req[i:i + 1])
        time.sleep(0.3)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                print("closed after %d bytes" % (i + 1)); sys.exit(0)
        except BlockingIOError:
            pass
        s.setblocking(True)
except (BrokenPipeError, ConnectionResetError):
    print("closed after %d bytes" % (i + 1)); sys.exit(0)
print("never closed")
EOF
)
t_expect_match "$slow" '^closed after [0-9]+ bytes$' "a client trickling its request is dropped before it ends ($slow)"
# 8 silent clients take every slot; a scrape still gets its answer once they are dropped
fds=()
for i in $(seq 1 8); do exec {fd}<>"/dev/tcp/127.0.0.1/$MPORT" && fds+=("$fd"); done
t_expect_eq "${#fds[@]}" 8 "8 silent connections opened"
scrape "$WORK/s4" && t_ok "a scrape is answered while 8 silent clients hold every slot" ||
	t_fail "a scrape is answered while 8 silent clients hold every slot" "$(cat "$WORK/s4.err")"
closed=0
for fd in "${fds[@]}"; do
	timeout 10 cat <&"$fd" >/dev/null && closed=$((closed + 1))
	exec {fd}>&-
done
t_expect_eq "$closed" 8 "the silent clients were closed by the responder"

# --- reloads -------------------------------------------------------------------------------
# hup - SIGHUP, wait for its log line (the Nth reload line)
hup() {
	local n i
	n=$(grep -cE 'reloaded configuration|reload failed' "$MXG_LOG")
	kill -HUP "$MXG_PID"
	for ((i = 0; i < 200; i++)); do
		[[ $(grep -cE 'reloaded configuration|reload failed' "$MXG_LOG") -gt $n ]] && return 0
		sleep 0.05
	done
	return 1
}
t0=$(val "$S3" mxguard_config_last_reload_success_timestamp_seconds)
t_expect_eq "$t0" "$(val "$S3" process_start_time_seconds)" "before any reload, the configuration in force is the start's"
OTHER=$(t_free_port)
write_conf "127.0.0.1:$OTHER"
hup || t_fail "reload logged"
scrape "$WORK/r1" && t_ok "still served on the old port after a reload that moves metrics_listen" ||
	t_fail "still served on the old port after a reload that moves metrics_listen"
t_expect_match "$(grep 'metrics_listen changed' "$MXG_LOG")" "metrics_listen changed to 127.0.0.1:$OTHER: needs a restart; metrics still on 127.0.0.1:$MPORT" \
	"a changed metrics_listen is logged as needing a restart"
t_expect_eq "$(val "$WORK/r1" 'mxguard_reloads_total{result="success"}'):$(val "$WORK/r1" mxguard_config_last_reload_successful)" \
	"1:1" "a good reload is counted"
t1=$(val "$WORK/r1" mxguard_config_last_reload_success_timestamp_seconds)
awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b > a) }' && t_ok "the last good load's time moved ($t0 -> $t1)" ||
	t_fail "the last good load's time moved" "$t0 -> $t1"
printf 'no_such_setting = 1\n' >>"$CONF"
hup || t_fail "reload logged"
scrape "$WORK/r2"
t_expect_eq "$(val "$WORK/r2" 'mxguard_reloads_total{result="failure"}'):$(val "$WORK/r2" mxguard_config_last_reload_successful):$(val "$WORK/r2" mxguard_config_last_reload_success_timestamp_seconds)" \
	"1:0:$t1" "a refused reload is counted, the gauge says so, the good load's time stays"
write_conf
hup || t_fail "reload logged"
scrape "$WORK/r3"
t_expect_eq "$(val "$WORK/r3" 'mxguard_reloads_total{result="success"}'):$(val "$WORK/r3" mxguard_config_last_reload_successful)" \
	"2:1" "a good reload after a bad one sets the gauge back to 1"

# --- another listener: [::1], and a port already taken -------------------------------------
P2=$(t_free_port)
M2=$(t_free_port)
mxconf_write "$WORK/v6.conf" "inet:$P2@127.0.0.1" "metrics_listen = [::1]:$M2" <"$HERE/rules.conf" ||
	t_fail "write the [::1] configuration"
MAIN_PID=$MXG_PID MAIN_LOG=$MXG_LOG
if t_mxguard_start "$WORK/v6.conf" "$P2"; then
	code=$(curl -sg --max-time 10 -o "$WORK/v6" -w '%{http_code}' "http://[::1]:$M2/metrics")
	t_expect_eq "$code:$(val "$WORK/v6" "mxguard_build_info{version=\"$version\"}")" "200:1" "metrics_listen = [::1]:PORT serves /metrics"
	code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$M2/metrics")
	t_expect_eq "$code" 000 "... and only on [::1] (IPV6_V6ONLY: nothing on 127.0.0.1)"
	t_stop "$MXG_PID"
else
	t_fail "a daemon with metrics_listen = [::1]:PORT starts" "$(cat "$MXG_LOG")"
fi
P3=$(t_free_port)
mxconf_write "$WORK/taken.conf" "inet:$P3@127.0.0.1" "metrics_listen = 127.0.0.1:$MPORT" <"$HERE/rules.conf"
out=$(timeout 20 ./mxguard -f -c "$WORK/taken.conf" 2>&1); rc=$?
t_expect_match "$rc:$out" "^1:.*metrics_listen 127.0.0.1:$MPORT: Address already in use" \
	"a metrics port already in use stops the start, saying why"
MXG_PID=$MAIN_PID MXG_LOG=$MAIN_LOG
t_alive "$MXG_PID" && t_ok "the tier's daemon ran to the end" || t_fail "the tier's daemon ran to the end" "$(tail -n 5 "$MXG_LOG")"

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- mxguard log (last 15 lines) ---"
	tail -n 15 "$MXG_LOG"
	echo "--- last scrape: decisions and facts ---"
	grep -E '^mxguard_(decisions|fact_values|refused)' "$S3" 2>/dev/null | head -n 40
fi
t_summary metrics
