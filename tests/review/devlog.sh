#!/usr/bin/env bash
# devlog.sh - run a command with a private /dev/log that records what it gets.
#
#   unshare -m --propagation private bash tests/review/devlog.sh DIR CMD...
#
# Only inside a fresh mount namespace (the caller's unshare): a tmpfs with
# bind mounts of the usual character devices is put over /dev, and
# syslog_catch.py binds /dev/log there, appending each datagram as a line
# to DIR/syslog.txt. Its pid goes to DIR/catcher.pid (the caller stops it).
# Then CMD runs; a daemon it forks stays in the namespace and keeps using
# this /dev/log. The machine's own /dev is never touched.
set -euo pipefail
dir=$1
shift
dev=$dir/dev
mkdir -p "$dev"
mount -t tmpfs -o mode=755 tmpfs "$dev"
for n in null zero full random urandom tty; do
	[[ -e /dev/$n ]] || continue
	touch "$dev/$n"
	mount --bind "/dev/$n" "$dev/$n"
done
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
mount --rbind "$dev" /dev
setsid /usr/bin/python3 "$(dirname "$0")/syslog_catch.py" /dev/log "$dir/syslog.txt" \
	"$dir/catcher.pid" </dev/null >"$dir/catcher.err" 2>&1 &
for ((i = 0; i < 100; i++)); do
	[[ -s $dir/catcher.pid && -S /dev/log ]] && break
	sleep 0.05
done
[[ -S /dev/log ]] || { echo "devlog.sh: no /dev/log" >&2; exit 1; }
"$@"
