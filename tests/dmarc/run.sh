#!/usr/bin/env bash
# dmarc/run.sh - the dmarc tier: DMARC (RFC 9989) end to end. swaks talks
# to a private Postfix (tests/lib/postfix.sh) whose smtpd_milters is the
# real mxguard, running the shipped rules (rules.conf, checked word for
# word against conf/mxguard.conf, the commented known-lists rule enabled);
# XCLIENT presents each client address (metadata only: every packet stays
# on 127.0.0.1). testdns.py serves zones.txt and a DKIM key made now;
# dkimpy (tests/dkim/sign.py) signs.
#
# Scenarios: pass through SPF alone and through DKIM alone (strict and
# relaxed), p=none, p=quarantine under quarantine_action hold (Postfix's
# hold queue), header (X-Spam) and subject ([SPAM] Subject, one added when
# there is none), p=reject, t=y, sp= and np=, the _dmarc lookup dropped
# (451 within the deadline) and SERVFAILed, two From: fields and a From:
# with two domains, a trusted mailing list (known-lists) and a forged
# List-Id, a public suffix domain's record (psd=y) found by the tree walk,
# the JSON decision line's aggregate-report fields, and the _dmarc queries
# of one message (the walk's names only, at most 8).
# Asserted: the exact SMTP reply, the decision line's dmarc facts, rule,
# action and stage, delivery (or not) and the dmarc= clause of the
# delivered Authentication-Results.
# Prints "dmarc: N passed, M failed"; everything started is stopped by PID.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh
. tests/dmarc/lib.sh

HERE=tests/dmarc
AUTHSERV=mx.dmarc.test
DNS_TIMEOUT_MS=2000
OWN=192.0.2.10        # the domains' own server: in their SPF
LIST=192.0.2.200      # the mailing list's server
FWD=203.0.113.20      # a forwarder, and the ESP esp.test
FORGER=198.51.100.66  # forger.test's and evil.psd.test's server
ACCEPTED='^250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$'

# Postfix's daemons (user postfix) must reach the sink directory below T_BASE.
chmod 755 "$T_BASE"
W=$(t_tmpdir)

make --no-print-directory -s mxguard >"$W/build.log" 2>&1 || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"

# --- the rules are the shipped ones ------------------------------------------
out=$("$T_PY" "$HERE/check.py" rules "$HERE/rules.conf" conf/mxguard.conf 2>&1)
t_expect_match "$out" '^ok [0-9]+$' "rules.conf: every rule is the shipped one, every shipped DMARC rule is there"

# --- a DKIM key, made now, for every signing domain ----------------------------
dkim_genkey "$W" sel signed.test 1024 || t_abort "opendkim-genkey" "$(cat "$W/genkey.log")"
KEY=$(dkim_key_record "$W/sel.txt")
[[ $KEY == *p=MI* ]] || t_abort "key record" "$KEY"
for d in signed.test strict.test lists.list.test forger.test; do
	echo "sel._domainkey.$d. 300 IN TXT \"$KEY\""
done >"$W/keys.zone"
t_dns_start "$HERE/zones.txt" "$W/keys.zone" || t_abort "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"

# --- mxguard -------------------------------------------------------------
MPORT=$(t_free_port)
CONF=$W/mxguard.conf
# write_conf [SETTING...] - the tier's settings, these, then rules.conf
write_conf() {
	mxconf_write "$CONF" "$MPORT" "dns_timeout = ${DNS_TIMEOUT_MS}ms" "dns_try_timeout = 500ms" \
		"trusted_networks =" "authserv_id = $AUTHSERV" "$@" <"$HERE/rules.conf"
}
write_conf "quarantine_action = hold" "log_format = text"
out=$(./mxguard -n -c "$CONF" 2>&1)
t_expect_eq "$?:$out" "0:configuration OK" "mxguard -n accepts the tier's configuration"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"

pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
pf_start || t_abort "postfix starts" "$(tail -n 20 "$PF_LOG")"
T0=$SECONDS

# dns_settle - wait until the query log has not grown for 300 ms (at most 3 s):
# the walk's queries all go out at once and one that came last may be logged
# after the message was decided.
dns_settle() {
	local n m i
	n=$(wc -l <"$DNS_LOG")
	for ((i = 0; i < 10; i++)); do
		sleep 0.3
		m=$(wc -l <"$DNS_LOG")
		[[ $m == "$n" ]] && return 0
		n=$m
	done
}

# --- 1. pass through SPF alone ------------------------------------------------
dm_msg "$W/s1" s1 "Alice <alice@example.test>"
mark=$(wc -l <"$DNS_LOG")
dm_case s1 "$OWN" s1@example.test "$W/s1" 0 "$ACCEPTED" \
	"spf=pass dkim=none dmarc=pass dmarc_policy=reject dmarc_domain=example.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=example.test policy.dmarc=reject"
dns_settle
got=$(tail -n "+$((mark + 1))" "$DNS_LOG" | awk '$3 ~ /^_dmarc\./ {print $3, $4}' | sort)
t_expect_eq "$got" "_dmarc.example.test. TXT
_dmarc.test. TXT" "s1: the _dmarc queries are the walk's names, each asked once"

# ten labels: the walk asks the domain, then its last 7 labels down to "test"
dm_msg "$W/s2" s2 "<alice@a.b.c.d.e.f.g.h.deep.test>"
mark=$(wc -l <"$DNS_LOG")
dm_case s2 "$OWN" s2@a.b.c.d.e.f.g.h.deep.test "$W/s2" 0 "$ACCEPTED" \
	"spf=pass dmarc=pass dmarc_policy=reject dmarc_domain=a.b.c.d.e.f.g.h.deep.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=a.b.c.d.e.f.g.h.deep.test policy.dmarc=reject"
dns_settle
got=$(tail -n "+$((mark + 1))" "$DNS_LOG" | awk '$3 ~ /^_dmarc\./ {print $3}')
t_expect_eq "$(sort <<<"$got" | tr '\n' ' ')" \
	"_dmarc.a.b.c.d.e.f.g.h.deep.test. _dmarc.d.e.f.g.h.deep.test. _dmarc.deep.test. _dmarc.e.f.g.h.deep.test. _dmarc.f.g.h.deep.test. _dmarc.g.h.deep.test. _dmarc.h.deep.test. _dmarc.test. " \
	"s2: a ten-label From: domain: the 8 names of the walk (RFC 9989 4.10), nothing else"
n=$(grep -c . <<<"$got")
((n <= 8)) && t_ok "s2: $n _dmarc queries, at most 8" || t_fail "s2: $n _dmarc queries, more than 8" "$got"

# the null sender: SPF's MAIL FROM identity is the HELO name (RFC 7208 2.4), aligned here
DM_HELO=example.test
dm_msg "$W/s4" s4 "<postmaster@example.test>"
dm_case s4 "$OWN" "<>" "$W/s4" 0 "$ACCEPTED" \
	"sender=<> spf=pass dmarc=pass dmarc_policy=reject dmarc_domain=example.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=example.test policy.dmarc=reject"
DM_HELO=client.dmarc.test

# --- 2. pass through DKIM alone ----------------------------------------------------
# an ESP's MAIL FROM (SPF passes for esp.test, not aligned), d= the From: domain
dm_msg "$W/k1.raw" k1 "<bob@signed.test>"
dm_sign "$W/k1.raw" "$W/k1" signed.test || t_abort "dkimpy signs" "$(cat "$W/sign.log")"
dm_case k1 "$FWD" k1@esp.test "$W/k1" 0 "$ACCEPTED" \
	"sender_domain=esp.test spf=pass dkim=pass dkim_domain=signed.test dmarc=pass dmarc_policy=reject dmarc_domain=signed.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=signed.test policy.dmarc=reject"
# forwarded: SPF fails for signed.test; From: a subdomain, d= its parent (relaxed)
dm_msg "$W/k2.raw" k2 "<bob@news.signed.test>"
dm_sign "$W/k2.raw" "$W/k2" signed.test
dm_case k2 "$FWD" k2@signed.test "$W/k2" 0 "$ACCEPTED" \
	"spf=fail dkim=pass dkim_aligned=yes dmarc=pass dmarc_policy=reject dmarc_domain=signed.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=news.signed.test policy.dmarc=reject"
# the same with adkim=s: a parent's d= does not align
dm_msg "$W/k3.raw" k3 "<bob@news.strict.test>"
dm_sign "$W/k3.raw" "$W/k3" strict.test
dm_case k3 "$FWD" k3@esp.test "$W/k3" 26 '^550 5\.7\.1 Email rejected per DMARC policy for news\.strict\.test$' \
	"dkim=pass dkim_domain=strict.test dmarc=fail dmarc_policy=reject dmarc_domain=strict.test rule=dmarc-reject action=reject stage=eom"

# --- 3. fail, p=none: delivered ------------------------------------------------------
dm_msg "$W/n1" n1 "<carol@none.test>"
dm_case n1 "$FORGER" n1@forger.test "$W/n1" 0 "$ACCEPTED" \
	"spf=pass dmarc=fail dmarc_policy=none dmarc_domain=none.test rule=default action=accept stage=eom" \
	"dmarc=fail (p=none dis=none) header.from=none.test policy.dmarc=none"

# --- 5. fail, p=reject ----------------------------------------------------------------
dm_msg "$W/r1" r1 "Bank <service@reject.test>"
dm_case r1 "$FORGER" r1@forger.test "$W/r1" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$' \
	"spf=pass dkim=none dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=dmarc-reject action=reject stage=eom"

# the From: domain in upper case, and with a trailing dot, is the same domain
dm_msg "$W/r2" r2 "Bank <service@REJECT.Test>"
dm_case r2 "$FORGER" r2@forger.test "$W/r2" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$' \
	"from_domain=reject.test dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=dmarc-reject action=reject stage=eom"
dm_msg "$W/r3" r3 "Bank <service@reject.test.>"
dm_case r3 "$FORGER" r3@forger.test "$W/r3" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$' \
	"from_domain=reject.test dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=dmarc-reject action=reject stage=eom"

# --- 4. fail, p=quarantine: quarantine_action = hold (Postfix's hold queue) -------------
dm_msg "$W/q1" q1 "<dave@quar.test>"
dm_case q1 "$FORGER" q1@forger.test "$W/q1" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=quar.test rule=dmarc-quarantine action=quarantine stage=eom"
dm_held q1 "dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test policy.dmarc=quarantine"

# --- 6.-8. t=y, sp=, np= ----------------------------------------------------------------
dm_msg "$W/t1" t1 "<erin@testing.test>"
dm_case t1 "$FORGER" t1@forger.test "$W/t1" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=testing.test rule=dmarc-quarantine action=quarantine stage=eom"
dm_held t1 "dmarc=fail (p=reject t=y dis=quarantine) header.from=testing.test policy.dmarc=quarantine"

dm_msg "$W/p1" p1 "<frank@sub.org-sp.test>"
dm_case p1 "$FORGER" p1@forger.test "$W/p1" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=org-sp.test rule=dmarc-quarantine action=quarantine stage=eom"
dm_held p1 "dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=sub.org-sp.test policy.dmarc=quarantine"
dm_msg "$W/p2" p2 "<frank@org-sp.test>"
dm_case p2 "$FORGER" p2@forger.test "$W/p2" 26 '^550 5\.7\.1 Email rejected per DMARC policy for org-sp\.test$' \
	"dmarc=fail dmarc_policy=reject dmarc_domain=org-sp.test rule=dmarc-reject action=reject stage=eom"
dm_msg "$W/p3" p3 "<frank@sub.org-spnone.test>"
dm_case p3 "$FORGER" p3@forger.test "$W/p3" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=none dmarc_domain=org-spnone.test rule=default action=accept stage=eom" \
	"dmarc=fail (p=reject sp=none dis=none) header.from=sub.org-spnone.test policy.dmarc=none"

dm_msg "$W/x1" x1 "<grace@ghost.np.test>"
dm_case x1 "$FORGER" x1@forger.test "$W/x1" 26 '^550 5\.7\.1 Email rejected per DMARC policy for ghost\.np\.test$' \
	"dmarc=fail dmarc_policy=reject dmarc_domain=np.test rule=dmarc-reject action=reject stage=eom"
t_expect_match "$(grep -F ' ghost.np.test. A ' "$DNS_LOG")" 'NXDOMAIN' "x1: np= asked whether ghost.np.test exists (A: NXDOMAIN)"
dm_msg "$W/x2" x2 "<grace@real.np.test>"
dm_case x2 "$FORGER" x2@forger.test "$W/x2" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=none dmarc_domain=np.test rule=default action=accept stage=eom" \
	"dmarc=fail (p=reject sp=none dis=none) header.from=real.np.test policy.dmarc=none"

# --- 9. the _dmarc lookup never answers / SERVFAILs: tempfail, within the deadline --------
dm_msg "$W/d1" d1 "<heidi@slow.test>"
dm_case d1 "$FORGER" d1@forger.test "$W/d1" 26 \
	'^451 4\.4\.3 cannot check the DMARC policy of slow\.test now, try again later$' \
	"dmarc=temperror dmarc_policy=none dmarc_domain= rule=dmarc-temperror action=tempfail stage=eom"
((SW_MS < 3 * DNS_TIMEOUT_MS)) && t_ok "d1: answered after $SW_MS ms, within 3 x dns_timeout" ||
	t_fail "d1: answered after $SW_MS ms, not within 3 x dns_timeout ($((3 * DNS_TIMEOUT_MS)) ms)"
el=$("$T_PY" "$HERE/check.py" facts "$LINE" elapsed_ms | cut -d= -f2)
[[ $el =~ ^[0-9]+$ ]] && ((el < 3 * DNS_TIMEOUT_MS)) && t_ok "d1: logged elapsed_ms=$el, within 3 x dns_timeout" ||
	t_fail "d1: logged elapsed_ms=$el, not within 3 x dns_timeout"
t_expect_match "$(grep -F '_dmarc.slow.test. TXT' "$DNS_LOG")" ' drop' "d1: the _dmarc.slow.test query was dropped by testdns"
dm_msg "$W/d2" d2 "<heidi@broken.test>"
dm_case d2 "$FORGER" d2@forger.test "$W/d2" 26 \
	'^451 4\.4\.3 cannot check the DMARC policy of broken\.test now, try again later$' \
	"dmarc=temperror dmarc_policy=none dmarc_domain= rule=dmarc-temperror action=tempfail stage=eom"
((SW_MS < 3 * DNS_TIMEOUT_MS)) && t_ok "d2: SERVFAIL answered after $SW_MS ms, within 3 x dns_timeout" ||
	t_fail "d2: SERVFAIL answered after $SW_MS ms, not within 3 x dns_timeout"

# --- 10. From: integrity ----------------------------------------------------------------
dm_msg "$W/f1" f1 "<ivan@example.test>" "From: <ivan@reject.test>"
dm_case f1 "$OWN" f1@example.test "$W/f1" 26 \
	'^550 5\.7\.1 message has more than one From: header field \(RFC 5322 3\.6\)$' \
	"from_header=multiple dmarc=permerror dmarc_policy=none dmarc_domain= rule=from-several action=reject stage=eom"
dm_msg "$W/f2" f2 "<ivan@example.test>, <ivan@reject.test>"
dm_case f2 "$OWN" f2@example.test "$W/f2" 26 \
	'^550 5\.7\.1 From: names more than one domain, DMARC cannot apply \(RFC 9989 11\.5\)$' \
	"from_header=multi_domain dmarc=permerror dmarc_policy=none dmarc_domain= rule=from-domains action=reject stage=eom"
# a From: with no address mxguard can read, though a mail client shows reject.test
dm_msg "$W/f3" f3 "ivan@reject.test <>"
dm_case f3 "$OWN" f3@example.test "$W/f3" 26 \
	'^550 5\.7\.1 From: header field has no usable address \(RFC 5322 3\.6\.2\)$' \
	"from_header=invalid dmarc=permerror dmarc_policy=none dmarc_domain= rule=from-invalid action=reject stage=eom"

# --- 11. a mailing list -----------------------------------------------------------------
# the list's own MAIL FROM (SPF pass) and signature; the author's domain says p=reject
dm_msg "$W/l1.raw" l1 "Judy <judy@reject.test>" "List-Id: DMARC talk <dmarc-l.lists.list.test>"
dm_sign "$W/l1.raw" "$W/l1" lists.list.test
dm_case l1 "$LIST" l1@lists.list.test "$W/l1" 0 "$ACCEPTED" \
	"spf=pass dkim=pass dkim_domain=lists.list.test list_id=dmarc-l.lists.list.test dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=known-lists action=accept stage=eom" \
	"dmarc=fail (p=reject dis=none) header.from=reject.test policy.dmarc=reject"
# the same List-Id, forged: no signature of the list
dm_msg "$W/l2" l2 "Judy <judy@reject.test>" "List-Id: DMARC talk <dmarc-l.lists.list.test>"
dm_case l2 "$FORGER" l2@forger.test "$W/l2" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$' \
	"list_id=dmarc-l.lists.list.test dkim=none dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=dmarc-reject action=reject stage=eom"
# ... signed, but by the forger's own domain
dm_msg "$W/l3.raw" l3 "Judy <judy@reject.test>" "List-Id: DMARC talk <dmarc-l.lists.list.test>"
dm_sign "$W/l3.raw" "$W/l3" forger.test
dm_case l3 "$FORGER" l3@forger.test "$W/l3" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$' \
	"list_id=dmarc-l.lists.list.test dkim=pass dkim_domain=forger.test dmarc=fail dmarc_policy=reject dmarc_domain=reject.test rule=dmarc-reject action=reject stage=eom"

# --- 12. a public suffix domain's record, found by the tree walk ------------------------------
dm_msg "$W/z1" z1 "<kim@bank.psd.test>"
dm_case z1 "$FWD" z1@esp.test "$W/z1" 26 '^550 5\.7\.1 Email rejected per DMARC policy for bank\.psd\.test$' \
	"dmarc=fail dmarc_policy=reject dmarc_domain=psd.test rule=dmarc-reject action=reject stage=eom"
# a sibling below the PSD is another organization: its SPF pass does not align
dm_msg "$W/z2" z2 "<kim@bank.psd.test>"
dm_case z2 "$FORGER" z2@evil.psd.test "$W/z2" 26 '^550 5\.7\.1 Email rejected per DMARC policy for bank\.psd\.test$' \
	"sender_domain=evil.psd.test spf=pass dmarc=fail dmarc_policy=reject dmarc_domain=psd.test rule=dmarc-reject action=reject stage=eom"
# an organization's own record below the PSD is the one that applies
dm_msg "$W/z3" z3 "<kim@www.shop.psd.test>"
dm_case z3 "$FWD" z3@esp.test "$W/z3" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=none dmarc_domain=shop.psd.test rule=default action=accept stage=eom" \
	"dmarc=fail (p=none dis=none) header.from=www.shop.psd.test policy.dmarc=none"

# --- 4. quarantine_action = header ------------------------------------------------------
dm_reconf "quarantine_action = header" "log_format = text"
dm_msg "$W/q2" q2 "<dave@quar.test>"
dm_case q2 "$FORGER" q2@forger.test "$W/q2" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=quar.test rule=dmarc-quarantine action=quarantine stage=eom" \
	"dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test policy.dmarc=quarantine"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)" "DMARC quarantine policy for quar.test" "q2: delivered with X-Spam: DMARC quarantine policy for quar.test"
t_expect_eq "$(dm_hdr "$DELIVERED" Subject)" "dmarc tier q2" "q2: header mode leaves the Subject"
dm_msg "$W/t2" t2 "<erin@testing.test>"
dm_case t2 "$FORGER" t2@forger.test "$W/t2" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=testing.test rule=dmarc-quarantine action=quarantine stage=eom" \
	"dmarc=fail (p=reject t=y dis=quarantine) header.from=testing.test policy.dmarc=quarantine"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)" "DMARC quarantine policy for testing.test" "t2: t=y: delivered with X-Spam"
dm_msg "$W/p4" p4 "<frank@sub.org-sp.test>"
dm_case p4 "$FORGER" p4@forger.test "$W/p4" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=org-sp.test rule=dmarc-quarantine action=quarantine stage=eom" \
	"dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=sub.org-sp.test policy.dmarc=quarantine"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)" "DMARC quarantine policy for sub.org-sp.test" "p4: sp=quarantine: delivered with X-Spam"

# --- 4. quarantine_action = subject -----------------------------------------------------
dm_reconf "quarantine_action = subject" "log_format = text"
dm_msg "$W/q3" q3 "<dave@quar.test>"
dm_case q3 "$FORGER" q3@forger.test "$W/q3" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=quar.test rule=dmarc-quarantine action=quarantine stage=eom" \
	"dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test policy.dmarc=quarantine"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)" "DMARC quarantine policy for quar.test" "q3: delivered with X-Spam"
t_expect_eq "$(dm_hdr "$DELIVERED" Subject)" "[SPAM] dmarc tier q3" "q3: Subject: [SPAM] dmarc tier q3"
DM_SUBJECT=no dm_msg "$W/q4" q4 "<dave@quar.test>"
dm_case q4 "$FORGER" q4@forger.test "$W/q4" 0 "$ACCEPTED" \
	"dmarc=fail dmarc_policy=quarantine dmarc_domain=quar.test rule=dmarc-quarantine action=quarantine stage=eom" \
	"dmarc=fail (p=quarantine dis=quarantine) header.from=quar.test policy.dmarc=quarantine"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)" "DMARC quarantine policy for quar.test" "q4: delivered with X-Spam"
t_expect_eq "$(dm_hdr "$DELIVERED" Subject)" "[SPAM]" "q4: a message without Subject gets Subject: [SPAM]"
dm_msg "$W/s3" s3 "Alice <alice@example.test>"
dm_case s3 "$OWN" s3@example.test "$W/s3" 0 "$ACCEPTED" "dmarc=pass dmarc_policy=reject dmarc_domain=example.test rule=default action=accept stage=eom" \
	"dmarc=pass (p=reject dis=none) header.from=example.test policy.dmarc=reject"
t_expect_eq "$(dm_hdr "$DELIVERED" X-Spam)|$(dm_hdr "$DELIVERED" Subject)" "|dmarc tier s3" \
	"s3: a DMARC pass is neither tagged nor given X-Spam"

# --- 13. the JSON decision line: what an aggregate report needs -------------------------------
dm_reconf "quarantine_action = hold" "log_format = json"
dm_msg "$W/j1.raw" j1 "Bank <service@reject.test>"
dm_sign "$W/j1.raw" "$W/j1" forger.test
dm_send j1 "$FORGER" j1@forger.test "$W/j1"
dm_expect_reply "j1: SMTP reply" 26 '^550 5\.7\.1 Email rejected per DMARC policy for reject\.test$'
LINE=$(dm_logline j1)
out=$("$T_PY" "$HERE/check.py" json "$LINE" '
want = {"client_ip": "198.51.100.66", "from_domain": "reject.test", "dmarc": "fail",
        "dmarc_policy": "reject", "dmarc_domain": "reject.test", "action": "reject",
        "sender_domain": "forger.test", "spf": "pass", "dkim_domain": ["forger.test"],
        "rule": "dmarc-reject", "stage": "eom"}
for k, v in want.items():
    assert d.get(k) == v, "%s is %r, want %r" % (k, d.get(k), v)
det = d["dkim_detail"]
assert isinstance(det, str) and "forger.test" in det and "sel" in det and "pass" in det, \
    "dkim_detail %r does not name d=forger.test, s=sel and pass" % det
assert "reject.test" in d["dmarc_detail"], "dmarc_detail %r" % d["dmarc_detail"]
')
desc="j1: one JSON line with client_ip, from_domain, dmarc, dmarc_policy, dmarc_domain, action, sender_domain, spf, dkim_domain, dkim_detail"
[[ $out == ok ]] && t_ok "$desc" || t_fail "$desc" "$out
line: ${LINE:-(no decision line)}"

# --- at the end -----------------------------------------------------------------------------
for id in "${DM_REFUSED[@]}"; do
	if grep -qF "<$id@dmarc.test>" "$PF_SINK_DIR"/msg-* 2>/dev/null; then
		t_fail "$id: refused, and not delivered" "$(grep -lF "<$id@dmarc.test>" "$PF_SINK_DIR"/msg-*)"
	else
		t_ok "$id: refused, and not delivered"
	fi
done
t_expect_eq "$(find "$PF_DIR/queue/hold" -type f | wc -l)" 3 "the hold queue holds the 3 messages held (q1, t1, p1), no other"
# the sink has the last delivered message a moment before Postfix removes its queue file
for ((i = 0; i < 100; i++)); do (($(pf_queue_count) == 0)) && break; sleep 0.05; done
t_expect_eq "$(pf_queue_count)" 0 "nothing left in Postfix's incoming, active or deferred queue"
t_alive "$MXG_PID" && t_ok "mxguard survived the tier" || t_fail "mxguard survived the tier" "$(tail -n 5 "$MXG_LOG")"
echo "scenarios took $((SECONDS - T0)) s"
t_summary dmarc
