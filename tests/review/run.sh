#!/usr/bin/env bash
# review/run.sh - what the other tiers leave out, checked from the outside:
#   1. the command line: -V, -h, a bad option;
#   2. `make deps` and `make test-deps` install nothing when every package
#      is there; a missing one: the command to run as root (not root), or
#      apt-get with no service allowed to start (root); `make` without
#      pkg-config says what to install; header dependencies (-MMD): a
#      touched header makes exactly its dependants stale (make -n, in a copy);
#   3. `make install` with PREFIX and DESTDIR (in a copy of the tree);
#      contrib/postfix-main.cf through postconf, contrib/sendmail.mc through
#      m4 with sendmail-cf; `make run` (shipped config, inet:8894@127.0.0.1,
#      decisions on stderr);
#   4. end to end through a private Postfix with reject_stage = mail and
#      log_format = json: refusals at MAIL FROM (also an IDN sender over
#      SMTPUTF8), a recipient refused by a rcpt_domain rule while the others
#      get the message, one JSON line per message and per refused recipient
#      with every key, Postfix's queue id;
#   5. the daemon without -f: detaches, logs to syslog with the configured
#      facility (a private /dev/log in a mount namespace), drops to `user`,
#      reloads on SIGHUP, stops on SIGTERM and removes its pid file.
# Prints "review: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/common.sh
. tests/lib/postfix.sh
. tests/lib/dkim.sh
. tests/lib/mxconf.sh

HERE=tests/review
UNTRUSTED=192.0.2.5     # XCLIENT address inside valid.test's SPF
OUTSIDE=203.0.113.9     # XCLIENT address outside it

[[ -x ./mxguard ]] || make --no-print-directory -s mxguard >/dev/null || t_abort "build failed"
W=$(t_tmpdir)

# --- 1. command line ---------------------------------------------------------
out=$(./mxguard -V 2>&1); rc=$?
t_expect_match "$rc:$out" '^0:mxguard [0-9]+\.[0-9]+\.[0-9]+$' "-V prints the version, exit 0"
out=$(./mxguard -h 2>/dev/null); rc=$?
t_expect_match "$rc:$out" '^0:usage: mxguard .*mxguard -n .*mxguard check --from ADDR --ip IP --helo NAME' \
	"-h prints the usage on stdout, exit 0"
out=$(./mxguard -Z 2>&1 >/dev/null); rc=$?
t_expect_match "$rc:$out" '^64:.*usage: mxguard' "an unknown option: usage on stderr, exit 64"
t_expect_match "$(./mxguard -h 2>/dev/null)" 'mxguard\(8\).*mxguard\.conf\(5\)' "-h names the man pages"
out=$(./mxguard check --help 2>/dev/null); rc=$?
t_expect_match "$rc:$out" '^0:usage: mxguard check --from ADDR .*--message FILE.*Exit status' \
	"check --help prints the check usage on stdout, exit 0"
out=$(./mxguard check --nosuch 2>&1 >/dev/null); rc=$?
t_expect_match "$rc:$out" '^64:.*usage: mxguard check' "check with an unknown option: its usage on stderr, exit 64"

# --- 2. make deps installs nothing when all is there --------------------------
STUB=$W/stub
mkdir -p "$STUB"
for c in apt-get apt debconf-set-selections; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/called"\nexit 1\n' "$c" "$STUB" >"$STUB/$c"
	chmod +x "$STUB/$c"
done
out=$(PATH="$STUB:$PATH" make --no-print-directory -s deps 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:" "make deps: every package present, exit 0, silent"
out=$(PATH="$STUB:$PATH" make --no-print-directory -s test-deps 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:" "make test-deps: every package present, exit 0, silent"
t_expect_eq "$(cat "$STUB/called" 2>/dev/null)" "" "make deps, test-deps: no apt-get/debconf call when nothing is missing"

# groff-base missing (a stub dpkg-query says so), not root (a stub id says so):
# the command to run as root, no sudo, nothing installed.
printf '#!/bin/sh
case "$*" in *groff-base*) exit 1 ;; esac
exec /usr/bin/dpkg-query "$@"
' >"$STUB/dpkg-query"
printf '#!/bin/sh
echo 1000
' >"$STUB/id"
chmod +x "$STUB/dpkg-query" "$STUB/id"
out=$(PATH="$STUB:$PATH" make --no-print-directory -s deps 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:" "make deps: groff-base (a test package) missing is not its business"
out=$(PATH="$STUB:$PATH" make --no-print-directory -s test-deps 2>&1); rc=$?
t_expect_match "$rc:$out" "^[1-9][0-9]*:.*not root: groff-base.*su -c 'make -C $(pwd) test-deps'.*DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends groff-base" \
	"make test-deps, not root: fails, prints su -c 'make -C DIR test-deps' and the apt-get line"
t_expect_eq "$(cat "$STUB/called" 2>/dev/null)" "" "make test-deps, not root: no apt-get/debconf call"

# ... as root: apt-get installs just groff-base, while a policy-rc.d forbids
# starting services (a stand-in path, so the machine's own is not touched;
# the one there is put aside and back).
rm "$STUB/id"
printf '#!/bin/sh
echo "apt-get $* (policy-rc.d: $(%s/policy-rc.d >/dev/null 2>&1; echo $?))" >>"%s/called"
' "$STUB" "$STUB" >"$STUB/apt-get"
printf '#!/bin/sh
cat >/dev/null
' >"$STUB/debconf-set-selections"
printf '#!/bin/sh
exit 0  # the machine'"'"'s own
' >"$STUB/policy-rc.d"
chmod +x "$STUB/apt-get" "$STUB/debconf-set-selections" "$STUB/policy-rc.d"
cp -p "$STUB/policy-rc.d" "$W/policy-rc.d.orig"
out=$(PATH="$STUB:$PATH" MXGUARD_POLICY_RC_D=$STUB/policy-rc.d make --no-print-directory -s test-deps 2>&1); rc=$?
t_expect_eq "$rc:$(tr '\n' '|' <"$STUB/called")" \
	"0:apt-get update -q (policy-rc.d: 101)|apt-get install -y -q --no-install-recommends groff-base (policy-rc.d: 101)|" \
	"make test-deps as root: apt-get installs only the missing package, services forbidden to start (policy-rc.d exits 101)"
cmp -s "$STUB/policy-rc.d" "$W/policy-rc.d.orig" && [[ ! -e $STUB/policy-rc.d.mxguard-saved ]] &&
	t_ok "make test-deps: the policy-rc.d that was there is put back" ||
	t_fail "make test-deps: the policy-rc.d that was there is put back" "$(ls -l "$STUB")"
rm -f "$STUB/dpkg-query" "$STUB/apt-get" "$STUB/debconf-set-selections" "$STUB/policy-rc.d" "$STUB/called"

# `make` where pkg-config finds nothing (a stub): says what is missing and how
# to install it, runs no compiler (a copy of the sources, no build/).
BARE=$W/bare
mkdir -p "$BARE"
cp -a Makefile milter policy conf contrib "$BARE/"
printf '#!/bin/sh
exit 1
' >"$STUB/pkg-config"
printf '#!/bin/sh
case "$*" in *pkg-config*) exit 1 ;; esac
exec /usr/bin/dpkg-query "$@"
' >"$STUB/dpkg-query"
chmod +x "$STUB/pkg-config" "$STUB/dpkg-query"
out=$(PATH="$STUB:$PATH" make --no-print-directory -C "$BARE" 2>&1); rc=$?
t_expect_match "$rc:$out" "^[1-9][0-9]*:.*missing Debian packages: pkg-config.*su -c 'make -C .* deps'" \
	"make without pkg-config: fails saying which package is missing and which command installs it"
[[ $out == *" -c -o build/"* || -e $BARE/build/policy ]] && t_fail "make without pkg-config: no compiler run" "$out" ||
	t_ok "make without pkg-config: no compiler run"
rm -f "$STUB/pkg-config" "$STUB/dpkg-query"

# --- 2a. header dependencies: a touched header makes exactly its dependants stale
# In a copy of the tree and its build/ (times kept), so the tree is not touched.
DT=$W/deptree
mkdir -p "$DT/tests" "$DT/build"
cp -a Makefile milter policy conf contrib "$DT/"
cp -a tests/unit "$DT/tests/"
for d in policy conf milter tests sysconfdir.stamp; do
	[[ -e build/$d ]] && cp -a "build/$d" "$DT/build/"
done
# stale - the programs and objects `make -n unit-bins` would build, sorted
stale() {
	make --no-print-directory -C "$DT" -n unit-bins 2>&1 | grep -oE -- '-o build/[^ ]+' | cut -c4- | sort
}
# includers HEADER - the objects and programs whose .d names HEADER
includers() {
	(cd "$DT" && grep -l -F -- "$1" $(find build -name '*.d') | xargs -r sed -s -n '1s/:.*//p' | sort)
}
if ! make --no-print-directory -C "$DT" -s -j2 unit-bins >"$W/deptree.log" 2>&1; then
	t_fail "header dependencies: make unit-bins in a copy" "$(tail -n 10 "$W/deptree.log")"
else
	t_expect_eq "$(stale)" "" "make -n unit-bins after a build: nothing to do"
	touch "$DT/tests/unit/fake_resolver.h"
	got=$'\n'$(stale)$'\n'
	[[ $got == *$'\nbuild/tests/unit/fake_resolver.o\n'* && $got == *$'\nbuild/tests/test_mx\n'* ]] &&
		t_ok "touch tests/unit/fake_resolver.h: its object and the unit tests that include it are stale" ||
		t_fail "touch tests/unit/fake_resolver.h: its object and the unit tests that include it are stale" "stale:$got"
	make --no-print-directory -C "$DT" -s -j2 unit-bins >>"$W/deptree.log" 2>&1
	touch "$DT/policy/mx.h"
	got=$(stale | grep '\.o$')
	want=$(includers policy/mx.h | grep '\.o$')
	if [[ $got == "$want" && $'\n'$got$'\n' == *$'\nbuild/policy/mx.o\n'* &&
		$'\n'$got$'\n' != *$'\nbuild/policy/reply.o\n'* ]]; then
		t_ok "touch policy/mx.h: exactly the objects that include it are stale ($(wc -l <<<"$got") of $(find "$DT/build" -name '*.o' | wc -l))"
	else
		t_fail "touch policy/mx.h: exactly the objects that include it are stale" "stale:
$got
include it:
$want"
	fi
fi

# --- 3. make install with PREFIX and DESTDIR -----------------------------------
# In a copy, so the tree's ./mxguard (built for the default PREFIX) is left alone.
SRC=$W/src
mkdir -p "$SRC"
cp -a Makefile milter policy conf contrib "$SRC/"
[[ -d build ]] && mkdir -p "$SRC/build" && for d in policy conf milter sysconfdir.stamp; do
	[[ -e build/$d ]] && cp -a "build/$d" "$SRC/build/"
done
[[ -e mxguard ]] && cp -a mxguard "$SRC/"
D1=$W/destdir1
if make --no-print-directory -s -C "$SRC" install PREFIX=/usr DESTDIR="$D1" >"$W/install1.log" 2>&1; then
	t_ok "make install PREFIX=/usr DESTDIR=..."
else
	t_fail "make install PREFIX=/usr DESTDIR=..." "$(tail -n 5 "$W/install1.log")"
fi
got=$(cd "$D1" 2>/dev/null && find . -type f -printf '%m %p\n' | sort)
want="644 ./etc/mxguard.conf
644 ./etc/mxguard.conf.default
644 ./usr/share/man/man5/mxguard.conf.5
644 ./usr/share/man/man8/mxguard.8
755 ./usr/sbin/mxguard"
t_expect_eq "$got" "$want" "PREFIX=/usr: binary, config (+ .default), man pages, with their modes, all under DESTDIR"
cmp -s conf/mxguard.conf "$D1/etc/mxguard.conf" && t_ok "installed config is conf/mxguard.conf" ||
	t_fail "installed config is conf/mxguard.conf"
t_expect_match "$("$D1/usr/sbin/mxguard" -h 2>&1)" '\(default /etc/mxguard\.conf\)' \
	"PREFIX=/usr: the installed binary reads /etc/mxguard.conf by default"
out=$("$D1/usr/sbin/mxguard" -n -c "$D1/etc/mxguard.conf" 2>&1); rc=$?
t_expect_eq "$rc:$out" "0:configuration OK" "installed binary accepts the installed config"
for m in "$D1/usr/share/man/man8/mxguard.8" "$D1/usr/share/man/man5/mxguard.conf.5"; do
	out=$(groff -man -Tutf8 -ww -z "$m" 2>&1)
	t_expect_eq "$out" "" "man page $(basename "$m") formats without warnings"
done
echo "# local edit" >>"$D1/etc/mxguard.conf"
make --no-print-directory -s -C "$SRC" install PREFIX=/usr DESTDIR="$D1" >>"$W/install1.log" 2>&1
t_expect_eq "$(tail -n 1 "$D1/etc/mxguard.conf")" "# local edit" "a second install keeps the edited config"
cmp -s conf/mxguard.conf "$D1/etc/mxguard.conf.default" && t_ok "... and refreshes mxguard.conf.default" ||
	t_fail "... and refreshes mxguard.conf.default"
D2=$W/destdir2
make --no-print-directory -s -C "$SRC" install PREFIX=/opt/mxg DESTDIR="$D2" >"$W/install2.log" 2>&1
t_expect_eq "$(cd "$D2" 2>/dev/null && find . -type f | sort | tr '\n' ' ')" \
	"./opt/mxg/etc/mxguard.conf ./opt/mxg/etc/mxguard.conf.default ./opt/mxg/sbin/mxguard ./opt/mxg/share/man/man5/mxguard.conf.5 ./opt/mxg/share/man/man8/mxguard.8 " \
	"PREFIX=/opt/mxg: everything under DESTDIR/opt/mxg"
t_expect_match "$("$D2/opt/mxg/sbin/mxguard" -h 2>&1)" '\(default /opt/mxg/etc/mxguard\.conf\)' \
	"PREFIX=/opt/mxg: default config PREFIX/etc/mxguard.conf (rebuilt for the new PREFIX)"

# --- 3a. the contrib/ snippets are valid for their MTA ------------------------
PC=$W/postfix-snippet
mkdir -p "$PC"
cp contrib/postfix-main.cf "$PC/main.cf"
: >"$PC/master.cf"
out=$(postconf -c "$PC" -n 2>&1 >/dev/null)
t_expect_eq "$out" "" "contrib/postfix-main.cf: postconf reads it without a warning"
t_expect_eq "$(postconf -c "$PC" -h smtpd_milters milter_default_action milter_protocol non_smtpd_milters 2>&1 | tr '\n' '|')" \
	"inet:127.0.0.1:8894|tempfail|6||" "contrib/postfix-main.cf: smtpd_milters at mxguard's default socket, tempfail when it is down"
SM=$W/sendmail-snippet
mkdir -p "$SM"
{
	echo "include(\`/usr/share/sendmail/cf/m4/cf.m4')dnl"
	echo "OSTYPE(\`debian')dnl"
	cat contrib/sendmail.mc
	echo "MAILER(\`local')dnl"
	echo "MAILER(\`smtp')dnl"
} >"$SM/test.mc"
if m4 "$SM/test.mc" >"$SM/test.cf" 2>"$SM/m4.err" && [[ ! -s $SM/m4.err ]]; then
	t_ok "contrib/sendmail.mc: m4 with sendmail-cf builds a sendmail.cf"
else
	t_fail "contrib/sendmail.mc: m4 with sendmail-cf builds a sendmail.cf" "$(cat "$SM/m4.err")"
fi
t_expect_eq "$(grep -E '^(Xmxguard|O InputMailFilters)' "$SM/test.cf" 2>&1 | tr '\n' '|')" \
	"O InputMailFilters=mxguard|Xmxguard, S=inet:8894@127.0.0.1, F=T, T=C:10s;S:30s;R:30s;E:5m|" \
	"contrib/sendmail.mc: the filter at inet:8894@127.0.0.1, tempfail when unreachable (F=T)"
t_expect_match "$(grep '^O Milter.macros.envfrom=' "$SM/test.cf")" '=(i|.*, i),.*\{auth_authen\}' \
	"contrib/sendmail.mc: {i} and {auth_authen} sent at MAIL FROM"

# --- 3b. make run: the shipped config, inet:8894@127.0.0.1, decisions on stderr
# (A trusted client, 127.0.0.1 by default, needs no DNS: the shipped config
# has no dns_servers and the machine's resolver must not be used.)
for ((i = 0; i < 100; i++)); do
	(exec 3<>/dev/tcp/127.0.0.1/8894) 2>/dev/null || break
	sleep 0.1
done
if (exec 3<>/dev/tcp/127.0.0.1/8894) 2>/dev/null; then
	t_fail "make run: port 8894 on 127.0.0.1 stays busy (another mxguard?)"
else
	t_bg make-run make --no-print-directory -s run
	RUN_PID=$T_LAST_PID
	if t_wait_port 8894 30; then
		t_ok "make run: listening on 127.0.0.1:8894"
		t_expect_match "$(cat "$T_BASE/make-run.out")" "started: listening on inet:8894@127\\.0\\.0\\.1, configuration conf/mxguard\\.conf" \
			"make run: the shipped conf/mxguard.conf, start-up on stderr"
		miltertest -s tests/milter/session.lua -D sock=inet:8894@127.0.0.1 -D ip=127.0.0.1 \
			-D helo=localhost -D 'rcpt=<user@example.com>' -D 'from=<local@example.com>' >"$W/mt-run.out" 2>&1
		for ((i = 0; i < 40; i++)); do grep -q 'sender=<local@example.com>' "$T_BASE/make-run.out" && break; sleep 0.05; done
		t_expect_match "$(grep -F 'sender=<local@example.com>' "$T_BASE/make-run.out")" \
			'^queue_id=- client_ip=127\.0\.0\.1 helo=localhost .*trusted=yes .*rule=trusted action=accept .*stage=eom ' \
			"make run: a decision line on stderr (trusted 127.0.0.1, no DNS)"
	else
		t_fail "make run: listening on 127.0.0.1:8894" "$(tail -n 5 "$T_BASE/make-run.out")"
	fi
	t_stop "$RUN_PID"
fi

# --- 4. end to end: reject_stage = mail, log_format = json ---------------------
# A DKIM key for valid.test, made now; its TXT record joins the zones.
dkim_genkey "$W" rv valid.test 1024 || t_abort "opendkim-genkey" "$(cat "$W/genkey.log")"
dkim_key_zone "$W" rv valid.test >"$W/key.zone"
t_dns_start "$HERE/zones.txt" "$W/key.zone" || t_abort "testdns did not start"
CONF=$W/mxguard.conf
MPORT=$(t_free_port)
mxconf_write "$CONF" "$MPORT" "dns_timeout = 2s" "trusted_networks = 198.51.100.0/24" \
	"authserv_id = mx.review.test" "reject_stage = mail" "log_format = json" <<CONF
rule null-mx       mx = nullmx
                   reject 550 5.7.27 "sender domain %{domain} does not accept mail (null MX)"
rule spf-fail      spf = fail  reject 550 5.7.23 "SPF check failed for %{domain}"
rule closed-rcpt   rcpt_domain = closed.test  reject 550 5.1.1 "recipient domain closed"
default accept
CONF
t_mxguard_start "$CONF" "$MPORT" || t_abort "mxguard did not start"
pf_setup "$W/pf" "inet:127.0.0.1:$MPORT"
sed -i "s/^relay_domains = .*/relay_domains = $PF_RCPT_DOMAIN, closed.test/" "$PF_CONF/main.cf"
pf_touch_conf
pf_start || t_abort "postfix did not start"

# send FROM CLIENT_IP RCPTS - one swaks transaction; sets RC OUT
send() {
	OUT=$(swaks --server "127.0.0.1:$PF_PORT" --from "$1" --to "$3" --xclient-addr "$2" \
		--helo client.review.test --timeout 30 2>&1)
	RC=$?
}
# after CMD - the server's reply to the first client line starting with CMD
after() {
	awk -v c=" -> $1" 'found { sub(/^<[-~*]* +/, ""); print; exit } index($0, c) == 1 { found = 1 }' <<<"$OUT"
}
# jlines SENDER - the JSON decision lines of a sender, waiting up to 2 s
jlines() {
	t_wait_grep -F "\"sender\":\"<$1>\"" "$MXG_LOG"
}
# The facts of a message's log line, in the fact table's order (mxguard check --facts);
# a list's facts (dnsbl.LIST) are on it only for the lists a config declares: none here
LOG_FACTS=$(./mxguard check --facts | awk '/^[a-z]/ && !/\[per recipient/ && $1 !~ /\.LIST$/ {print $1}' | tr '\n' ' ')
# jcheck PYTHON-ASSERTS - run asserts over the lines on stdin (list L of dicts); prints ok
jcheck() {
	LOG_FACTS=$LOG_FACTS "$T_PY" -c '
import json, os, sys
KEYS = ["queue_id"] + os.environ["LOG_FACTS"].split() + ["rule", "action", "reply",
        "dry_run", "stage", "elapsed_ms"]
# the facts every line has had since the start: a table that lost one fails here
assert {"client_ip", "helo", "sender", "sender_domain", "from_domain", "trusted", "authenticated",
        "mx", "mx_detail", "spf", "helo_spf", "spf_detail", "dkim", "dkim_aligned",
        "dkim_detail"} <= set(KEYS), KEYS
L = [json.loads(x) for x in sys.stdin.read().splitlines()]
for d in L:
    keys = [k for k in d if k not in ("rcpt", "error")]
    assert keys == KEYS, keys
    assert list(d).index("rcpt") == KEYS.index("rule") if "rcpt" in d else True, list(d)
    assert isinstance(d["dry_run"], bool) and isinstance(d["elapsed_ms"], int), d
    assert d["elapsed_ms"] >= 0 and d["client_ip"] and d["helo"], d
'"$1"'
print("ok")' 2>&1
}

# sink_ar LOCALPART - the Authentication-Results headers (unfolded, one a
# line) of the message the sink received for LOCALPART@rcpt domain; waits
# up to 15 s for it to be delivered and written out completely.
sink_ar() {
	local i f ar
	for ((i = 0; i < 300; i++)); do
		f=$(grep -lF "X-Rcpt-Args: <$1@" "$PF_SINK_DIR"/msg-* 2>/dev/null | head -n 1)
		if [[ -n $f ]]; then
			ar=$("$T_PY" -c '
import email, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
print("\n".join(" ".join(v.split()) for v in m.get_all("Authentication-Results", [])))' "$f" 2>&1)
			[[ -n $ar ]] && { echo "$ar"; return 0; }
		fi
		sleep 0.05
	done
	return 1
}

# A null MX sender is refused at MAIL FROM, before any RCPT.
send n1@nullmx.test "$UNTRUSTED" "r1@$PF_RCPT_DOMAIN"
t_expect_eq "$(after 'MAIL FROM:')" "550 5.7.27 sender domain nullmx.test does not accept mail (null MX)" \
	"reject_stage = mail: null MX refused in reply to MAIL FROM"
t_expect_nomatch "$OUT" ' -> RCPT TO' "... and the client never got to RCPT TO"
t_expect_eq "$(jlines n1@nullmx.test | jcheck '
assert len(L) == 1, L
d = L[0]
assert (d["stage"], d["mx"], d["rule"], d["action"]) == ("mail", "nullmx", "null-mx", "reject"), d
assert d["reply"] == "550 5.7.27 sender domain nullmx.test does not accept mail (null MX)", d
assert d["client_ip"] == "'$UNTRUSTED'" and d["sender"] == "<n1@nullmx.test>", d
assert d["helo"] == "client.review.test" and d["trusted"] == "no", d
assert d["dry_run"] is False and "rcpt" not in d and d["dkim"] is None, d')" ok \
	"JSON: one line, stage mail, every key in order, no rcpt"

# SPF fail is also decided at MAIL FROM.
send s1@valid.test "$OUTSIDE" "r2@$PF_RCPT_DOMAIN"
t_expect_eq "$(after 'MAIL FROM:')" "550 5.7.23 SPF check failed for valid.test" \
	"reject_stage = mail: SPF fail refused at MAIL FROM"
t_expect_eq "$(jlines s1@valid.test | jcheck '
assert len(L) == 1 and L[0]["spf"] == "fail" and L[0]["stage"] == "mail", L
assert L[0]["client_ip"] == "'$OUTSIDE'" and L[0]["mx"] == "valid", L')" ok "JSON: spf=fail at stage mail, client_ip from XCLIENT"

# An IDN sender in UTF-8 (SMTPUTF8): converted to A-labels, refused at MAIL FROM.
out=$("$T_PY" tests/e2e/smtputf8.py "$PF_PORT" "$UNTRUSTED" "u1@müll.test" "r3@$PF_RCPT_DOMAIN" 2>&1)
t_expect_match "$out" '^550 5\.7\.27 sender domain xn--mll-hoa\.test does not accept mail' \
	"SMTPUTF8 sender u1@müll.test: refused at MAIL FROM (null MX of xn--mll-hoa.test)"
t_expect_eq "$(jlines 'u1@xn--mll-hoa.test' | jcheck '
assert len(L) == 1 and L[0]["mx"] == "nullmx" and L[0]["stage"] == "mail", L')" ok \
	"JSON: the UTF-8 sender logged in A-labels, mx=nullmx"

# Three recipients, the middle one refused by a recipient rule: the other
# two get the message, one line for the refused recipient, one for the message.
send m1@valid.test "$UNTRUSTED" "a1@$PF_RCPT_DOMAIN,x1@closed.test,a2@$PF_RCPT_DOMAIN"
t_expect_eq "$(after 'RCPT TO:<x1@closed.test>')" "550 5.1.1 recipient domain closed" \
	"recipient rule: x1@closed.test refused 550 5.1.1"
qid=$(sed -nE 's/^<- +250 2\.0\.0 Ok: queued as ([0-9A-F]+)$/\1/p' <<<"$OUT")
t_expect_match "$qid" '^[0-9A-F]+$' "... the message to the two others is queued"
t_expect_eq "$(jlines m1@valid.test | jcheck '
assert len(L) == 2, L
r, m = L
assert (r["rcpt"], r["rule"], r["action"], r["stage"]) == ("<x1@closed.test>", "closed-rcpt", "reject", "rcpt"), r
assert r["reply"] == "550 5.1.1 recipient domain closed", r
assert (m["rule"], m["action"], m["stage"], m["reply"]) == ("default", "accept", "eom", None), m
assert "rcpt" not in m and m["queue_id"] == "'$qid'" and m["from_domain"] == "valid.test", m
assert m["spf"] == "pass" and m["mx"] == "valid", m')" ok \
	"JSON: one line for the refused recipient, one for the message (Postfix queue id $qid)"
# The refused recipient came last: the message must still reach the others.
send m2@valid.test "$UNTRUSTED" "a3@$PF_RCPT_DOMAIN,x2@closed.test"
t_expect_match "$OUT" $'\n<- +250 2\\.0\\.0 Ok: queued as ' "last recipient refused: the message is still accepted for the first"
t_expect_eq "$(jlines m2@valid.test | jcheck '
assert [d["action"] for d in L] == ["reject", "accept"], L
assert L[1]["stage"] == "eom" and L[1]["rule"] == "default", L')" ok \
	"JSON: refused recipient, then the message accepted at end of message"

pf_sink_wait 2 15
rcpts=$(grep -h '^X-Rcpt-Args:' "$PF_SINK_DIR"/msg-* 2>/dev/null | sed -E 's/^X-Rcpt-Args: <([^>]*)>.*/\1/' | sort | tr '\n' ' ')
t_expect_eq "$rcpts" "a1@$PF_RCPT_DOMAIN a2@$PF_RCPT_DOMAIN a3@$PF_RCPT_DOMAIN " \
	"delivered: exactly the recipients that were not refused"
# The shipped configuration (dkim_verify = always), by SIGHUP: a signed
# message from an SPF-pass sender gets dkim=pass in Authentication-Results
# although no shipped rule needs dkim for it.
mxconf_write "$CONF" "$MPORT" "authserv_id = mx.review.test" <conf/mxguard.conf
kill -HUP "$MXG_PID"
for ((i = 0; i < 100; i++)); do grep -q 'reloaded configuration' "$MXG_LOG" && break; sleep 0.05; done
t_expect_match "$(grep 'reloaded configuration' "$MXG_LOG")" 'reloaded' "reloaded with the shipped conf/mxguard.conf"
printf 'From: Sender <k1@valid.test>\r\nTo: k@%s\r\nSubject: signed\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <k1@valid.test>\r\n\r\nA signed body.\r\n' \
	"$PF_RCPT_DOMAIN" >"$W/k1.eml"
"$T_PY" tests/dkim/sign.py --key "$W/rv.private" --selector rv --domain valid.test \
	"$W/k1.eml" "$W/k1.signed" 2>"$W/sign.log" || t_fail "dkimpy signs the test message" "$(cat "$W/sign.log")"
OUT=$(swaks --server "127.0.0.1:$PF_PORT" --from k1@valid.test --to "k@$PF_RCPT_DOMAIN" \
	--xclient-addr "$UNTRUSTED" --helo client.review.test --data "$W/k1.signed" --timeout 30 2>&1)
t_expect_match "$OUT" $'\n<- +250 2\\.0\\.0 Ok: queued as ' "shipped config: signed message accepted"
ar=$(sink_ar k)
t_expect_match "$ar" '^mx\.review\.test \(mx=valid\); spf=pass .*dkim=pass .*header\.d=valid\.test header\.s=rv' \
	"shipped config: delivered message's Authentication-Results has spf=pass and dkim=pass header.d=valid.test"
for ((i = 0; i < 40; i++)); do grep -q 'sender=<k1@valid.test> ' "$MXG_LOG" && break; sleep 0.05; done
t_expect_match "$(grep -F 'sender=<k1@valid.test> ' "$MXG_LOG")" ' dkim=pass dkim_aligned=yes .* rule=default action=accept ' \
	"shipped config: decision log has dkim=pass, rule default"

# The null sender: SPF checks postmaster@HELO (RFC 7208 2.4), and the reply
# names the HELO domain. The shipped spf-fail rule waits for DKIM, so the
# refusal comes at the end of DATA.
OUT=$(swaks --server "127.0.0.1:$PF_PORT" --from '<>' --to "b1@$PF_RCPT_DOMAIN" \
	--xclient-addr "$UNTRUSTED" --helo helo-fail.test --timeout 30 2>&1)
t_expect_eq "$(after '.')" "550 5.7.23 SPF check failed for helo-fail.test" \
	"null sender, HELO helo-fail.test (v=spf1 -all): 550 5.7.23 at end of DATA, naming the HELO domain"
for ((i = 0; i < 40; i++)); do grep -q 'helo=helo-fail.test ' "$MXG_LOG" && break; sleep 0.05; done
t_expect_match "$(grep -F 'helo=helo-fail.test ' "$MXG_LOG")" 'sender=<> .* mx=skipped .* spf=fail .* rule=spf-fail action=reject .* stage=eom ' \
	"null sender: decision log mx=skipped spf=fail rule=spf-fail at eom"
OUT=$(swaks --server "127.0.0.1:$PF_PORT" --from '<>' --to "b2@$PF_RCPT_DOMAIN" \
	--xclient-addr "$UNTRUSTED" --helo helo-pass.test --timeout 30 2>&1)
t_expect_match "$OUT" $'\n<- +250 2\\.0\\.0 Ok: queued as ' "null sender, HELO helo-pass.test: accepted"
ar=$(sink_ar b2)
t_expect_match "$ar" 'spf=pass .*smtp\.mailfrom=postmaster@helo-pass\.test' \
	"null sender: Authentication-Results spf=pass smtp.mailfrom=postmaster@HELO"
t_expect_eq "$(grep -lF 'X-Rcpt-Args: <b1@' "$PF_SINK_DIR"/msg-* 2>/dev/null)" "" "the refused null-sender message was not delivered"

all=$(grep -c '^{' "$MXG_LOG")
t_expect_eq "$(grep '^{' "$MXG_LOG" | jcheck 'assert len(L) > 0')" ok "every decision line of the run is valid JSON with every key ($all lines)"
kill -TERM "$MXG_PID"
pf_stop

# --- 5. the daemon without -f: syslog, user, reload, stop ---------------------
if ! err=$(unshare -m --propagation private true 2>&1); then
	[[ $(id -u) -eq 0 ]] && why="as root: $err" || why="run as root: $err"
	t_fail "daemon mode: unshare -m is needed for a private /dev/log ($why)"
else
	SD=$W/sys
	mkdir -p "$SD/run"
	chown nobody "$SD/run"
	SPORT=$(t_free_port)
	mxconf_write "$SD/mxguard.conf" "$SPORT" "pidfile = $SD/run/mxguard.pid" "user = nobody" \
		"syslog_facility = local3" <<CONF
rule null-mx mx = nullmx reject 550 5.7.27 "null MX"
default accept
CONF
	chmod 644 "$SD/mxguard.conf"
	t0=$(date +%s%N)
	out=$(unshare -m --propagation private bash "$HERE/devlog.sh" "$SD" \
		"$T_ROOT/mxguard" -c "$SD/mxguard.conf" 2>&1 </dev/null); rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	[[ -s $SD/catcher.pid ]] && echo "$(cat "$SD/catcher.pid") syslog-catcher" >>"$T_BASE/.pids"
	t_wait_file "$SD/run/mxguard.pid" 5
	DPID=$(cat "$SD/run/mxguard.pid" 2>/dev/null)
	[[ -n $DPID ]] && echo "$DPID mxguard-daemon" >>"$T_BASE/.pids"
	t_expect_eq "$rc:$out" "0:" "mxguard -c (no -f): the command returns 0 at once ($ms ms), silent"
	if [[ -n $DPID ]] && t_alive "$DPID"; then
		t_ok "the daemon keeps running (pid $DPID from the pid file)"
		t_expect_eq "$(ps -o user=,sid=,tty= -p "$DPID" | awk '{print $1, ($2 == '"$DPID"'), $3}')" \
			"nobody 1 ?" "detached: own session, no terminal, running as user nobody"
	else
		t_fail "the daemon keeps running" "$(cat "$SD/catcher.err" "$SD/syslog.txt" 2>/dev/null)"
	fi
	slog() {  # slog REGEX - wait up to 3 s for a syslog line
		t_wait_grep -E "$1" "$SD/syslog.txt" 3 >/dev/null
	}
	# local3 (19) * 8 + info (6) = 158
	slog "^<158>.* mxguard\\[$DPID\\]: .*started: listening on inet:$SPORT@127.0.0.1" &&
		t_ok "start-up logged to syslog, facility local3, ident mxguard[pid]" ||
		t_fail "start-up logged to syslog, facility local3" "$(cat "$SD/syslog.txt" 2>/dev/null)"
	if miltertest -s tests/milter/session.lua -D "sock=inet:$SPORT@127.0.0.1" -D ip=192.0.2.1 \
		-D helo=client.test -D 'rcpt=<user@example.com>' -D 'from=<d1@nullmx.test>' \
		-D expect_rcpt=replycode >"$W/mt.out" 2>&1; then
		slog "^<158>.* mxguard\\[$DPID\\]: .*sender=<d1@nullmx\\.test> .*rule=null-mx action=reject" &&
			t_ok "the daemon (as nobody) decides; the decision line goes to syslog" ||
			t_fail "the decision line goes to syslog" "$(cat "$SD/syslog.txt")"
	else
		t_fail "the daemon (as nobody) decides" "$(cat "$W/mt.out")"
	fi
	sed -i 's/^default accept/default tempfail/' "$SD/mxguard.conf"
	kill -HUP "$DPID" 2>/dev/null
	slog "mxguard\\[$DPID\\]: .*reloaded configuration from $SD/mxguard.conf" &&
		t_ok "SIGHUP: reload logged to syslog (config readable by the user)" ||
		t_fail "SIGHUP: reload logged to syslog" "$(cat "$SD/syslog.txt")"
	kill -TERM "$DPID" 2>/dev/null
	for ((i = 0; i < 200; i++)); do t_alive "$DPID" || break; sleep 0.05; done
	t_alive "$DPID" && t_fail "SIGTERM stops the daemon within 10 s" || t_ok "SIGTERM stops the daemon within 10 s"
	slog "mxguard\\[$DPID\\]: stopped" && t_ok "stop logged to syslog" || t_fail "stop logged to syslog"
	[[ -e $SD/run/mxguard.pid ]] && t_fail "pid file removed at exit (after dropping to user)" ||
		t_ok "pid file removed at exit (after dropping to user)"
fi

# --- the shipped config's commented example rules are valid when uncommented ---
EX=$(t_tmpdir)
awk '/^#(rule|dnsbl) /{p=1} p&&/^#/{sub(/^#/,""); print; next} {p=0}' conf/mxguard.conf |
	sed "s|/etc/mxguard/|$EX/|g" >"$EX/examples.conf"
for f in $(grep -o "file:$EX/[A-Za-z0-9_.-]*" "$EX/examples.conf" | sed 's/^file://'); do : >"$f"; done
n=$(grep -c '^rule ' "$EX/examples.conf")
out=$(./mxguard -n -c "$EX/examples.conf" 2>&1)
t_expect_eq "$((n >= 5)):$out" "1:configuration OK" "the shipped config's $n commented example rules parse when uncommented"

# --- the docs name every fact rules can test (the fact table is the source) ---
facts=$(./mxguard check --facts | awk '/^[a-z]/ && !/text for people/ {print $1}')
[[ $(wc -w <<<"$facts") -ge 14 ]] && t_ok "mxguard check --facts lists the facts" ||
	t_fail "mxguard check --facts lists the facts" "$facts"
for doc in README.md contrib/mxguard.conf.5 conf/mxguard.conf; do
	missing=()
	for f in $facts; do grep -qw -- "$f" "$doc" || missing+=("$f"); done
	t_expect_eq "${missing[*]-}" "" "$doc names every fact rules can test"
done

if [[ $T_FAIL -gt 0 && -n ${MXG_LOG:-} ]]; then
	echo "--- mxguard log (last 10 lines) ---"
	tail -n 10 "$MXG_LOG"
fi
t_summary review
