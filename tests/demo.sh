#!/usr/bin/env bash
# demo.sh - a local show of mxguard (make demo): no internet needed.
#
# Starts testdns.py with a few example domains, mxguard with the shipped
# conf/mxguard.conf (only socket, dns_servers and authserv_id changed), and
# a private Postfix wired to it; sends one message per sender through swaks
# (presenting client 192.0.2.5 via XCLIENT, since 127.0.0.1 is trusted by
# default); prints sender | SMTP reply | mx fact | rule | delivered?; stops
# everything. KEEP=1 leaves the logs behind.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh

T_TIER=demo
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_die "build failed"
W=$(t_tmpdir)

cat >"$W/demo.zone" <<'EOF'
$TTL 300
example.            SOA  ns.example. hostmaster.example. 1 3600 600 86400 60
good.example.       MX   10 mx.good.example.
mx.good.example.    A    192.0.2.10
good.example.       TXT  "v=spf1 ip4:192.0.2.0/24 -all"
implicit.example.   A    198.51.100.7
nullmx.example.     MX   0 .
bogus.example.      MX   10 mx.bogus.example.
mx.bogus.example.   A    10.0.0.1
spf-fail.example.   MX   10 mx.good.example.
spf-fail.example.   TXT  "v=spf1 -all"
broken-dns.example. A    192.0.2.30
$FAULT broken-dns.example. servfail
EOF

echo "demo: starting a test DNS server, mxguard and a private Postfix on 127.0.0.1 ..."
t_dns_start "$W/demo.zone" || t_die "testdns did not start"
MPORT=$(t_free_port)
mxconf_write "$W/mxguard.conf" "$MPORT" "dns_timeout = 3s" "authserv_id = mx.demo.example" <conf/mxguard.conf
out=$(./mxguard -n -c "$W/mxguard.conf" 2>&1) || t_die "configuration: $out"
t_mxguard_start "$W/mxguard.conf" "$MPORT" || t_die "mxguard did not start"
pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
pf_start || t_die "postfix did not start"

senders=(
	alice@good.example
	bob@implicit.example
	carol@nullmx.example
	dave@nonexistent.example
	erin@bogus.example
	frank@broken-dns.example
	grace@spf-fail.example
	'<>'
)
declare -A reply
n=0
for s in "${senders[@]}"; do
	n=$((n + 1))
	out=$(swaks --server "127.0.0.1:$PF_PORT" --from "$s" --to "user$n@$PF_RCPT_DOMAIN" \
		--xclient-addr 192.0.2.5 --helo client.demo.example --timeout 30 2>&1)
	r=$(sed -nE 's/^<~?\*\* //p' <<<"$out" | head -n 1)
	[[ -n $r ]] || r=$(sed -nE 's/^<[-~] +(250 .*queued as.*)/\1/p' <<<"$out" | tail -n 1)
	reply[$n]=${r:-"(no reply)"}
done
pf_sink_wait 3 5 || true
sleep 0.5

# field LINE KEY - one key=value (possibly quoted) from a decision log line.
field() {
	sed -nE "s/.* $2=(\"[^\"]*\"|[^ ]*).*/\1/p" <<<"$1" | tr -d '"'
}

line() { printf '%-27s | %-62s | %-9s | %-13s | %s\n' "$@"; }
echo
line "sender" "SMTP reply" "mx fact" "rule" "delivered?"
line "$(printf '%.0s-' {1..27})" "$(printf '%.0s-' {1..62})" "---------" "-------------" "----------"
n=0
for s in "${senders[@]}"; do
	n=$((n + 1))
	[[ $s == '<>' ]] && key='sender=<> ' || key="sender=<$s> "
	log=$(grep -F "$key" "$MXG_LOG" | tail -n 1)
	if grep -lqsF "X-Rcpt-Args: <user$n@$PF_RCPT_DOMAIN>" "$PF_SINK_DIR"/msg-*; then
		got=yes
	else
		got=no
	fi
	r=${reply[$n]}
	((${#r} > 62)) && r="${r:0:59}..."
	line "$s" "$r" "$(field "$log" mx)" "$(field "$log" rule)" "$got"
done
echo
echo "demo: the decision log line for carol@nullmx.example:"
grep -F 'sender=<carol@nullmx.example> ' "$MXG_LOG" | tail -n 1 | fold -s -w 100 | sed 's/^/  /'
echo "demo: stopping everything"
