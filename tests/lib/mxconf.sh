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
#         each SETTING line ("name = value"), in order
#         then stdin (rules, more settings), less every "name = ..." line
#         for a setting written above, so that conf/mxguard.conf can be fed
#         as shipped and the test's own socket, servers and timeouts win.
#       Give </dev/null when there is nothing more. Returns non-zero when
#       the file could not be written.
#
# The settings each tier picks (timeouts, trusted_networks, authserv_id)
# stay in the tier: they are part of what it asserts.

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
		if [[ $# -gt 0 ]]; then printf '%s\n' "$@"; fi
		grep -vE "^($names)[[:space:]]*=" || true
	} >"$file.new" && mv "$file.new" "$file"
}
