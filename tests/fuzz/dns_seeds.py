#!/usr/bin/python3
"""dns_seeds.py - (re)write the seed DNS replies in tests/fuzz/corpus/dns_parse.

Run with Debian's /usr/bin/python3 (python3-dnslib). A handful of small,
well-formed answers of every type the readers take, plus a few classic
hostile shapes the fuzzer would need long to find on its own.
"""
import os
import struct
import sys

from dnslib import A, AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, DNSRecord

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dns_parse")


def reply(qname, qtype, rrs, rcode=RCODE.NOERROR):
    """reply - a packed answer to qname/qtype holding rrs"""
    q = DNSRecord.question(qname, qtype)
    r = q.reply()
    r.header.rcode = rcode
    for rr in rrs:
        r.add_answer(rr)
    return r.pack()


def seeds():
    """seeds - name -> bytes"""
    d = "example.org"
    s = {}
    s["mx"] = reply(d, "MX", [RR(d, QTYPE.MX, rdata=MX("mx2." + d, 20)),
                              RR(d, QTYPE.MX, rdata=MX("mx1." + d, 10))])
    s["nullmx"] = reply(d, "MX", [RR(d, QTYPE.MX, rdata=MX(".", 0))])
    s["a_aaaa"] = reply(d, "A", [RR(d, QTYPE.A, rdata=A("192.0.2.1")),
                                 RR(d, QTYPE.AAAA, rdata=AAAA("2001:db8::1"))])
    s["cname"] = reply("www." + d, "A", [RR("www." + d, QTYPE.CNAME, rdata=CNAME("web." + d)),
                                         RR("web." + d, QTYPE.CNAME, rdata=CNAME(d)),
                                         RR(d, QTYPE.A, rdata=A("192.0.2.7"))])
    s["cname_only"] = reply("www." + d, "MX", [RR("www." + d, QTYPE.CNAME, rdata=CNAME("other.example"))])
    s["txt_spf"] = reply(d, "TXT", [RR(d, QTYPE.TXT, rdata=TXT([b"v=spf1 ip4:192.0.2.0/24 ",
                                                               b"include:_spf.example.net -all"])),
                                    RR(d, QTYPE.TXT, rdata=TXT([b"other", b"\x00nul"]))])
    s["ptr"] = reply("1.2.0.192.in-addr.arpa", "PTR",
                     [RR("1.2.0.192.in-addr.arpa", QTYPE.PTR, rdata=PTR("host." + d))])
    s["nxdomain"] = reply("nx." + d, "MX", [], RCODE.NXDOMAIN)
    # a compression pointer that points at itself, in the answer's owner name
    good = bytearray(reply(d, "A", [RR(d, QTYPE.A, rdata=A("192.0.2.1"))]))
    qend = 12 + len(d) + 2 + 4
    good[qend:qend + 2] = struct.pack("!H", 0xC000 | qend)
    s["ptr_loop"] = bytes(good)
    # an answer count far larger than what follows
    big = bytearray(s["mx"])
    big[6:8] = struct.pack("!H", 0xFFFF)
    s["ancount_lie"] = bytes(big)
    s["short"] = s["mx"][:20]
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
