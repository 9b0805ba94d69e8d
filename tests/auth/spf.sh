# shellcheck shell=bash
# spf.sh - SPF scenarios of the auth tier (sourced by tests/auth/run.sh).
# Each message comes from the XCLIENT address given and is judged by the
# shipped rules: spf-temperror tempfails at RCPT (451 4.7.24), spf-fail
# rejects at end of data (it must first know dkim: 550 5.7.23),
# spf-permerror only logs what it would do (dry_run), the rest is accepted.
# Zone data: tests/auth/zones.txt and the generated zone in run.sh.

ACC='^250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$'

# spf_case ID IP DOMAIN RC REPLY_RE RESULT LOG_TAIL_RE
#   a message from ID@DOMAIN at IP: the SMTP reply, the decision line
#   (mx=valid, spf=RESULT, then LOG_TAIL_RE) and, when it was accepted, the
#   spf= clause of the delivered Authentication-Results.
spf_case() {
	local id=$1 ip=$2 dom=$3 rc=$4 reply=$5 result=$6 tail=$7 ar=
	auth_msg "$W/$id.eml" "$id" "$id@$dom"
	[[ $rc -eq 0 ]] && ar=$(auth_ar_spf "$result" "$id@$dom")
	auth_case "$id" "$ip" "$id@$dom" "$W/$id.eml" "$rc" "$reply" \
		"client_ip=${ip#IPV6:} .*mx=valid .*spf=$result .*$tail" "$ar"
}

ACCEPT='rule=default action=accept reply=- dry_run=no stage=eom elapsed_ms=[0-9]+$'
SPF_FAIL_LOG='rule=spf-fail action=reject reply="550 5\.7\.23 SPF check failed for '
TEMP_REPLY='^451 4\.7\.24 cannot check SPF for '
# perm_log DOMAIN - the dry-run line of the spf-permerror rule
perm_log() {
	echo "rule=spf-permerror action=reject reply=\"550 5\.7\.24 SPF record of ${1//./\\.} is broken\" dry_run=yes stage=eom"
}

# --- the results --------------------------------------------------------------
spf_case spf-pass 192.0.2.5 pass.test 0 "$ACC" pass "$ACCEPT"
spf_case spf-fail 192.0.2.200 pass.test 26 '^550 5\.7\.23 SPF check failed for pass\.test$' fail \
	"${SPF_FAIL_LOG}pass\.test\" dry_run=no stage=eom"
spf_case spf-softfail 192.0.2.200 softfail.test 0 "$ACC" softfail "$ACCEPT"
spf_case spf-neutral 198.51.100.7 neutral.test 0 "$ACC" neutral "$ACCEPT"
spf_case spf-none 192.0.2.5 nospf.test 0 "$ACC" none "$ACCEPT"
spf_case spf-temperror 192.0.2.5 tempspf.test 24 "${TEMP_REPLY}tempspf\.test now, try again later$" temperror \
	"rcpt=<spf-temperror@$AUTH_RCPT_DOMAIN> rule=spf-temperror action=tempfail reply=\"451 4\.7\.24 cannot check SPF for tempspf\.test now, try again later\" dry_run=no stage=rcpt"
spf_case spf-permerror 192.0.2.5 perm.test 0 "$ACC" permerror "$(perm_log perm.test)"
spf_case spf-two-records 192.0.2.5 twospf.test 0 "$ACC" permerror "$(perm_log twospf.test)"
spf_case spf-include-pass 192.0.2.7 inc.test 0 "$ACC" pass "$ACCEPT"
spf_case spf-include-fail 192.0.2.8 inc.test 26 '^550 5\.7\.23 SPF check failed for inc\.test$' fail \
	"${SPF_FAIL_LOG}inc\.test\""

# --- RFC 7208 4.6.4 limits: each would pass from 192.0.2.5 if not enforced -----
spf_case spf-ten-terms 192.0.2.5 ten.test 0 "$ACC" pass "$ACCEPT"
spf_case spf-eleven-terms 192.0.2.5 eleven.test 0 "$ACC" permerror "$(perm_log eleven.test)"
spf_case spf-two-void 192.0.2.5 void2.test 0 "$ACC" pass "$ACCEPT"
spf_case spf-three-void 192.0.2.5 void3.test 0 "$ACC" permerror "$(perm_log void3.test)"
spf_case spf-include-loop 192.0.2.5 loop.test 0 "$ACC" permerror "$(perm_log loop.test)"
spf_case spf-include-chain 192.0.2.5 chain.test 0 "$ACC" permerror "$(perm_log chain.test)"
spf_case spf-eleven-mx 192.0.2.5 mx11.test 0 "$ACC" permerror "$(perm_log mx11.test)"

# --- hostile records and answers ------------------------------------------------------
spf_case spf-big-record 192.0.2.5 big.test 0 "$ACC" pass "$ACCEPT"
auth_assert "spf-big-record: the 2 kB record came over TCP after TC" \
	grep -qE ' udp big\.test\. TXT tc,.* tcp big\.test\. TXT NOERROR/1' <(tr '\n' ' ' <"$DNS_LOG")
spf_case spf-dense-macros 192.0.2.5 dense.test 0 "$ACC" permerror "$(perm_log dense.test)"
spf_case spf-macro-digits 192.0.2.5 digits.test 0 "$ACC" permerror "$(perm_log digits.test)"
spf_case spf-macro-unterminated 192.0.2.5 unterm.test 0 "$ACC" permerror "$(perm_log unterm.test)"
spf_case spf-huge-cidr 192.0.2.5 badcidr.test 0 "$ACC" permerror "$(perm_log badcidr.test)"
spf_case spf-malformed-answer 192.0.2.5 garbled.test 24 "${TEMP_REPLY}garbled\.test now" temperror \
	'rule=spf-temperror action=tempfail'
t0=$(date +%s%N)
spf_case spf-no-answer 192.0.2.5 silent.test 24 "${TEMP_REPLY}silent\.test now" temperror \
	'rule=spf-temperror action=tempfail'
el=$((($(date +%s%N) - t0) / 1000000))
auth_assert "spf-no-answer: bounded by dns_timeout 2s (${el} ms)" test "$el" -lt 5000
auth_assert "mxguard survives the hostile SPF records" t_alive "$MXG_PID"

# --- SPF fail rescued by an aligned DKIM pass (the rule's "not (...)") ----------------
auth_msg "$W/rescue.eml" spf-fail-dkim-pass "alice@dkim.test"
auth_sign "$W/rescue.eml" "$W/rescue.eml" "$W/rsa2048.private" rsa2048 dkim.test
spf_case_dkim_ar=$(auth_ar_spf fail spf-fail-dkim-pass@dkim.test '; dkim=pass ')
auth_case spf-fail-dkim-pass 198.51.100.7 spf-fail-dkim-pass@dkim.test "$W/rescue.eml" 0 "$ACC" \
	"spf=fail .*dkim=pass dkim_aligned=yes .*$ACCEPT" "$spf_case_dkim_ar"

# --- SPF runs while the MX lookup is still out (reject_stage rcpt) --------------------
spf_case spf-overlap 192.0.2.5 overlap.test 0 "$ACC" pass "$ACCEPT"
mx_at=$(awk '$3 == "overlap.test." && $4 == "MX" { print $1; exit }' "$DNS_LOG")
txt_at=$(awk '$3 == "overlap.test." && $4 == "TXT" { print $1; exit }' "$DNS_LOG")
gap=$(awk -v a="${mx_at:-0}" -v b="${txt_at:-99999}" 'BEGIN { printf "%d", (b - a) * 1000 }')
auth_assert "spf-overlap: SPF's TXT lookup went out ${gap} ms after the MX query, before its 1 s answer" \
	test "$gap" -lt 700

# --- an IPv6 client (XCLIENT ADDR=IPV6:...) -----------------------------------------
spf_case spf-ipv6-pass IPV6:2001:db8:5::1 v6.test 0 "$ACC" pass "$ACCEPT"
t_expect_match "$(auth_logline spf-ipv6-pass@v6.test)" ' client_ip=2001:db8:5::1 ' "spf-ipv6-pass: the milter saw the IPv6 address"
spf_case spf-ipv6-fail IPV6:2001:db8:6::1 v6.test 26 '^550 5\.7\.23 SPF check failed for v6\.test$' fail \
	"${SPF_FAIL_LOG}v6\.test\""

# --- the null sender: SPF checks postmaster@HELO (RFC 7208 2.4) ------------------------
auth_msg "$W/bounce-pass.eml" bounce-pass mailer-daemon@helo.senders.test
AUTH_HELO=helo.senders.test auth_case bounce-pass 192.0.2.5 "" "$W/bounce-pass.eml" 0 "$ACC" \
	"helo=helo\.senders\.test sender=<> .*mx=skipped .*spf=pass .*$ACCEPT" \
	'^mx\.auth\.test; spf=pass \([^;]*\) smtp\.mailfrom=postmaster@helo\.senders\.test; dkim=none; dmarc=none header\.from=helo\.senders\.test$'
auth_msg "$W/bounce-fail.eml" bounce-fail mailer-daemon@helo.senders.test
AUTH_HELO=helo.senders.test auth_case bounce-fail 192.0.2.200 "" "$W/bounce-fail.eml" 26 \
	'^550 5\.7\.23 SPF check failed for helo\.senders\.test$' \
	"helo=helo\.senders\.test sender=<> .*spf=fail .*rule=spf-fail action=reject"
