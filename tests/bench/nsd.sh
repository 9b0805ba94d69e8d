# nsd.sh - NSD (Debian's nsd, a C authoritative server) on a loopback port,
# for benchmarks: it answers fast enough that the load measures mxguard,
# not the test DNS server (testdns.py is Python and shares the same CPUs).
#
#   . tests/lib/common.sh; . tests/bench/nsd.sh
#   nsd_start ZONE ZONEFILE [ZONE ZONEFILE ...]
#                              serve these zones (each file needs an SOA);
#                              sets NSD_PORT NSD_PID NSD_LOG NSD_CONF;
#                              NSD_FIXED_PORT=53 (say) listens there instead
#                              of on a free port (inside a network namespace)
#   nsd_queries                the number of queries NSD answered so far
#                              (nsd-control stats_noreset over a unix socket
#                              in the temp dir: no keys, no network)
#
# Everything lives in a fresh t_tmpdir: config, pid, xfrd state, log. NSD
# runs in the foreground (-d) without chroot or user switch, in its own
# process group started by t_bg, so t_cleanup stops it (and the server
# and xfrd processes it forks) by PID at exit, also on failure.

# nsd_start - write a config, start nsd, wait until it answers.
nsd_start() {
	local zone=$1 d i n=0
	command -v nsd >/dev/null || { echo "nsd_start: nsd not installed (make deps)" >&2; return 1; }
	d=$(t_tmpdir)
	NSD_PORT=${NSD_FIXED_PORT:-$(t_free_port)}
	NSD_LOG=$d/nsd.log
	NSD_CONF=$d/nsd.conf
	cat >"$d/nsd.conf" <<EOF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  username: ""
  chroot: ""
  zonesdir: "$d"
  database: ""
  zonelistfile: "$d/zone.list"
  pidfile: "$d/nsd.pid"
  xfrdfile: "$d/xfrd.state"
  xfrdir: "$d"
  logfile: "$NSD_LOG"
  server-count: 1
  verbosity: 0
  # one client address sends everything: no response rate limiting
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: yes
  control-interface: $d/nsd.ctl
EOF
	while [[ $# -ge 2 ]]; do
		n=$((n + 1))
		cp "$2" "$d/zone$n"
		printf 'zone:\n  name: %s\n  zonefile: "%s"\n' "$1" "$d/zone$n" >>"$d/nsd.conf"
		shift 2
	done
	t_bg "nsd-$NSD_PORT" nsd -d -c "$d/nsd.conf"
	NSD_PID=$T_LAST_PID
	for ((i = 0; i < 200; i++)); do
		if ! t_alive "$NSD_PID"; then
			echo "nsd_start: nsd exited:" >&2
			cat "$T_BASE/nsd-$NSD_PORT.out" "$NSD_LOG" >&2 2>/dev/null
			return 1
		fi
		# "zone ... read with success" is logged before the server answers
		dig +tries=1 +time=1 +short -p "$NSD_PORT" @127.0.0.1 "$zone" SOA 2>/dev/null |
			grep -q . && return 0
		sleep 0.05
	done
	echo "nsd_start: nsd not answering on $NSD_PORT after 10 s" >&2
	return 1
}

# nsd_queries - queries answered since NSD started (num.queries).
nsd_queries() {
	nsd-control -c "$NSD_CONF" stats_noreset 2>/dev/null | sed -n 's/^num\.queries=//p'
}
