#!/usr/bin/env bash
# sendmail-ns.sh - run the unpacked Sendmail in the foreground (-bD) inside a
# UTS and mount namespace of its own; run.sh starts it as
#
#   unshare --uts --mount --propagation private bash sendmail-ns.sh \
#       ROOT DIR HOSTNAME CF LOGSOCK
#
# ROOT: where the .debs were unpacked (dpkg -x; libwrap.so.0 comes from
# there); DIR: the tier's Sendmail directory, holding the binary copied
# without its setgid bit (glibc ignores LD_LIBRARY_PATH for setgid
# programs), the alias file, and etc/{hosts,resolv.conf,mail}; CF: the
# sendmail.cf; LOGSOCK: the socket syslogd.py reads.
#
# What the namespace changes, for Sendmail alone (nothing outside sees it):
#   - the host name, HOSTNAME, has a domain: with a bare name Sendmail
#     asks the resolver for its canonical name and sleeps 60 s when that
#     fails;
#   - /etc/hosts (HOSTNAME and localhost), /etc/nsswitch.conf (the
#     machine's, "hosts: files"), /etc/resolv.conf (nameserver 127.0.0.1
#     only) and /etc/mail (empty) are DIR's files, bind-mounted;
#     /etc/hosts.allow and hosts.deny (libwrap) are empty. Sendmail's own
#     service switch file does not cover everything: its own AAAA and the
#     client's PTR go through glibc, which would ask the DNS. With hosts
#     from files only, it asks nothing (run.sh checks this with a logging
#     DNS server on 127.0.0.1:53 of the tier's network namespace);
#   - /dev is a tmpfs with null, zero, full, random, urandom and a /dev/log
#     that is LOGSOCK: Sendmail logs only through syslog(3), and the
#     machine may have no /dev/log at all.
# Then the alias database is built (sendmail -bi) and Sendmail replaces
# this shell: its PID is the one run.sh started.
set -euo pipefail
root=$1 dir=$2 host=$3 cf=$4 logsock=$5

hostname "$host"
mount --bind "$dir/etc/hosts" /etc/hosts
mount --bind "$dir/etc/resolv.conf" /etc/resolv.conf
mount --bind "$dir/etc/nsswitch.conf" /etc/nsswitch.conf
: >"$dir/etc/empty"
for f in /etc/hosts.allow /etc/hosts.deny; do
	[[ -e $f ]] && mount --bind "$dir/etc/empty" "$f"
done
# (on a machine without /etc/mail there is nothing to hide)
[[ -d /etc/mail ]] && mount --bind "$dir/etc/mail" /etc/mail

mount -t tmpfs -o mode=0755,size=1m mxguard-sendmail-dev /dev
mknod -m 0666 /dev/null c 1 3
mknod -m 0666 /dev/zero c 1 5
mknod -m 0666 /dev/full c 1 7
mknod -m 0666 /dev/random c 1 8
mknod -m 0666 /dev/urandom c 1 9
ln -s /proc/self/fd /dev/fd
ln -s "$logsock" /dev/log

wrap=$(find "$root" -name libwrap.so.0 | head -n 1)
[[ -n $wrap ]] || { echo "sendmail-ns: no libwrap.so.0 under $root" >&2; exit 1; }
export LD_LIBRARY_PATH=${wrap%/*}
"$dir/sendmail" -C "$cf" -bi >"$dir/newaliases.out" 2>&1
exec "$dir/sendmail" -C "$cf" -bD
