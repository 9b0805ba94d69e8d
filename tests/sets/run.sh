#!/usr/bin/env bash
# sets/run.sh - the set facts end to end: mx_host, mx_addr and the name
# server facts (ns, ns_host, ns_addr, ns_addr_result) through a private
# Postfix (tests/lib/postfix.sh) whose smtpd_milters is the real ./mxguard,
# with testdns.py serving tests/sets/zones.txt. swaks gives each message
# its client address with XCLIENT, IPv4 and IPv6 (ADDR=IPV6:...; metadata
# only, every packet stays on 127.0.0.1).
#
# Rule sets (tests/sets/rules/): enforce.conf (a DROP-style CIDR file
# drop.txt on mx_addr, a provider zone on mx_host, refused networks on
# ns_addr, ns = temperror tempfailed), dry-run.conf (the same with the
# drop-mx rule in dry run), dnsbl.conf (DNS blocklists served by testdns:
# zen on client_ip, an RHSBL dbl on sender_domain, mx_host and ns_host,
# sbl on mx_addr and ns_addr; dns_timeout 2s). They are written next to the daemon's
# configuration with their list file (file:drop.txt), and use_rules NAME
# makes one of them the daemon's configuration with a SIGHUP.
#
# Scenarios: each rule refuses its sender at RCPT with the rule's exact
# reply and the decision line says why; senders no rule matches are
# delivered; a partial address set is tempfailed, never delivered; the
# drop-mx rule in dry run delivers and logs dry_run=yes with what it would
# have done; drop.txt rewritten and reloaded under a steady stream of
# messages (parallel swaks clients, IPv4 and IPv6) loses none of them,
# accepts before and refuses after; a broken drop.txt on SIGHUP keeps the
# old list and the log names FILE:LINE. DNS blocklists (dnsbl.LIST): a
# client listed by reversed octets (IPv4) and by 32 nibbles (IPv6) is
# refused at RCPT with a reply showing %{dnsbl_detail.LIST}; a clean one
# is delivered; a listed sender domain, MX host, one of two name servers,
# one of three MX addresses and an IPv6 name server address are refused
# (IPv4 and IPv6 clients); 127.255.255.254 is unusable and a list that
# never answers ($FAULT drop) is temperror within dns_timeout, both
# tempfailed (451) and never delivered; no decision line, SMTP reply or
# log line shows a list's zone. At the end: the sink holds every
# accepted message and none of the refused ones.
# Prints "sets: N passed, M failed"; everything started is stopped by PID.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh

T_TIER=sets
HERE=tests/sets
V4=192.0.2.5            # the XCLIENT client addresses; not trusted
V6=2001:db8::5
W=$(t_tmpdir)
make --no-print-directory -s mxguard >"$W/build.log" 2>&1 || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"
CDIR=$W/conf            # the daemon's configuration, the rule sets, drop.txt
mkdir -p "$CDIR"
chmod 755 "$CDIR"
CONF=$CDIR/mxguard.conf
DROP=$CDIR/drop.txt
MPORT=$(t_free_port)
t_dns_start "$HERE/zones.txt" || t_abort "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"

# lit STRING - STRING as a bash ERE matching itself
lit() {
	# shellcheck disable=SC2016 # the $ is one of the characters escaped
	sed -E 's/[][\.*^$(){}+?|]/\\&/g' <<<"$1"
}

# put FILE - stdin into FILE atomically (the daemon may reload at any time)
put() {
	cat >"$1.new" && mv "$1.new" "$1"
}

put "$DROP" <"$HERE/rules/drop.txt"
# dnsbl.conf's deadline is short: its list that never answers costs it
for r in enforce dry-run dnsbl; do
	tmo=3s
	[[ $r == dnsbl ]] && tmo=2s
	mxconf_write "$CDIR/$r.conf" "$MPORT" "dns_timeout = $tmo" "dns_try_timeout = 500ms" \
		"trusted_networks = 10.99.0.0/16" "authserv_id = mx.sets.test" <"$HERE/rules/$r.conf" ||
		t_abort "write rule set $r"
	out=$(./mxguard -n -c "$CDIR/$r.conf" 2>&1)
	t_expect_eq "$?:$out" "0:configuration OK" "mxguard -n accepts rule set $r"
done
cp "$CDIR/enforce.conf" "$CONF"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"

pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
# XCLIENT ADDR=IPV6:... needs IPv6 in Postfix (it still listens on 127.0.0.1 only)
postconf -c "$PF_CONF" -e inet_protocols=all || t_abort "postconf inet_protocols"
pf_touch_conf
pf_start || t_abort "postfix starts" "$(tail -n 20 "$PF_LOG")"
t_ok "DNS, mxguard and Postfix are up"

# wait_log_count ERE N [S] - wait until the daemon's log has N lines matching ERE
wait_log_count() {
	local re=$1 n=$2 secs=${3:-30} i
	for ((i = 0; i < secs * 20; i++)); do
		(($(grep -cE -- "$re" "$MXG_LOG") >= n)) && return 0
		sleep 0.05
	done
	return 1
}

# hup_and_wait - SIGHUP the daemon; RELOADED is its next reload line
# ("reloaded configuration" or "reload failed"), waited for up to 30 s.
hup_and_wait() {
	local n
	n=$(grep -cE 'reloaded configuration|reload failed' "$MXG_LOG")
	kill -HUP "$MXG_PID"
	RELOADED=
	wait_log_count 'reloaded configuration|reload failed' $((n + 1)) 30 &&
		RELOADED=$(grep -E 'reloaded configuration|reload failed' "$MXG_LOG" | sed -n "$((n + 1))p")
}

# use_rules NAME - make rule set NAME the daemon's configuration
use_rules() {
	put "$CONF" <"$CDIR/$1.conf"
	hup_and_wait
	t_expect_match "$RELOADED" "reloaded configuration from $(lit "$CONF")" "rule set $1 taken by a SIGHUP reload"
}

# xc IP - XCLIENT's spelling of an address
xc() {
	if [[ $1 == *:* ]]; then echo "IPV6:$1"; else echo "$1"; fi
}

# set_re MEMBER... - an ERE for a set fact's value holding exactly these
# members in any order: mx_addr and ns_addr list addresses in the order
# their DNS answers came back, which varies from message to message
set_re() {
	local alts=() m rest i
	if [[ $# -le 1 ]]; then
		lit "${1-}"
		return
	fi
	for ((i = 1; i <= $#; i++)); do
		m=${!i}
		rest=("${@:1:i-1}" "${@:i+1}")
		alts+=("$(lit "$m"),$(set_re "${rest[@]}")")
	done
	local IFS='|'
	echo "(${alts[*]})"
}

# send ID IP SENDER - one message to ID@rcpt.test from client IP; sets RC
# (swaks exit: 0 sent, 24 refused at RCPT, 26 after the dot), REPLY (the
# first refusal or the final 250 line), QID (Postfix's queue id, accepted),
# SERVER_SAID (every line the server sent)
send() {
	local out
	out=$(swaks --server "127.0.0.1:$PF_PORT" --helo client.sets.test --xclient-addr "$(xc "$2")" \
		--from "$3" --to "$1@$PF_RCPT_DOMAIN" --timeout 60 2>&1 </dev/null)
	RC=$?
	SERVER_SAID=$(grep -E '^<' <<<"$out")
	REPLY=$(sed -nE 's/^<~?\*\* //p' <<<"$out" | head -n 1)
	[[ -n $REPLY ]] || REPLY=$(sed -nE 's/^<[-~] +(250 .*queued as.*)/\1/p' <<<"$out" | tail -n 1)
	QID=$(sed -nE 's/^250 .*queued as ([0-9A-Za-z]+).*/\1/p' <<<"$REPLY")
}

# expect_case DESC IP DOMAIN RC REPLY FACTS_RE TAIL [END_RE]
#   one message from mN@DOMAIN at IP. REPLY is "accepted" (then RC must be
#   0 and the reply 250) or the exact refusal, RC swaks's exit for it. The
#   daemon must log exactly one decision line for it: client_ip=IP, the
#   facts (FACTS_RE, an ERE, followed by a blank), then TAIL literally
#   ("rule=... stage=..."), elapsed_ms and END_RE (default: nothing). A
#   line logged at end of message has Postfix's queue id (the one swaks
#   was given, for an accepted message); one logged at RCPT has none yet
#   ("-"), also for a dry-run verdict whose message is then delivered.
#   The message goes on ACCEPTED or REFUSED for the sink checks at the end.
N=0
ACCEPTED=()
REFUSED=()
expect_case() {
	local desc=$1 ip=$2 dom=$3 rc=$4 want=$5 facts=$6 tail=$7 end=${8:-} id line qre=-
	N=$((N + 1))
	id=m$N
	send "$id" "$ip" "$id@$dom"
	if [[ $want == accepted ]]; then
		t_expect_match "$RC $REPLY" '^0 250 2\.0\.0 Ok: queued as [0-9A-Za-z]+$' "$desc: accepted (250)"
		ACCEPTED+=("$id")
	else
		t_expect_eq "$RC $REPLY" "$rc $want" "$desc: refused with the rule's reply"
		REFUSED+=("$id")
	fi
	[[ $tail == *" stage=eom" ]] && qre=${QID:-[0-9A-Za-z]+}
	line=$(t_wait_grep -F "sender=<$id@$dom> " "$MXG_LOG")
	if [[ $(grep -c . <<<"$line") -ne 1 ]]; then
		t_fail "$desc: one decision line" "$line"
		return 0
	fi
	t_expect_match "$line" \
		"^queue_id=$qre client_ip=$(lit "$ip") helo=client\.sets\.test sender=<$id@$(lit "$dom")> .*$facts .*$(lit "$tail") elapsed_ms=[0-9]+$end\$" \
		"$desc: decision line"
}

# The rules' replies
drop_reply() { echo "550 5.7.1 mail for $1 is served from a refused network"; }
prov_reply() { echo "550 5.7.1 mail for $1 goes to a refused provider ($2)"; }
ns_reply() { echo "550 5.7.1 name servers of $1 are in a refused network ($2)"; }
NSFAIL_REPLY="451 4.4.3 cannot look up the name servers of nsfail.test now"
ACCEPT_TAIL="rule=default action=accept reply=- dry_run=no stage=eom"
# refused_tail ID RULE ACTION REPLY - the tail of a line refused at RCPT
refused_tail() {
	echo "rcpt=<$1@$PF_RCPT_DOMAIN> rule=$2 action=$3 reply=\"$4\" dry_run=no stage=rcpt"
}

# --- 1. mx_addr: a DROP-style CIDR file ------------------------------------
DROPMX_ADDR="mx_host=mx1\\.dropmx\\.test,mx2\\.dropmx\\.test mx_addr=$(set_re 192.0.2.21 2001:db8::21 198.51.100.25)"
VALID_ADDR="mx_addr=$(set_re 192.0.2.10 2001:db8::10)"
for ip in "$V4" "$V6"; do
	expect_case "mx_addr, client $ip: one of three MX addresses in drop.txt" "$ip" dropmx.test \
		24 "$(drop_reply dropmx.test)" "$DROPMX_ADDR" \
		"$(refused_tail "m$((N + 1))" drop-mx reject "$(drop_reply dropmx.test)")"
	expect_case "mx_addr, client $ip: the exchange's listed IPv6 address" "$ip" dropmx6.test \
		24 "$(drop_reply dropmx6.test)" "mx_addr=$(set_re 192.0.2.26 2001:db8:bad::25)" \
		"$(refused_tail "m$((N + 1))" drop-mx reject "$(drop_reply dropmx6.test)")"
	expect_case "mx_addr, client $ip: no MX address listed" "$ip" valid.test \
		0 accepted "$VALID_ADDR" "$ACCEPT_TAIL"
done
# a set a DNS error left partial: "not listed" cannot be said; nothing
# else decides, so it is tempfailed at end of data as a DNS failure
expect_case "mx_addr: an exchange SERVFAILs, the set is partial: tempfailed, not accepted" "$V4" partialmx.test \
	26 "451 4.4.3 cannot verify partialmx.test now: some DNS answers did not come, try again later" "$VALID_ADDR" \
	'rule=dns-incomplete:mx_addr action=tempfail reply="451 4.4.3 cannot verify partialmx.test now: some DNS answers did not come, try again later" dry_run=no stage=eom'

# --- 2. mx_host: a provider's zone --------------------------------------------
PROV_HOSTS=mx.valid.test,mx.eu.refused-provider.test
expect_case "mx_host: one of two exchanges in *.refused-provider.test" "$V4" refprov.test \
	24 "$(prov_reply refprov.test "$PROV_HOSTS")" "mx_host=$(lit "$PROV_HOSTS")" \
	"$(refused_tail "m$((N + 1))" refused-provider reject "$(prov_reply refprov.test "$PROV_HOSTS")")"
expect_case "mx_host: mx.notrefused-provider.test is not in *.refused-provider.test" "$V4" lookalike.test \
	0 accepted 'mx_host=mx\.notrefused-provider\.test' "$ACCEPT_TAIL"
expect_case "mx_host, client $V6: one of two exchanges in *.refused-provider.test" "$V6" refprov.test \
	24 "$(prov_reply refprov.test "$PROV_HOSTS")" "mx_host=$(lit "$PROV_HOSTS")" \
	"$(refused_tail "m$((N + 1))" refused-provider reject "$(prov_reply refprov.test "$PROV_HOSTS")")"

# --- 3. name servers: ns_addr listed, the NS lookup failing -------------------
for ip in "$V4" "$V6"; do
	expect_case "ns_addr, client $ip: an IPv4 name server in a refused network" "$ip" badns4.test \
		24 "$(ns_reply badns4.test ns1.badns4-dns.test,ns2.badns4-dns.test)" \
		"ns=found ns_detail=\"[^\"]*\" ns_host=ns1\\.badns4-dns\\.test,ns2\\.badns4-dns\\.test ns_addr=$(set_re 192.0.2.61 203.0.113.62) ns_addr_result=found" \
		"$(refused_tail "m$((N + 1))" bad-ns-net reject "$(ns_reply badns4.test ns1.badns4-dns.test,ns2.badns4-dns.test)")"
	expect_case "ns_addr, client $ip: an IPv6 name server in a refused network" "$ip" badns6.test \
		24 "$(ns_reply badns6.test ns1.badns6-dns.test)" \
		"ns_host=ns1\\.badns6-dns\\.test ns_addr=$(set_re 192.0.2.63 2001:db8:bad::53) ns_addr_result=found" \
		"$(refused_tail "m$((N + 1))" bad-ns-net reject "$(ns_reply badns6.test ns1.badns6-dns.test)")"
	expect_case "ns = temperror, client $ip: the NS lookup SERVFAILs: tempfailed at RCPT" "$ip" nsfail.test \
		24 "$NSFAIL_REPLY" \
		'ns=temperror ns_detail="NS lookup for nsfail\.test failed: servfail" ns_host="" ns_addr="" ns_addr_result=temperror' \
		"$(refused_tail "m$((N + 1))" ns-temperror tempfail "$NSFAIL_REPLY")"
	expect_case "ns_addr, client $ip: name servers outside the refused networks" "$ip" valid.test \
		0 accepted "ns=found .*ns_host=ns1\\.good-dns\\.test,ns2\\.good-dns\\.test ns_addr=$(set_re 192.0.2.53 2001:db8::53) ns_addr_result=found" \
		"$ACCEPT_TAIL"
done

# --- 4. the drop-mx rule in dry run -------------------------------------------
use_rules dry-run
for ip in "$V4" "$V6"; do
	expect_case "dry run, client $ip: the drop-mx rule matches, the message is delivered" "$ip" dropmx.test \
		0 accepted "$DROPMX_ADDR" \
		"rule=drop-mx action=reject reply=\"$(drop_reply dropmx.test)\" dry_run=yes stage=rcpt"
done
expect_case "dry run: the rules not in dry run still refuse" "$V4" refprov.test \
	24 "$(prov_reply refprov.test "$PROV_HOSTS")" "mx_host=$(lit "$PROV_HOSTS")" \
	"$(refused_tail "m$((N + 1))" refused-provider reject "$(prov_reply refprov.test "$PROV_HOSTS")")"
use_rules enforce

# --- 5. drop.txt rewritten and reloaded under a steady stream -----------------
# Four clients (two IPv4, two IPv6) send from reload.test, whose exchange
# (192.0.2.77) is not in drop.txt, one message after the other. Once some
# are accepted, drop.txt lists it and the daemon gets SIGHUP; once some are
# refused, the clients stop.
RELOAD_REPLY=$(drop_reply reload.test)
S=$(t_tmpdir)
STOP=$S/stop
SPIDS=()
declare -A SADDR=()
k=0
for a in 192.0.2.6 2001:db8::6 192.0.2.7 2001:db8::7; do
	k=$((k + 1))
	SADDR[l$k]=$a
	t_bg "stream$k" bash "$HERE/stream.sh" "$S/w$k" "$STOP" "$PF_PORT" "$(xc "$a")" "l$k" \
		reload.test "$PF_RCPT_DOMAIN"
	SPIDS+=("$T_LAST_PID")
done
ACC_RE='sender=<l[0-9]+-[0-9]+@reload\.test> .* rule=default action=accept '
REF_RE='sender=<l[0-9]+-[0-9]+@reload\.test> .* rule=drop-mx action=reject '
wait_log_count "$ACC_RE" 8 60 || t_fail "stream: 8 messages accepted before the reload" "$(tail -n 5 "$MXG_LOG")"
{
	cat "$HERE/rules/drop.txt"
	echo "192.0.2.77/32 ; reload.test's exchange, added under traffic"
} | put "$DROP"
T_HUP=$(date +%s%N)
hup_and_wait
T_SEEN=$(date +%s%N)
t_expect_match "$RELOADED" "reloaded configuration from " "stream: drop.txt rewritten, SIGHUP: reloaded"
wait_log_count "$REF_RE" 8 60 || t_fail "stream: 8 messages refused after the reload" "$(tail -n 5 "$MXG_LOG")"
touch "$STOP"
for p in "${SPIDS[@]}"; do
	for ((i = 0; i < 1200; i++)); do t_alive "$p" || break; sleep 0.05; done
	t_alive "$p" && t_fail "stream client $p still running 60 s after the stop"
	wait "$p" 2>/dev/null
done

# Every message: accepted (250) or refused with the rule's reply at RCPT;
# finished before the SIGHUP: accepted; started after the reload was
# logged: refused; per client, never an accept after a refusal.
total=0 nacc=0 nref=0 npre=0 npost=0 nmid=0
bad=() prebad=() postbad=() order=()
declare -A OUTCOME=()
for f in "$S"/w*; do
	seen_ref=0
	while read -r id t0 t1 rc reply; do
		total=$((total + 1))
		if [[ $rc == 0 && $reply =~ ^250\ 2\.0\.0\ Ok:\ queued\ as\ [0-9A-Za-z]+$ ]]; then
			o=accept
			nacc=$((nacc + 1))
			ACCEPTED+=("$id")
			((seen_ref)) && order+=("$id")
		elif [[ $rc == 24 && $reply == "$RELOAD_REPLY" ]]; then
			o=reject
			nref=$((nref + 1))
			REFUSED+=("$id")
			seen_ref=1
		else
			o=bad
			bad+=("$id: exit $rc: $reply")
		fi
		OUTCOME[$id]=$o
		if ((t1 < T_HUP)); then
			npre=$((npre + 1))
			[[ $o == accept ]] || prebad+=("$id:$o")
		elif ((t0 > T_SEEN)); then
			npost=$((npost + 1))
			[[ $o == reject ]] || postbad+=("$id:$o")
		else
			nmid=$((nmid + 1))
		fi
	done <"$f"
done
t_expect_eq "${bad[*]-}" "" "stream: all $total messages accepted (250) or refused with \"$RELOAD_REPLY\" ($nacc + $nref)"
if ((npre > 0 && npost > 0)); then
	t_ok "stream: messages both before ($npre) and after ($npost) the reload ($nmid across it)"
else
	t_fail "stream: messages both before and after the reload" "before $npre, after $npost, across $nmid"
fi
t_expect_eq "${prebad[*]-}" "" "stream: every message done before the SIGHUP was accepted"
t_expect_eq "${postbad[*]-}" "" "stream: every message started after the reload was refused"
t_expect_eq "${order[*]-}" "" "stream: no client had a message accepted after one of its messages was refused"

# The decision log: one line per message, saying what the client was told.
loglines=$(grep -E 'sender=<l[0-9]+-[0-9]+@reload\.test> ' "$MXG_LOG")
t_expect_eq "$(grep -c . <<<"$loglines")" "$total" "stream: the decision log has one line per message ($total)"
mismatch=()
declare -A LOGGED=()
while read -r id ip rule action; do
	[[ -n ${LOGGED[$id]-} ]] && mismatch+=("$id: logged twice")
	LOGGED[$id]=1
	want=${OUTCOME[$id]-none}
	case $want:$rule:$action in
	accept:default:accept | reject:drop-mx:reject) ;;
	*) mismatch+=("$id: client got $want, log says rule=$rule action=$action") ;;
	esac
	[[ $ip == "${SADDR[${id%-*}]-}" ]] || mismatch+=("$id: client_ip=$ip")
done < <(sed -E 's/^.* client_ip=([^ ]+) .*sender=<([^@]+)@.* rule=([^ ]+) action=([^ ]+) .*$/\2 \1 \3 \4/' <<<"$loglines")
for id in "${!OUTCOME[@]}"; do
	[[ -n ${LOGGED[$id]-} ]] || mismatch+=("$id: no decision line")
done
t_expect_eq "${mismatch[*]-}" "" "stream: each line has the message's client_ip (IPv4 and IPv6) and the action its client saw"
t_expect_nomatch "$(grep -E 'warning: .*milter' "$PF_LOG")" '.' "stream: no milter warnings in Postfix's log"

# --- 6. a broken drop.txt on SIGHUP keeps the old list --------------------------
# The broken file no longer lists reload.test's exchange: were any of it
# taken, reload.test would be accepted.
{
	cat "$HERE/rules/drop.txt"
	echo "not-a-network ; SBL000003"
} | put "$DROP"
bad_line=$(wc -l <"$DROP")
hup_and_wait
t_expect_match "$RELOADED" "reload failed: $(lit "$DROP"):$bad_line: .*keeping previous configuration" \
	"broken drop.txt: the reload is refused, the error names $DROP:$bad_line"
for ip in "$V4" "$V6"; do
	expect_case "after the broken reload, client $ip: the old list still refuses reload.test" "$ip" reload.test \
		24 "$RELOAD_REPLY" "mx_addr=$(set_re 192.0.2.77 2001:db8::77)" \
		"$(refused_tail "m$((N + 1))" drop-mx reject "$RELOAD_REPLY")"
done
expect_case "after the broken reload: an unlisted sender is still accepted" "$V4" valid.test \
	0 accepted "$VALID_ADDR" "$ACCEPT_TAIL"
if t_alive "$MXG_PID"; then t_ok "mxguard still running"; else t_fail "mxguard died"; fi

# --- 7. DNS blocklists: dnsbl.LIST facts ---------------------------------------
# dnsbl.conf: zen on client_ip, dbl on sender_domain/mx_host/ns_host, sbl
# on mx_addr/ns_addr, all served by testdns under *.bl.test (zones.txt).
use_rules dnsbl
zen_reply() { echo "550 5.7.1 your address is listed: $1"; }
dbl_reply() { echo "550 5.7.1 $1 is listed: $2"; }
sbl_reply() { echo "550 5.7.1 $1 is served from a listed network: $2"; }
zendown_reply() { echo "451 4.7.1 cannot check your address now ($1)"; }
# bl_expect ARGS... - expect_case ARGS, keeping what the server said
BL_SAID=()
bl_expect() {
	expect_case "$@"
	BL_SAID+=("$SERVER_SAID")
}
# bl_case DESC IP DOMAIN RULE ACTION REPLY FACTS_RE - refused at RCPT by RULE
bl_case() {
	bl_expect "$1" "$2" "$3" 24 "$6" "$7" "$(refused_tail "m$((N + 1))" "$4" "$5" "$6")"
}
# bl_facts ZEN DBL SBL [LIST DETAIL] - an ERE for the three lists' facts:
# their values (EREs), then the details; LIST's detail is DETAIL exactly
bl_facts() {
	local z=$1 d=$2 s=$3 l=${4-} det=${5-} zd dd sd any='("[^"]*"|-)'
	zd=$any dd=$any sd=$any
	case $l in
	zen) zd="\"$(lit "$det")\"" ;;
	dbl) dd="\"$(lit "$det")\"" ;;
	sbl) sd="\"$(lit "$det")\"" ;;
	esac
	echo "dnsbl\\.zen=$z dnsbl\\.dbl=$d dnsbl\\.sbl=$s dnsbl_detail\\.zen=$zd dnsbl_detail\\.dbl=$dd dnsbl_detail\\.sbl=$sd"
}

# client_ip: listed as reversed octets and as 32 reversed nibbles; clean
bl_case "dnsbl zen, client 192.0.2.40: listed (reversed octets), refused at RCPT" 192.0.2.40 valid.test \
	in-zen reject "$(zen_reply "zen: 192.0.2.40 listed 127.0.0.4")" \
	"$(bl_facts listed clean clean zen "zen: 192.0.2.40 listed 127.0.0.4")"
bl_case "dnsbl zen, client 2001:db8::40: listed (32 nibbles), refused at RCPT" 2001:db8::40 valid.test \
	in-zen reject "$(zen_reply "zen: 2001:db8::40 listed 127.0.0.3")" \
	"$(bl_facts listed clean clean zen "zen: 2001:db8::40 listed 127.0.0.3")"
for ip in "$V4" "$V6"; do
	bl_expect "dnsbl, client $ip: no list has the client, the domain or its hosts: delivered" "$ip" valid.test \
		0 accepted "$(bl_facts clean clean clean zen "zen: $ip not listed")" "$ACCEPT_TAIL"
done

# RHSBL and address lists on the sender's domain, MX and name servers
for ip in "$V4" "$V6"; do
	bl_case "dnsbl dbl, client $ip: the sender domain is listed" "$ip" dblsender.test \
		in-dbl reject "$(dbl_reply dblsender.test "dbl: dblsender.test listed 127.0.1.2")" \
		"$(bl_facts clean listed clean dbl "dbl: dblsender.test listed 127.0.1.2")"
	bl_case "dnsbl dbl, client $ip: the MX host is listed" "$ip" dblmx.test \
		in-dbl reject "$(dbl_reply dblmx.test "dbl: mx.dblhost.test listed 127.0.1.3")" \
		"mx_host=mx\\.dblhost\\.test .*$(bl_facts clean listed clean dbl "dbl: mx.dblhost.test listed 127.0.1.3")"
	bl_case "dnsbl dbl, client $ip: one of two name servers (ns_host) is listed" "$ip" dblns.test \
		in-dbl reject "$(dbl_reply dblns.test "dbl: ns.listed-dns.test listed 127.0.1.4")" \
		"$(bl_facts clean listed clean dbl "dbl: ns.listed-dns.test listed 127.0.1.4")"
	bl_case "dnsbl sbl, client $ip: one of three MX addresses (mx_addr) is listed" "$ip" sblmx.test \
		in-sbl reject "$(sbl_reply sblmx.test "sbl: 192.0.2.82 listed 127.0.0.2")" \
		"mx_addr=$(set_re 192.0.2.81 2001:db8::81 192.0.2.82) .*$(bl_facts clean clean listed sbl "sbl: 192.0.2.82 listed 127.0.0.2")"
	bl_case "dnsbl sbl, client $ip: one of two name server addresses (ns_addr, IPv6) is listed" "$ip" sblns.test \
		in-sbl reject "$(sbl_reply sblns.test "sbl: 2001:db8::92 listed 127.0.0.2")" \
		"$(bl_facts clean clean listed sbl "sbl: 2001:db8::92 listed 127.0.0.2")"
done

# error codes: the list refuses us (127.255.255.254) or does not answer
# (the other lists may not have been asked yet: zen-down decides first)
UNUSABLE_DETAIL='zen: answer 127.255.255.254 for 192.0.2.41 is a list error: the list refused the query (typo in the zone, a public or shared resolver, or over the rate limit)'
bl_case "dnsbl zen, client 192.0.2.41: 127.255.255.254 is unusable: tempfailed, never listed" 192.0.2.41 valid.test \
	zen-down tempfail "$(zendown_reply "$UNUSABLE_DETAIL")" \
	"$(bl_facts unusable '[a-z-]+' '[a-z-]+' zen "$UNUSABLE_DETAIL")"
for ip in 192.0.2.42 2001:db8::42; do
	T0=$(date +%s%N)
	bl_case "dnsbl zen, client $ip: the list does not answer: temperror, tempfailed" "$ip" valid.test \
		zen-down tempfail "$(zendown_reply "zen: lookup of $ip failed: timeout")" \
		"$(bl_facts temperror '[a-z-]+' '[a-z-]+' zen "zen: lookup of $ip failed: timeout")"
	ms=$((($(date +%s%N) - T0) / 1000000))
	el=$(grep -F "sender=<m$N@valid.test> " "$MXG_LOG" | sed -nE 's/.* elapsed_ms=([0-9]+).*/\1/p')
	# the query was asked at connect, elapsed_ms counts from MAIL FROM
	if [[ -n $el ]] && ((el <= 4000)); then
		t_ok "dnsbl zen, client $ip: decided within the 2 s dns_timeout (elapsed_ms=$el, the client waited $ms ms)"
	else
		t_fail "dnsbl zen, client $ip: decided within the 2 s dns_timeout" "elapsed_ms=$el, the client waited $ms ms"
	fi
done

# the zones never show: not in a decision line, a reply, or the log
ZONES_RE='(zen|dbl|sbl)\.bl\.test'
t_expect_nomatch "$(grep -F "sender=<" "$MXG_LOG")" "$ZONES_RE" "dnsbl: no decision line shows a list's zone"
t_expect_nomatch "${BL_SAID[*]}" "$ZONES_RE" "dnsbl: nothing the server said in ${#BL_SAID[@]} sessions shows a list's zone"
t_expect_nomatch "$(cat "$MXG_LOG")" "$ZONES_RE" "dnsbl: the daemon's log never shows a list's zone"

# --- 8. what reached the sink ---------------------------------------------------
# sink_has ID - the sink received the message for ID@rcpt.test
sink_has() {
	grep -lqsF "X-Rcpt-Args: <$1@$PF_RCPT_DOMAIN>" "$PF_SINK_DIR"/msg-* 2>/dev/null
}
pf_sink_wait "${#ACCEPTED[@]}" 30
miss=() leak=()
for id in "${ACCEPTED[@]}"; do sink_has "$id" || miss+=("$id"); done
for id in "${REFUSED[@]}"; do sink_has "$id" && leak+=("$id"); done
t_expect_eq "${miss[*]-}" "" "every accepted message (${#ACCEPTED[@]}, the dry-run ones too) was delivered"
t_expect_eq "${leak[*]-}" "" "none of the ${#REFUSED[@]} refused or tempfailed messages was delivered"
t_expect_eq "$(pf_sink_count)" "${#ACCEPTED[@]}" "the sink holds exactly the accepted messages"
t_expect_eq "$(pf_queue_count)" 0 "nothing left in the Postfix queue"

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- mxguard log (last 15 lines) ---"
	tail -n 15 "$MXG_LOG"
fi
t_summary sets
