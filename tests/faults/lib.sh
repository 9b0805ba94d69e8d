# shellcheck shell=bash
# lib.sh - the harness of the faults tier and of `make soak` (bash, sourced
# after tests/lib/common.sh, postfix.sh, dkim.sh and mxconf.sh).
#
#   fl_setup W            everything up, in work dir W: a DKIM key, the zones
#                         (FL_GOOD good domains with MX, SPF for 192.0.2.0/24,
#                         DMARC p=reject and the key; FL_NULL null-MX
#                         domains; every record with TTL $FL_TTL), testdns.py,
#                         mxguard with the shipped rules (conf/mxguard.conf via
#                         mxconf_write), a private Postfix with mxguard as its
#                         milter (milter_default_action = tempfail)
#   fl_dns_start          testdns.py on FL_DNS_PORT (fl_fixed_port: a free port below
#                         the ephemeral range, the same one again
#                         after fl_dns_kill); sets DNS_PID
#   fl_dns_kill           stop testdns.py (SIGTERM, by PID): queries are refused
#   fl_mxg_start          mxguard on MPORT (fl_fixed_port too) with CONF; appends
#                         its log to MXG_LOGS
#   fl_load_start ARGS... loadclient.py against Postfix, in the background,
#                         output in FL_OUT; sets FL_LOAD_PID
#   fl_done               messages the client has finished so far
#   fl_wait_done N [S]    wait until fl_done >= N (default 300 s; false if not,
#                         or if the client ended first)
#   fl_wait_more N        wait until N more messages finished than now
#   fl_phase_begin NAME EXPECT / fl_phase_end
#                         a fault's window, a line "NAME EXPECT START END" in
#                         FL_PHASES for verify.py (clean: nothing may fail in
#                         it; disrupt: something must)
#   fl_drain_postfix [S]  wait until Postfix's queue is empty and the sink
#                         holds every accepted message
#   fl_checks CMD...      a Python judge's "ok/FAIL" lines counted in this shell
#   fl_verify             verify.py's checks (fl_checks)
#
# Sets: CONF MPORT MXG_PID MXG_LOG MXG_LOGS FL_OUT FL_PHASES FL_DNS_PORT,
# and DNS_PORT DNS_LOG for mxconf_write. The sender network is 192.0.2.0/24:
# the client presents 192.0.2.5 through XCLIENT (metadata only; every packet
# stays on 127.0.0.1).

FL_AUTHSERV=mx.faults.test
FL_GOOD=${FL_GOOD:-20}
FL_NULL=${FL_NULL:-5}
FL_TTL=${FL_TTL:-2}
FL_SEL=fl
MXG_LOGS=()
FL_PHASE=

# fl_domains KIND - the comma-separated domain list of one kind
fl_domains() {
	local i out=()
	if [[ $1 == good ]]; then
		for ((i = 1; i <= FL_GOOD; i++)); do out+=("$(printf 'good%02d.test' "$i")"); done
	else
		for ((i = 1; i <= FL_NULL; i++)); do out+=("null$i.test"); done
	fi
	local IFS=,
	echo "${out[*]}"
}

# fl_zones FILE - the zone data: the sender domains and their keys
fl_zones() {
	local rec d
	rec=$(dkim_key_record "$FL_W/$FL_SEL.txt")
	{
		echo "\$TTL $FL_TTL"
		echo "mx.senders.test. A 192.0.2.250"
		for d in $(fl_domains good | tr , ' '); do
			echo "$d. MX 10 mx.senders.test."
			echo "$d. TXT \"v=spf1 ip4:192.0.2.0/24 -all\""
			echo "_dmarc.$d. TXT \"v=DMARC1; p=reject\""
			echo "$FL_SEL._domainkey.$d. TXT \"$rec\""
		done
		for d in $(fl_domains null | tr , ' '); do
			echo "$d. MX 0 ."
		done
	} >"$1"
}

# fl_fixed_port - a free TCP+UDP port on 127.0.0.1 below the ephemeral range.
# The DNS server and mxguard come back on the same port after a fault; in
# the ephemeral range the test's own traffic (hundreds of connections a
# second, each leaving a TIME_WAIT socket) could hold that port by then.
fl_fixed_port() {
	"$T_PY" - <<'EOF'
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(200):
    port = random.randrange(min(10000, low - 1000), low)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("127.0.0.1", port))
        u.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    print(port)
    break
else:
    raise SystemExit("no free port below the ephemeral range")
EOF
}

# fl_dns_start - testdns.py on FL_DNS_PORT (fl_fixed_port the first time)
fl_dns_start() {
	local d
	d=$(t_tmpdir)
	[[ -n ${FL_DNS_PORT:-} ]] || FL_DNS_PORT=$(fl_fixed_port) || return 1
	setsid "$T_PY" "$T_ROOT/tests/dns/testdns.py" --zones "$FL_W/zones.txt" --port "$FL_DNS_PORT" \
		--port-file "$d/port" --log "$DNS_LOG" </dev/null >>"$FL_W/testdns.err" 2>&1 &
	DNS_PID=$!
	echo "$DNS_PID testdns" >>"$T_BASE/.pids"
	t_wait_file "$d/port" 10 || return 1
	DNS_PORT=$FL_DNS_PORT
}

# fl_dns_kill - stop the DNS server: from now on its port refuses queries
fl_dns_kill() {
	t_stop "$DNS_PID"
}

# fl_mxg_start - mxguard on MPORT with CONF (a new log file each start)
fl_mxg_start() {
	t_mxguard_start "$CONF" "$MPORT" || return 1
	MXG_LOGS+=("$MXG_LOG")
}

# fl_setup W - key, zones, DNS, mxguard, Postfix
fl_setup() {
	FL_W=$1
	FL_OUT=$FL_W/client
	FL_PHASES=$FL_W/phases
	mkdir -p "$FL_OUT"
	: >"$FL_PHASES"
	DNS_LOG=$FL_W/query.log
	dkim_genkey "$FL_W" "$FL_SEL" good01.test 2048 || t_abort "opendkim-genkey" "$(cat "$FL_W/genkey.log")"
	fl_zones "$FL_W/zones.txt"
	fl_dns_start || t_abort "testdns starts" "$(cat "$FL_W/testdns.err")"
	MPORT=$(fl_fixed_port) || t_abort "a port for mxguard"
	CONF=$FL_W/mxguard.conf
	mxconf_write "$CONF" "$MPORT" "dns_timeout = 2s" "dns_try_timeout = 400ms" \
		"trusted_networks = 10.99.0.0/16" "authserv_id = $FL_AUTHSERV" <conf/mxguard.conf ||
		t_abort "write $CONF"
	local out
	out=$("$MXG_BIN" -n -c "$CONF" 2>&1) || t_abort "mxguard -n accepts the tier's configuration" "$out"
	fl_mxg_start || t_abort "mxguard starts" "$(cat "$MXG_LOG" 2>/dev/null)"
	pf_setup "$FL_W/pf" "inet:127.0.0.1:$MPORT"
	pf_start || t_abort "postfix starts" "$(tail -n 20 "$PF_LOG")"
}

# fl_load_start ARGS... - the load client in the background
fl_load_start() {
	t_bg loadclient "$T_PY" "$T_ROOT/tests/faults/loadclient.py" --port "$PF_PORT" --out "$FL_OUT" \
		--key "$FL_W/$FL_SEL.private" --selector "$FL_SEL" \
		--good "$(fl_domains good)" --null "$(fl_domains null)" "$@"
	FL_LOAD_PID=$T_LAST_PID
}

# fl_done - messages the client has finished (0 before its first report)
fl_done() {
	local d
	read -r d _ 2>/dev/null <"$FL_OUT/progress"
	echo "${d:-0}"
}

# fl_wait_done N [S] - until the client has finished N messages
fl_wait_done() {
	local n=$1 secs=${2:-300} i
	for ((i = 0; i < secs * 10; i++)); do
		(($(fl_done) >= n)) && return 0
		t_alive "$FL_LOAD_PID" || return 1
		sleep 0.1
	done
	return 1
}

# fl_wait_more N - until N more messages are finished than now
fl_wait_more() {
	fl_wait_done $(($(fl_done) + $1))
}

# fl_phase_begin NAME EXPECT - a fault's window opens
fl_phase_begin() {
	FL_PHASE="$1 $2 $EPOCHREALTIME"
}

# fl_phase_end - the window closes
fl_phase_end() {
	echo "$FL_PHASE $EPOCHREALTIME" >>"$FL_PHASES"
	FL_PHASE=
}

# fl_accepted - how many messages the client saw accepted (after it ended)
fl_accepted() {
	"$T_PY" -c 'import json,sys; m=json.load(open(sys.argv[1]))["messages"]
print(sum(1 for v in m.values() if v["final"] == "accepted"))' "$FL_OUT/results.json"
}

# fl_drain_postfix [S] - Postfix delivered all it accepted (false after S s)
fl_drain_postfix() {
	local secs=${1:-60} want i
	want=$(fl_accepted)
	for ((i = 0; i < secs * 10; i++)); do
		[[ $(pf_queue_count) -eq 0 ]] && (($(pf_sink_count) >= want)) && return 0
		sleep 0.1
	done
	return 1
}

# fl_checks CMD... - a Python judge's check lines as this shell's checks
# ("ok<TAB>what", "FAIL<TAB>what<TAB>detail"); its "#" figure lines printed
fl_checks() {
	local st what detail f0=$T_FAIL
	while IFS=$'\t' read -r st what detail; do
		case $st in
		ok) t_ok "$what" ;;
		FAIL) t_fail "$what" "$detail" ;;
		'#'*) echo "       ${st}${what:+ $what}" ;;
		*) t_fail "$(basename "$2"): unexpected output" "$st $what $detail" ;;
		esac
	done < <("$@" 2>&1)
	# its exit status too: a judge that died quietly must not pass
	wait $! || ((T_FAIL > f0)) || t_fail "$(basename "$2") exited non-zero without a failed check"
}

# fl_verify - verify.py on the client's results, the sink, the phases and mxguard's logs
fl_verify() {
	fl_checks "$T_PY" "$T_ROOT/tests/faults/verify.py" --client "$FL_OUT" --sink "$PF_SINK_DIR" \
		--authserv "$FL_AUTHSERV" --phases "$FL_PHASES" --mxlog "${MXG_LOGS[@]}"
}
