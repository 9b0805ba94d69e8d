#!/usr/bin/env bash
# sendmail/run.sh - mxguard behind a real Sendmail, as contrib/sendmail.mc
# wires it in. Debian's sendmail-bin conflicts with Postfix (which the other
# tiers need), so it is never installed: `apt-get download` fetches
# sendmail-bin, sendmail-base, sendmail-cf and libwrap0 once into
# build/sendmail-debs (later runs need no network; `make clean` drops
# them), `dpkg -x` unpacks them into the run's temp dir, and the binary is
# copied without its setgid bit so that LD_LIBRARY_PATH (libwrap.so.0) is
# honoured.
#
# After the fetch the tier re-runs itself in a network namespace of its own
# (unshare -n, only loopback up), so no packet of it can leave the machine.
#
# The sendmail.cf is made by the package's own m4 files from the lines of
# contrib/sendmail.mc (the filter's socket rewritten to this run's mxguard
# port) and a minimal mc of the tier's: one SMTP daemon on a free loopback
# port, everything Sendmail accepts relayed (SMART_HOST [127.0.0.1]) to an
# smtp-sink on another loopback port, rcpt.test a relay domain, every path
# (queue, pid, aliases, service switch) in the temp dir. Sendmail runs with
# -bD in a UTS and mount namespace of its own (tests/sendmail/sendmail-ns.sh:
# host name with a domain; private /etc/hosts, /etc/nsswitch.conf with
# hosts from files only, /etc/resolv.conf, /etc/mail; a /dev/log read by
# syslogd.py into the run's maillog). A testdns.py on 127.0.0.1:53, where
# that resolv.conf points, logs every query: Sendmail must send none. It
# is stopped by PID, with any child left in its namespace, also on failure.
#
# mxguard runs the shipped rules (conf/mxguard.conf) with testdns.py
# serving tests/sendmail/zones.txt. Sendmail has no XCLIENT: mxguard sees
# the real peer, so the clients connect from 127.0.0.2 (checked) and
# 127.0.0.1 (in trusted_networks). Asserted, as swaks sees it through
# Sendmail: the exact reply for a null-MX, a nonexistent and a bogus-MX
# sender domain (5xx, with the recipient Sendmail puts in front of the
# text), a SERVFAIL domain (4xx) and an SPF failure (5xx at end of data);
# good senders delivered to the sink with mxguard's Authentication-Results;
# a forged Authentication-Results removed through Sendmail's header index;
# a trusted client not checked; each decision line carrying Sendmail's
# queue id (the one in the 250 reply, or in Sendmail's own log line for a
# refused recipient; two messages on one connection, two ids); with mxguard
# stopped, 451 4.3.2 at MAIL FROM (F=T).
# Prints "sendmail: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/mxconf.sh

HERE=tests/sendmail
DEBS=build/sendmail-debs
PKGS=(sendmail-bin sendmail-base sendmail-cf libwrap0)
SM_HOST=mx.sendmail.test   # Sendmail's host name in its namespace, and mxguard's authserv_id
CLIENT=127.0.0.2           # the checked client (not in trusted_networks)
TRUSTED=127.0.0.1          # trusted_networks = 127.0.0.1/32
RCPT_DOMAIN=rcpt.test
# a Sendmail queue id: 8 letters and digits (time, sequence), then the PID
QID_RE='[0-9A-Za-z]{8}[0-9]{5,7}'

# have_debs - true when the cache holds one .deb of each package
have_debs() {
	local p
	for p in "${PKGS[@]}"; do
		compgen -G "$DEBS/${p}_*.deb" >/dev/null || return 1
	done
}

# --- 0. fetched once, never installed; then everything else in a network
# namespace of the tier's own, where only loopback exists --------------------
if [[ -z ${MXG_SENDMAIL_NETNS:-} ]]; then
	[[ $(id -u) -eq 0 ]] || t_abort "the tier runs as root (unshare, a Sendmail daemon)"
	for tool in apt-get unshare ip; do
		command -v "$tool" >/dev/null || t_abort "$tool is installed (make test-deps)"
	done
	if ! have_debs; then
		stage=$(t_tmpdir)
		# apt's downloader drops to _apt, which must be able to write here
		id _apt >/dev/null 2>&1 && chown _apt "$stage"
		if ! (cd "$stage" && apt-get download "${PKGS[@]}") >"$stage/download.log" 2>&1; then
			# an old package list names versions the mirror no longer has
			apt-get update -q >>"$stage/download.log" 2>&1
			(cd "$stage" && apt-get download "${PKGS[@]}") >>"$stage/download.log" 2>&1 ||
				t_abort "apt-get download ${PKGS[*]} (fetched, never installed: sendmail-bin conflicts with postfix)" \
					"$(tail -n 15 "$stage/download.log")"
		fi
		if ! { mkdir -p "$DEBS" && rm -f "$DEBS"/*.deb && mv "$stage"/*.deb "$DEBS"/; }; then
			t_abort "keep the Sendmail packages in $DEBS"
		fi
		echo "fetched into $DEBS: $(cd "$DEBS" && echo *.deb)"
	fi
	unshare -n true 2>/dev/null || t_abort "unshare -n works (the tier runs in a network namespace of its own)"
	t_cleanup   # an exec runs no EXIT trap
	# shellcheck disable=SC2016 # "$0" is expanded by the inner bash
	exec unshare -n env MXG_SENDMAIL_NETNS=1 bash -c 'ip link set lo up && exec bash "$0"' "$T_ROOT/$HERE/run.sh"
fi
links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
[[ $links == "lo " ]] || t_abort "only loopback in the tier's network namespace" "links: $links"
t_ok "running in a network namespace of its own (loopback only)"

W=$(t_tmpdir)
make --no-print-directory -s mxguard >"$W/build.log" 2>&1 || t_abort "build mxguard" "$(tail -n 20 "$W/build.log")"
for tool in swaks smtp-sink m4 dpkg mknod; do
	command -v "$tool" >/dev/null || t_abort "$tool is installed (make test-deps)"
done

# --- 1. Sendmail unpacked -------------------------------------------------------
have_debs || t_abort "Sendmail packages in $DEBS"
t_ok "Sendmail packages at hand in $DEBS: $(cd "$DEBS" && echo *.deb)"
ROOT=$W/root
for f in "$DEBS"/*.deb; do
	dpkg -x "$f" "$ROOT" 2>>"$W/dpkg.log" || t_abort "dpkg -x $f" "$(cat "$W/dpkg.log")"
done
CFDIR=$ROOT/usr/share/sendmail/cf
[[ -x $ROOT/usr/libexec/sendmail/sendmail && -f $CFDIR/m4/cf.m4 ]] ||
	t_abort "the unpacked packages have usr/libexec/sendmail/sendmail and the cf m4 files"

# --- 2. ports, DNS, mxguard -------------------------------------------------
# free_port - a free port none of this run's servers uses yet (USED: taken ones)
USED=" "
free_port() {
	local p
	p=$(t_free_port)
	while [[ $USED == *" $p "* ]]; do p=$(t_free_port); done
	echo "$p"
}
MPORT=$(free_port)
USED+="$MPORT "
SINK_PORT=$(free_port)
USED+="$SINK_PORT "
SM_PORT=$(free_port)
USED+="$SM_PORT "

t_dns_start "$HERE/zones.txt" || t_abort "testdns starts" "$(cat "$DNS_ERR" 2>/dev/null)"
CONF=$W/mxguard.conf
mxconf_write "$CONF" "$MPORT" "dns_timeout = 2s" "dns_try_timeout = 400ms" \
	"trusted_networks = $TRUSTED/32" "authserv_id = $SM_HOST" <conf/mxguard.conf ||
	t_abort "write mxguard.conf"
out=$(./mxguard -n -c "$CONF" 2>&1)
t_expect_eq "$out" "configuration OK" "mxguard -n accepts the shipped rules with the tier's settings"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"

# --- 3. the sink Sendmail relays to --------------------------------------------
SINK_DIR=$(t_tmpdir)
chown postfix "$SINK_DIR"
t_bg smtp-sink smtp-sink -u postfix -d "$SINK_DIR/msg-%H%M%S." "127.0.0.1:$SINK_PORT" 256
t_wait_port "$SINK_PORT" 10 || t_abort "smtp-sink starts" "$(cat "$T_BASE/smtp-sink.out")"

# --- 4. sendmail.cf from contrib/sendmail.mc and the tier's mc ------------------
SD=$W/sendmail
mkdir -p "$SD/queue" "$SD/etc/mail"
chmod 700 "$SD/queue"
install -m 0755 "$ROOT/usr/libexec/sendmail/sendmail" "$SD/sendmail"
[[ -u $SD/sendmail || -g $SD/sendmail ]] && t_abort "the copied sendmail has no setuid/setgid bit"
printf '127.0.0.1\tlocalhost\n127.0.0.1\t%s %s\n::1\tlocalhost\n' "$SM_HOST" "${SM_HOST%%.*}" >"$SD/etc/hosts"
[[ -f /etc/nsswitch.conf ]] || t_abort "/etc/nsswitch.conf is there (Sendmail gets a copy with hosts: files)"
sed -E 's/^hosts:.*/hosts: files/' /etc/nsswitch.conf >"$SD/etc/nsswitch.conf"
echo "nameserver 127.0.0.1" >"$SD/etc/resolv.conf"
printf 'passwd\tfiles\nhosts\tfiles\naliases\tfiles\n' >"$SD/service.switch"
printf 'postmaster:\troot\nMAILER-DAEMON:\tpostmaster\n' >"$SD/aliases"
# The project's lines, the filter pointed at this run's mxguard.
grep -v '^dnl' contrib/sendmail.mc | sed "s/S=inet:8894@127\.0\.0\.1/S=inet:$MPORT@127.0.0.1/" >"$SD/contrib.mc"
[[ $(grep -c "^INPUT_MAIL_FILTER(\`mxguard', \`S=inet:$MPORT@127\.0\.0\.1, F=T," "$SD/contrib.mc") -eq 1 &&
	$(grep -c '^define(`confMILTER_MACROS_ENVFROM' "$SD/contrib.mc") -eq 1 ]] ||
	t_abort "contrib/sendmail.mc has its INPUT_MAIL_FILTER (S=inet:8894@127.0.0.1, F=T) and confMILTER_MACROS_ENVFROM lines" \
		"$(cat contrib/sendmail.mc)"
{
	cat <<EOF
divert(-1)dnl
tests/sendmail: a private Sendmail on 127.0.0.1:$SM_PORT that relays to
the sink on 127.0.0.1:$SINK_PORT; every file under $SD.
divert(0)dnl
VERSIONID(\`mxguard sendmail tier')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SM_HOST')dnl
define(\`confSERVICE_SWITCH_FILE', \`$SD/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`QUEUE_DIR', \`$SD/queue')dnl
define(\`STATUS_FILE', \`$SD/statistics')dnl
define(\`confPID_FILE', \`$SD/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$SD/aliases')dnl
define(\`HELP_FILE', \`$SD/helpfile')dnl
dnl the temp dir lies below /tmp (world-writable, sticky)
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confLOG_LEVEL', \`10')dnl
dnl no ident (RFC 1413) query back to the client; a busy machine's load
dnl average never makes it queue or refuse
define(\`confTO_IDENT', \`0')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confDELAY_LA', \`0')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
dnl sender domains are mxguard's to judge (Sendmail would ask the DNS itself)
FEATURE(\`accept_unresolvable_domains')dnl
RELAY_DOMAIN(\`$RCPT_DOMAIN')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $SINK_PORT')dnl
DAEMON_OPTIONS(\`Family=inet, Name=MTA, Port=$SM_PORT, Addr=127.0.0.1')dnl
EOF
	cat "$SD/contrib.mc"
	printf '%s\n' "MAILER(\`local')dnl" "MAILER(\`smtp')dnl"
} >"$SD/sendmail.mc"
m4 -D_CF_DIR_="$CFDIR/" "$CFDIR/m4/cf.m4" "$SD/sendmail.mc" >"$SD/sendmail.cf" 2>"$SD/m4.err"
t_expect_eq "$?:$(cat "$SD/m4.err")" "0:" "m4 builds sendmail.cf from contrib/sendmail.mc's lines and the tier's mc"
t_expect_eq "$(grep -E '^(Xmxguard|O InputMailFilters)' "$SD/sendmail.cf" | tr '\n' '|')" \
	"O InputMailFilters=mxguard|Xmxguard, S=inet:$MPORT@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:5m|" \
	"sendmail.cf: mxguard is the input filter, F=T, the snippet's timeouts"

# --- 5. Sendmail in its own UTS and mount namespace ----------------------------
# Its resolv.conf says 127.0.0.1: a testdns there (port 53 is free in this
# network namespace) logs any query Sendmail might send, and knows no name.
# shellcheck disable=SC2016 # $TTL is the zone file's
printf '$TTL 300\ntrap.invalid. SOA ns.trap.invalid. hostmaster.trap.invalid. 1 3600 600 86400 60\n' >"$W/trap.zone"
: >"$W/trap.log"
t_bg dns-trap "$T_PY" tests/dns/testdns.py --zones "$W/trap.zone" --addr 127.0.0.1 --port 53 \
	--port-file "$W/trap.port" --log "$W/trap.log"
t_wait_file "$W/trap.port" 10 || t_abort "a DNS trap listens on 127.0.0.1:53" "$(cat "$T_BASE/dns-trap.out")"
t_bg syslogd "$T_PY" "$HERE/syslogd.py" "$SD/log.sock" "$SD/maillog"
for ((i = 0; i < 100; i++)); do [[ -S $SD/log.sock ]] && break; sleep 0.05; done
[[ -S $SD/log.sock ]] || t_abort "syslogd.py listens" "$(cat "$T_BASE/syslogd.out")"
MY_HOST=$(hostname)
MY_NS=$(readlink /proc/self/ns/mnt)
t_bg sendmail unshare --uts --mount --propagation private \
	bash "$HERE/sendmail-ns.sh" "$ROOT" "$SD" "$SM_HOST" "$SD/sendmail.cf" "$SD/log.sock"
SM_PID=$T_LAST_PID
SM_NS=

# sm_procs - the PIDs of every process in Sendmail's mount namespace
sm_procs() {
	[[ -n $SM_NS ]] || return 0
	# one find for all (a readlink per process takes seconds on a busy machine)
	find /proc/[0-9]*/ns/mnt -maxdepth 0 -printf '%l %p\n' 2>/dev/null |
		awk -v ns="$SM_NS" '$1 == ns { split($2, a, "/"); print a[3] }'
}
# sm_stop - stop the daemon by its PID, then any child of it still in its
# namespace (a delivery child Sendmail detached), each by its PID
sm_stop() {
	local i left
	t_stop "$SM_PID"
	for ((i = 0; i < 100; i++)); do
		mapfile -t left < <(sm_procs)
		[[ ${#left[@]} -eq 0 ]] && return 0
		((i == 40)) && kill -TERM "${left[@]}" 2>/dev/null
		sleep 0.05
	done
	kill -KILL "${left[@]}" 2>/dev/null
	return 0
}
t_on_cleanup sm_stop
for ((i = 0; i < 100; i++)); do
	ns=$(readlink "/proc/$SM_PID/ns/mnt" 2>/dev/null)
	[[ -n $ns && $ns != "$MY_NS" ]] && { SM_NS=$ns; break; }
	t_alive "$SM_PID" || break
	sleep 0.05
done
[[ -n $SM_NS ]] || t_abort "Sendmail starts in a mount namespace of its own" "$(cat "$T_BASE/sendmail.out")"
# The UTS name is set before Sendmail reads its config; a bare host name
# would make it sleep 60 s, which the 15 s here would catch.
if ! t_wait_port "$SM_PORT" 15; then
	t_abort "Sendmail listens on 127.0.0.1:$SM_PORT" \
		"$(cat "$T_BASE/sendmail.out" "$SD/newaliases.out" "$SD/maillog" 2>/dev/null)"
fi
t_ok "Sendmail -bD listens on 127.0.0.1:$SM_PORT, mount namespace $SM_NS"
t_expect_eq "$(hostname)" "$MY_HOST" "the machine's host name is unchanged (Sendmail's is its namespace's)"

# --- 6. one sender per class, through Sendmail -------------------------------------
# send FROM RCPT [swaks option...] - one transaction with swaks from
# $FROM_IP (default $CLIENT); sets RC, OUT, REPLY (the first refusal, else
# the final 250) and QID (the queue id of Sendmail's 250 reply)
send() {
	OUT=$(swaks --server 127.0.0.1 --port "$SM_PORT" --local-interface "${FROM_IP:-$CLIENT}" \
		--helo client.sendmail.test --from "$1" --to "$2" --timeout 60 "${@:3}" 2>&1 </dev/null)
	RC=$?
	REPLY=$(sed -nE 's/^<~?\*\* +//p' <<<"$OUT" | head -n 1)
	[[ -n $REPLY ]] || REPLY=$(sed -nE 's/^<- +(250 .* accepted for delivery)/\1/p' <<<"$OUT" | tail -n 1)
	QID=$(sed -nE 's/^250 2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery$/\1/p' <<<"$REPLY")
}
# logline SENDER - mxguard's decision line(s) for SENDER, waiting up to 2 s
logline() {
	t_wait_grep -F "sender=<$1> " "$MXG_LOG"
}
# sink_file RCPT - the sink's file of the message for RCPT
sink_file() {
	grep -lsF "X-Rcpt-Args: <$1>" "$SINK_DIR"/msg-* 2>/dev/null | head -n 1
}

banner=$(swaks --server 127.0.0.1 --port "$SM_PORT" --quit-after CONNECT 2>&1 </dev/null | sed -nE 's/^<- +(220 .*)/\1/p' | head -n 1)
t_expect_match "$banner" "^220 $SM_HOST ESMTP Sendmail 8\\." "a real Sendmail answers, as $SM_HOST"

# domain | expected reply (RCPT for the recipient; "accepted") | swaks exit | mx | rule | action
cases=(
	"valid.test|accepted|0|valid|default|accept"
	"spf-pass.test|accepted|0|valid|default|accept"
	"nullmx.test|550 5.7.27 <RCPT>... sender domain nullmx.test does not accept mail (null MX)|24|nullmx|null-mx|reject"
	"nonexistent.test|550 5.1.8 <RCPT>... sender domain nonexistent.test does not exist|24|nxdomain|no-domain|reject"
	"bogus-lo.test|550 5.1.8 <RCPT>... sender domain bogus-lo.test has no usable mail exchanger|24|bogus|no-route|reject"
	"temperror.test|451 4.4.3 cannot verify sender domain temperror.test now, try again later|24|temperror|mx-temperror|tempfail"
	"spf-fail.test|550 5.7.23 SPF check failed for spf-fail.test|26|valid|spf-fail|reject"
)
n=0 accepted=() refused=()
declare -A qid_of=()
for c in "${cases[@]}"; do
	IFS='|' read -r dom want wantrc mx rule action <<<"$c"
	n=$((n + 1))
	from="s$n@$dom" rcpt="r$n@$RCPT_DOMAIN"
	want=${want//RCPT/$rcpt}
	send "$from" "$rcpt"
	if [[ $want == accepted ]]; then
		t_expect_match "$REPLY" "^250 2\\.0\\.0 $QID_RE Message accepted for delivery\$" "$dom: accepted (250 with Sendmail's queue id)"
		accepted+=("$rcpt")
	else
		t_expect_eq "$REPLY" "$want" "$dom: reply through Sendmail"
		refused+=("$rcpt")
	fi
	t_expect_eq "$RC" "$wantrc" "$dom: swaks exit code (the stage that refused)"
	line=$(logline "$from")
	t_expect_match "$line" "client_ip=$CLIENT .* mx=$mx .* rule=$rule action=$action " \
		"$dom: decision line client_ip=$CLIENT mx=$mx rule=$rule action=$action"
	lqid=$(sed -nE 's/^.*queue_id=([^ ]+) .*/\1/p' <<<"$line" | head -n 1)
	t_expect_match "$lqid" "^$QID_RE\$" "$dom: decision line carries a Sendmail queue id (queue_id=$lqid)"
	[[ -n $QID ]] && t_expect_eq "$lqid" "$QID" "$dom: ... the one in Sendmail's 250 reply"
	qid_of[$rcpt]=$lqid
done

# A client in trusted_networks is not checked: behind Sendmail that is the
# real peer address (no XCLIENT), so a local relay listed there is trusted.
n=$((n + 1))
q0=$(grep -c ' nullmx\.test\. ' "$DNS_LOG")
FROM_IP=$TRUSTED send "t$n@nullmx.test" "r$n@$RCPT_DOMAIN"
t_expect_match "$REPLY" "^250 2\\.0\\.0 $QID_RE Message accepted" "null MX sender from the trusted client $TRUSTED: accepted"
t_expect_match "$(logline "t$n@nullmx.test")" "client_ip=$TRUSTED .*trusted=yes .* rule=trusted action=accept " \
	"trusted client: decision line trusted=yes, rule=trusted"
t_expect_eq "$(grep -c ' nullmx\.test\. ' "$DNS_LOG")" "$q0" "trusted client: no DNS lookup for its sender"
accepted+=("r$n@$RCPT_DOMAIN")

# Two messages on one connection: each gets its own queue id from Sendmail,
# and each decision line the right one (not the first message's).
n=$((n + 1))
two=$("$T_PY" - "$SM_PORT" "$CLIENT" "m$n" "$RCPT_DOMAIN" <<'PY' 2>&1
import smtplib, sys
port, client, tag, rdom = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.sendmail.test",
                 source_address=(client, 0), timeout=60)
for i in (1, 2):
    frm, to = "%s-%d@valid.test" % (tag, i), "%s-%d@%s" % (tag, i, rdom)
    msg = "From: <%s>\r\nTo: <%s>\r\nSubject: two on one connection\r\n\r\nmessage %d\r\n" % (frm, to, i)
    s.mail(frm)
    s.rcpt(to)
    code, text = s.data(msg)
    print(code, text.decode())
s.quit()
PY
)
mapfile -t two_qid < <(sed -nE 's/^250 2\.0\.0 ([0-9A-Za-z]+) Message accepted for delivery$/\1/p' <<<"$two")
t_expect_eq "${#two_qid[@]}" 2 "two messages on one connection: both accepted"
for i in 1 2; do
	t_expect_match "$(logline "m$n-$i@valid.test")" "^queue_id=${two_qid[i - 1]:-none} " \
		"two messages on one connection: message $i's decision line has its own queue id ${two_qid[i - 1]:-}"
	accepted+=("m$n-$i@$RCPT_DOMAIN")
done
if [[ ${two_qid[0]:-} != "${two_qid[1]:-}" ]]; then
	t_ok "two messages on one connection: two different queue ids"
else
	t_fail "two messages on one connection: two different queue ids" "$two"
fi

# An Authentication-Results field claiming our authserv-id is forged: removed
# through Sendmail's header index; another server's is kept.
n=$((n + 1))
forged_rcpt="r$n@$RCPT_DOMAIN" forged_from="f$n@valid.test"
send "$forged_from" "$forged_rcpt" \
	--add-header "Authentication-Results: other.example; spf=fail smtp.mailfrom=$forged_from" \
	--add-header "Authentication-Results: $SM_HOST; spf=pass smtp.mailfrom=$forged_from"
t_expect_match "$REPLY" "^250 2\\.0\\.0 $QID_RE Message accepted" "valid.test with a forged Authentication-Results: accepted"
if t_wait_grep -F "$QID: removed forged Authentication-Results header #2" "$MXG_LOG" >/dev/null; then
	t_ok "mxguard logs the forged field's removal under Sendmail's queue id"
else
	t_fail "mxguard logs the forged field's removal under Sendmail's queue id" "$(grep -F forged "$MXG_LOG")"
fi
accepted+=("$forged_rcpt")

# Sendmail's own log names the same queue id for each refused recipient.
for r in "${refused[@]}"; do
	sl=$(t_wait_grep -F "to=<$r>" "$SD/maillog" | head -n 1)
	t_expect_match "$sl" " ${qid_of[$r]}: " "Sendmail's log line for <$r> has mxguard's queue_id ${qid_of[$r]}"
done

# --- 7. what reached the sink ---------------------------------------------------
for ((i = 0; i < 300; i++)); do
	(($(find "$SINK_DIR" -name 'msg-*' -type f | wc -l) >= ${#accepted[@]})) && break
	sleep 0.05
done
miss=() leak=()
for r in "${accepted[@]}"; do [[ -n $(sink_file "$r") ]] || miss+=("$r"); done
for r in "${refused[@]}"; do [[ -n $(sink_file "$r") ]] && leak+=("$r"); done
t_expect_eq "${miss[*]-}" "" "every accepted message was relayed by Sendmail to the sink"
t_expect_eq "${leak[*]-}" "" "nothing refused reached the sink"
t_expect_eq "$(find "$SINK_DIR" -name 'msg-*' -type f | wc -l)" "${#accepted[@]}" "the sink holds exactly the accepted messages"
# ar FILE - the message's Authentication-Results fields, unfolded, one a line
ar() {
	awk '/^$/ { exit } /^[ \t]/ && keep { sub(/^[ \t]+/, " "); printf "%s", $0; next }
	     { if (keep) print ""; keep = tolower($0) ~ /^authentication-results:/; if (keep) printf "%s", $0 }
	     END { if (keep) print "" }' "$1"
}
f=$(sink_file "r1@$RCPT_DOMAIN")
t_expect_eq "$(ar "${f:-/dev/null}")" \
	"Authentication-Results: $SM_HOST (mx=valid); spf=none (valid.test publishes no SPF record) smtp.mailfrom=s1@valid.test; dkim=none; dmarc=none header.from=valid.test" \
	"valid.test: delivered with mxguard's Authentication-Results"
f=$(sink_file "r2@$RCPT_DOMAIN")
t_expect_match "$(ar "${f:-/dev/null}")" \
	"^Authentication-Results: $SM_HOST \\(mx=valid\\); spf=pass \\([^)]*\\) smtp\\.mailfrom=s2@spf-pass\\.test; dkim=none; dmarc=none header\\.from=spf-pass\\.test\$" \
	"spf-pass.test: delivered with one Authentication-Results, spf=pass for the real client $CLIENT"

f=$(sink_file "$forged_rcpt")
t_expect_eq "$(ar "${f:-/dev/null}" | sed -E 's/ \(.*//')" \
	"Authentication-Results: $SM_HOST
Authentication-Results: other.example; spf=fail smtp.mailfrom=$forged_from" \
	"forged field removed, ours on top, the other server's kept"

# --- 8. mxguard stopped: F=T tempfails -----------------------------------------
kill -TERM "$MXG_PID"
for ((i = 0; i < 200; i++)); do t_alive "$MXG_PID" || break; sleep 0.05; done
t_alive "$MXG_PID" && t_fail "mxguard exits within 10 s of SIGTERM"
n=$((n + 1))
send "d$n@valid.test" "r$n@$RCPT_DOMAIN"
t_expect_eq "$REPLY" "451 4.3.2 Please try again later" "mxguard down: Sendmail tempfails (F=T)"
t_expect_eq "$RC" 23 "mxguard down: refused at MAIL FROM (swaks exit 23)"
t_expect_match "$(cat "$SD/maillog")" 'Milter \(mxguard\): .*(error connecting|to error state)' \
	"mxguard down: Sendmail's log says it could not reach the filter"
t_expect_eq "$(sink_file "r$n@$RCPT_DOMAIN")" "" "mxguard down: nothing delivered"

# --- 9. Sendmail stopped by its PID, nothing of it left ----------------------------
sm_stop
t_expect_eq "$(sm_procs | tr '\n' ' ')" "" "Sendmail stopped: no process left in its namespace"
t_expect_eq "$(cat "$W/trap.log")" "" "Sendmail sent no DNS query (host names from files, relay by address)"

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- Sendmail's log (last 25 lines) ---"
	tail -n 25 "$SD/maillog"
	echo "--- mxguard log (last 15 lines) ---"
	tail -n 15 "$MXG_LOG"
fi
t_summary sendmail
