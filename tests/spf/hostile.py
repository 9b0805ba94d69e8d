#!/usr/bin/python3
"""hostile.py - crafted SPF records against mxguard's SPF path.

    hostile.py DRIVER [--verbose] [--only TEST ...]

Each case is an RFC 7208 suite-style scenario (zone data + tests) served by
rfc7208.py's loopback DNS server to the same driver. What is asserted:
the driver survives every case (a crash or hang fails the run), each check
answers within the driver's 3 s deadline, and the result is the one
written here. The cases target libspf2's known weak spots: macro parsing
(CVE-2021-20314, CVE-2023-42118: long and dense macro strings, digit
overflow), records and explanations larger than its fixed buffers, CIDR
lengths it misparses, processing limits it does not enforce (RFC 7208
4.6.4), hostile sender local-parts expanded by %{l}, and lookups that never
end.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfc7208 import run_suite  # noqa: E402

CLIENT = "192.0.2.1"
HELO = "mail.example.net"


def case(mailfrom, result, host=CLIENT, helo=HELO, explanation=None, description=""):
    t = {"mailfrom": mailfrom, "result": result, "host": host, "helo": helo,
         "description": description}
    if explanation is not None:
        t["explanation"] = explanation
    return t


def scenarios():
    long_l = "%{l}" * 50
    dense = "x%{d}" * 40
    ips = " ".join("ip4:10.%d.%d.0/24" % (i // 200, i % 200) for i in range(120))
    ip6s = " ".join("ip6:2001:db8:%x::/48" % i for i in range(40))
    many = " ".join("ip4:10.9.%d.%d" % (i // 250, i % 250) for i in range(250))
    chain = {"i%d.example.com" % i: [{"TXT": "v=spf1 include:i%d.example.com -all" % (i + 1)}]
             for i in range(1, 13)}
    chain["i13.example.com"] = [{"TXT": "v=spf1 +all"}]

    macros = {
        "description": "macro strings aimed at libspf2's compiler",
        "tests": {
            "cve-dense-macros": case("a@m1.example.com", "permerror",
                                     description="50 %{l} blocks: far past our compile budget"),
            "cve-alternating": case("a@m2.example.com", "permerror",
                                    description="literal/macro blocks alternating"),
            "macro-digits-overflow": case("a@m3.example.com", "permerror",
                                          description="%{d4294967297}: libspf2's counter wraps"),
            "macro-digits-zero": case("a@m4.example.com", "permerror"),
            "macro-digits-129": case("a@m5.example.com", "permerror"),
            "macro-digits-128": case("a@m6.example.com", "pass",
                                     description="the largest value libspf2 accepts still works"),
            "macro-unterminated": case("a@m7.example.com", "permerror"),
            "macro-bar-delimiter": case("a@m8.example.com", "permerror",
                                        description="'|' is a libspf2 extension, not RFC 7208"),
            "macro-trailing-percent": case("a@m9.example.com", "permerror"),
            "macro-in-exp-too-dense": case("a@m10.example.com", "fail", explanation="DEFAULT",
                                           description="an unusable explanation is ignored"),
            "exp-too-long": case("a@m11.example.com", "fail", explanation="DEFAULT"),
            "exp-with-nul": case("a@m12.example.com", "fail", explanation="DEFAULT"),
            "macro-d2-two-labels": case("a@twolabel.test", "pass",
                                        description="libspf2 alone expands %{d2} of a.b as \".b\""),
            "macro-l9-short": case("x-y@m14.example.com", "pass",
                                   description="more parts asked than the local-part has"),
            "exp-fine": case("a@m13.example.com", "fail",
                             explanation="a@m13.example.com from 192.0.2.1 via mail.example.net"),
        },
        "zonedata": {
            "m1.example.com": [{"TXT": "v=spf1 exists:%s.x.example.com -all" % long_l}],
            "m2.example.com": [{"TXT": "v=spf1 a:%s.example.com -all" % dense}],
            "m3.example.com": [{"TXT": "v=spf1 exists:%{d4294967297}.example.com -all"}],
            "m4.example.com": [{"TXT": "v=spf1 exists:%{d0}.example.com -all"}],
            "m5.example.com": [{"TXT": "v=spf1 exists:%{d129}.example.com -all"}],
            "m6.example.com": [{"TXT": "v=spf1 exists:%{d128} -all"}, {"A": "127.0.0.2"}],
            "m7.example.com": [{"TXT": "v=spf1 exists:%{d -all"}],
            "m8.example.com": [{"TXT": "v=spf1 exists:%{l|}.example.com -all"}],
            "m9.example.com": [{"TXT": "v=spf1 exists:example.com% -all"}],
            "m10.example.com": [{"TXT": "v=spf1 -all exp=e10.example.com"}],
            "e10.example.com": [{"TXT": "%{i}" * 60}],
            "m11.example.com": [{"TXT": "v=spf1 -all exp=e11.example.com"}],
            "e11.example.com": [{"TXT": "why " * 300}],
            "m12.example.com": [{"TXT": "v=spf1 -all exp=e12.example.com"}],
            "e12.example.com": [{"TXT": "nul\0inside"}],
            "m13.example.com": [{"TXT": "v=spf1 -all exp=e13.example.com"}],
            "twolabel.test": [{"TXT": "v=spf1 exists:%{d2}._spf.example.com -all"}],
            "twolabel.test._spf.example.com": [{"A": "127.0.0.2"}],
            "m14.example.com": [{"TXT": "v=spf1 exists:%{l9r-}.%{d3} -all"}],
            "y.x.m14.example.com": [{"A": "127.0.0.2"}],
            "e13.example.com": [{"TXT": "%{s} from %{i} via %{h}"}],
        },
    }

    sizes = {
        "description": "records larger than libspf2's buffers",
        "tests": {
            "record-over-4096": case("a@s1.example.com", "permerror"),
            "ip4-list-120-match": case("a@s2.example.com", "pass", host="10.0.119.9",
                                       description="libspf2 alone drops terms past ~63"),
            "ip4-list-120-nomatch": case("a@s2.example.com", "fail"),
            "ip6-list-40-match": case("a@s3.example.com", "pass", host="2001:db8:27::5"),
            "ip4-list-250-match": case("a@s4.example.com", "softfail", host="10.9.1.49"),
            "spaces-4000": case("a@s5.example.com", "neutral"),
            "txt-300-strings": case("a@s6.example.com", "fail",
                                    description="one record in 300 one-byte strings"),
            "control-char": case("a@s7.example.com", "permerror"),
            "nul-in-record": case("a@s8.example.com", "permerror"),
            "del-in-record": case("a@s9.example.com", "permerror"),
            "long-expansion": case("%s@s10.example.com" % ("x" * 60), "fail",
                                   description="a query name over 253 octets is cut from the left"),
        },
        "zonedata": {
            "s1.example.com": [{"TXT": "v=spf1 " + "a " * 2100 + "-all"}],
            "s2.example.com": [{"TXT": "v=spf1 %s -all" % ips}],
            "s3.example.com": [{"TXT": "v=spf1 %s -all" % ip6s}],
            "s4.example.com": [{"TXT": "v=spf1 %s ~all" % many.replace("ip4:10.9.1.49", "~ip4:10.9.1.49")}],
            "s5.example.com": [{"TXT": "v=spf1" + " " * 4000}],
            "s6.example.com": [{"TXT": list("v=spf1 -all") + [""] * 289}],
            "s7.example.com": [{"TXT": "v=spf1 a:x\x01.example.com -all"}],
            "s8.example.com": [{"TXT": "v=spf1 ip4:192.0.2.1\0 -all"}],
            "s9.example.com": [{"TXT": "v=spf1 a:x\x7f.example.com -all"}],
            "s10.example.com": [{"TXT": "v=spf1 exists:%{s}.%{s}.%{s}.%{s}.%{s}.%{s} -all"}],
        },
    }

    cidrs = {
        "description": "absurd CIDR lengths",
        "tests": {
            "a-cidr-2-32": case("a@c1.example.com", "permerror"),
            "ip4-cidr-huge": case("a@c2.example.com", "permerror"),
            "mx-cidr-negative": case("a@c3.example.com", "permerror"),
            "a-cidr6-leading-zero": case("a@c4.example.com", "permerror"),
            "ip6-dual-cidr": case("a@c5.example.com", "permerror"),
            "ip4-slash-only": case("a@c6.example.com", "permerror"),
            "a-cidr-0-match": case("a@c7.example.com", "pass",
                                   description="/0: any A record matches (libspf2 cannot say /0)"),
            "ip4-cidr-0-match": case("a@c8.example.com", "pass"),
        },
        "zonedata": {
            "c1.example.com": [{"TXT": "v=spf1 a/4294967296 -all"}],
            "c2.example.com": [{"TXT": "v=spf1 ip4:192.0.2.1/99999999999999999999 -all"}],
            "c3.example.com": [{"TXT": "v=spf1 mx//-1 -all"}],
            "c4.example.com": [{"TXT": "v=spf1 a//0129 -all"}],
            "c5.example.com": [{"TXT": "v=spf1 ip6:::1//64 -all"}],
            "c6.example.com": [{"TXT": "v=spf1 ip4:192.0.2.1/ -all"}],
            "c7.example.com": [{"TXT": "v=spf1 a/0 -all"}, {"A": "203.0.113.9"}],
            "c8.example.com": [{"TXT": "v=spf1 ip4:203.0.113.9/0 -all"}],
        },
    }

    limits = {
        "description": "loops, chains and lookups that never end",
        "tests": {
            "include-chain-13": case("a@i1.example.com", "permerror"),
            "include-self-macro": case("a@l1.example.com", "permerror"),
            "redirect-pingpong": case("a@l2.example.com", "permerror"),
            "redirect-self-macro": case("a@l3.example.com", "permerror"),
            "voids-via-exists": case("a@l4.example.com", "permerror"),
            "mx-100-records": case("a@l5.example.com", "permerror",
                                   description="answer only fits TCP; >10 MX is a permerror"),
            "ptr-30-names": case("a@l6.example.com", "neutral",
                                 description="only the first 10 PTR names are looked at"),
            "include-never-answers": case("a@l7.example.com", "temperror"),
            "mx-never-answers": case("a@l8.example.com", "temperror"),
            "exp-never-answers": case("a@l9.example.com", "fail", explanation="DEFAULT"),
            "cname-loop-txt": case("a@l10.example.com", "temperror"),
            "include-multiple-records": case("a@l11.example.com", "permerror"),
        },
        "zonedata": dict(chain, **{
            "l1.example.com": [{"TXT": "v=spf1 include:%{d} -all"}],
            "l2.example.com": [{"TXT": "v=spf1 redirect=l2b.example.com"}],
            "l2b.example.com": [{"TXT": "v=spf1 redirect=l2.example.com"}],
            "l3.example.com": [{"TXT": "v=spf1 redirect=%{o}"}],
            "l4.example.com": [{"TXT": "v=spf1 exists:n1.example.com exists:n2.example.com "
                                       "exists:n3.example.com ?all"}],
            "l5.example.com": [{"TXT": "v=spf1 mx -all"}] +
                              [{"MX": [i, "mx%d.l5.example.com" % i]} for i in range(100)],
            "l6.example.com": [{"TXT": "v=spf1 ptr"}],
            "1.2.0.192.in-addr.arpa": [{"PTR": "p%d.l6.example.com" % i} for i in range(30)],
            "p25.l6.example.com": [{"A": CLIENT}],
            "l7.example.com": [{"TXT": "v=spf1 include:error.example.com -all"}],
            "l8.example.com": [{"TXT": "v=spf1 mx:error.example.com -all"}],
            "l9.example.com": [{"TXT": "v=spf1 -all exp=error.example.com"}],
            "l10.example.com": [{"CNAME": "l10b.example.com"}],
            "l10b.example.com": [{"CNAME": "l10.example.com"}],
            "l11.example.com": [{"TXT": "v=spf1 include:l11b.example.com -all"}],
            "l11b.example.com": [{"TXT": "v=spf1 +all"}, {"TXT": "v=spf1 -all"}],
        }),
    }
    for i in range(30):
        limits["zonedata"].setdefault("p%d.l6.example.com" % i, [{"A": "198.51.100.7"}])

    senders = {
        "description": "hostile <sender> and HELO text reaching macro expansion",
        "tests": {
            "local-many-dots": case("%s@h1.example.com" % ".".join("abcdefghijklmnopqrstuvwxyz"),
                                    "pass"),
            "local-non-ascii": case("j\u00f6hn\u2603@h2.example.com", "softfail"),
            "local-percent-macros": case("%{d}%%{l}@h3.example.com", "softfail"),
            "local-quoted-at": case('"a@b"@h4.example.com', "pass"),
            "helo-garbage-null-sender": case("", "none", helo="%{d}\u00ff"),
            "helo-long": case("a@h5.example.com", "fail", helo="h" * 300),
        },
        "zonedata": {
            "h1.example.com": [{"TXT": "v=spf1 exists:%{l1r}.h1.example.com -all"}],
            "a.h1.example.com": [{"A": "127.0.0.2"}],
            "h2.example.com": [{"TXT": "v=spf1 -exists:%{L}.x.h2.example.com ~all"}],
            "h3.example.com": [{"TXT": "v=spf1 -exists:%{l}.%{L}.h3.example.com ~all"}],
            "h4.example.com": [{"TXT": "v=spf1 exists:%{l}.h4.example.com -all"}],
            '"a@b".h4.example.com': [{"A": "127.0.0.2"}],
            "h5.example.com": [{"TXT": "v=spf1 a:%{h}.x.example.com -all"}],
        },
    }
    return [macros, sizes, cidrs, limits, senders]


if __name__ == "__main__":
    argv = sys.argv
    verbose = "--verbose" in argv
    only = set(argv[argv.index("--only") + 1:]) if "--only" in argv else set()
    _, failed = run_suite(argv[1], scenarios(), "hostile", verbose, only)
    sys.exit(1 if failed else 0)
