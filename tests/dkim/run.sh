#!/usr/bin/env bash
# dkim/run.sh - the DKIM tier: messages signed by independent signers
# (dkimpy, and the opendkim milter driven by miltertest) verified through
# mxguard's own DKIM path (tests/dkim/dkimcheck.c on policy/dkim.c and the
# real c-ares resolver) against testdns serving keys made at test time.
# Keys live only in this run's temp dir. Prints "dkim: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib/common.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh

PY=/usr/bin/python3
W=$(t_tmpdir)
D=example.test

# --- the driver, on the same objects the daemon links (make build/tests/dkimcheck)
DKIMCHECK=build/tests/dkimcheck
if ! make --no-print-directory -s "$DKIMCHECK" >"$W/build.log" 2>&1; then
	cat "$W/build.log"
	t_fail "build dkimcheck"
	t_summary dkim
	exit 1
fi

# --- keys, made now ----------------------------------------------------------
for k in rsa2048:2048 rsa1024:1024 short:512; do
	dkim_genkey "$W" "${k%%:*}" "$D" "${k#*:}" ||
		{ cat "$W/genkey.log"; t_fail "opendkim-genkey ${k%%:*}"; }
done
dknewkey --ktype ed25519 "$W/ed" >/dev/null 2>>"$W/genkey.log" || t_fail "dknewkey ed25519"
R2048=$(dkim_key_record "$W/rsa2048.txt")
R1024=$(dkim_key_record "$W/rsa1024.txt")
RSHORT=$(dkim_key_record "$W/short.txt")
RED=$(cat "$W/ed.dns")
# the same 2048-bit key as a bare PKCS#1 RSAPublicKey (RFC 6376 3.6.1's wording), converted by openssl
P1=$(openssl rsa -in "$W/rsa2048.private" -pubout 2>>"$W/genkey.log" |
	openssl rsa -pubin -RSAPublicKey_out -outform DER 2>>"$W/genkey.log" | base64 -w0)
[[ -n $P1 ]] || t_fail "openssl: PKCS#1 form of the 2048-bit key" "$(tail -n 5 "$W/genkey.log")"
RPKCS1="v=DKIM1; k=rsa; p=$P1"
RPKCS1_CUT="v=DKIM1; k=rsa; p=${P1:0:$((${#P1} / 4 * 4 - 8))}"

cat >"$W/zone" <<EOF
rsa2048._domainkey.$D.   300 IN TXT "$R2048"
rsa1024._domainkey.$D.   300 IN TXT "$R1024"
short._domainkey.$D.     300 IN TXT "$RSHORT"
ed._domainkey.$D.        300 IN TXT "$RED"
odk._domainkey.$D.       300 IN TXT "$R2048"
revoked._domainkey.$D.   300 IN TXT "v=DKIM1; k=rsa; p="
slow._domainkey.$D.      300 IN TXT "$R2048"
broken._domainkey.$D.    300 IN TXT "$R2048"
late._domainkey.$D.      300 IN TXT "$R2048"
rsa1024._domainkey.other.test. 300 IN TXT "$R1024"
pkcs1._domainkey.$D.     300 IN TXT "$RPKCS1"
pkcs1cut._domainkey.$D.  300 IN TXT "$RPKCS1_CUT"
; every name under attacker.com has the key, rsa2048._domainkey.legitimate.com(.attacker.com included
; (a zone file cannot spell the '(' of that owner name)
*.attacker.com.          300 IN TXT "$R2048"
\$FAULT slow._domainkey.$D. drop TXT
\$FAULT broken._domainkey.$D. servfail TXT
\$FAULT late._domainkey.$D. delay=800 TXT
EOF
t_dns_start "$W/zone" || t_abort "testdns start" "$(cat "$DNS_ERR" 2>/dev/null)"

# --- messages ------------------------------------------------------------------
printf '%s\r\n' \
	"From: Alice <alice@mail.$D>" \
	"To: bob@example.net" \
	"Subject: DKIM tier test" \
	"Date: Mon, 01 Jan 2024 10:00:00 +0000" \
	"Message-ID: <dkim-tier@mail.$D>" \
	"" \
	"Hello Bob," \
	"this body  has  double spaces and a trailing one " \
	"and ends here." >"$W/base.eml"

# sign IN OUT KEY SELECTOR [DOMAIN [sign.py options...]] - dkimpy signature on top of IN.
sign() {
	local in=$1 out=$2 key=$3 sel=$4 dom=${5:-$D}
	shift 4
	[[ $# -gt 0 ]] && shift
	"$PY" tests/dkim/sign.py --key "$key" --selector "$sel" --domain "$dom" "$@" "$in" "$out" 2>>"$W/sign.log"
}

# check FILE [dkimcheck options] - run the driver; output in OUT, exit status in RC.
check() {
	local f=$1
	shift
	OUT=$("$DKIMCHECK" --dns "127.0.0.1:$DNS_PORT" "$@" "$f" 2>&1)
	RC=$?
}

# expect DESC REGEX - the last check's output matches, and it exited 0.
expect() {
	if [[ $RC -ne 0 ]]; then
		t_fail "$1 (dkimcheck exited $RC)" "$OUT"
		return
	fi
	t_expect_match "$OUT" "$2" "$1"
}

# --- dkimpy signatures ------------------------------------------------------------
sign "$W/base.eml" "$W/relaxed.eml" "$W/rsa2048.private" rsa2048 "$D" --canon relaxed/relaxed
check "$W/relaxed.eml"
expect "dkimpy rsa-sha256 relaxed/relaxed 2048: pass, aligned with From: subdomain" \
	"^dkim=pass aligned=yes.*sig 1 result=pass d=$D s=rsa2048 a=rsa-sha256 b=[^ ]{8} bits=2048 aligned=yes"
expect "A-R names the signature (header.d, header.s, header.b)" \
	"ar=mx\.test; dkim=pass \(2048-bit key\) header\.d=$D header\.s=rsa2048 header\.a=rsa-sha256 header\.b=\"?[A-Za-z0-9+/=]{8}"

sign "$W/base.eml" "$W/simple.eml" "$W/rsa1024.private" rsa1024 "$D" --canon simple/simple
check "$W/simple.eml"
expect "dkimpy rsa-sha256 simple/simple 1024: pass" "^dkim=pass .*bits=1024"

# whitespace changed in transit: relaxed survives, simple does not
sed 's/double spaces/double  spaces/' "$W/relaxed.eml" >"$W/relaxed-ws.eml"
check "$W/relaxed-ws.eml"
expect "relaxed body canonicalization survives whitespace changes" "^dkim=pass"
sed 's/double spaces/double  spaces/' "$W/simple.eml" >"$W/simple-ws.eml"
check "$W/simple-ws.eml"
expect "simple body canonicalization does not" "^dkim=fail .*reason=body hash mismatch"

# an MTA's bare-LF line ends (folds and body) with FIXCRLF: still exact enough for simple
tr -d '\r' <"$W/simple.eml" >"$W/simple-lf.eml"
check "$W/simple-lf.eml" --fixcrlf
expect "LF-only message, simple/simple, FIXCRLF: pass" "^dkim=pass"

if sign "$W/base.eml" "$W/ed.eml" "$W/ed.key" ed "$D" --alg ed25519-sha256; then
	check "$W/ed.eml"
	expect "dkimpy ed25519-sha256: pass (libopendkim 2.11 verifies RFC 8463)" \
		"^dkim=pass .*sig 1 result=pass d=$D s=ed a=ed25519-sha256 .*bits=0"
else
	t_fail "dkimpy ed25519 signing" "$(tail -n 5 "$W/sign.log")"
fi

# two signatures: another domain on top of ours
sign "$W/relaxed.eml" "$W/two.eml" "$W/rsa1024.private" rsa1024 other.test --canon relaxed/simple
check "$W/two.eml"
expect "two signatures: both verified and reported" \
	"^dkim=pass aligned=yes.*sig 1 result=pass d=other\.test s=rsa1024 .*aligned=no.*sig 2 result=pass d=$D s=rsa2048 .*aligned=yes"

# --- damage in transit -------------------------------------------------------------
sed 's/ends here\./ends HERE./' "$W/relaxed.eml" >"$W/body-changed.eml"
check "$W/body-changed.eml"
expect "body changed in transit: fail (body hash mismatch)" \
	"^dkim=fail aligned=no.*result=fail .*reason=body hash mismatch"

sed 's/^Subject: DKIM tier test/Subject: DKIM tier test (edited)/' "$W/relaxed.eml" >"$W/header-changed.eml"
check "$W/header-changed.eml"
expect "signed header changed in transit: fail" \
	"^dkim=fail .*reason=signature verification failed"

sign "$W/base.eml" "$W/length.eml" "$W/rsa2048.private" rsa2048 "$D" --length
printf 'Appended by a mailing list footer.\r\n' >>"$W/length.eml"
check "$W/length.eml"
expect "l= signature with text appended after the signed length: pass" "^dkim=pass"
grep -q ' l=' "$W/length.eml" && t_ok "dkimpy really put l= in that signature" ||
	t_fail "dkimpy really put l= in that signature"
head -c -60 "$W/length.eml" | sed '$d' >"$W/length-cut.eml"
check "$W/length-cut.eml"
expect "l= longer than the body that arrived: fail" "^dkim=fail "

# --- key problems -------------------------------------------------------------------
sign "$W/base.eml" "$W/missing.eml" "$W/rsa2048.private" nokey
check "$W/missing.eml"
expect "missing key (NXDOMAIN): permerror" "^dkim=permerror .*reason=no key for signature"

sign "$W/base.eml" "$W/revoked.eml" "$W/rsa2048.private" revoked
check "$W/revoked.eml"
expect "revoked key (p= empty): fail" "^dkim=fail .*reason=key revoked"

sign "$W/base.eml" "$W/broken.eml" "$W/rsa2048.private" broken
check "$W/broken.eml"
expect "key lookup SERVFAIL: temperror, not no-key" "^dkim=temperror .*reason=key lookup servfail"

sign "$W/base.eml" "$W/slow.eml" "$W/rsa2048.private" slow
t0=$(date +%s%N)
check "$W/slow.eml" --timeout-ms 1500
el=$((($(date +%s%N) - t0) / 1000000))
expect "key lookup that times out: temperror" "^dkim=temperror .*reason=key lookup timeout"
# a lookup nobody answers must end (the reason above says it was the deadline); the bound only
# catches a hang - a timing bound near 1.5 s would fail on a busy machine, not on a defect
[[ $el -lt 15000 ]] && t_ok "timed-out lookup ends (${el} ms with a 1.5 s deadline)" ||
	t_fail "timed-out lookup ends (${el} ms with a 1.5 s deadline)"

if sign "$W/base.eml" "$W/short.eml" "$W/short.private" short; then
	check "$W/short.eml"
	expect "512-bit key with dkim_min_key_bits 1024: permerror" \
		"^dkim=permerror .*bits=512 aligned=no reason=key too short \(512 bits, 1024 required\)"
	check "$W/short.eml" --min-bits 512
	expect "the same with dkim_min_key_bits 512: pass" "^dkim=pass .*bits=512"
else
	t_fail "dkimpy signing with a 512-bit key" "$(tail -n 5 "$W/sign.log")"
fi
check "$W/simple.eml" --min-bits 2048
expect "1024-bit key with dkim_min_key_bits 2048: permerror" "^dkim=permerror .*key too short \(1024 bits, 2048 required\)"

# --- forms libopendkim gets wrong on its own ----------------------------------------
# d=legitimate.com(.attacker.com: libopendkim would ask for the key under
# attacker.com, find it and pass a signature A-R readers take for
# legitimate.com ("(" opens a comment). Signed by dkimpy, the key published
# at that very name: refused for its syntax, not for a missing key.
AD='legitimate.com(.attacker.com'
AKEY="rsa2048._domainkey.$AD"
sign "$W/base.eml" "$W/attacker.eml" "$W/rsa2048.private" rsa2048 "$AD"
t_expect_match "$(dig +short +time=2 +tries=1 -p "$DNS_PORT" @127.0.0.1 "$AKEY" TXT 2>&1)" "v=DKIM1" \
	"attacker d=: the key is published at the name libopendkim would ask ($AKEY)"
t_expect_eq "$("$PY" tests/dkim/verify.py --dns "$DNS_PORT" --ignore-d-syntax "$W/attacker.eml" 2>&1)" pass \
	"attacker d=: dkimpy, its own d= check off, verifies the signature with that key"
t_expect_eq "$("$PY" tests/dkim/verify.py --dns "$DNS_PORT" "$W/attacker.eml" 2>&1)" fail \
	"attacker d=: dkimpy as shipped refuses it"
asked=$(grep -c 'attacker\.com' "$DNS_LOG")
check "$W/attacker.eml"
expect "attacker d=: permerror, d= is not a domain name" \
	"^dkim=permerror aligned=no.*sig 1 result=permerror d=legitimate\.com\(\.attacker\.com s=rsa2048 .*reason=d= is not a domain name \(character not allowed\)"
t_expect_eq "$(grep -c 'attacker\.com' "$DNS_LOG")" "$asked" "attacker d=: no DNS query sent for it"

# the same with a good signature beside it: that one still passes
sign "$W/attacker.eml" "$W/attacker-good.eml" "$W/rsa2048.private" rsa2048 "$D"
asked=$(grep -c 'attacker\.com' "$DNS_LOG")
check "$W/attacker-good.eml"
expect "attacker d= beside a good signature: the good one passes, the other is permerror" \
	"^dkim=pass aligned=yes.*sig 1 result=pass d=$D s=rsa2048 .*sig 2 result=permerror d=legitimate\.com\(\.attacker\.com .*reason=d= is not a domain name"
t_expect_eq "$(grep -c 'attacker\.com' "$DNS_LOG")" "$asked" "attacker d= beside a good signature: no DNS query for it"

# a key published as bare PKCS#1 RSAPublicKey: verifies like its SPKI twin
sign "$W/base.eml" "$W/pkcs1.eml" "$W/rsa2048.private" pkcs1
t_expect_eq "$("$PY" tests/dkim/verify.py --dns "$DNS_PORT" "$W/pkcs1.eml" 2>&1)" pass \
	"PKCS#1 key: dkimpy verifies the message with it"
check "$W/pkcs1.eml"
expect "PKCS#1 key (openssl -RSAPublicKey_out), dkimpy signature: pass" \
	"^dkim=pass aligned=yes.*sig 1 result=pass d=$D s=pkcs1 a=rsa-sha256 b=[^ ]{8} bits=2048 aligned=yes"
sign "$W/base.eml" "$W/pkcs1cut.eml" "$W/rsa2048.private" pkcs1cut
check "$W/pkcs1cut.eml"
expect "PKCS#1 key cut short: permerror" "^dkim=permerror .*s=pkcs1cut .*reason=."

# --- the key query overlaps the body --------------------------------------------------
sign "$W/base.eml" "$W/late.eml" "$W/rsa2048.private" late
check "$W/late.eml"
expect "slow key (800 ms) still passes" "^dkim=pass"
w=$(sed -nE 's/.*eom_wait_ms=([0-9]+).*/\1/p' <<<"$OUT")
[[ -n $w && $w -ge 500 ]] && t_ok "without a body to wait for, end of message waits for the key (${w} ms)" ||
	t_fail "without a body to wait for, end of message waits for the key (${w:-?} ms)" "$OUT"
check "$W/late.eml" --body-delay-ms 1200
expect "slow key with a slow body: pass" "^dkim=pass"
w=$(sed -nE 's/.*eom_wait_ms=([0-9]+).*/\1/p' <<<"$OUT")
# fired at end of headers, the 800 ms key overlaps the 1200 ms body: end of message waits less
# than the key's own delay (asked only at end of message, it would wait all 800 ms)
[[ -n $w && $w -lt 800 ]] && t_ok "key query fired at end of headers is answered by end of body (eom waited ${w} ms)" ||
	t_fail "key query fired at end of headers is answered by end of body (eom waited ${w:-?} ms)" "$OUT"

# --- unsigned, and the opendkim milter as signer ---------------------------------------
check "$W/base.eml"
expect "unsigned message: none, A-R says dkim=none" "^dkim=none aligned=no.*ar=mx\.test; dkim=none"

odk_start "$W" "$D" odk "$W/rsa2048.private" "SubDomains          yes"
if t_wait_port "$ODK_PORT" 10; then
	odk=$(MSG_IN="$W/base.eml" ODK_SOCKET="inet:$ODK_PORT@127.0.0.1" miltertest -s tests/dkim/odk-sign.lua 2>&1)
	sig=$(sed -n 's/^SIG://p' <<<"$odk")
	if [[ -n $sig ]]; then
		{ sig=${sig# }; printf 'DKIM-Signature: %b\r\n' "${sig//\\n/\\r\\n}"; cat "$W/base.eml"; } >"$W/odk.eml"
		check "$W/odk.eml"
		expect "opendkim milter signature (relaxed/simple): pass" \
			"^dkim=pass aligned=yes.*sig 1 result=pass d=$D s=odk a=rsa-sha256"
	else
		t_fail "opendkim milter signed the message" "$odk"
	fi
else
	t_fail "opendkim milter started" "$(cat "$T_BASE/opendkim.out")"
fi
t_stop "$ODK_PID"

# --- through mxguard itself: `mxguard check --message` and the daemon -----------------
make --no-print-directory -s mxguard >"$W/make-mxguard.log" 2>&1 ||
	t_abort "build mxguard" "$(tail -n 20 "$W/make-mxguard.log")"
MXG_PORT=$(t_free_port)
mxconf_write "$W/mxguard.conf" "$MXG_PORT" "dns_timeout = 3s" "dns_try_timeout = 500ms" \
	"authserv_id = mx.test" "trusted_networks = 10.255.255.0/24" <<EOF
rule dkim-fail dkim = fail reject 550 5.7.20 "DKIM signature did not verify"
default accept
EOF

# mxg_check FILE - `mxguard check` on a message; output in OUT, exit status in RC.
mxg_check() {
	OUT=$(./mxguard check -c "$W/mxguard.conf" --from "alice@mail.$D" --ip 192.0.2.1 \
		--helo client.example.net --rcpt bob@example.net --message "$1" 2>&1)
	RC=$?
}
mxg_check "$W/relaxed.eml"
t_expect_eq "$RC" 0 "mxguard check: signed message accepted"
t_expect_match "$OUT" $'dkim: pass\ndkim_aligned: yes' "mxguard check: dkim pass, aligned"
t_expect_match "$OUT" "header: Authentication-Results: mx\.test;[[:space:]]+dkim=pass \(2048-bit key\) header\.d=$D header\.s=rsa2048" \
	"mxguard check: the A-R it would add"
mxg_check "$W/simple.eml"
t_expect_match "$OUT" $'dkim: pass' "mxguard check: simple/simple needs the exact header values (msgfile keeps them)"
mxg_check "$W/body-changed.eml"
t_expect_eq "$RC" 1 "mxguard check: body changed in transit is rejected by the DKIM rule"
t_expect_match "$OUT" $'rule: dkim-fail\naction: reject' "mxguard check: rule dkim-fail decided"

# milter_ar FILE - the daemon's end-of-message changes, from milter-ar.lua
milter_ar() {
	OUT=$(MSG_IN="$1" MXG_SOCKET="inet:$MXG_PORT@127.0.0.1" miltertest -s tests/dkim/milter-ar.lua 2>&1)
	RC=$?
}
if t_mxguard_start "$W/mxguard.conf" "$MXG_PORT"; then
	{ printf 'Authentication-Results: mx.test; dkim=pass header.d=paypal.example\r\n'
	  printf 'Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y\r\n'
	  cat "$W/relaxed.eml"; } >"$W/forged.eml"
	milter_ar "$W/forged.eml"
	expect "milter: signed message continues" "REPLY:c"
	t_expect_match "$OUT" "AR: ?mx\.test;[[:space:]]+dkim=pass \(2048-bit key\) header\.d=$D header\.s=rsa2048" \
		"milter: our Authentication-Results inserted with the signature's result"
	t_expect_match "$OUT" "DELETED:yes" "milter: forged A-R claiming our authserv-id deleted"
	# the daemon logs after it answered: wait for the lines, not for a time
	t_wait_grep -F "MXGTEST1: removed" "$MXG_LOG" >/dev/null
	t_wait_grep -F " dkim_detail=" "$MXG_LOG" >/dev/null
	t_expect_match "$(cat "$MXG_LOG")" "MXGTEST1: removed forged Authentication-Results header #1 \(claims authserv-id mx\.test\)" \
		"milter: the removal is logged, with the index of the forged header"
	t_expect_nomatch "$(cat "$MXG_LOG")" "header #2" "milter: the other A-R (other.example) is kept"
	t_expect_match "$(cat "$MXG_LOG")" "dkim=pass dkim_aligned=yes dkim_detail=\"?$D/rsa2048 pass" \
		"milter: the decision line has the per-signature detail"

	{ printf 'Authentication-Results: other.example; spf=pass smtp.mailfrom=x@y\r\n'
	  cat "$W/simple.eml"; } >"$W/foreign.eml"
	milter_ar "$W/foreign.eml"
	t_expect_match "$OUT" "AR: ?mx\.test;[[:space:]]+dkim=pass .*header\.s=rsa1024" \
		"milter: simple/simple verifies through the daemon (header values exact)"
	t_expect_match "$OUT" "DELETED:no" "milter: nothing deleted when no A-R claims our id"

	milter_ar "$W/body-changed.eml"
	t_expect_match "$OUT" "REPLY:y" "milter: body changed in transit: rejected with our reply"
	t_expect_match "$OUT" "AR:none" "milter: no A-R added to a rejected message"
	t_wait_grep -F " rule=dkim-fail " "$MXG_LOG" >/dev/null
	t_expect_match "$(cat "$MXG_LOG")" "dkim=fail dkim_aligned=no dkim_detail=\"$D/rsa2048 fail \(body hash mismatch\)\".* rule=dkim-fail action=reject" \
		"milter: the reject is logged with why the signature failed"

	# concurrent connections: each thread's key lookups go to its own
	# resolver through the per-thread hook context, slow keys overlapping
	pids=()
	for i in 1 2 3 4; do
		MSG_IN="$W/late.eml" MXG_SOCKET="inet:$MXG_PORT@127.0.0.1" \
			miltertest -s tests/dkim/milter-ar.lua >"$W/par-late-$i.out" 2>&1 &
		pids+=($!)
		MSG_IN="$W/body-changed.eml" MXG_SOCKET="inet:$MXG_PORT@127.0.0.1" \
			miltertest -s tests/dkim/milter-ar.lua >"$W/par-bad-$i.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	good=0
	for i in 1 2 3 4; do
		grep -q "^AR: \?mx\.test;.*dkim=pass .*header\.s=late" "$W/par-late-$i.out" && good=$((good + 1))
		grep -q "^REPLY:y" "$W/par-bad-$i.out" && good=$((good + 1))
	done
	t_expect_eq "$good" 8 "milter: 8 concurrent connections (slow keys, failures) each get their own right answer"

	# --- end to end: a private Postfix with mxguard as its milter ----------
	. tests/lib/postfix.sh
	pf_setup "$(t_tmpdir)" "inet:127.0.0.1:$MXG_PORT"
	if pf_start; then
		# swaks_send FILE - one message through Postfix as client 192.0.2.1; OUT/RC
		swaks_send() {
			OUT=$(swaks --server 127.0.0.1 --port "$PF_PORT" --xclient-addr 192.0.2.1 \
				--from "alice@mail.$D" --to "user@$PF_RCPT_DOMAIN" --data "$1" 2>&1)
			RC=$?
		}
		swaks_send "$W/forged.eml"
		t_expect_eq "$RC" 0 "postfix: signed message with a forged and a foreign A-R accepted"
		if pf_sink_wait 1 10; then
			got=$(cat "$(pf_sink_files | tail -n 1)")
			t_expect_match "$got" "Authentication-Results: mx\.test;[[:space:]]+dkim=pass \(2048-bit key\) header\.d=$D header\.s=rsa2048" \
				"postfix: delivered with our A-R (space after the colon, dkim=pass)"
			t_expect_nomatch "$got" "paypal\\.example" "postfix: the forged A-R is gone"
			t_expect_match "$got" "Authentication-Results: other\\.example; spf=pass" "postfix: the foreign A-R is kept"
		else
			t_fail "postfix: the message reached the sink" "$(tail -n 20 "$PF_LOG")"
		fi
		t_expect_match "$(cat "$MXG_LOG")" "removed forged Authentication-Results header #1 " \
			"postfix: the removal is logged"

		# Postfix hands folded header lines over with bare LF: simple/simple
		# only passes if they become CRLF again and the leading space is exact
		swaks_send "$W/simple.eml"
		t_expect_eq "$RC" 0 "postfix: simple/simple signed message accepted"
		if pf_sink_wait 2 10; then
			t_expect_match "$(cat "$(pf_sink_files | tail -n 1)")" "dkim=pass \\(1024-bit key\\) header\\.d=$D header\\.s=rsa1024" \
				"postfix: simple/simple verifies (folds and spaces exact as signed)"
		else
			t_fail "postfix: the second message reached the sink" "$(tail -n 20 "$PF_LOG")"
		fi

		swaks_send "$W/body-changed.eml"
		t_expect_eq "$RC" 26 "postfix: body changed in transit refused after the final dot (swaks 26)"
		t_expect_match "$OUT" "550 5\\.7\\.20 DKIM signature did not verify" "postfix: with our 550 5.7.20 reply"
		t_expect_eq "$(pf_sink_count)" 2 "postfix: the refused message was not delivered"
		pf_stop
	else
		t_fail "postfix started" "$(tail -n 20 "$PF_LOG" 2>/dev/null)"
	fi
else
	t_fail "mxguard daemon started" "$(cat "$MXG_LOG" 2>/dev/null)"
fi

t_summary dkim
