# common.sh - helpers every test tier script sources (bash).
#
#   . "$(dirname "$0")/../lib/common.sh"
#
# Owns: the per-script scratch directory T_BASE (removed at exit unless
# KEEP=1), the list of background processes it started (stopped at exit by
# PID: TERM, then KILL after T_KILL_WAIT seconds), and the pass/fail
# counters. Sourcing installs an EXIT/INT/TERM trap; a script with its own
# cleanup should call t_cleanup from it.
#
#   t_tmpdir                 print a new directory under T_BASE
#   t_free_port              print a free TCP+UDP port on 127.0.0.1
#   t_bg NAME cmd...         start cmd in the background (own process group),
#                            stdout+stderr to $T_BASE/NAME.out; sets T_LAST_PID
#   t_stop PID               stop one process started by t_bg (TERM, then KILL)
#   t_alive PID              true while PID runs
#   t_on_cleanup CMD...      run CMD at exit, before the recorded PIDs are stopped
#   t_wait_file FILE [S]     wait until FILE is non-empty (default 10 s)
#   t_wait_port PORT [S]     wait until 127.0.0.1:PORT accepts TCP (default 10 s)
#   t_wait_grep -F|-E PATTERN FILE [S]
#                            print FILE's lines matching PATTERN once there is
#                            one, waiting up to S seconds (default 2); false
#                            when none came (a daemon logs after it answers)
#   t_ok DESC | t_fail DESC [DETAIL]
#   t_expect_eq GOT WANT DESC
#   t_expect_match TEXT REGEX DESC     (bash ERE)
#   t_expect_nomatch TEXT REGEX DESC
#   t_summary [TIER]         print "TIER: N passed, M failed"; non-zero on
#                            failures (TIER defaults to $T_TIER)
#   t_abort DESC [DETAIL]    a set-up step failed: t_fail DESC, the summary
#                            line of $T_TIER, exit 1
#   t_die MSG                for scripts without counters (bench, demo):
#                            "$T_TIER: MSG" on stderr, exit 1
#   t_dns_start [--delay-ms N ...] ZONEFILE...
#                            testdns.py on a free port; sets DNS_PORT DNS_PID
#                            DNS_LOG (query log) DNS_ERR (its stderr)
#   t_mxguard_start CONF [PORT]
#                            $MXG_BIN -f [$MXG_FLAGS] -c CONF, stderr to MXG_LOG; waits
#                            for its inet socket (PORT, or read from CONF);
#                            sets MXG_PID MXG_LOG
#   t_mxguard_build          make ./mxguard, unless MXG_BIN came from the
#                            environment (then it must be executable)
#
# MXG_BIN: the daemon the tiers run (t_mxguard_start, `-n`, `check`); default
# ./mxguard of this tree. tests/static/run.sh sets it to the ASan+UBSan build
# (build/asan/mxguard) to run tiers against that.
#
# The assertion counters live in this shell: call the t_expect_* helpers
# from the script itself, not from a $(...) or a pipeline subshell.

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_MXG_BIN_GIVEN=${MXG_BIN:+1}
MXG_BIN=${MXG_BIN:-$T_ROOT/mxguard}
T_PY=/usr/bin/python3
T_PASS=0
T_FAIL=0
T_KILL_WAIT=${T_KILL_WAIT:-5}
# The tier's name, for t_summary, t_abort and t_die: the script's directory
# (tests/TIER/run.sh); a script elsewhere sets T_TIER after sourcing.
T_TIER=${T_TIER:-$(basename "$(dirname "$0")")}
T_BASE=$(mktemp -d "${TMPDIR:-/tmp}/mxg-test.XXXXXX")
# Searchable, so daemons that drop to "postfix" can reach their files.
chmod 755 "$T_BASE"
: >"$T_BASE/.pids"
T_CLEANED=0
T_CLEANUP_HOOKS=()

# t_tmpdir - a fresh directory under T_BASE (safe to call in $(...)).
t_tmpdir() {
	local d
	d=$(mktemp -d "$T_BASE/d.XXXXXX") && chmod 755 "$d" && echo "$d"
}

# t_free_port - a port free for both TCP and UDP on 127.0.0.1 right now.
t_free_port() {
	"$T_PY" - <<'EOF'
import socket
for _ in range(100):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); u.close(); continue
    t.close(); u.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
EOF
}

# t_bg - start a command in its own process group and remember its PID.
t_bg() {
	local name=$1
	shift
	setsid "$@" >"$T_BASE/$name.out" 2>&1 </dev/null &
	T_LAST_PID=$!
	echo "$T_LAST_PID $name" >>"$T_BASE/.pids"
}

# t_alive - true while PID runs (and is not a zombie). When in doubt,
# alive: a needless TERM is harmless, a survivor is not.
t_alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(ps -o stat= -p "$1" 2>/dev/null)
	[[ $st != Z* ]]
}

# t_stop - TERM a recorded process group, KILL it if it lingers.
t_stop() {
	local pid=$1 i
	t_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < T_KILL_WAIT * 20; i++)); do
		t_alive "$pid" || break
		sleep 0.05
	done
	if t_alive "$pid"; then
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# t_on_cleanup - run a command at cleanup, before recorded PIDs are stopped.
t_on_cleanup() {
	T_CLEANUP_HOOKS+=("$*")
}

# t_cleanup - run hooks, stop every recorded process, remove T_BASE.
t_cleanup() {
	[[ $T_CLEANED -eq 1 ]] && return 0
	T_CLEANED=1
	local h pid name
	for h in "${T_CLEANUP_HOOKS[@]}"; do
		eval "$h" >/dev/null 2>&1 || true
	done
	if [[ -f $T_BASE/.pids ]]; then
		# Newest first: clients before the servers they talk to.
		while read -r pid name; do
			[[ -n $pid ]] && t_stop "$pid"
		done < <(tac "$T_BASE/.pids")
	fi
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "KEEP=1: test files left in $T_BASE" >&2
	else
		rm -rf "$T_BASE"
	fi
}

trap 't_cleanup' EXIT
trap 't_cleanup; exit 130' INT
trap 't_cleanup; exit 143' TERM

# t_wait_file - wait until a file exists and is non-empty.
t_wait_file() {
	local f=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		[[ -s $f ]] && return 0
		sleep 0.05
	done
	return 1
}

# t_wait_port - wait until 127.0.0.1:PORT accepts a TCP connection.
t_wait_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# t_wait_grep - the lines of a file matching a pattern, once there is one.
t_wait_grep() {
	local mode=$1 pat=$2 file=$3 secs=${4:-2} i
	for ((i = 0; i < secs * 20; i++)); do
		grep "$mode" -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# t_ok - count and print a passing check.
t_ok() {
	T_PASS=$((T_PASS + 1))
	echo "ok   - $1"
}

# t_fail - count and print a failing check, with optional detail lines.
t_fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL - $1"
	[[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/       | /' | head -n 20
	return 0
}

# t_expect_eq - pass when GOT equals WANT.
t_expect_eq() {
	if [[ "$1" == "$2" ]]; then
		t_ok "$3"
	else
		t_fail "$3" "got:  $1
want: $2"
	fi
}

# t_expect_match - pass when TEXT matches the extended regex.
t_expect_match() {
	if [[ "$1" =~ $2 ]]; then
		t_ok "$3"
	else
		t_fail "$3" "text:  $1
regex: $2"
	fi
}

# t_expect_nomatch - pass when TEXT does not match the extended regex.
t_expect_nomatch() {
	if [[ "$1" =~ $2 ]]; then
		t_fail "$3" "text:  $1
must not match: $2"
	else
		t_ok "$3"
	fi
}

# t_summary - the tier's result line; returns non-zero on any failure.
t_summary() {
	echo "${1:-$T_TIER}: $T_PASS passed, $T_FAIL failed"
	[[ $T_FAIL -eq 0 && $T_PASS -gt 0 ]]
}

# t_abort - a set-up step failed: count it, print the result line, stop the tier.
t_abort() {
	t_fail "$1" "${2:-}"
	t_summary "$T_TIER"
	exit 1
}

# t_die - stop a script that keeps no counters, saying why on stderr.
t_die() {
	echo "$T_TIER: $*" >&2
	exit 1
}

# t_dns_start - start testdns.py on a free port serving the given zones.
t_dns_start() {
	local d args=() z
	d=$(t_tmpdir)
	while [[ $# -gt 0 && $1 == --* ]]; do
		args+=("$1" "$2")
		shift 2
	done
	for z in "$@"; do args+=(--zones "$z"); done
	DNS_LOG=$d/query.log
	DNS_ERR=$d/stderr
	: >"$DNS_LOG"
	setsid "$T_PY" "$T_ROOT/tests/dns/testdns.py" "${args[@]}" --port 0 \
		--port-file "$d/port" --log "$DNS_LOG" </dev/null >"$DNS_ERR" 2>&1 &
	DNS_PID=$!
	echo "$DNS_PID testdns" >>"$T_BASE/.pids"
	if ! t_wait_file "$d/port" 10; then
		echo "t_dns_start: testdns did not start:" >&2
		cat "$DNS_ERR" >&2
		return 1
	fi
	DNS_PORT=$(<"$d/port")
	return 0
}

# t_mxguard_build - ./mxguard up to date, or the given MXG_BIN usable; output in FILE
t_mxguard_build() {
	local log=${1:-/dev/null}
	if [[ -n $T_MXG_BIN_GIVEN ]]; then
		[[ -x $MXG_BIN ]] || { echo "MXG_BIN=$MXG_BIN is not an executable" >"$log"; return 1; }
		return 0
	fi
	make -C "$T_ROOT" --no-print-directory -s mxguard >"$log" 2>&1
}

# t_conf_port - the port of an "inet:PORT@host" socket line in a config.
t_conf_port() {
	sed -nE 's/.*inet6?:([0-9]+)@.*/\1/p' "$1" | head -n 1
}

# t_mxguard_start - run ./mxguard in the foreground, wait for its socket.
t_mxguard_start() {
	local conf=$1 port=${2:-} d i
	[[ -n $port ]] || port=$(t_conf_port "$conf")
	if [[ -z $port ]]; then
		echo "t_mxguard_start: no inet:PORT@host socket in $conf" >&2
		return 1
	fi
	d=$(t_tmpdir)
	MXG_LOG=$d/mxguard.log
	# shellcheck disable=SC2086 # MXG_FLAGS (e.g. -d for debug lines) is words on purpose
	setsid "$MXG_BIN" -f ${MXG_FLAGS:-} -c "$conf" </dev/null >"$d/stdout" 2>"$MXG_LOG" &
	MXG_PID=$!
	MXG_PORT=$port
	echo "$MXG_PID mxguard" >>"$T_BASE/.pids"
	for ((i = 0; i < 200; i++)); do
		if ! t_alive "$MXG_PID"; then
			echo "t_mxguard_start: mxguard exited:" >&2
			cat "$MXG_LOG" >&2
			return 1
		fi
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "t_mxguard_start: mxguard not listening on $port after 10 s" >&2
	return 1
}
