#!/usr/bin/env bash
# bench/run.sh - make bench: mxguard side by side with what operators run
# (issue 9). Not part of make test: it reports figures and never asserts a
# timing; it fails (non-zero, saying why) only when something does not work:
# a stack that does not start, a message not accepted or not delivered, a
# filter whose header is missing from a delivered message.
#
# Four stacks (tests/bench/stacks.sh), started once, each a private Postfix
# relaying to its own smtp-sink: Postfix alone; Postfix + a trivial
# pass-through milter (tests/bench/passmilter.c); Postfix + mxguard with
# conf/mxguard.conf as shipped (MX, SPF, DKIM, DMARC); the peer stack
# (reject_unknown_sender_domain + policyd-spf + opendkim + opendmarc).
#
# Everything runs in a network and mount namespace of its own (unshare -m
# -n, only loopback): the DNS server listens on 127.0.0.1:53, and
# /etc/resolv.conf is bind-mounted over with "nameserver 127.0.0.1", so the
# peer daemons (libresolv, libunbound, pyspf) ask it and nothing else; no
# packet can leave, the machine's resolver is never asked.
#
# The sender mix (tests/bench/mkset.py): BENCH_DOMAINS domains with Zipf
# frequencies and a share BENCH_FIRST_SHARE of first-seen domains (new to
# every stack in every round), each with MX, A, SPF, a DKIM key (2048 bits)
# and a DMARC record; messages ~2.8 KB, signed by dkimpy, generated once.
#
#  1. Verification: BENCH_VERIFY messages through each stack; every one
#     delivered with its filters' headers (tests/bench/checksink.py).
#  2. Throughput: BENCH_ROUNDS rounds, the stacks interleaved in each
#     (order rotated per round); BENCH_MESSAGES messages per stack and
#     round, one per connection, BENCH_SESSIONS at once (tests/bench/
#     smtpload.py, which also times MAIL FROM, RCPT TO and end of data:
#     the latency at 0 ms DNS delay, under load). DNS from NSD (a C server:
#     the load measures the stacks, not the DNS server). CPU per component
#     from /proc (tests/bench/procs.py), queries from NSD's counters. Each
#     round's messages are checked in the sinks as in 1.
#  3. Latency at +BENCH_DELAY_MS per DNS answer: testdns.py --delay-ms
#     replaces NSD on 127.0.0.1:53; BENCH_LAT_MESSAGES messages per stack.
#  4. 1,000 concurrent sessions (BENCH_CONCURRENT): a separate mxguard,
#     milter sessions held at MAIL FROM while DNS never answers
#     (tests/bench/sessions.py); its RSS.
#  5. tests/bench/chain.sh (how one message's lookup chains overlap) and
#     tests/bench/lookups.sh (latency by lookup chain, sets and DNSBLs);
#     BENCH_CHAIN=0 / BENCH_LOOKUPS=0 skip them.
#  6. tests/bench/replay.sh: `mxguard replay`'s lines a second on a large
#     JSON log, and jq's on the same file; BENCH_REPLAY=0 skips it.
# Then tests/bench/report.py prints the summary table and the issue's
# targets as computed values with met/missed (never asserted).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

if [[ -z ${MXG_BENCH_NS:-} ]]; then
	unshare -m -n true 2>/dev/null || { echo "bench: needs root and unshare -m -n (a namespace of its own)" >&2; exit 1; }
	# shellcheck disable=SC2016 # "$0" is expanded by the inner bash
	exec unshare -m -n env MXG_BENCH_NS=1 bash -c 'ip link set lo up && exec bash "$0"' "$0"
fi

T_TIER=bench
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh
. tests/lib/dkim.sh
. tests/bench/nsd.sh
. tests/bench/stacks.sh

N=${BENCH_MESSAGES:-1000}
ROUNDS=${BENCH_ROUNDS:-5}
S=${BENCH_SESSIONS:-20}
LAT_N=${BENCH_LAT_MESSAGES:-300}
DELAY=${BENCH_DELAY_MS:-100}
DOMAINS=${BENCH_DOMAINS:-300}
FIRST=${BENCH_FIRST_SHARE:-0.1}
VERIFY=${BENCH_VERIFY:-60}
CONC=${BENCH_CONCURRENT:-1000}

links=$(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
[[ $links == "lo " ]] || t_die "not in a loopback-only network namespace (links: $links)"
ulimit -n 16384 || t_die "cannot raise the open files limit"
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_die "build failed"
for tool in opendkim opendmarc policyd-spf nsd nsd-control opendkim-genkey smtp-sink cc; do
	command -v "$tool" >/dev/null || t_die "$tool is not installed (make test-deps)"
done
W=$(t_tmpdir)
R=$W/results.jsonl
: >"$R"

# --- the resolver everyone sees: 127.0.0.1:53 in this namespace --------------------
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$W/resolv.conf"
mount --bind "$W/resolv.conf" /etc/resolv.conf || t_die "cannot bind-mount resolv.conf in the namespace"

# --- keys and messages, once -------------------------------------------------------
echo "bench: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); making the sender mix"
mkdir -p "$W/keys"
for k in 0 1 2 3; do
	dkim_genkey "$W/keys" "k$k" bench.test 2048 || t_die "opendkim-genkey: $(cat "$W/keys/genkey.log")"
done
variants=()
for s in "${STACKS[@]}"; do
	variants+=(--variant "v-$s:$VERIFY" --variant "l$DELAY-$s:$LAT_N")
	for ((r = 1; r <= ROUNDS; r++)); do variants+=(--variant "t$r-$s:$N"); done
done
"$T_PY" tests/bench/mkset.py --out "$W/set" --keys "$W/keys" --nkeys 4 --domains "$DOMAINS" \
	--messages "$N" --first-share "$FIRST" "${variants[@]}" | sed 's/^/  /' ||
	t_die "mkset.py failed"
[[ -s $W/set/zone ]] || t_die "no zone"

NSD_FIXED_PORT=53 nsd_start example "$W/set/zone" || t_die "nsd did not start on 127.0.0.1:53"
[[ $(dig +short +tries=1 +time=2 MX z1.example) == "10 mx.z1.example." ]] ||
	t_die "the system resolver's path does not reach NSD"
DNS_PID_NOW=$NSD_PID

stacks_start "$(t_tmpdir)"
echo "bench: stacks up: postfix $(postconf -c "$PF_CONF" -h mail_version), passmilter, mxguard," \
	"opendkim $(opendkim -V 2>&1 | sed -nE '1s/.*v([0-9.a-z~]+).*/\1/p'), opendmarc" \
	"$(opendmarc -V 2>&1 | sed -nE 's/.*Filter v([0-9.]+).*/\1/p'), policyd-spf" \
	"$(dpkg-query -W -f='${Version}' postfix-policyd-spf-python 2>/dev/null)"

# memory of every component, sampled through the whole run
mem_specs=(mxguard="$MXG_PID" passmilter="$PASS_PID" opendkim="$ODK_PID" opendmarc="$ODM_PID"
	"policyd-spf=${ST_MASTER[peer]}/own=policyd-spf")
for s in "${STACKS[@]}"; do mem_specs+=("postfix-$s=${ST_MASTER[$s]}/own=!policyd-spf"); done
t_bg memsample "$T_PY" tests/bench/procs.py mem "$W/mem.json" 1 "${mem_specs[@]}"
MEM_PID=$T_LAST_PID

# dns_queries - queries answered so far by the server on 127.0.0.1:53
dns_queries() {
	if [[ $DNS_PID_NOW == "$NSD_PID" ]]; then nsd_queries; else wc -l <"$DNS_LOG"; fi
}

# blast PHASE ROUND STACK VARIANT - send a variant's list through a stack,
# wait for every message in the sink, check each, append a result line
blast() {
	local phase=$1 round=$2 st=$3 list=$W/set/$4.list specs c0 c1 q0 q1 out n i
	n=$(wc -l <"$list")
	read -ra specs <<<"$(stack_spec "$st" | tr '\n' ' ') dns=$DNS_PID_NOW"
	c0=$("$T_PY" tests/bench/procs.py cpu "${specs[@]}")
	q0=$(dns_queries)
	out=$("$T_PY" tests/bench/smtpload.py "${ST_PORT[$st]}" "$list" "${CONC_NOW:-$S}" \
		"$W/lat.$phase.$round.$st" 2>"$W/load.err") ||
		t_die "$st ($phase $round): messages not accepted: $(cat "$W/load.err")"
	for ((i = 0; i < 1200; i++)); do
		(($(find "${ST_SINK[$st]}" -maxdepth 1 -type f -name 'msg-*' | wc -l) >= n)) && break
		sleep 0.1
	done
	q1=$(dns_queries)
	c1=$("$T_PY" tests/bench/procs.py cpu "${specs[@]}")
	CHECK=$("$T_PY" tests/bench/checksink.py --remove "${ST_SINK[$st]}" "$list" "$st" 2>&1) ||
		t_die "$st ($phase $round): $CHECK"
	"$T_PY" - "$phase" "$round" "$st" "$n" "$out" "$q0" "$q1" "$c0" "$c1" \
		"$W/lat.$phase.$round.$st" >>"$R" <<'EOF' || t_die "cannot record a result"
import json, sys
phase, rnd, st, n, out, q0, q1, c0, c1, lat = sys.argv[1:]
secs, ccpu = out.split()
a = dict(l.split() for l in c0.splitlines())
b = dict(l.split() for l in c1.splitlines())
print(json.dumps({"phase": phase, "round": int(rnd), "stack": st, "n": int(n),
                  "secs": float(secs), "client_cpu_ms": float(ccpu),
                  "queries": int(q1) - int(q0),
                  "cpu_ms": {k: int(b[k]) - int(a[k]) for k in a}, "lat": lat}))
EOF
	printf '  %-12s %-10s %5d msgs %7.1f msg/s  %s\n' "$phase $round" "$st" "$n" \
		"$(awk -v n="$n" -v s="${out% *}" 'BEGIN { print n / s }')" "$CHECK"
}

# --- 1. every component does its work -----------------------------------------------
echo "bench: verification, $VERIFY messages per stack, one session (also warms up processes and caches)"
# one session: every first use (process start-up, resolver set-up) in turn
for s in "${STACKS[@]}"; do CONC_NOW=1 blast verify 0 "$s" "v-$s"; done

# --- 2. throughput, interleaved rounds ----------------------------------------------
echo "bench: throughput, $ROUNDS rounds x $N messages per stack, $S sessions, DNS from NSD"
for ((r = 1; r <= ROUNDS; r++)); do
	for ((j = 0; j < ${#STACKS[@]}; j++)); do
		s=${STACKS[$(((j + r - 1) % ${#STACKS[@]}))]}
		blast tput "$r" "$s" "t$r-$s"
	done
done

# --- 3. latency with every DNS answer late ---------------------------------------
echo "bench: latency, every DNS answer +$DELAY ms (testdns.py on 127.0.0.1:53), $LAT_N messages per stack"
t_stop "$NSD_PID"
d=$(t_tmpdir)
DNS_LOG=$d/query.log
: >"$DNS_LOG"
t_bg testdns53 "$T_PY" tests/dns/testdns.py --zones "$W/set/zone" --addr 127.0.0.1 --port 53 \
	--delay-ms "$DELAY" --port-file "$d/port" --log "$DNS_LOG"
DNS_PID_NOW=$T_LAST_PID
t_wait_file "$d/port" 20 || t_die "testdns does not listen on 127.0.0.1:53: $(cat "$T_BASE/testdns53.out")"
for s in "${STACKS[@]}"; do blast "lat$DELAY" 1 "$s" "l$DELAY-$s"; done

# --- 4. 1,000 concurrent sessions waiting on DNS -------------------------------------
if [[ $CONC -gt 0 ]]; then
	echo "bench: $CONC concurrent milter sessions held at MAIL FROM, DNS never answering"
	bash tests/bench/sessions.sh "$CONC" "$W/sessions.json" || t_die "sessions test failed"
fi

# mxguard's DNS cache counters (logged when it stops)
t_stop "$MXG_PID"
grep -iE 'dns cache' "$MXG_LOG" | tail -n 2 >"$W/cache.txt"
t_stop "$MEM_PID"

# --- 5. the lookup-chain runs -----------------------------------------------------------
[[ ${BENCH_CHAIN:-1} == 0 ]] || bash tests/bench/chain.sh || t_die "tests/bench/chain.sh failed"
[[ ${BENCH_LOOKUPS:-1} == 0 ]] || bash tests/bench/lookups.sh || t_die "tests/bench/lookups.sh failed"
[[ ${BENCH_REPLAY:-1} == 0 ]] || bash tests/bench/replay.sh || t_die "tests/bench/replay.sh failed"

"$T_PY" tests/bench/report.py --results "$R" --mem "$W/mem.json" --sessions "$W/sessions.json" \
	--cache "$W/cache.txt" --delay "$DELAY" --sessions-n "$S" || t_die "report.py failed"
echo "bench: done"
