#!/usr/bin/env bash
# opendmarc/run.sh - differential DMARC: the same messages and the same DNS
# through mxguard and through Debian's OpenDMARC milter (opendmarc 1.4.2,
# libopendmarc), and their verdicts compared.
#
# Set-up, all in a network and mount namespace of the tier's own (unshare
# -m -n, only loopback up; the tier refuses to run without one):
#   - testdns.py serves tests/opendmarc/zones.txt (and the DKIM key made
#     now) on 127.0.0.1:53, and /etc/resolv.conf is bind-mounted over with
#     "nameserver 127.0.0.1": opendmarc does its DNS through libresolv
#     (the _dmarc records) and libspf2 (SPF), which cannot be given a port;
#     no packet can leave the namespace, the machine's resolver is never
#     asked;
#   - two mxguard daemons, dmarc_discovery = treewalk (RFC 9989, the
#     default) and psl (RFC 7489's Public Suffix List, as libopendmarc),
#     dkim_verify = always, authserv_id mxguard.test, every message
#     accepted;
#   - opendmarc with SPFSelfValidate (its own SPF, SPFIgnoreResults),
#     TrustedAuthservIDs mxguard.test (the DKIM results it reads) and
#     Debian's public_suffix_list.dat; RejectFailures off, so it always
#     says its verdict in an Authentication-Results field.
# Each case's message (signed by dkimpy when the case says so) goes
# through miltertest (drive.lua) to both mxguards - their verdict is the
# decision line's dmarc and dmarc_policy - and then, with the treewalk
# mxguard's Authentication-Results field on top, to opendmarc, whose
# verdict is its "dmarc=RESULT (p=POLICY ...)" (permerror: its own
# field; temperror: a tempfail reply). A verdict is RESULT/POLICY, the
# policy "-" unless the result is pass or fail.
#
# Asserted per case: each mxguard gives the verdict this file expects,
# and opendmarc agrees with it - or, for a case listed with a reason
# (KNOWN below: a libopendmarc 1.4.2 defect or an RFC 9989 change from RFC
# 7489), really differs: a listed difference that no longer occurs fails
# too, so the list cannot go stale. Then a table of every case.
# Needs opendmarc, miltertest, python3-dkim, python3-dnslib, opendkim-tools
# (contrib/install-deps.sh). Prints "opendmarc: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

if [[ -z ${MXG_OPENDMARC_NS:-} ]] && unshare -m -n true 2>/dev/null; then
	# shellcheck disable=SC2016 # "$0" is expanded by the inner bash
	exec unshare -m -n env MXG_OPENDMARC_NS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

. tests/lib/common.sh
. tests/lib/mxconf.sh
. tests/lib/dkim.sh

# Never the machine's resolver, never a packet off loopback: without a
# namespace of its own the tier does not run.
[[ -n ${MXG_OPENDMARC_NS:-} ]] || t_abort "unshare -m -n works (the tier needs its own network and mount namespace)"
links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
[[ $links == "lo " ]] || t_abort "only loopback in the tier's network namespace" "links: $links"
for tool in opendmarc miltertest opendkim-genkey; do
	command -v "$tool" >/dev/null || t_abort "$tool is installed (make test-deps)"
done
[[ -x ./mxguard ]] || t_abort "./mxguard is built (make mxguard)"
PSL=/usr/share/publicsuffix/public_suffix_list.dat
[[ -r $PSL ]] || t_abort "$PSL is there (publicsuffix)"
t_ok "running in a network and mount namespace of its own (loopback only)"

d=$(t_tmpdir)

# --- DNS: testdns on 127.0.0.1:53, and the only resolver anyone sees -------
dkim_genkey "$d" odm example.com 1024 || t_abort "opendkim-genkey" "$(cat "$d/genkey.log")"
KEY=$d/odm.private
# the d= domains the cases sign with, each publishing the one key
SIGNERS="dkim.example.com mail.rlx.example.com mail.strict.example.com example.org mail.example.org
	other.example.net relay.example"
{
	cat tests/opendmarc/zones.txt
	for s in $SIGNERS; do dkim_key_zone "$d" odm "$s"; done
} >"$d/zones.txt"
DNS_LOG=$d/query.log
: >"$DNS_LOG"
t_bg testdns "$T_PY" tests/dns/testdns.py --zones "$d/zones.txt" --addr 127.0.0.1 --port 53 \
	--port-file "$d/dns.port" --log "$DNS_LOG"
t_wait_file "$d/dns.port" 10 || t_abort "testdns listens on 127.0.0.1:53" "$(cat "$T_BASE/testdns.out")"

printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$d/resolv.conf"
mount --bind "$d/resolv.conf" /etc/resolv.conf ||
	t_abort "bind-mount the tier's resolv.conf over /etc/resolv.conf (in the tier's mount namespace)"
t_expect_eq "$(grep -v '^options' /etc/resolv.conf)" "nameserver 127.0.0.1" \
	"/etc/resolv.conf in the namespace names only 127.0.0.1"
t_expect_match "$(dig +short +tries=1 +time=2 TXT _dmarc.reject.example.com 2>&1)" '^"v=DMARC1; p=reject"$' \
	"the system resolver's path reaches testdns"
t_expect_eq "$(dig +short +tries=1 +time=2 TXT _dmarc.mixed.example.com 2>&1 | tr '\n' ' ')" \
	'"v=spf1 -all" "v=DMARC1; p=quarantine" ' "testdns answers several TXT records in the zone file's order"

# --- the milters ------------------------------------------------------------
TW_PORT=$(t_free_port)
PSL_PORT=$(t_free_port)
ODM_PORT=$(t_free_port)
# mxg_conf FILE PORT DISCOVERY - an mxguard that accepts everything and reports DMARC
mxg_conf() {
	mxconf_write "$1" "$2" "dns_servers = 127.0.0.1:53" "dns_timeout = 5s" \
		"authserv_id = mxguard.test" "dkim_verify = always" "dmarc_discovery = $3" <<-'EOF'
		default accept
	EOF
}
mxg_conf "$d/treewalk.conf" "$TW_PORT" treewalk || t_abort "write treewalk.conf"
mxg_conf "$d/psl.conf" "$PSL_PORT" psl || t_abort "write psl.conf"
t_mxguard_start "$d/treewalk.conf" "$TW_PORT" || t_abort "mxguard (treewalk) starts" "$(cat "$MXG_LOG" 2>/dev/null)"
TW_LOG=$MXG_LOG
t_mxguard_start "$d/psl.conf" "$PSL_PORT" || t_abort "mxguard (psl) starts" "$(cat "$MXG_LOG" 2>/dev/null)"
PSL_LOG=$MXG_LOG

cat >"$d/opendmarc.conf" <<EOF
Socket                  inet:$ODM_PORT@127.0.0.1
PidFile                 $d/opendmarc.pid
AuthservID              opendmarc.test
TrustedAuthservIDs      mxguard.test
SPFSelfValidate         true
SPFIgnoreResults        true
PublicSuffixList        $PSL
RejectFailures          false
RequiredHeaders         false
FailureReports          false
IgnoreAuthenticatedClients false
SoftwareHeader          false
DNSTimeout              5
Syslog                  false
EOF
t_bg opendmarc opendmarc -f -c "$d/opendmarc.conf"
ODM_PID=$T_LAST_PID
t_wait_port "$ODM_PORT" 10 || t_abort "opendmarc listens" "$(cat "$T_BASE/opendmarc.out")"
t_ok "mxguard (treewalk and psl) and opendmarc $(opendmarc -V 2>&1 | sed -nE 's/.*Filter v([0-9.]+).*/\1/p') are up"

# --- one message through a milter --------------------------------------------
N=0
# drive SOCKPORT MSG MAILFROM QID - miltertest; the output in DRV. MAILFROM
# "<>/NAME": the null sender, saying HELO NAME (else HELO relay.example)
drive() {
	local mfrom=$3 helo=relay.example
	if [[ $mfrom == "<>/"* ]]; then helo=${mfrom#<>/} mfrom="<>"; fi
	DRV=$(SOCK="inet:$1@127.0.0.1" MSG_IN=$2 CLIENT_IP=192.0.2.10 HELO=$helo \
		MAIL_FROM=$mfrom QID=$4 miltertest -s tests/opendmarc/drive.lua 2>&1)
}
# mxg_verdict LOG QID - RESULT/POLICY from mxguard's decision line for QID
mxg_verdict() {
	local line r p
	line=$(t_wait_grep -F "queue_id=$2 " "$1" 5) || { echo "no-decision-line"; return; }
	r=$(sed -nE 's/.* dmarc=([a-z]+)( .*|$)/\1/p' <<<"$line")
	p=$(sed -nE 's/.* dmarc_policy=([a-z]+)( .*|$)/\1/p' <<<"$line")
	verdict "${r:-?}" "${p:-?}"
}
# verdict RESULT POLICY - the form compared: the policy only for pass and fail
verdict() {
	case $1 in
	pass | fail) echo "$1/$2" ;;
	*) echo "$1/-" ;;
	esac
}
# odm_verdict - RESULT/POLICY from opendmarc's answer in DRV
odm_verdict() {
	local ar
	ar=$(sed -nE 's/^AR:[[:space:]]*opendmarc\.test; dmarc=//p' <<<"$DRV" | head -n 1)
	if [[ $DRV == *"REPLY:t"* && -z $ar ]]; then
		echo "temperror/-"
	elif [[ $ar =~ ^([a-z]+)\ \(p=([a-z]+)\ dis=[a-z]+\) ]]; then
		verdict "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	elif [[ $ar =~ ^permerror ]]; then
		echo "permerror/-"
	else
		echo "unknown"
	fi
}

# KNOWN - why opendmarc differs, by key; a case names its key per mxguard mode.
declare -A KNOWN=(
	[strict]="libopendmarc 1.4.2 defect: adkim=s passes d=mail.example.org for From: example.org (it reduces d= to its Organizational Domain before the strict compare; OpenDMARC PR #354)"
	[vfirst]="libopendmarc 1.4.2 defect: takes any TXT record containing v=DMARC as the record, v=DMARC1 need not be first (RFC 7489 6.3, RFC 9989 4.7: it must)"
	[several]="libopendmarc 1.4.2 defect: of several DMARC records it uses the first (RFC 7489 6.6.3, RFC 9989 4.10: none applies)"
	[nop]="RFC 9989 change (p optional, default none) and libopendmarc defect (RFC 7489 6.6.3: a record without a valid p but with rua acts as p=none): libopendmarc says permerror"
	[badprua]="libopendmarc 1.4.2 defect: a bad p with a valid rua is permerror (RFC 7489 6.6.3 and RFC 9989 4.10.1: act as p=none)"
	[pabbrev]="libopendmarc 1.4.2 defect: keeps REJECT for a p value that is not in the grammar (any prefix of reject: p=rej), where the record is unusable (permerror)"
	[badtag]="libopendmarc 1.4.2 defect: a bad adkim value makes the whole record a parse error (permerror) instead of falling back to the default r (RFC 7489 6.3, RFC 9989 4.8)"
	[np]="libopendmarc 1.4.2 ignores np (RFC 9091, RFC 9989 4.7): it applies sp to a From: domain that does not exist"
	[testing]="libopendmarc 1.4.2 ignores t=y (RFC 9989 4.7: t=y lowers reject to quarantine)"
	[psd]="RFC 9989 tree walk vs RFC 7489 PSL: psd=y at example.net makes shop.example.net and other.example.net separate Organizational Domains; libopendmarc (and mxguard's psl mode) ignore psd"
	[txtorder]="libopendmarc 1.4.2 defect: a DMARC record after another TXT record (here v=spf1) at the _dmarc name is never read (dmarc_dns_get_record steps past the next record's start after a TXT without v=DMARC) - dmarc=none; the other order works"
	[servfail]="libopendmarc 1.4.2 fails open: SERVFAIL on the From: domain's _dmarc counts as no record - dmarc=none, or the parent's sp where the parent has a record; mxguard says temperror (a forger cannot bypass p=reject by breaking DNS)"
)

# case NAME FROM MAILFROM SIGN_D BODYTAMPER WANT_TREEWALK WANT_PSL REL_TREEWALK REL_PSL
#   MAILFROM: "<>/NAME" is the null sender with HELO NAME (SPF then checks
#   the HELO identity). SIGN_D: the d= of a dkimpy signature, or "-"
#   (unsigned); BODYTAMPER
#   "yes": the body is changed after signing (the signature fails).
#   WANT_*: mxguard's verdict in that mode; REL_*: "=" (opendmarc agrees)
#   or a KNOWN key (it must differ, for that reason).
ROWS=()
case_() {
	local name=$1 from=$2 mfrom=$3 sign=$4 tamper=$5 want_tw=$6 want_psl=$7 rel_tw=$8 rel_psl=$9
	local m=$d/$name.eml qid tw psl odm rel got mode spf_m spf_o
	N=$((N + 1))
	qid=ODM$N
	printf '%s\r\n' "From: Author <a@$from>" "To: <rcpt@rcpt.example.net>" "Subject: opendmarc tier $name" \
		"Date: Mon, 01 Jan 2024 10:00:00 +0000" "Message-ID: <$name@odm.example>" "" \
		"Hello," "this is the $name case." >"$m"
	if [[ $sign != - ]]; then
		"$T_PY" tests/dkim/sign.py --key "$KEY" --selector odm --domain "$sign" "$m" "$m" 2>>"$d/sign.log" ||
			{ t_fail "$name: dkimpy signs for $sign" "$(tail -n 5 "$d/sign.log")"; return; }
	fi
	[[ $tamper == yes ]] && printf '%s\r\n' "A line added after signing." >>"$m"

	drive "$TW_PORT" "$m" "$mfrom" "$qid"
	local ar
	ar=$(sed -nE 's/^AR:[[:space:]]*(mxguard\.test.*)/\1/p' <<<"$DRV" | head -n 1)
	if [[ $DRV != *"REPLY:a"* && $DRV != *"REPLY:c"* || -z $ar ]]; then
		t_fail "$name: mxguard (treewalk) accepts and adds its Authentication-Results" "$DRV"
		return
	fi
	tw=$(mxg_verdict "$TW_LOG" "$qid")
	drive "$PSL_PORT" "$m" "$mfrom" "$qid"
	psl=$(mxg_verdict "$PSL_LOG" "$qid")
	# opendmarc reads the DKIM results from mxguard's field (TrustedAuthservIDs)
	{ printf 'Authentication-Results: %s\r\n' "$ar"; cat "$m"; } >"$m.odm"
	drive "$ODM_PORT" "$m.odm" "$mfrom" "$qid"
	odm=$(odm_verdict)
	[[ $odm == unknown ]] && t_fail "$name: opendmarc states a DMARC verdict" "$DRV"
	# its own SPF (SPFSelfValidate; mxguard's spf= is ignored) against mxguard's
	spf_m=$(sed -nE 's/^[^;]*; spf=([a-z]+) .*/\1/p' <<<"$ar")
	spf_o=$(sed -nE 's/^AR:[[:space:]]*opendmarc\.test; spf=([a-z]+) .*/\1/p' <<<"$DRV")
	t_expect_eq "${spf_o:-no spf=}" "${spf_m:-mxguard said no spf=}" "$name: opendmarc's own SPF result is mxguard's (${spf_m:-?})"

	t_expect_eq "$tw" "$want_tw" "$name: mxguard treewalk says $want_tw"
	t_expect_eq "$psl" "$want_psl" "$name: mxguard psl says $want_psl"
	for mode in treewalk psl; do
		if [[ $mode == treewalk ]]; then got=$tw rel=$rel_tw; else got=$psl rel=$rel_psl; fi
		if [[ $rel == = ]]; then
			t_expect_eq "$odm" "$got" "$name: opendmarc agrees with mxguard $mode ($got)"
		elif [[ -z ${KNOWN[$rel]+x} ]]; then
			t_fail "$name: unknown difference key $rel"
		elif [[ $odm == "$got" ]]; then
			t_fail "$name: listed difference '$rel' no longer occurs against mxguard $mode (both $got): update the list" \
				"${KNOWN[$rel]}"
		else
			t_ok "$name: opendmarc differs from mxguard $mode as listed ($rel: $odm vs $got)"
		fi
	done
	ROWS+=("$name|$from|$tw|$psl|$odm|$rel_tw|$rel_psl")
}

R=bounce@relay.example
# name             From: domain           MAIL FROM                    d=                   tamper want treewalk      want psl          vs treewalk vs psl
case_ p-reject     reject.example.com     $R                           -                    no  fail/reject        fail/reject        =        =
case_ p-quarantine quarantine.example.com $R                           -                    no  fail/quarantine    fail/quarantine    =        =
case_ p-none       none.example.com       $R                           -                    no  fail/none          fail/none          =        =
case_ no-record    norecord.example.com   $R                           -                    no  none/-             none/-             =        =
case_ spf-pass     spf.example.com        bounce@spf.example.com       -                    no  pass/reject        pass/reject        =        =
case_ spf-relaxed  spf.example.com        bounce@mail.spf.example.com  -                    no  pass/reject        pass/reject        =        =
case_ spf-fail     spffail.example.com    bounce@spffail.example.com   -                    no  fail/reject        fail/reject        =        =
case_ dkim-pass    dkim.example.com       $R                           dkim.example.com     no  pass/reject        pass/reject        =        =
case_ dkim-broken  dkim.example.com       $R                           dkim.example.com     yes fail/reject        fail/reject        =        =
case_ dkim-unaligned reject.example.com   $R                           relay.example        no  fail/reject        fail/reject        =        =
case_ dkim-relaxed rlx.example.com        $R                           mail.rlx.example.com no  pass/reject        pass/reject        =        =
case_ strict-below strict.example.com     $R                           mail.strict.example.com no fail/reject      fail/reject        =        =
case_ strict-org   example.org            $R                           mail.example.org     no  fail/reject        fail/reject        strict   strict
case_ strict-up    sub.example.org        $R                           example.org          no  fail/quarantine    fail/quarantine    =        =
case_ sp           sub.example.org        $R                           -                    no  fail/quarantine    fail/quarantine    =        =
case_ np           nx.example.org         $R                           -                    no  fail/none          fail/none          np       np
case_ testing      testing.example.com    $R                           -                    no  fail/quarantine    fail/quarantine    testing  testing
case_ psd          shop.example.net       $R                           other.example.net    no  fail/reject        pass/reject        psd      =
case_ v-not-first  novfirst.example.com   $R                           -                    no  none/-             none/-             vfirst   vfirst
case_ v-lowercase  lowerv.example.com     $R                           -                    no  none/-             none/-             =        =
case_ no-p         nop.example.com        $R                           -                    no  fail/none          fail/none          nop      nop
case_ several      several.example.com    $R                           -                    no  none/-             none/-             several  several
case_ other-txt-first mixed.example.com  $R                           -                    no  fail/quarantine    fail/quarantine    txtorder txtorder
case_ other-txt-after mixed2.example.com  $R                           -                    no  fail/quarantine    fail/quarantine    =        =
case_ bad-p        badp.example.com       $R                           -                    no  permerror/-        permerror/-        =        =
case_ bad-p-rua    badprua.example.com    $R                           -                    no  fail/none          fail/none          badprua  badprua
case_ p-abbrev     pabbrev.example.com    $R                           -                    no  permerror/-        permerror/-        pabbrev  pabbrev
case_ bad-adkim    badadkim.example.com   $R                           -                    no  fail/reject        fail/reject        badtag   badtag
case_ servfail     servfail.example.com   $R                           -                    no  temperror/-        temperror/-        servfail servfail
case_ servfail-sub sf.example.org         $R                           -                    no  temperror/-        temperror/-        servfail servfail
case_ null-sender  spf.example.com        "<>/mail.spf.example.com"    -                    no  pass/reject        pass/reject        =        =
case_ upper-case   DKIM.Example.COM       $R                           dkim.example.com     no  pass/reject        pass/reject        =        =

t_expect_match "$(t_alive "$ODM_PID" && echo alive)" alive "opendmarc survived every case"

# --- the table -----------------------------------------------------------------
echo
printf '%-15s %-23s %-17s %-17s %-17s %s\n' case "From: domain" "mxguard treewalk" "mxguard psl" opendmarc "expected relation"
for row in "${ROWS[@]}"; do
	IFS='|' read -r name from tw psl odm rtw rpsl <<<"$row"
	if [[ $rtw == = && $rpsl == = ]]; then
		rel="agree"
	elif [[ $rtw == "$rpsl" ]]; then
		rel="differ ($rtw)"
	else
		rel="treewalk: $([[ $rtw == = ]] && echo agree || echo "differ ($rtw)"), psl: $([[ $rpsl == = ]] && echo agree || echo "differ ($rpsl)")"
	fi
	printf '%-15s %-23s %-17s %-17s %-17s %s\n' "$name" "$from" "$tw" "$psl" "$odm" "$rel"
done
echo
echo "known differences:"
for k in strict vfirst several txtorder nop badprua pabbrev badtag np testing psd servfail; do
	printf '  %-8s %s\n' "$k" "${KNOWN[$k]}"
done
echo
t_summary opendmarc
