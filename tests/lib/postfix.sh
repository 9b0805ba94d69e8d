# postfix.sh - a private, throw-away Postfix instance for tests (bash, root).
#
#   . tests/lib/common.sh; . tests/lib/postfix.sh
#   pf_setup DIR [MILTER]     write DIR/etc/{main,master}.cf, queue, sink dir;
#                             MILTER is Postfix's spelling "inet:127.0.0.1:PORT"
#                             (empty or omitted: no milter, the baseline)
#   pf_start                  start smtp-sink and the Postfix master; waits
#                             until smtpd answers on PF_PORT
#   pf_stop                   stop master (by its PID) and sink; also at exit
#   pf_set 'name = value'...  add main.cf settings (before pf_start)
#   pf_reload                 SIGHUP the master after pf_set on a running one
#   pf_sink_count             number of messages the sink has received
#   pf_sink_wait N [S]        wait until the sink holds >= N messages
#   pf_sink_files             the sink's message files, one a line
#   pf_queue_count            messages still in the Postfix queue
#
# Sets: PF_DIR PF_CONF (config dir for postfix -c) PF_PORT (smtpd port)
# PF_SINK_PORT PF_SINK_DIR PF_LOG (maillog) PF_RCPT_DOMAIN (relay domain,
# "rcpt.test") PF_MASTER_PID (after pf_start).
#
# Everything Postfix accepts goes to an smtp-sink on another loopback port
# (one file per message in PF_SINK_DIR, "X-Mail-From:"/"X-Rcpt-To:" lines
# then the message). Postfix does no DNS at all: numeric nexthop in
# brackets, smtp_dns_support_level = disabled, no peer name lookup, fixed
# myhostname. Clients at 127.0.0.0/8 may use XCLIENT (swaks --xclient-addr).

PF_RCPT_DOMAIN=rcpt.test
PF_MASTER_PID=
PF_SINK_PID=

# pf_setup - write a private Postfix configuration under DIR.
pf_setup() {
	local dir=$1 milter=${2:-}
	PF_DIR=$dir
	PF_CONF=$dir/etc
	PF_LOG=$dir/maillog
	PF_SINK_DIR=$dir/sink
	PF_PORT=$(t_free_port)
	PF_SINK_PORT=$(t_free_port)
	while [[ $PF_SINK_PORT == "$PF_PORT" ]]; do PF_SINK_PORT=$(t_free_port); done
	mkdir -p "$PF_CONF" "$dir/queue" "$dir/data" "$PF_SINK_DIR"
	chown postfix "$dir/data" "$PF_SINK_DIR"
	chmod 700 "$dir/data"
	pf_make_queue "$dir/queue"
	: >"$PF_LOG"
	cat >"$PF_CONF/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $PF_LOG
maillog_file_prefixes = $dir
myhostname = mx.mxguard-test.invalid
mydomain = mxguard-test.invalid
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = $PF_RCPT_DOMAIN
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions =
smtpd_delay_reject = yes
smtpd_peername_lookup = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP private-test
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 100000
default_process_limit = 100
relayhost = [127.0.0.1]:$PF_SINK_PORT
default_transport = smtp:[127.0.0.1]:$PF_SINK_PORT
relay_transport = smtp:[127.0.0.1]:$PF_SINK_PORT
smtp_dns_support_level = disabled
smtp_host_lookup = native
lmtp_host_lookup = native
smtp_tls_security_level = none
smtpd_tls_security_level = none
biff = no
notify_classes =
empty_address_recipient = postmaster
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
smtpd_milters = $milter
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
EOF
	cat >"$PF_CONF/master.cf" <<EOF
127.0.0.1:$PF_PORT inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
	pf_touch_conf
}

# pf_set - append "name = value" lines to main.cf (before pf_start, or
# follow with pf_reload); the last setting of a name wins.
pf_set() {
	printf '%s\n' "$@" >>"$PF_CONF/main.cf"
	pf_touch_conf
}

# pf_reload - make a running Postfix re-read main.cf (SIGHUP to master).
pf_reload() {
	pf_touch_conf
	[[ -n $PF_MASTER_PID ]] && kill -HUP "$PF_MASTER_PID"
	sleep 0.3
}

# pf_touch_conf - backdate main.cf/master.cf: Postfix re-reads a config
# file changed within the last second, 300 ms at a time (~1.5 s per command).
pf_touch_conf() {
	touch -d '-10 seconds' "$PF_CONF/main.cf" "$PF_CONF/master.cf"
}

# pf_make_queue - the queue tree as postfix-files wants it. Doing it here
# and leaving "quick-start" lets "postfix start" skip its ~2 s checks.
pf_make_queue() {
	local q=$1 sub
	for sub in active bounce corrupt defer deferred flush hold incoming \
		private saved trace; do
		install -d -o postfix -m 700 "$q/$sub"
	done
	install -d -o postfix -g postdrop -m 730 "$q/maildrop"
	install -d -o postfix -g postdrop -m 710 "$q/public"
	install -d -o root -m 755 "$q/pid"
	touch "$q/quick-start"
}

# pf_start - start the sink, then Postfix; wait until smtpd answers.
pf_start() {
	t_bg "smtp-sink-$PF_SINK_PORT" smtp-sink -u postfix -d "$PF_SINK_DIR/msg-%H%M%S." \
		"127.0.0.1:$PF_SINK_PORT" 256
	PF_SINK_PID=$T_LAST_PID
	if ! t_wait_port "$PF_SINK_PORT" 10; then
		echo "pf_start: smtp-sink did not start:" >&2
		cat "$T_BASE/smtp-sink-$PF_SINK_PORT.out" >&2
		return 1
	fi
	t_on_cleanup pf_stop
	# master directly: "postfix start" adds ~1.5 s of postlog retries.
	if ! "$(postconf -c "$PF_CONF" -h daemon_directory)/master" -c "$PF_CONF" -w \
		>"$PF_DIR/start.out" 2>&1; then
		echo "pf_start: postfix master failed to start:" >&2
		cat "$PF_DIR/start.out" "$PF_LOG" >&2
		return 1
	fi
	PF_MASTER_PID=$(sed -n '1s/ //gp' "$PF_DIR/queue/pid/master.pid" 2>/dev/null)
	if [[ -z $PF_MASTER_PID ]] || ! t_wait_port "$PF_PORT" 10; then
		echo "pf_start: smtpd not listening on $PF_PORT:" >&2
		tail -n 20 "$PF_LOG" >&2
		return 1
	fi
	return 0
}

# pf_stop - stop the master by PID (postfix stop first), then the sink.
pf_stop() {
	local i
	if [[ -n $PF_MASTER_PID ]]; then
		# What "postfix stop" does, without its slow logging.
		kill -TERM "$PF_MASTER_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$PF_MASTER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill -0 "$PF_MASTER_PID" 2>/dev/null && kill -KILL "$PF_MASTER_PID" 2>/dev/null
		PF_MASTER_PID=
	fi
	if [[ -n $PF_SINK_PID ]]; then
		t_stop "$PF_SINK_PID"
		PF_SINK_PID=
	fi
	return 0
}

# pf_sink_files - the sink's message files, oldest first.
pf_sink_files() {
	find "$PF_SINK_DIR" -maxdepth 1 -type f -name 'msg-*' -printf '%T@ %p\n' 2>/dev/null |
		sort -n | cut -d' ' -f2-
}

# pf_sink_count - how many messages the sink has received.
pf_sink_count() {
	find "$PF_SINK_DIR" -maxdepth 1 -type f -name 'msg-*' 2>/dev/null | wc -l
}

# pf_sink_wait - wait until the sink holds at least N messages.
pf_sink_wait() {
	local n=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		(($(pf_sink_count) >= n)) && return 0
		sleep 0.05
	done
	return 1
}

# pf_queue_count - messages Postfix still holds (not yet delivered).
pf_queue_count() {
	find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" "$PF_DIR/queue/deferred" \
		-type f 2>/dev/null | wc -l
}
