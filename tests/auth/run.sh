#!/usr/bin/env bash
# auth/run.sh - the auth tier: SPF, DKIM and Authentication-Results end to
# end. swaks talks to a private Postfix (tests/lib/postfix.sh) whose
# smtpd_milters is the real mxguard, running the shipped rules of
# conf/mxguard.conf; XCLIENT presents each client address (metadata only:
# every packet stays on 127.0.0.1). testdns.py serves the SPF zones
# (zones.txt) and DKIM keys made now by opendkim-genkey and dknewkey.
# Signers are independent of mxguard: dkimpy (python3-dkim) and the
# opendkim milter, which signs inside the same Postfix on a second smtpd
# port and hands the message on to the mxguard-filtered port.
#
# Scenarios: spf.sh (results, limits, hostile records), dkim.sh (every
# DKIM case), headers.sh (A-R forgery removal, Received-SPF, reload).
# Asserted: exact SMTP replies, the delivered Authentication-Results and
# Received-SPF fields, and mxguard's decision lines.
# Prints "auth: N passed, M failed"; everything started is stopped by PID.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh
. tests/auth/lib.sh

AUTHSERV=mx.auth.test
# Postfix's daemons (user postfix) must reach the sink directory below T_BASE.
chmod 755 "$T_BASE"
W=$(t_tmpdir)
chmod 755 "$W"

t_mxguard_build "$W/build.log" || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"

# --- DKIM keys, made now --------------------------------------------------
for k in rsa2048:2048 rsa1024:1024 short:512; do
	dkim_genkey "$W" "${k%%:*}" dkim.test "${k#*:}" ||
		t_abort "opendkim-genkey ${k%%:*}" "$(cat "$W/genkey.log")"
done
dknewkey --ktype ed25519 "$W/ed" >/dev/null 2>>"$W/genkey.log" || t_abort "dknewkey ed25519" "$(cat "$W/genkey.log")"
R2048=$(dkim_key_record "$W/rsa2048.txt")
R1024=$(dkim_key_record "$W/rsa1024.txt")
[[ $R2048 == *p=MII* && $R1024 == *p=MI* ]] || t_abort "key records" "$R2048"

# --- generated zone data: keys and records too big for a zone line ------------
{
	echo "rsa2048._domainkey.dkim.test. 300 IN TXT \"$R2048\""
	echo "rsa1024._domainkey.dkim.test. 300 IN TXT \"$R1024\""
	echo "short._domainkey.dkim.test.   300 IN TXT \"$(dkim_key_record "$W/short.txt")\""
	echo "ed._domainkey.dkim.test.      300 IN TXT \"$(cat "$W/ed.dns")\""
	echo "odk._domainkey.dkim.test.     300 IN TXT \"$R2048\""
	echo "revoked._domainkey.dkim.test. 300 IN TXT \"v=DKIM1; k=rsa; p=\""
	echo "slow._domainkey.dkim.test.    300 IN TXT \"$R2048\""
	echo "\$FAULT slow._domainkey.dkim.test. drop TXT"
	echo "rsa1024._domainkey.other.test. 300 IN TXT \"$R1024\""
	# 120 terms, about 2.3 kB: truncated over UDP, fetched again over TCP
	ips=$(for i in $(seq 1 120); do printf 'ip4:198.51.100.%d ' "$i"; done)
	echo "big.test. MX 10 mx.senders.test."
	echo "big.test. TXT \"v=spf1 ${ips}ip4:192.0.2.0/25 -all\""
	# fifty %{l} macros in one domain-spec (libspf2's macro compiler)
	echo "dense.test. MX 10 mx.senders.test."
	echo "dense.test. TXT \"v=spf1 exists:$(printf '%%{l}%.0s' {1..50}).x.test ip4:192.0.2.0/25 -all\""
} >"$W/generated.zone"
t_dns_start tests/auth/zones.txt "$W/generated.zone" || t_abort "testdns start" "$(cat "$DNS_ERR" 2>/dev/null)"

# --- mxguard with the shipped configuration ---------------------------------------------
MPORT=$(t_free_port)
CONF=$W/mxguard.conf
# write_conf [SETTING...] - our daemon settings, extra settings, then
# conf/mxguard.conf as shipped (its rules and settings such as
# dkim_verify), less the settings we set (mxconf_write); SED_RULES may
# edit it and EXTRA_RULE goes before its default line.
write_conf() {
	local ed=(-e "${SED_RULES:-}")
	[[ -n ${EXTRA_RULE:-} ]] && ed+=(-e "/^default /i $EXTRA_RULE")
	sed "${ed[@]}" conf/mxguard.conf |
		mxconf_write "$CONF" "$MPORT" "dns_timeout = 2s" "dns_try_timeout = 400ms" \
			"trusted_networks = 10.99.0.0/16" "authserv_id = $AUTHSERV" "$@"
}
write_conf
out=$("$MXG_BIN" -n -c "$CONF" 2>&1) || t_abort "mxguard -n accepts the tier's configuration" "$out"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"

# --- the opendkim milter, signing for dkim.test ----------------------------------------
odk_start "$W" dkim.test odk "$W/rsa2048.private"

# --- Postfix: port PF_PORT filtered by mxguard; SIGN_PORT signs and relays to it ------
pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
# XCLIENT ADDR=IPV6:... needs IPv6 enabled in Postfix (it still listens on 127.0.0.1 only)
postconf -c "$PF_CONF" -e inet_protocols=all || t_abort "postconf inet_protocols"
SIGN_PORT=$(t_free_port)
cat >>"$PF_CONF/master.cf" <<EOF
127.0.0.1:$SIGN_PORT inet n - n - - smtpd
  -o smtpd_milters=inet:127.0.0.1:$ODK_PORT
  -o content_filter=resign:[127.0.0.1]:$PF_PORT
resign    unix - - n - - smtp
  -o myhostname=signer.auth.test
EOF
t_wait_port "$ODK_PORT" 10 || t_abort "opendkim milter starts" "$(cat "$T_BASE/opendkim.out")"
pf_start || t_abort "postfix starts" "$(tail -n 20 "$PF_LOG")"
t_wait_port "$SIGN_PORT" 10 || t_abort "postfix signing port listens" "$(tail -n 20 "$PF_LOG")"
t_ok "DNS, mxguard, opendkim and Postfix are up"

. tests/auth/spf.sh
. tests/auth/dkim.sh
. tests/auth/headers.sh

auth_none_delivered
auth_assert "mxguard survived the whole tier" t_alive "$MXG_PID"
t_summary auth
