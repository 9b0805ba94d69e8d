#!/usr/bin/env bash
# fresh.sh - make test-fresh: the README's quick start, as a new user would
# run it, on a freshly bootstrapped Debian 12 (not part of make test; root;
# ~15 minutes and ~2 GB under TMPDIR; fetches packages from this machine's
# Debian mirror, everything else stays on loopback).
#
#   1. debootstrap bookworm into a temp dir, from the Debian mirror in this
#      machine's apt sources (/etc/apt/sources.list{,.d/}; FRESH_MIRROR=URL
#      to choose another); those sources (the bookworm, -updates and
#      -security entries) and the proxy settings of apt go into the root;
#   2. the current HEAD of this repository, as a git bundle, into the root;
#   3. inside (chroot, in a private mount namespace: /proc, /sys, /dev and
#      a tmpfs /run mounted; the root bound onto itself, so that the tests
#      can unshare -m), as root, the README's steps:
#        apt-get update && apt-get install -y make git
#        git clone .../mxguard.bundle mxguard && cd mxguard
#        make run     started, stopped once it printed its start-up line
#        make test    its "N passed, M failed" line is the result
#   4. no service left enabled or running that the steps did not ask for.
#
# A policy-rc.d that forbids starting services is in the root from the start
# (as on a Debian container), so a package whose install would start one
# cannot start it on this machine's network; whether `make test-deps`
# itself leaves services enabled is checked in step 4.
#
# The root is removed on exit, also on failure or ^C: every process still
# running in it (all started here) is killed first, and its mounts live only
# in the mount namespace, so nothing of the machine's own is unmounted. The
# logs are kept, their path is printed. FRESH_KEEP=1 keeps the root too.
# Ends with the inner make test's "N passed, M failed" and PASS or FAIL.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

SUITE=bookworm
RUN_WAIT=${FRESH_RUN_WAIT:-1800}     # s: make run's install and build, to its start-up line
TEST_TIMEOUT=${FRESH_TEST_TIMEOUT:-5400}
say() { echo "fresh: $*"; }

# ===== inside the private mount namespace: mounts, then the steps ==========
if [[ ${1:-} == --inside ]]; then
	R=$2 LOGS=$3
	# / a mount point, so that unshare -m works inside
	if ! { mount --bind "$R" "$R" &&
		{ mount -t proc proc "$R/proc" 2>/dev/null || mount --rbind /proc "$R/proc"; } &&
		mount --rbind /sys "$R/sys" && mount --rbind /dev "$R/dev" &&
		mount -t tmpfs -o mode=755 tmpfs "$R/run"; } 2>"$LOGS/mount.log"; then
		cat "$LOGS/mount.log"
		echo "step-failed mounts" >"$LOGS/result"
		exit 1
	fi
	# in ROOT - a login-like root shell in the new system
	in_root() {
		chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			/bin/bash -c "cd /root && $1"
	}

	say "step: apt-get update && apt-get install -y make git"
	if ! in_root 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q make git' \
		>"$LOGS/make-git.log" 2>&1; then
		tail -n 20 "$LOGS/make-git.log"
		echo "step-failed make-git" >"$LOGS/result"
		exit 1
	fi
	say "step: git clone mxguard.bundle mxguard"
	if ! in_root 'git -c advice.detachedHead=false clone -q /root/mxguard.bundle mxguard' >"$LOGS/clone.log" 2>&1; then
		cat "$LOGS/clone.log"
		echo "step-failed clone" >"$LOGS/result"
		exit 1
	fi

	# make run: in its own session, so the whole of it is stopped at once
	say "step: make run (until its start-up line; packages and build first, up to ${RUN_WAIT}s)"
	setsid chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c 'cd /root/mxguard && exec make run' >"$LOGS/make-run.log" 2>&1 </dev/null &
	run_pid=$!
	run=fail
	for ((i = 0; i < RUN_WAIT * 2; i++)); do
		if grep -q 'started: listening on inet:8894@127\.0\.0\.1' "$LOGS/make-run.log"; then
			run=ok
			break
		fi
		kill -0 "$run_pid" 2>/dev/null || break
		sleep 0.5
	done
	kill -TERM -- "-$run_pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$run_pid" 2>/dev/null; then
		kill -KILL -- "-$run_pid" 2>/dev/null
		[[ $run == ok ]] && run="ok, but did not stop on SIGTERM within 10 s"
	fi
	wait "$run_pid" 2>/dev/null
	if [[ $run == ok ]]; then
		say "make run: ok ($(grep -m1 'started: listening' "$LOGS/make-run.log"))"
	else
		say "make run: FAIL, no start-up line; its output ends:"
		tail -n 25 "$LOGS/make-run.log" | sed 's/^/  | /'
	fi
	echo "run $run" >"$LOGS/result"

	say "step: make test (tier lines below; the whole output in $LOGS/make-test.log)"
	timeout -k 10 "$TEST_TIMEOUT" chroot "$R" /usr/bin/env -i HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
		TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c 'cd /root/mxguard && make test' </dev/null 2>&1 |
		tee "$LOGS/make-test.log" | grep --line-buffered -E '^=== |^[A-Za-z0-9_-]+: [0-9]+ passed, [0-9]+ failed|^failing tiers:|^install-deps:'
	echo "test ${PIPESTATUS[0]}" >>"$LOGS/result"
	exit 0
fi

# ===== outside ===============================================================
if [[ $(id -u) -ne 0 ]]; then
	say "needs root (debootstrap, chroot, mounts): su -c 'make -C $(pwd) test-fresh'"
	echo "test-fresh: FAIL"
	exit 1
fi

# debian_sources - "URI SUITE COMPONENTS..." for each enabled deb entry of
# this machine's apt sources, one-line and deb822 formats.
debian_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed -E 's/#.*//; s/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 4 { $1 = ""; sub(/^ /, ""); print }'
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		{
			types = uris = suites = comps = ""; enabled = "yes"
			for (i = 1; i <= NF; i++) {
				line = $i; sub(/#.*/, "", line)
				if (match(line, /^[A-Za-z-]+:/)) {
					key = tolower(substr(line, 1, RLENGTH - 1)); val = substr(line, RLENGTH + 1)
					if (key == "types") types = val
					else if (key == "uris") uris = val
					else if (key == "suites") suites = val
					else if (key == "components") comps = val
					else if (key == "enabled") enabled = val
				}
			}
			if (types !~ /(^|[ \t])deb([ \t]|$)/ || enabled ~ /no/) next
			nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
			for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++)
				if (u[a] != "" && s[b] != "") print u[a], s[b], comps
		}' "$f" | sed -E 's/ +/ /g; s/ $//'
	done
}

srcs=$(debian_sources | awk -v s="$SUITE" '$2 == s || $2 == s "-updates" || $2 == s "-security" || $2 == s "/updates"')
MIRROR=${FRESH_MIRROR:-$(awk -v s="$SUITE" '$2 == s { print $1; exit }' <<<"$srcs")}
if [[ -z $MIRROR ]]; then
	say "no Debian $SUITE entry in /etc/apt/sources.list{,.d/}: set FRESH_MIRROR=URL"
	echo "test-fresh: FAIL"
	exit 1
fi
[[ -n $srcs ]] || srcs="$MIRROR $SUITE main"

if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; } ||
		{ say "cannot install debootstrap"; echo "test-fresh: FAIL"; exit 1; }
fi

rev=$(git rev-parse --short HEAD) || { say "not a git repository"; echo "test-fresh: FAIL"; exit 1; }
[[ -n $(git status --porcelain --untracked-files=no) ]] &&
	say "note: uncommitted changes are not tested: the root gets HEAD ($rev) only"

LOGS=$(mktemp -d "${TMPDIR:-/tmp}/mxguard-fresh-logs.XXXXXX")
R=$(mktemp -d "${TMPDIR:-/tmp}/mxguard-fresh.XXXXXX")
chmod 755 "$R"

# in_root_pids - every process whose root directory is in the new system
in_root_pids() {
	local p root
	for p in /proc/[0-9]*; do
		root=$(readlink "$p/root" 2>/dev/null) || continue
		[[ $root == "$R" || $root == "$R"/* ]] && echo "${p#/proc/}"
	done
}
# bg CMD... - run CMD in its own session and wait for it; a signal to this
# script interrupts the wait (not so a foreground command) and cleanup stops it.
child=
bg() {
	local rc
	setsid "$@" &
	child=$!
	wait "$child"
	rc=$?
	child=
	return $rc
}
cleanup() {
	local pids i
	trap - EXIT INT TERM HUP
	if [[ -n $child ]]; then
		kill -TERM -- "-$child" 2>/dev/null
		for ((i = 0; i < 50; i++)); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$child" 2>/dev/null
	fi
	pids=$(in_root_pids)
	if [[ -n $pids ]]; then
		kill -TERM $pids 2>/dev/null
		for ((i = 0; i < 50; i++)); do [[ -z $(in_root_pids) ]] && break; sleep 0.1; done
		pids=$(in_root_pids)
		[[ -n $pids ]] && kill -KILL $pids 2>/dev/null && sleep 0.5
	fi
	# Mounts were made in a private namespace only; should one show here, undo it.
	if grep -qF " $R" /proc/self/mountinfo; then
		awk -v r="$R" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m"; done
	fi
	if [[ ${FRESH_KEEP:-0} == 1 ]]; then
		say "root kept in $R (FRESH_KEEP=1)"
	elif grep -qF " $R" /proc/self/mountinfo; then
		say "something is still mounted under $R: left in place"
	else
		rm -rf --one-file-system "$R"
	fi
}
trap cleanup EXIT
trap 'say "interrupted: stopping what was started, removing the root"; echo "test-fresh: FAIL"; exit 130' INT TERM HUP

say "testing $rev in a fresh Debian $SUITE at $R (mirror $MIRROR; logs in $LOGS)"
say "step: debootstrap $SUITE (a few minutes)"
t0=$(date +%s)
if ! bg unshare -m --propagation private debootstrap "$SUITE" "$R" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1; then
	tail -n 20 "$LOGS/debootstrap.log"
	say "debootstrap failed"
	echo "test-fresh: FAIL"
	exit 1
fi
say "debootstrap: done in $(($(date +%s) - t0)) s"

# The new system's apt: this machine's Debian sources and its proxy and
# validity settings; no service starts when a package is installed.
awk '{ printf "deb %s %s", $1, $2; for (i = 3; i <= NF; i++) printf " %s", $i; print "" }' <<<"$srcs" \
	>"$R/etc/apt/sources.list"
apt-config dump 2>/dev/null | grep -E '^Acquire::((https?|ftp)::Proxy|Check-Valid-Until|Check-Date)' \
	>"$R/etc/apt/apt.conf.d/99fresh-host" || rm -f "$R/etc/apt/apt.conf.d/99fresh-host"
printf '#!/bin/sh\n# test-fresh: no service starts in this root\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
[[ -s $R/etc/hosts ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$R/etc/hosts"
git bundle create "$R/root/mxguard.bundle" HEAD >"$LOGS/bundle.log" 2>&1 ||
	{ cat "$LOGS/bundle.log"; say "git bundle failed"; echo "test-fresh: FAIL"; exit 1; }

# enabled_in_root - what would start at boot in the new system
enabled_in_root() {
	{
		find "$R/etc/systemd/system" -path '*.wants/*' \( -name '*.service' -o -name '*.socket' -o -name '*.timer' \) \
			-printf '%f\n' 2>/dev/null
		find "$R"/etc/rc[2345].d -name 'S[0-9][0-9]*' -printf '%f\n' 2>/dev/null | sed -E 's/^S[0-9]+/sysv:/'
	} | sort -u
}
enabled_before=$(enabled_in_root)

bg unshare -m --propagation private bash "$(pwd)/tests/fresh.sh" --inside "$R" "$LOGS"

# Step 4: services enabled by the steps, processes left running in the root.
new_enabled=$(comm -13 <(echo "$enabled_before") <(enabled_in_root) | tr '\n' ' ')
left=$(for p in $(in_root_pids); do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)

run=$(sed -n 's/^run //p' "$LOGS/result" 2>/dev/null)
test_rc=$(sed -n 's/^test //p' "$LOGS/result" 2>/dev/null)
step_failed=$(sed -n 's/^step-failed //p' "$LOGS/result" 2>/dev/null)
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/make-test.log" 2>/dev/null | tail -n 1)

verdict=PASS
echo "=== test-fresh ==="
[[ -n $step_failed ]] && { say "step $step_failed failed"; verdict=FAIL; }
if [[ -z $step_failed ]]; then
	[[ $run == ok ]] && say "make run: started, printed its start-up line, stopped" ||
		{ say "make run: $run"; verdict=FAIL; }
	if [[ $test_rc == 0 && -n $summary ]]; then
		say "make test: exit 0"
	else
		say "make test: exit ${test_rc:-?}; its output ends:"
		tail -n 40 "$LOGS/make-test.log" 2>/dev/null | sed 's/^/  | /'
		verdict=FAIL
	fi
fi
if [[ -n ${new_enabled// /} ]]; then
	say "services left enabled at boot by the steps: $new_enabled"
	verdict=FAIL
else
	say "no service left enabled at boot by the steps"
fi
if [[ -n $left ]]; then
	say "processes left running in the root (killed now):"
	sed 's/^/  | /' <<<"$left"
	verdict=FAIL
fi
say "logs: $LOGS"
echo "${summary:-make test printed no \"N passed, M failed\" line}"
echo "test-fresh: $verdict"
[[ $verdict == PASS ]]
