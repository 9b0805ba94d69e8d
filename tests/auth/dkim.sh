# shellcheck shell=bash
# dkim.sh - DKIM scenarios of the auth tier (sourced by tests/auth/run.sh).
# Messages are From: alice@dkim.test, MAIL FROM ID@dkim.test, from
# 192.0.2.5 (SPF pass) unless said otherwise, signed by dkimpy before
# sending or by the opendkim milter on Postfix's signing port. DKIM alone
# never refuses a message (shipped rules): what is asserted is the dkim
# fact in the decision line and the per-signature clauses of the delivered
# Authentication-Results (result, header.d, header.s, header.a, and a
# header.b that begins the signature's own b=).

# dkim_case ID FILE LOG_RE AR_RE... - send FILE from 192.0.2.5; it is
# accepted, its decision line matches LOG_RE and its A-R every AR_RE.
# The shipped configuration verifies DKIM for every message
# (dkim_verify = always) and refuses none for DKIM alone.
dkim_case() {
	local id=$1 file=$2 log_re=$3 re ar
	shift 3
	auth_case "$id" 192.0.2.5 "$id@dkim.test" "$file" 0 "$ACC" "$log_re" \
		"$(auth_ar_spf pass "$id@dkim.test" '; dkim=')"
	[[ -n $DELIVERED ]] || return 0
	ar=$(auth_hdr "$DELIVERED" Authentication-Results | grep -F "$AUTHSERV")
	for re in "$@"; do
		t_expect_match "$ar" "$re" "$id: A-R has $re"
	done
	dkim_check_b "$id"
}

# dkim_check_b ID - every header.b in our A-R begins a signature's b=.
dkim_check_b() {
	local out
	out=$("$T_PY" tests/auth/msg.py check-b "$DELIVERED" "$AUTHSERV" 2>&1)
	if [[ $out == "ok 0" ]]; then
		return 0
	fi
	t_expect_match "$out" '^ok [1-9]' "$1: header.b begins the signature's b="
}

# signed ID KEY SEL DOM [sign.py options] - a fresh message signed once, path in F.
signed() {
	local id=$1 key=$2 sel=$3 dom=$4
	shift 4
	auth_msg "$W/$id.eml" "$id" alice@dkim.test
	auth_sign "$W/$id.eml" "$W/$id.eml" "$W/$key" "$sel" "$dom" "$@" ||
		t_fail "$id: dkimpy signs" "$(tail -n 3 "$T_BASE/sign.log")"
	F=$W/$id.eml
}

D='header\.d=dkim\.test'
PASS_LOG="dkim=pass dkim_aligned=yes .*$ACCEPT"
# bad_log RESULT - the decision line of a message whose signature did not verify
bad_log() {
	echo "dkim=$1 dkim_aligned=no .*$ACCEPT"
}

# --- signatures that verify -----------------------------------------------------
signed dkim-relaxed rsa2048.private rsa2048 dkim.test --canon relaxed/relaxed; f=$F
dkim_case dkim-relaxed "$f" "$PASS_LOG" \
	"; dkim=pass \(2048-bit key\) $D header\.s=rsa2048 header\.a=rsa-sha256 header\.b=\"?[A-Za-z0-9+/]{8}"

signed dkim-simple rsa1024.private rsa1024 dkim.test --canon simple/simple; f=$F
dkim_case dkim-simple "$f" "$PASS_LOG" \
	"; dkim=pass \(1024-bit key\) $D header\.s=rsa1024 header\.a=rsa-sha256 header\.b="

signed dkim-ed25519 ed.key ed dkim.test --alg ed25519-sha256; f=$F
dkim_case dkim-ed25519 "$f" "$PASS_LOG" \
	"; dkim=pass [^;]*$D header\.s=ed header\.a=ed25519-sha256 header\.b="

signed dkim-two rsa2048.private rsa2048 dkim.test; f=$F
auth_sign "$f" "$f" "$W/rsa1024.private" rsa1024 other.test --canon relaxed/simple
dkim_case dkim-two "$f" "$PASS_LOG" \
	"; dkim=pass \(2048-bit key\) $D header\.s=rsa2048 " \
	"; dkim=pass \(1024-bit key\) header\.d=other\.test header\.s=rsa1024 " \
	"^([^;]*;){2} dkim=[^;]*; dkim=[^;]*; dmarc=none header\.from=[^;]*$"

signed dkim-good-and-missing rsa2048.private rsa2048 dkim.test; f=$F
auth_sign "$f" "$f" "$W/rsa1024.private" nokey other.test
dkim_case dkim-good-and-missing "$f" "$PASS_LOG" \
	"; dkim=pass \(2048-bit key\) $D header\.s=rsa2048 " \
	"; dkim=permerror [^;]*header\.d=other\.test header\.s=nokey "

signed dkim-length rsa2048.private rsa2048 dkim.test --length; f=$F
printf 'A footer a mailing list appended.\r\n' >>"$f"
auth_assert "dkim-length: dkimpy put l= in the signature" grep -q ' l=[0-9]' "$f"
dkim_case dkim-length "$f" "$PASS_LOG" "; dkim=pass [^;]*$D header\.s=rsa2048 "

# --- damage in transit and key trouble: accepted, but not pass -----------------------
signed dkim-body-changed rsa2048.private rsa2048 dkim.test; f=$F
sed -i 's/It ends here\./It ends HERE./' "$f"
dkim_case dkim-body-changed "$f" "$(bad_log fail)" \
	"; dkim=fail [^;]*$D header\.s=rsa2048 header\.a=rsa-sha256 header\.b="

signed dkim-header-changed rsa2048.private rsa2048 dkim.test; f=$F
sed -i 's/^Subject: auth tier dkim-header-changed/Subject: auth tier (edited)/' "$f"
dkim_case dkim-header-changed "$f" "$(bad_log fail)" \
	"; dkim=fail [^;]*$D header\.s=rsa2048 "

signed dkim-missing-key rsa2048.private nokey dkim.test; f=$F
dkim_case dkim-missing-key "$f" "$(bad_log permerror)" \
	"; dkim=permerror [^;]*$D header\.s=nokey "

signed dkim-revoked-key rsa2048.private revoked dkim.test; f=$F
dkim_case dkim-revoked-key "$f" "$(bad_log fail)" \
	"; dkim=fail [^;]*$D header\.s=revoked "

signed dkim-short-key short.private short dkim.test; f=$F
dkim_case dkim-short-key "$f" "$(bad_log permerror)" \
	"; dkim=permerror [^;]*$D header\.s=short "

signed dkim-key-timeout rsa2048.private slow dkim.test; f=$F
dkim_case dkim-key-timeout "$f" "dkim=temperror dkim_aligned=no .*$ACCEPT" \
	"; dkim=temperror [^;]*$D header\.s=slow "
# The key never comes: the message waited for it until the deadline the
# headers started (dns_timeout 2s), then went on - no timing upper bound,
# which a busy machine can always exceed; that it ended is the bound.
el=$(auth_logline dkim-key-timeout@dkim.test 192.0.2.5 | sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p' | tail -n 1)
auth_assert "dkim-key-timeout: waited for the key until dns_timeout (2 s) passed (elapsed_ms=${el:-none})" \
	test "${el:-0}" -ge 2000

auth_msg "$W/dkim-unsigned.eml" dkim-unsigned alice@dkim.test
dkim_case dkim-unsigned "$W/dkim-unsigned.eml" "dkim=none dkim_aligned=no .*$ACCEPT" '; dkim=none; dmarc=none header\.from=dkim\.test$'

# SPF fail with a broken signature: nothing rescues it (550 at end of data)
signed dkim-broken-spf-fail rsa2048.private rsa2048 dkim.test; f=$F
sed -i 's/It ends here\./It ends HERE./' "$f"
auth_case dkim-broken-spf-fail 198.51.100.7 dkim-broken-spf-fail@dkim.test "$f" 26 \
	'^550 5\.7\.23 SPF check failed for dkim\.test$' \
	'spf=fail .*dkim=fail dkim_aligned=no .*rule=spf-fail action=reject .*stage=eom'

# --- the opendkim milter as signer, inside Postfix --------------------------------------
auth_msg "$W/dkim-opendkim.eml" dkim-opendkim alice@dkim.test
auth_send dkim-opendkim "" dkim-opendkim@dkim.test "$W/dkim-opendkim.eml" "$SIGN_PORT"
auth_expect_reply "dkim-opendkim: the signing port accepts" 0 "$ACC"
if DELIVERED=$(auth_delivered dkim-opendkim); then
	t_expect_match "$(auth_logline dkim-opendkim@dkim.test)" \
		'client_ip=127\.0\.0\.1 helo=signer\.auth\.test .*spf=pass .*dkim=pass dkim_aligned=yes .*action=accept' \
		"dkim-opendkim: decision line"
	t_expect_match "$("$T_PY" tests/auth/msg.py hdr "$DELIVERED" DKIM-Signature)" \
		' d=dkim\.test; s=odk; ' "dkim-opendkim: opendkim signed it (s=odk)"
	t_expect_match "$(auth_hdr "$DELIVERED" Authentication-Results | grep -F "$AUTHSERV")" \
		"; dkim=pass \(2048-bit key\) $D header\.s=odk header\.a=rsa-sha256 header\.b=" \
		"dkim-opendkim: A-R"
	dkim_check_b dkim-opendkim
else
	t_fail "dkim-opendkim: delivered" "$(tail -n 5 "$PF_LOG")"
fi
