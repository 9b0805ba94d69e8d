# shellcheck shell=bash
# stacks.sh - the four stacks make bench compares, each a private Postfix of
# its own relaying to its own smtp-sink, all started once and kept running
# for the whole run (idle ones cost nothing; caches stay as warm as on a
# gateway that has been up for a while). Sourced by tests/bench/run.sh
# after tests/lib/{common,postfix,mxconf}.sh; runs inside the bench's
# network and mount namespace: every DNS lookup goes to 127.0.0.1:53.
#
#   stacks_start W            build passmilter, start every stack below
#   stack_spec S              procs.py specs of stack S's components
#                             (its Postfix and its filters), one a word
#   STACKS                    the stack names, in report order
#   ST_PORT[S] ST_SINK[S]     smtpd port and sink directory of stack S
#   ST_LABEL[S]               what it is, for the report
#   MXG_PID PASS_PID ODK_PID ODM_PID   the filters' PIDs
#
# postfix     Postfix alone.
# passmilter  Postfix + tests/bench/passmilter.c (accepts everything,
#             negotiates like mxguard, adds nothing): the ceiling for any milter.
# mxguard     Postfix + ./mxguard with conf/mxguard.conf as shipped (MX, SPF,
#             DKIM with dkim_verify = always, DMARC and their rules), DNS
#             from 127.0.0.1:53, authserv_id mxguard.bench.
# peer        what many operators run on Debian: Postfix with
#             reject_unknown_sender_domain and postfix-policyd-spf-python as a
#             policy service (spawned per smtpd by master.cf, its Debian
#             configuration less the logging), then the opendkim milter
#             (verify mode, authserv-id opendkim.bench, DNS by its libunbound,
#             no DNSSEC, forwarding to 127.0.0.1) and the opendmarc milter (SPF from
#             policyd-spf's Received-SPF field, DKIM from opendkim's
#             Authentication-Results, Debian's public suffix list).
# Each stack's filters log to files in the temp dir; Postfix masters are
# stopped by PID at exit (stacks_stop, a t_on_cleanup hook), the daemons
# by t_cleanup.

STACKS=(postfix passmilter mxguard peer)
declare -A ST_PORT ST_SINK ST_MASTER ST_SINKPID ST_DIR ST_LABEL
ST_LABEL[postfix]="Postfix alone"
ST_LABEL[passmilter]="Postfix + trivial milter"
ST_LABEL[mxguard]="Postfix + mxguard"
ST_LABEL[peer]="peer stack"
MXG_PID='' PASS_PID='' ODK_PID='' ODM_PID=''

# stack_pf S MILTERS - pf_setup under W for stack S (more pf_set before stack_go)
stack_pf() {
	# the bench's client is 192.0.2.5 by XCLIENT: outside mynetworks, as on the Internet
	pf_setup "$SW/pf-$1" "$2"
}

# stack_go S - start the Postfix written by stack_pf, remember it as S
stack_go() {
	pf_start || t_die "postfix of stack $1 did not start"
	ST_PORT[$1]=$PF_PORT ST_SINK[$1]=$PF_SINK_DIR ST_MASTER[$1]=$PF_MASTER_PID
	ST_SINKPID[$1]=$PF_SINK_PID ST_DIR[$1]=$PF_DIR
	PF_MASTER_PID='' PF_SINK_PID=''   # stacks_stop stops them all
}

# stacks_stop - stop every stack's Postfix master and sink, by PID
stacks_stop() {
	local s
	for s in "${!ST_MASTER[@]}"; do
		PF_MASTER_PID=${ST_MASTER[$s]} PF_SINK_PID=${ST_SINKPID[$s]}
		pf_stop
		ST_MASTER[$s]=''
	done
}

# wait_listen NAME PORT PID - the daemon listens, or the bench stops
wait_listen() {
	t_wait_port "$2" 15 && t_alive "$3" && return 0
	t_die "$1 does not listen on 127.0.0.1:$2: $(tail -n 20 "$T_BASE/$1.out" 2>/dev/null)"
}

# start_passmilter - build (cc -lmilter) and start the trivial milter
start_passmilter() {
	local port
	cc -O2 -g -Wall -Wextra -o "$SW/passmilter" tests/bench/passmilter.c -lmilter -lpthread \
		2>"$SW/passmilter.cc" || t_die "passmilter does not build: $(cat "$SW/passmilter.cc")"
	port=$(t_free_port)
	t_bg passmilter "$SW/passmilter" "inet:$port@127.0.0.1"
	PASS_PID=$T_LAST_PID PASS_PORT=$port
	wait_listen passmilter "$port" "$PASS_PID"
}

# start_mxguard - ./mxguard with the shipped configuration
start_mxguard() {
	local port
	port=$(t_free_port)
	mxconf_write "$SW/mxguard.conf" "$port" "dns_servers = 127.0.0.1:53" \
		"authserv_id = mxguard.bench" <conf/mxguard.conf || t_die "cannot write mxguard.conf"
	t_mxguard_start "$SW/mxguard.conf" "$port" || t_die "mxguard did not start: $(cat "$MXG_LOG")"
	MXG_PORT2=$port
}

# start_peers - opendkim (verify) and opendmarc, and policyd-spf's configuration
start_peers() {
	ODK_PORT=$(t_free_port)
	# libunbound forwards to 127.0.0.1 (opendkim's ResolverConfiguration, an
	# unbound.conf, crashed it under load: its parser is not thread-safe;
	# and libunbound answers RFC 6761's test. itself, hence the example. zone)
	cat >"$SW/opendkim.conf" <<EOF
Mode                v
Socket              inet:$ODK_PORT@127.0.0.1
AuthservID          opendkim.bench
Nameservers         127.0.0.1
PidFile             $SW/opendkim.pid
Syslog              no
EOF
	t_bg opendkim opendkim -f -x "$SW/opendkim.conf"
	ODK_PID=$T_LAST_PID
	wait_listen opendkim "$ODK_PORT" "$ODK_PID"
	ODM_PORT=$(t_free_port)
	cat >"$SW/opendmarc.conf" <<EOF
Socket                  inet:$ODM_PORT@127.0.0.1
PidFile                 $SW/opendmarc.pid
AuthservID              opendmarc.bench
TrustedAuthservIDs      opendkim.bench
SPFIgnoreResults        false
SPFSelfValidate         false
PublicSuffixList        /usr/share/publicsuffix/public_suffix_list.dat
RejectFailures          true
FailureReports          false
Syslog                  false
EOF
	t_bg opendmarc opendmarc -f -c "$SW/opendmarc.conf"
	ODM_PID=$T_LAST_PID
	wait_listen opendmarc "$ODM_PORT" "$ODM_PID"
	# Debian's /etc/postfix-policyd-spf-python/policyd-spf.conf, less the logging
	# (debugLevel 1 logs a line per message to syslog; Postfix logs the rest)
	cat >"$SW/policyd-spf.conf" <<EOF
debugLevel = 0
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1
EOF
}

# stacks_start - every filter and every stack's Postfix
stacks_start() {
	SW=$1
	start_passmilter
	start_mxguard
	start_peers
	t_on_cleanup stacks_stop
	stack_pf postfix ""
	stack_go postfix
	stack_pf passmilter "inet:127.0.0.1:$PASS_PORT"
	stack_go passmilter
	stack_pf mxguard "inet:127.0.0.1:$MXG_PORT2"
	stack_go mxguard
	stack_pf peer "inet:127.0.0.1:$ODK_PORT, inet:127.0.0.1:$ODM_PORT"
	sed -i '/^smtpd_recipient_restrictions =/d' "$PF_CONF/main.cf"
	pf_set "smtpd_sender_restrictions = reject_unknown_sender_domain" \
		"smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:private/policyd-spf" \
		"policyd-spf_time_limit = 3600"
	# spawn processes live for the whole run, so procs.py can tell the
	# policy service's CPU (reaped by spawn) from Postfix's
	cat >>"$PF_CONF/master.cf" <<EOF
policyd-spf unix - n n - 0 spawn -o max_idle=3600s -o max_use=1000000
  user=nobody argv=/usr/bin/policyd-spf $SW/policyd-spf.conf
EOF
	pf_touch_conf
	stack_go peer
}

# stack_spec S - the procs.py specs of S's own components
stack_spec() {
	local m=${ST_MASTER[$1]}
	case $1 in
	postfix | passmilter | mxguard) echo "postfix=$m" ;;
	peer) echo "postfix=$m/own=!policyd-spf/reaped=!spawn policyd-spf=$m/own=policyd-spf/reaped=spawn" ;;
	esac
	case $1 in
	passmilter) echo "passmilter=$PASS_PID" ;;
	mxguard) echo "mxguard=$MXG_PID" ;;
	peer) echo "opendkim=$ODK_PID opendmarc=$ODM_PID" ;;
	esac
}
