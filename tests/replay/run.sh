#!/usr/bin/env bash
# replay/run.sh - `mxguard replay` on real logs.
#
# 1. golden: the log kept in tests/replay/golden/ (written by this tier's
#    daemon, through Postfix) replayed against the configuration that wrote
#    it (every decision line reproduced, nothing changes: exit 0), a
#    stricter and a looser candidate (the moves asserted against an oracle
#    that reads the log with python3), a candidate with a dead and a
#    shadowed rule, --json parsed by python3, the log gzipped, and hostile
#    input around it (truncated, huge and invalid UTF-8 lines, unknown keys,
#    a newer version's line, text-format and syslog-prefixed lines).
# 2. live: a private Postfix with the real ./mxguard (log_format = json,
#    tests/replay/logged.conf) and testdns.py (tests/replay/zones.txt); a few
#    hundred SMTP transactions of every class (tests/replay/traffic.py);
#    the daemon's own log replayed the same ways; then the daemon reloaded
#    with dry_run = yes and a second batch replayed with --baseline.
# REPLAY_RECORD=FILE keeps the live log there (to renew golden/log.jsonl).
# Prints "replay: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/mxconf.sh
. tests/lib/dkim.sh

HERE=tests/replay
GOLD=$HERE/golden
[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_abort "build failed"
for tool in gzip "$T_PY" postfix swaks; do
	command -v "$tool" >/dev/null || t_abort "$tool is missing (make test-deps installs it)"
done
W=$(t_tmpdir)

# replay ARGS... - ./mxguard replay; sets OUT, ERR, RC
replay() {
	OUT=$(./mxguard replay "$@" 2>"$W/replay.err")
	RC=$?
	ERR=$(cat "$W/replay.err")
}

# jq_py EXPR FILE - python3 on the JSON report in FILE (variable R): prints EXPR
jq_py() {
	"$T_PY" -c 'import json, sys
R = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "$2"
}

# oracle LOG MODE - the expected moves of a candidate, from the log's own facts (oracle.py)
oracle() {
	"$T_PY" "$HERE/oracle.py" "$2" "$1"
}

# check_log NAME LOG CONF - every replay check on one log written under CONF
check_log() {
	local name=$1 log=$2 conf=$3 want
	# the same configuration: every line again, nothing changes
	replay -c "$conf" --json "$log"
	echo "$OUT" >"$W/$name.same.json"
	t_expect_eq "$RC" 0 "$name: replayed against the configuration that wrote it: exit 0 (nothing changes)"
	t_expect_eq "$(jq_py 'R["lines_same"] == R["lines_compared"] == R["decision_lines"] > 100' "$W/$name.same.json")" True \
		"$name: every decision line reproduced exactly (rule, action, stage, recipient, reply): $(jq_py '"%d of %d" % (R["lines_same"], R["decision_lines"])' "$W/$name.same.json")"
	t_expect_eq "$(jq_py '(R["changed"], R["undecided"]["messages"], R["errors"], R["moves"])' "$W/$name.same.json")" \
		"(0, 0, 0, [])" "$name: no changed, undecided or error message, no moves"
	t_expect_eq "$(jq_py 'R["messages"]' "$W/$name.same.json")" "$(oracle "$log" messages)" \
		"$name: one message per txn of the log"
	# stricter: softfail refused, the dry-run rule enforced
	replay -c "$HERE/stricter.conf" --json --limit 3 "$log"
	echo "$OUT" >"$W/$name.strict.json"
	t_expect_eq "$RC" 1 "$name: stricter candidate: exit 1 (decisions change)"
	want=$(oracle "$log" stricter)
	t_expect_eq "$(jq_py 'sorted((m["from"], m["to"], m["count"]) for m in R["moves"])' "$W/$name.strict.json")" "$want" \
		"$name: stricter candidate: the moves the log's facts call for ($want)"
	t_expect_eq "$(jq_py 'R["undecided"]["messages"]' "$W/$name.strict.json")" 0 "$name: stricter candidate: nothing undecided"
	t_expect_match "$(jq_py '[(g["old_rule"], g["new_rule"], [e["reply"] for e in g["examples"]][:1]) for g in R["changes"]]' "$W/$name.strict.json")" \
		"'default', 'softfail', \\['550 5\\.7\\.23 SPF softfail for soft\\.test'\\]" \
		"$name: stricter candidate: changes grouped by the pair of rules, replies in the candidate's words"
	# looser: DMARC reject becomes quarantine; the null-MX rule is gone
	replay -c "$HERE/looser.conf" --json "$log"
	echo "$OUT" >"$W/$name.loose.json"
	t_expect_eq "$RC" 1 "$name: looser candidate: exit 1"
	want=$(oracle "$log" looser)
	t_expect_eq "$(jq_py 'sorted((m["from"], m["to"], m["count"]) for m in R["moves"])' "$W/$name.loose.json")" "$want" \
		"$name: looser candidate: the moves the log's facts call for ($want)"
	t_expect_eq "$(jq_py 'sorted(R["undecided"]["needs"].items())' "$W/$name.loose.json")" "$(oracle "$log" looser-needs)" \
		"$name: looser candidate: messages refused at RCPT are undecided, naming the fact the log lacks"
	# a dead and a shadowed rule: no decision changes, the report says which
	replay -c "$HERE/deadshadow.conf" --json "$log"
	echo "$OUT" >"$W/$name.dead.json"
	t_expect_eq "$RC" 0 "$name: dead and shadowed rules change no decision: exit 0"
	t_expect_eq "$(jq_py '[(r["name"], r["dead"], r["shadowed"], r["shadowed_by"]) for r in R["rules"] if r["name"] in ("never", "null-mx-again")]' "$W/$name.dead.json")" \
		"[('never', True, False, {}), ('null-mx-again', False, True, {'null-mx': $(oracle "$log" nullmx)})]" \
		"$name: 'never' is dead, 'null-mx-again' is shadowed by null-mx on every null-MX message"
	# the other rules are what they are on the configuration that wrote the log (rules no message hits are dead there too)
	t_expect_eq "$(jq_py 'sorted(r["name"] for r in R["rules"] if r["dead"] or r["shadowed"])' "$W/$name.dead.json")" \
		"$(jq_py 'sorted([r["name"] for r in R["rules"] if r["dead"] or r["shadowed"]] + ["never", "null-mx-again"])' "$W/$name.same.json")" \
		"$name: no other rule is called dead or shadowed than on the configuration that wrote the log"
	t_expect_eq "$(jq_py '[r["name"] for r in R["rules"] if r["name"] in ("null-mx", "no-domain", "dmarc-reject", "default") and (r["dead"] or not r["decides"])]' "$W/$name.same.json")" \
		"[]" "$name: rules the traffic hits are neither dead nor idle"
	# the text report says the same
	replay -c "$HERE/deadshadow.conf" "$log"
	t_expect_match "$OUT" $'\n  never +[0-9]+  reject +0 +0  dead: true for no message\n' "$name: text report: the dead rule"
	t_expect_match "$OUT" $'\n  null-mx-again +[0-9]+  reject +0 +[0-9]+  shadowed: true for [0-9]+, decided earlier by null-mx \\([0-9]+\\)\n' \
		"$name: text report: the shadowed rule"
	replay -c "$HERE/stricter.conf" --limit 2 "$log"
	t_expect_match "$OUT" $'\n    accept \xe2\x86\x92 reject: [0-9]+\n' "$name: text report: the moves (accept → reject)"
	t_expect_match "$OUT" $'\n  default accept \xe2\x86\x92 softfail reject: [0-9]+\n    [0-9T:.-]+Z [^ ]+ sender=<m[0-9]+@soft\\.test> client=203\\.0\\.113\\.9 spf=softfail: default accept \xe2\x86\x92 softfail reject "550 5\\.7\\.23 SPF softfail for soft\\.test"' \
		"$name: text report: a changed decision's line (time, queue id, sender, client, facts, rules, reply)"
	t_expect_match "$OUT" $'\n    \\.\\.\\. and [0-9]+ more\n' "$name: text report: --limit 2 lines per pair of rules"
	# gzip: the same report
	gzip -c "$log" >"$W/$name.log.gz"
	replay -c "$conf" --json "$W/$name.log.gz"
	t_expect_eq "$(jq_py '(R["decision_lines"], R["lines_same"], R["changed"])' /dev/stdin <<<"$OUT")" \
		"$(jq_py '(R["decision_lines"], R["lines_same"], R["changed"])' "$W/$name.same.json")" "$name: read from .gz: the same"
	# two inputs: the log cut in two, the second half gzipped (a rotated log and the live one)
	head -n 100 "$log" >"$W/$name.1"
	tail -n +101 "$log" | gzip -c >"$W/$name.2.gz"
	replay -c "$conf" --json "$W/$name.1" "$W/$name.2.gz"
	t_expect_eq "$RC:$(jq_py '(R["messages"], R["lines_same"], R["changed"])' /dev/stdin <<<"$OUT")" \
		"0:$(jq_py '(R["messages"], R["lines_same"], R["changed"])' "$W/$name.same.json")" \
		"$name: a message split across two inputs (plain, then .gz) is one message"
}

# hostile LOG CONF - the log among lines no reader should trust
hostile() {
	local log=$1 conf=$2 h=$W/hostile.log src
	src=$(grep -m1 '"stage":"eom"' "$log")
	{
		echo ""
		echo "Dec  3 10:00:00 mx postfix/smtpd[42]: connect from unknown[192.0.2.10]"
		echo 'queue_id=4XyZ1 client_ip=192.0.2.1 helo=client.test sender=<n1@nullmx.test> rule=null-mx action=reject reply="550 5.7.27 x" dry_run=no stage=rcpt elapsed_ms=2'
		head -n 40 "$log"
		# cut short, as a full disk or a crash leaves it
		head -c 300 <<<"$src"; echo
		# invalid UTF-8 in a value; a NUL byte; binary garbage
		printf '{"queue_id":"\xff\xfe","action":"accept","stage":"eom"}\n'
		printf '{"queue_id":"a\0b","action":"accept","stage":"eom"}\n'
		# (fixed bytes: random ones starting with "{" once made a line invalid_utf8 instead of not_json)
		"$T_PY" -c 'import random, sys; r = random.Random(20261203); b = bytes(r.randrange(256) for _ in range(2000)).replace(b"\n", b""); sys.stdout.buffer.write(b"\x01" + b + b"\n")'
		# longer than the reader takes (4 MiB), and long but valid JSON of another program
		head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; echo
		printf '{"msg":"%s"}\n' "$(head -c 100000 /dev/zero | tr '\0' 'y')"
		# a value mxguard never writes
		sed -E 's/"action":"[a-z]+"/"action":"explode"/' <<<"$src"
		# a newer version: unknown facts of every shape, its own txn; and a copy behind a syslog prefix
		sed -E 's/"txn":"[^"]*"/"txn":"feedbeef.1"/; s/"log_version":2/"log_version":3,"future_fact":"x","future_set":["a","b"],"future_obj":{"k":[1,{"z":null}]}/' <<<"$src"
		sed -E 's/"txn":"[^"]*"/"txn":"feedbeef.2"/; s/^/Dec  3 10:00:01 mx mxguard[123]: /' <<<"$src"
		tail -n +41 "$log"
	} >"$h"
	replay -c "$conf" --json "$h"
	echo "$OUT" >"$W/hostile.json"
	t_expect_eq "$RC" 0 "hostile input: no crash, exit 0 (the log's messages decide as before)"
	t_expect_eq "$(jq_py 'sorted((k, v) for k, v in R["skipped"].items() if v)' "$W/hostile.json")" \
		"[('bad_value', 1), ('broken_json', 2), ('empty', 1), ('invalid_utf8', 1), ('not_decision', 1), ('not_json', 2), ('text_format', 1), ('too_long', 1)]" \
		"hostile input: each bad line skipped and counted by why"
	t_expect_eq "$(jq_py '(R["decision_lines"] - 2, R["lines_same"] - 2, R["changed"], sorted(R["unknown_keys"].items()), R["log_versions"]["newer"])' "$W/hostile.json")" \
		"$(jq_py '(R["decision_lines"], R["lines_same"], 0, [("future_fact", 1), ("future_obj", 1), ("future_set", 1)], 1)' "$W/golden.same.json")" \
		"hostile input: the log's lines read as before; a newer version's line read, its unknown keys named"
	t_expect_match "$ERR" "warning: 2 skipped: broken JSON \\(cut short, or not JSON\\) \\(first: $h:[0-9]+, column [0-9]+: " \
		"hostile input: a warning for each kind, with where the first one is"
	t_expect_match "$ERR" 'warning: 1 skipped: text-format decision lines \(replay reads log_format = json\)' \
		"hostile input: text-format lines named as such"
	t_expect_match "$ERR" 'warning: key "future_obj" \(1 lines\) is not one this version knows: ignored' \
		"hostile input: unknown keys named in a warning"
}

# --- 1. the golden log ------------------------------------------------------------
for f in "$GOLD/log.jsonl" "$HERE/stricter.conf" "$HERE/looser.conf" "$HERE/deadshadow.conf"; do
	[[ -s $f ]] || t_abort "missing $f"
done
check_log golden "$GOLD/log.jsonl" "$HERE/logged.conf"
hostile "$GOLD/log.jsonl" "$HERE/logged.conf"
replay -c "$HERE/logged.conf" "$W/no-such-file.log"
t_expect_eq "$RC" 66 "an input that cannot be read: exit 66"
replay -c "$W/no-such.conf" "$GOLD/log.jsonl"
t_expect_eq "$RC" 78 "a candidate that cannot be loaded: exit 78"
replay --frobnicate
t_expect_eq "$RC" 64 "an unknown option: exit 64"
replay --limit many
t_expect_eq "$RC:$ERR" "64:mxguard replay: --limit many is not a number from 0 to 100000" "--limit must be a number: exit 64"
replay --help
t_expect_match "$RC:$OUT" '^0:usage: mxguard replay \[-c CANDIDATE\] \[--baseline CURRENT\] \[--json\] \[--limit N\] \[LOGFILE\.\.\.\]' \
	"replay --help: its usage on stdout, exit 0"
t_expect_match "$(./mxguard -h)" $'\n +mxguard replay \\[-c CANDIDATE\\]' "mxguard -h lists replay"
replay -c "$HERE/logged.conf" <"$GOLD/log.jsonl"
t_expect_match "$RC:$OUT" '^0:mxguard replay: candidate tests/replay/logged.conf against the log \(1 input, [0-9]+ lines\)' \
	"the log on standard input"

# --- 2. live: Postfix and mxguard write the log ------------------------------------
dkim_genkey "$W" rp signed.test 1024 || t_abort "opendkim-genkey" "$(cat "$W/genkey.log")"
dkim_key_zone "$W" rp signed.test >"$W/key.zone"
t_dns_start "$HERE/zones.txt" "$W/key.zone" || t_abort "testdns did not start"
MPORT=$(t_free_port)
CONF=$W/mxguard.conf
mxconf_write "$CONF" "$MPORT" <"$HERE/logged.conf" || t_abort "cannot write $CONF"
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard did not start"
pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
sed -i "s/^relay_domains = .*/relay_domains = $PF_RCPT_DOMAIN, closed.test, watch.test/" "$PF_CONF/main.cf"
pf_touch_conf
pf_start || t_abort "postfix did not start"

# send OUT [traffic.py options] - the transactions; waits for a line of each
send() {
	local out=$1 n i want
	shift
	"$T_PY" "$HERE/traffic.py" --port "$PF_PORT" --key "$W/rp.private" --out "$out" "$@" 2>"$W/traffic.err" ||
		t_abort "traffic.py failed" "$(tail -n 5 "$W/traffic.err")"
	n=$(wc -l <"$out")
	# every transaction had a MAIL FROM, so a txn; an abort's line comes after the client's RSET
	for ((i = 0; i < 100; i++)); do
		(($(grep -o '"txn":"[^"]*"' "$MXG_LOG" | sort -u | wc -l) >= SENT + n)) && break
		sleep 0.1
	done
	SENT=$((SENT + n))
}
SENT=0
send "$W/sent.jsonl"
grep '^{' "$MXG_LOG" >"$W/live.jsonl"
t_expect_eq "$(grep -o '"txn":"[^"]*"' "$W/live.jsonl" | sort -u | wc -l)" "$SENT" \
	"live: a txn in the log for each of the $SENT transactions sent"
kinds=$("$T_PY" "$HERE/oracle.py" kinds "$W/live.jsonl")
for k in "watch-rcpt reject dry rcpt" "closed-rcpt reject rcpt" "null-mx reject rcpt" "no-domain reject rcpt" \
	"no-route reject rcpt" "mx-temperror tempfail rcpt" "in-bl reject rcpt" "drop-mx reject rcpt" \
	"discard-it discard eom" "dmarc-reject reject eom" "dmarc-quarantine quarantine eom" "spf-fail reject eom" \
	"spf-permerror reject dry eom" "from-several reject eom" "dns-incomplete:mx_addr tempfail eom" \
	"trusted accept eom" "authenticated accept eom" "default accept eom" "- none abort"; do
	t_expect_match "$kinds" "(^|,)$k(,|\$)" "live: the log has a line of kind: $k"
done
[[ -n ${REPLAY_RECORD:-} ]] && cp "$W/live.jsonl" "$REPLAY_RECORD"
check_log live "$W/live.jsonl" "$HERE/logged.conf"

# --- 3. a log written in dry run, compared with and without --baseline --------------
{ grep -v '^#' "$HERE/logged.conf"; echo "dry_run = yes"; } >"$W/dry.conf"
mxconf_write "$CONF" "$MPORT" <"$W/dry.conf" || t_abort "cannot write $CONF"
before=$(wc -l <"$MXG_LOG")
kill -HUP "$MXG_PID"
t_wait_grep -F 'reloaded configuration' "$MXG_LOG" 5 >/dev/null || t_abort "no reload after SIGHUP"
send "$W/sent-dry.jsonl" --classes nullmx:10,nxdomain:5,valid:10,softfail:5 --first 1000 --seed 5
tail -n +$((before + 1)) "$MXG_LOG" | grep '^{' >"$W/dry.jsonl"
replay -c "$W/dry.conf" --json "$W/dry.jsonl"
t_expect_eq "$RC:$(jq_py '(R["lines_same"] == R["decision_lines"], R["changed"])' /dev/stdin <<<"$OUT")" "0:(True, 0)" \
	"dry run: replayed against its own configuration, every line again"
want=$(oracle "$W/dry.jsonl" enforce)
replay -c "$HERE/logged.conf" --json "$W/dry.jsonl"
t_expect_eq "$RC:$(jq_py 'sorted((m["from"], m["to"], m["count"]) for m in R["moves"])' /dev/stdin <<<"$OUT")" "1:$want" \
	"dry run: the same rules enforcing, against the log: the dry-run refusals become refusals ($want)"
replay -c "$HERE/logged.conf" --baseline "$W/dry.conf" --json "$W/dry.jsonl"
t_expect_eq "$RC:$(jq_py '(sorted((m["from"], m["to"], m["count"]) for m in R["moves"]), R["lines_same"] == R["decision_lines"])' /dev/stdin <<<"$OUT")" \
	"1:($want, True)" "dry run: --baseline (the dry-run configuration) reproduces the log, the candidate moves the same"
replay -c "$HERE/logged.conf" --baseline "$HERE/logged.conf" --json "$W/dry.jsonl"
t_expect_eq "$RC:$(jq_py '(R["changed"], R["moves"])' /dev/stdin <<<"$OUT")" "0:(0, [])" \
	"dry run: a baseline and a candidate with the same rules: nothing changes (the log itself is only read)"

if [[ $T_FAIL -gt 0 ]]; then
	echo "--- mxguard log (last 5 lines) ---"
	tail -n 5 "$MXG_LOG"
fi
t_summary replay
