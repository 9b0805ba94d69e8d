# resolver/cache.sh - the process's DNS cache (policy/dns_cache.h) through
# real resolvers against testdns, counted at the server: sourced by run.sh
# (after its own checks), with its own zone and server. Each name shows one
# property; build/tests/cachecheck runs all steps in one process, as the
# daemon's connections share one cache.

cbin=$build/tests/cachecheck
if ! make --no-print-directory -s BUILD="$build" SAN="${SAN:-}" "$cbin" >"$T_BASE/cc2.err" 2>&1; then
	t_fail "build tests/resolver/cachecheck.c" "$(cat "$T_BASE/cc2.err")"
	return 0
fi
czone=$(t_tmpdir)/cache.zone
cat >"$czone" <<'ZONE'
$TTL 300
test.          IN SOA ns.test. hostmaster.test. ( 1 3600 600 86400 60 )
long.test.     IN A 192.0.2.1
short.test.    2 IN A 192.0.2.2
short2.test.   2 IN A 192.0.2.3
alias.test.    IN CNAME long.test.
slow.test.     IN A 192.0.2.4
slow2.test.    IN A 192.0.2.5
$FAULT slow.test. delay=400 A
$FAULT slow2.test. delay=400 A
$FAULT dead1.test. servfail A
$FAULT dead2.test. servfail A
$FAULT dead3.test. servfail A
nosoa.         IN A 192.0.2.9
ZONE
t_dns_start "$czone" || { t_fail "testdns (cache zone) starts" "$(cat "$DNS_ERR" 2>/dev/null)"; return 0; }
COUT=$("$cbin" -d 3000 "127.0.0.1:$DNS_PORT" \
	ask:a:long.test ask:a:long.test ask:a:alias.test \
	ask:a:short.test sleep:2500 ask:a:short.test ask:a:short2.test ask:a:short2.test \
	ask:a:nx.test ask:a:nx.test ask:a:gone.nosoa ask:a:gone.nosoa \
	par:6:a:slow.test cancel:a:slow2.test \
	ask:a:dead1.test ask:a:dead1.test \
	ask:a:dead2.test sleep:1300 ask:a:dead2.test ask:a:dead2.test \
	ask:a:dead3.test sleep:100 ask:a:dead3.test stats 2>&1)
crc=$?
t_expect_eq "$crc" 0 "cachecheck ran (exit 0)"
casked() { grep -ciE " $1\. A " "$DNS_LOG"; }
t_expect_eq "$(casked long.test)" 1 "cache: a second connection asks nothing for the same name"
t_expect_eq "$(grep -c '^ask long.test ok$' <<<"$COUT")" 2 "cache: both got the answer"
t_expect_eq "$(casked alias.test)" 1 "cache: a CNAME's answer kept too"
t_expect_eq "$(casked short.test)" 2 "cache: after its 2 s TTL the name is asked again"
t_expect_eq "$(casked short2.test)" 1 "cache: within its TTL it is not"
t_expect_eq "$(casked nx.test)" 1 "cache: NXDOMAIN with an SOA kept (RFC 2308)"
t_expect_eq "$(grep -c '^ask nx.test nxdomain$' <<<"$COUT")" 2 "cache: the kept NXDOMAIN is still NXDOMAIN"
t_expect_eq "$(casked gone.nosoa)" 2 "cache: NXDOMAIN without an SOA not kept"
t_expect_eq "$(casked slow.test)" 1 "cache: 6 connections asking at once: one query on the wire"
t_expect_eq "$(grep -c '^par slow.test ok$' <<<"$COUT")" 6 "cache: ... and all 6 got the answer"
t_expect_eq "$(casked slow2.test)" 1 "cache: the owner's message ended, its lookup went on: the one waiting got it without a query"
t_expect_eq "$(grep -c '^cancel slow2.test ok$' <<<"$COUT")" 1 "cache: ... and got the answer"
d1=$(casked dead1.test)
t_expect_match "$d1" '^[1-9]$' "cache: SERVFAIL asked ($d1 queries: c-ares's tries)"
t_expect_eq "$(grep -c '^ask dead1.test servfail$' <<<"$COUT")" 2 "cache: the kept failure is still SERVFAIL"
t_expect_eq "$(casked dead3.test)" "$d1" "cache: a failure is not asked again within 1 s"
t_expect_eq "$(casked dead2.test)" "$((2 * d1))" "cache: after 1 s once more, then kept 2 s (backoff)"
t_expect_match "$(grep '^stats' <<<"$COUT")" 'joins=([6-9]|[1-9][0-9])' "cache: the joins were counted"
