#!/usr/bin/env bash
# e2e/run.sh - end to end: a private Postfix with smtpd_milters pointing at
# the real mxguard ($MXG_BIN), testdns.py serving tests/e2e/zones.txt, real clients
# (swaks, smtp-source, a Python SMTPUTF8 client). Asserts the exact SMTP
# reply per MX class, what reached the sink, the decision log line, the
# DNS deadline, SIGHUP reload under traffic, a refused bad reload, trusted
# networks via XCLIENT, and 451 when the milter is gone.
# Prints "e2e: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh

HERE=tests/e2e
DNS_TIMEOUT_MS=2000
UNTRUSTED=192.0.2.5        # XCLIENT address: checked
TRUSTED=198.51.100.20      # XCLIENT address inside trusted_networks

t_mxguard_build "$T_BASE/build.log" || t_abort "build failed" "$(tail -n 20 "$T_BASE/build.log")"
W=$(t_tmpdir)
CONF=$W/mxguard.conf
MPORT=$(t_free_port)

t_dns_start "$HERE/zones.txt" || t_abort "testdns did not start"

# write_conf - the suite's configuration; $1 is the reload-test rule's action.
write_conf() {
	mxconf_write "$CONF" "$MPORT" "dns_timeout = ${DNS_TIMEOUT_MS}ms" "dns_try_timeout = 500ms" \
		"trusted_networks = 198.51.100.0/24" "authserv_id = mx.e2e.test" <<EOF
rule reload-me     sender_domain = reload.test  $1
rule null-mx       mx = nullmx
                   reject 550 5.7.27 "sender domain %{domain} does not accept mail (null MX)"
rule no-domain     mx = nxdomain
                   reject 550 5.1.8 "sender domain %{domain} does not exist"
rule no-route      mx in {none, bogus}
                   reject 550 5.1.8 "sender domain %{domain} has no usable mail exchanger"
rule bad-sender    mx = invalid
                   reject 550 5.1.7 "sender address <%{sender}> is not valid"
rule mx-temperror  mx = temperror
                   tempfail 451 4.4.3 "cannot verify sender domain %{domain} now, try again later"
rule spf-temperror spf = temperror
                   tempfail 451 4.7.24 "cannot check SPF for %{domain} now, try again later"
rule spf-fail      spf = fail and not (dkim = pass and dkim_aligned = yes)
                   reject 550 5.7.23 "SPF check failed for %{domain}"
default accept
EOF
}
write_conf accept
out=$("$MXG_BIN" -n -c "$CONF" 2>&1)
t_expect_eq "$out" "configuration OK" "mxguard -n accepts the e2e configuration"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard did not start"
pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
pf_start || t_abort "postfix did not start"

# send FROM [swaks options] - one transaction; sets RC, OUT, REPLY, MS.
# REPLY is the first refusal ("550 5.7.27 ...") or the final "250 ..." line.
send() {
	local from=$1 t0
	shift
	t0=$(date +%s%N)
	OUT=$(swaks --server "127.0.0.1:$PF_PORT" --from "$from" --helo client.e2e.test \
		--timeout 60 "$@" 2>&1)
	RC=$?
	MS=$((($(date +%s%N) - t0) / 1000000))
	REPLY=$(sed -nE 's/^<~?\*\* //p' <<<"$OUT" | head -n 1)
	[[ -n $REPLY ]] || REPLY=$(sed -nE 's/^<[-~] +(250 .*queued as.*)/\1/p' <<<"$OUT" | tail -n 1)
}

# logline SENDER - the decision line(s) for a sender, waiting up to 2 s.
logline() {
	t_wait_grep -F "sender=<$1> " "$MXG_LOG"
}

# logline_re LOCALPART@ - like logline, for senders logged with escapes.
logline_re() {
	t_wait_grep -F "sender=<$1" "$MXG_LOG"
}

# sink_has RCPT - true when the sink received a message for RCPT.
sink_has() {
	grep -lqsF "X-Rcpt-Args: <$1>" "$PF_SINK_DIR"/msg-* 2>/dev/null
}

# --- 1. one sender per MX class ------------------------------------------
# sender domain | expected reply (exact, or "accepted") | swaks exit | mx | rule | action
cases=(
	"valid.test|accepted|0|valid|default|accept"
	"implicit.test|accepted|0|implicit|default|accept"
	"nullmx.test|550 5.7.27 sender domain nullmx.test does not accept mail (null MX)|24|nullmx|null-mx|reject"
	"nonexistent.test|550 5.1.8 sender domain nonexistent.test does not exist|24|nxdomain|no-domain|reject"
	"none.test|550 5.1.8 sender domain none.test has no usable mail exchanger|24|none|no-route|reject"
	"bogus.test|550 5.1.8 sender domain bogus.test has no usable mail exchanger|24|bogus|no-route|reject"
	"bogus-lo.test|550 5.1.8 sender domain bogus-lo.test has no usable mail exchanger|24|bogus|no-route|reject"
	"mx-literal.test|550 5.1.8 sender domain mx-literal.test has no usable mail exchanger|24|bogus|no-route|reject"
	"mx-localhost.test|550 5.1.8 sender domain mx-localhost.test has no usable mail exchanger|24|bogus|no-route|reject"
	"temperror.test|451 4.4.3 cannot verify sender domain temperror.test now, try again later|24|temperror|mx-temperror|tempfail"
	"timeout.test|451 4.4.3 cannot verify sender domain timeout.test now, try again later|24|temperror|mx-temperror|tempfail"
	"truncated.test|accepted|0|valid|default|accept"
	"cname-mx.test|accepted|0|valid|default|accept"
	"xn--bcher-kva.test|accepted|0|valid|default|accept"
	"many.test|550 5.1.8 sender domain many.test has no usable mail exchanger|24|bogus|no-route|reject"
	"many-ok.test|accepted|0|valid|default|accept"
	"spf-pass.test|accepted|0|valid|default|accept"
	"spf-fail.test|550 5.7.23 SPF check failed for spf-fail.test|26|valid|spf-fail|reject"
	"[192.0.2.1]|accepted|0|literal|default|accept"
	"under_score.test|550 5.1.7 sender address <SENDER> is not valid|24|invalid|bad-sender|reject"
)
n=0 accepted=() refused=()
for c in "${cases[@]}"; do
	IFS='|' read -r dom want wantrc mx rule action <<<"$c"
	n=$((n + 1))
	from="c$n@$dom" rcpt="r$n@$PF_RCPT_DOMAIN"
	want=${want//SENDER/$from}
	[[ $dom == spf-pass.test ]] && spf_rcpt=$rcpt
	send "$from" --to "$rcpt" --xclient-addr "$UNTRUSTED"
	if [[ $want == accepted ]]; then
		t_expect_match "$REPLY" '^250 2\.0\.0 Ok: queued as ' "$dom: accepted (250)"
		accepted+=("$rcpt")
	else
		t_expect_eq "$REPLY" "$want" "$dom: reply"
		refused+=("$rcpt")
	fi
	t_expect_eq "$RC" "$wantrc" "$dom: swaks exit code (stage)"
	line=$(logline "$from")
	t_expect_match "$line" " mx=$mx .* rule=$rule action=$action " "$dom: decision log mx=$mx rule=$rule action=$action"
	if [[ $dom == timeout.test ]]; then
		# The deadline, not c-ares's own retries, ends the wait. The bounds leave room for a
		# busy machine (a late timer, a slow Postfix): they catch a wait that is not cut, not
		# a slow one - speed is make bench's business.
		bound=$((3 * DNS_TIMEOUT_MS + 2000))
		((MS < bound)) && t_ok "timeout.test: 4xx after $MS ms, the wait was cut (bound $bound ms)" ||
			t_fail "timeout.test: 4xx after $MS ms, bound $bound ms"
		el=$(sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p' <<<"$line")
		((${el:-99999} >= DNS_TIMEOUT_MS && ${el:-99999} <= DNS_TIMEOUT_MS + 1000)) &&
			t_ok "timeout.test: logged elapsed_ms=$el: the wait ended at dns_timeout" ||
			t_fail "timeout.test: logged elapsed_ms=$el, not at dns_timeout ($DNS_TIMEOUT_MS ms)"
	fi
done

# IDN in UTF-8: needs SMTPUTF8, which swaks cannot send.
n=$((n + 1))
out=$("$T_PY" "$HERE/smtputf8.py" "$PF_PORT" "$UNTRUSTED" "c$n@bücher.test" "r$n@$PF_RCPT_DOMAIN" 2>&1)
t_expect_match "$out" $'^250 .*\n250 2\\.0\\.0 Ok: queued' "bücher.test (UTF-8, SMTPUTF8): accepted"
t_expect_match "$(logline_re "c$n@")" ' mx=valid ' "bücher.test: decision log mx=valid"
# Not counted as delivered: smtp-sink cannot take SMTPUTF8, so Postfix bounces it.

# Null sender: accepted without DNS.
n=$((n + 1))
send '<>' --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^250 ' "null sender <>: accepted"
t_expect_match "$(logline "")" ' mx=skipped .* action=accept ' "null sender: decision log mx=skipped"
accepted+=("r$n@$PF_RCPT_DOMAIN")

# DNS-level checks of how the answers were obtained.
dnslog=$(cat "$DNS_LOG")
t_expect_match "$dnslog" 'tcp truncated\.test\. MX (truncate,)?NOERROR/1' "truncated MX answer fetched again over TCP"
k=$(grep -cE ' mx[0-9]+\.many\.test\. A ' "$DNS_LOG")
((k >= 1 && k <= 10)) && t_ok "many.test: $k of 29 exchanges looked up (max_mx_targets 10)" ||
	t_fail "many.test: $k exchanges looked up, want 1..10"

# --- 2. trusted networks through XCLIENT -----------------------------------
n=$((n + 1))
q0=$(grep -c ' nullmx\.test\. ' "$DNS_LOG")
send "t$n@nullmx.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$TRUSTED"
t_expect_match "$REPLY" '^250 ' "null MX sender from a trusted client ($TRUSTED): accepted"
t_expect_match "$(logline "t$n@nullmx.test")" "client_ip=$TRUSTED .*trusted=yes .* action=accept " \
	"trusted client: logged trusted=yes, accepted"
accepted+=("r$n@$PF_RCPT_DOMAIN")
t_expect_eq "$(grep -c ' nullmx\.test\. ' "$DNS_LOG")" "$q0" "trusted client: no DNS lookup for its sender"
n=$((n + 1))
send "t$n@nullmx.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^550 5\.7\.27 ' "the same sender from $UNTRUSTED: rejected"
refused+=("r$n@$PF_RCPT_DOMAIN")
n=$((n + 1))
send "t$n@nullmx.test" --to "r$n@$PF_RCPT_DOMAIN"
t_expect_match "$REPLY" '^550 5\.7\.27 ' "without XCLIENT (127.0.0.1, not in trusted_networks here): rejected"
refused+=("r$n@$PF_RCPT_DOMAIN")

# --- 3. what reached the sink ------------------------------------------------
pf_sink_wait "${#accepted[@]}" 15
t_expect_eq "$(pf_sink_count)" "${#accepted[@]}" "sink holds exactly the accepted messages"
miss=() leak=()
for r in "${accepted[@]}"; do sink_has "$r" || miss+=("$r"); done
for r in "${refused[@]}"; do sink_has "$r" && leak+=("$r"); done
t_expect_eq "${miss[*]-}" "" "every accepted message was delivered"
t_expect_eq "${leak[*]-}" "" "nothing a rule refused reached the sink"
t_expect_eq "$(pf_queue_count)" 0 "nothing left in the Postfix queue"
f=$(grep -lsF "X-Rcpt-Args: <$spf_rcpt>" "$PF_SINK_DIR"/msg-* | head -n 1)
t_expect_match "$(cat "${f:-/dev/null}")" $'Authentication-Results: mx\\.e2e\\.test[^\n]*(\n[ \t][^\n]*)*spf=pass' \
	"delivered spf-pass.test message carries our Authentication-Results with spf=pass"

# --- 4. SIGHUP reload under traffic ------------------------------------------
LOAD=400
before=$(pf_sink_count)
t_bg smtp-source smtp-source -s 5 -m "$LOAD" -f load@reload.test -t "load@$PF_RCPT_DOMAIN" \
	"127.0.0.1:$PF_PORT"
src_pid=$T_LAST_PID
# Reload once 40 messages were decided (not delivered: delivery lags).
for ((i = 0; i < 600; i++)); do
	(($(grep -cF 'sender=<load@reload.test> ' "$MXG_LOG") >= 40)) && break
	sleep 0.05
done
(($(grep -cF 'sender=<load@reload.test> ' "$MXG_LOG") >= 40)) || t_fail "traffic did not flow before the reload"
write_conf discard
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do
	grep -q 'reloaded configuration' "$MXG_LOG" && break
	sleep 0.05
done
t_expect_match "$(cat "$MXG_LOG")" 'reloaded configuration from ' "SIGHUP: configuration reloaded"
for ((i = 0; i < 1200; i++)); do t_alive "$src_pid" || break; sleep 0.05; done
t_alive "$src_pid" && t_fail "smtp-source still running after 60 s"
wait "$src_pid"
src_rc=$?
t_expect_eq "$src_rc:$(cat "$T_BASE/smtp-source.out")" "0:" "smtp-source: every message accepted, no errors"
acc=$(grep -F 'sender=<load@reload.test> ' "$MXG_LOG" | grep -c ' rule=reload-me action=accept ')
dis=$(grep -F 'sender=<load@reload.test> ' "$MXG_LOG" | grep -c ' rule=reload-me action=discard ')
t_expect_eq "$((acc + dis))" "$LOAD" "decision log: one line per message ($acc accept + $dis discard)"
((acc > 0 && dis > 0)) && t_ok "old rule before, new rule after the reload" ||
	t_fail "old rule before, new rule after the reload (accept=$acc discard=$dis)"
pf_sink_wait $((before + acc)) 15
t_expect_eq "$(pf_sink_count)" "$((before + acc))" "sink: every accepted load message, no discarded one"
t_expect_nomatch "$(grep -E 'warning: .*milter|451 4\.7\.1' "$PF_LOG")" '.' "maillog: no milter errors or 451 4.7.1 during the reload"

# --- 5. a bad configuration is refused, the old one kept ----------------------
cp "$CONF" "$W/good.conf"
printf 'rule broken mx = = nullmx reject\n' >>"$CONF"
bad_line=$(wc -l <"$CONF")
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do
	grep -q 'reload failed' "$MXG_LOG" && break
	sleep 0.05
done
t_expect_match "$(grep 'reload failed' "$MXG_LOG")" "reload failed: .*mxguard\.conf:$bad_line: .*keeping previous configuration" \
	"bad reload: error names file:line, previous configuration kept"
n=$((n + 1))
send "b$n@reload.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^250 ' "after the bad reload: reload.test still answered 250"
t_expect_match "$(logline "b$n@reload.test")" ' rule=reload-me action=discard ' "after the bad reload: the last good rules still apply"
n=$((n + 1))
send "b$n@nullmx.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^550 5\.7\.27 ' "after the bad reload: null MX still rejected"
sleep 0.5
t_expect_eq "$(pf_sink_count)" "$((before + acc))" "after the bad reload: discarded message not delivered"
t_alive "$MXG_PID" && t_ok "mxguard still running after the bad reload" || t_fail "mxguard died on a bad reload"

# --- 5b. the shared DNS cache: across messages, dropped when the resolver changes ----
# hup_reload - SIGHUP and wait until one more reload is logged
hup_reload() {
	local n i
	n=$(grep -c 'reloaded configuration' "$MXG_LOG")
	kill -HUP "$MXG_PID"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c 'reloaded configuration' "$MXG_LOG") > n)) && return 0
		sleep 0.05
	done
	t_fail "SIGHUP: no reload logged in 5 s"
}
write_conf accept
hup_reload
mxq() { grep -c ' valid\.test\. MX ' "$DNS_LOG"; }
q0=$(mxq)
n=$((n + 1))
send "d$n@valid.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^250 ' "cache: valid.test accepted again"
t_expect_eq "$(mxq)" "$q0" "cache: a reload with the same DNS settings keeps the answers: no MX query for valid.test"
sed -i 's/^dns_try_timeout = 500ms$/dns_try_timeout = 600ms/' "$CONF"
hup_reload
n=$((n + 1))
send "d$n@valid.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^250 ' "cache: valid.test accepted after the DNS settings changed"
t_expect_eq "$(mxq)" "$((q0 + 1))" "cache: new DNS settings drop the answers: valid.test's MX asked once more"

# --- 6. milter gone: Postfix tempfails, nothing is lost silently --------------
kill -TERM "$MXG_PID"
for ((i = 0; i < 200; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
if t_alive "$MXG_PID"; then
	t_fail "mxguard exits within 10 s of SIGTERM"
else
	wait "$MXG_PID"
	t_expect_eq "$?" 0 "mxguard: SIGTERM, clean exit 0"
fi
t_expect_match "$(grep 'dns cache at stop' "$MXG_LOG")" 'dns cache at stop: [1-9][0-9]* hits, ' \
	"cache: its counters logged at stop, with hits"
n=$((n + 1))
send "c$n@valid.test" --to "r$n@$PF_RCPT_DOMAIN" --xclient-addr "$UNTRUSTED"
t_expect_match "$REPLY" '^451 4\.7\.1 ' "milter down: 451 4.7.1 (milter_default_action = tempfail)"

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- mxguard log (last 15 lines) ---"
	tail -n 15 "$MXG_LOG"
fi
t_summary e2e
