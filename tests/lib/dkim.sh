# shellcheck shell=bash
# dkim.sh - DKIM keys and the opendkim signer for test tiers (bash,
# sourced after tests/lib/common.sh).
#
#   . tests/lib/common.sh; . tests/lib/dkim.sh
#
#   dkim_genkey DIR SEL DOMAIN [BITS]   opendkim-genkey: DIR/SEL.private and
#                                       DIR/SEL.txt (BITS default 1024); its
#                                       stderr goes to DIR/genkey.log; the
#                                       exit status is opendkim-genkey's
#   dkim_key_record FILE                the TXT text of an opendkim-genkey
#                                       .txt ("v=DKIM1; h=sha256; k=rsa;
#                                       p=..."), comment and quotes removed,
#                                       its strings joined
#   dkim_key_zone DIR SEL DOMAIN        one zone line for tests/dns/testdns.py:
#                                       SEL._domainkey.DOMAIN. 300 IN TXT "..."
#                                       (from DIR/SEL.txt)
#   odk_start DIR DOMAIN SEL KEYFILE [LINE...]
#                                       the opendkim milter as a signer for
#                                       DOMAIN (Mode s, relaxed/simple, loopback
#                                       socket on a free port, no syslog), extra
#                                       opendkim.conf LINEs appended; config in
#                                       DIR/opendkim.conf, output in
#                                       $T_BASE/opendkim.out; started with t_bg
#                                       (stopped at exit). Sets ODK_PORT ODK_PID.
#                                       Does not wait: t_wait_port "$ODK_PORT".
#
# Keys are made at test time and live only in the run's temp dir.

# dkim_genkey - a fresh RSA key pair (opendkim-genkey).
dkim_genkey() {
	local dir=$1 sel=$2 dom=$3 bits=${4:-1024}
	opendkim-genkey -b "$bits" -s "$sel" -d "$dom" -D "$dir" 2>>"$dir/genkey.log"
}

# dkim_key_record - the TXT text of an opendkim-genkey .txt, comment stripped.
dkim_key_record() {
	tr -d '\n' <"$1" | sed 's/; ----- DKIM key.*//' | grep -o '"[^"]*"' | tr -d '"\n'
}

# dkim_key_zone - a testdns.py zone line publishing DIR/SEL.txt.
dkim_key_zone() {
	printf '%s._domainkey.%s. 300 IN TXT "%s"\n' "$2" "$3" "$(dkim_key_record "$1/$2.txt")"
}

# odk_start - write DIR/opendkim.conf and start the opendkim milter signing for DOMAIN.
odk_start() {
	local dir=$1 dom=$2 sel=$3 key=$4
	shift 4
	ODK_PORT=$(t_free_port)
	{
		cat <<ODK
Mode                s
Domain              $dom
Selector            $sel
KeyFile             $key
Socket              inet:$ODK_PORT@127.0.0.1
Canonicalization    relaxed/simple
RequireSafeKeys     false
InternalHosts       127.0.0.1
PidFile             $dir/opendkim.pid
Syslog              no
ODK
		if [[ $# -gt 0 ]]; then printf '%s\n' "$@"; fi
	} >"$dir/opendkim.conf"
	t_bg opendkim opendkim -f -x "$dir/opendkim.conf"
	# shellcheck disable=SC2034 # for the tier
	ODK_PID=$T_LAST_PID
}
