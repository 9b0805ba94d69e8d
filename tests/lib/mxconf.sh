# shellcheck shell=bash
# mxconf.sh - write an mxguard.conf for a test daemon (bash, sourced after
# tests/lib/common.sh).
#
#   . tests/lib/common.sh; . tests/lib/mxconf.sh
#
#   mxconf_write FILE SOCKET [SETTING...] <MORE
#       Writes FILE atomically (FILE.new, then mv: a daemon reloading on
#       SIGHUP never reads half a file):
#         socket = SOCKET          (a bare port number: inet:PORT@127.0.0.1)
#         dns_servers = 127.0.0.1:$DNS_PORT   (unless a SETTING names
#                                  dns_servers; DNS_PORT from t_dns_start)
#         bogus_networks = $MXCONF_BOGUS      (unless a SETTING names it)
#         each SETTING line ("name = value"), in order
#         then stdin (rules, more settings), less every "name = ..." line
#         for a setting written above, so that conf/mxguard.conf can be fed
#         as shipped and the test's own socket, servers and timeouts win.
#       Give </dev/null when there is nothing more. Returns non-zero when
#       the file could not be written.
#
# The settings each tier picks (timeouts, trusted_networks, authserv_id)
# stay in the tier: they are part of what it asserts.
#
# MXCONF_BOGUS: the built-in bogus_networks less the documentation ranges
# (RFC 5737's TEST-NETs, RFC 3849's 2001:db8::/32) and the benchmarking
# range, which the test zones use for the public Internet (no traffic goes
# to MX addresses; they are only judged). The default itself is tested in
# the unit tier and by the review tier's check without this setting.
MXCONF_BOGUS="0.0.0.0/8, 127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16,
  100.64.0.0/10, 224.0.0.0/4, 240.0.0.0/4, 192.0.0.0/24, ::/128, ::1/128, fc00::/7, fe80::/10,
  ff00::/8, 100::/64"

# mxconf_write - the test's settings, then the rest from stdin.
mxconf_write() {
	local file=$1 sock=$2 s names=socket
	shift 2
	if [[ -z ${DNS_PORT:-} && " $* " != *"dns_servers"* ]]; then
		echo "mxconf_write: no DNS_PORT (t_dns_start first) and no dns_servers setting" >&2
		return 1
	fi
	[[ $sock =~ ^[0-9]+$ ]] && sock="inet:$sock@127.0.0.1"
	for s in "$@"; do
		names+="|$(sed -E 's/^[[:space:]]*([A-Za-z_]+).*/\1/' <<<"$s")"
	done
	{
		echo "socket = $sock"
		if [[ "|$names|" != *"|dns_servers|"* ]]; then
			echo "dns_servers = 127.0.0.1:$DNS_PORT"
			names+="|dns_servers"
		fi
		if [[ "|$names|" != *"|bogus_networks|"* ]]; then
			echo "bogus_networks = $MXCONF_BOGUS"
			names+="|bogus_networks"
		fi
		if [[ $# -gt 0 ]]; then printf '%s\n' "$@"; fi
		grep -vE "^($names)[[:space:]]*=" || true
	} >"$file.new" && mv "$file.new" "$file"
}
