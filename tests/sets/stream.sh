#!/usr/bin/env bash
# stream.sh - one client of the sets tier's steady stream (started by
# tests/sets/run.sh, several in parallel): sends one message after the
# other through Postfix until STOPFILE exists, each from PREFIX-N@DOMAIN
# to PREFIX-N@RCPTDOMAIN with XCLIENT ADDR=XADDR (IPv6 as IPV6:addr), and
# appends one line per message to OUT:
#
#   ID START_NS END_NS SWAKS_EXIT REPLY
#
# START_NS/END_NS bracket the whole SMTP session (date +%s%N); REPLY is
# the first refusal ("550 5.7.1 ...") or the final "250 ... queued as"
# line, "-" when there was neither. Runs at least one message.
#
#   stream.sh OUT STOPFILE PORT XADDR PREFIX DOMAIN RCPTDOMAIN
set -u
out=$1 stop=$2 port=$3 xaddr=$4 prefix=$5 domain=$6 rcptdom=$7
i=0
while :; do
	i=$((i + 1))
	id=$prefix-$i
	t0=$(date +%s%N)
	o=$(swaks --server "127.0.0.1:$port" --helo stream.sets.test --xclient-addr "$xaddr" \
		--from "$id@$domain" --to "$id@$rcptdom" --timeout 60 2>&1 </dev/null)
	rc=$?
	t1=$(date +%s%N)
	reply=$(sed -nE 's/^<~?\*\* //p' <<<"$o" | head -n 1)
	[[ -n $reply ]] || reply=$(sed -nE 's/^<[-~] +(250 .*queued as.*)/\1/p' <<<"$o" | tail -n 1)
	printf '%s %s %s %s %s\n' "$id" "$t0" "$t1" "$rc" "${reply:--}" >>"$out"
	[[ -e $stop ]] && break
done
exit 0
