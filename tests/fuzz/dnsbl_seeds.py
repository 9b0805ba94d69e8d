#!/usr/bin/python3
"""dnsbl_seeds.py - (re)write the seeds in tests/fuzz/corpus/dnsbl.

Run with Debian's /usr/bin/python3 (python3-dnslib). Each seed is what
fuzz_dnsbl reads: a control byte (the status, 0 = ok, 1 = nxdomain, ...;
bit 7 gives the list an error set), a filter, NUL, a domain, NUL, then a
blocklist's raw A answer: listings, error codes, hostile shapes.
"""
import os
import struct
import sys

from dnslib import A, CNAME, QTYPE, RCODE, RR, DNSRecord

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dnsbl")
Q = "2.0.0.127.zen.example"

OK, NXDOMAIN, NODATA, SERVFAIL, TIMEOUT = 0, 1, 2, 3, 4


def reply(addrs, rcode=RCODE.NOERROR, qname=Q, extra=()):
    """reply - an A answer to qname holding addrs (and extra records)"""
    r = DNSRecord.question(qname, "A").reply()
    r.header.rcode = rcode
    for a in addrs:
        r.add_answer(RR(qname, QTYPE.A, rdata=A(a)))
    for rr in extra:
        r.add_answer(rr)
    return r.pack()


def seed(ctl, filt, domain, pkt):
    """seed - one input"""
    return bytes([ctl]) + filt.encode() + b"\0" + domain.encode() + b"\0" + pkt


def seeds():
    """seeds - name -> bytes"""
    s = {}
    s["listed"] = seed(OK, "127.0.0.[2..11]", "mx1.example.org", reply(["127.0.0.2", "127.0.0.10"]))
    s["dbl_listed"] = seed(OK, "127.0.1.[2..99]", "example.net", reply(["127.0.1.2"]))
    s["not_counted"] = seed(OK, "127.0.0.2, 127.0.0.[4;9..11]", "a.example", reply(["127.0.0.20"]))
    s["any"] = seed(OK, "any", "b.example", reply(["127.0.0.3"]))
    s["refused"] = seed(OK, "127.0.0.[2..11]", "c.example", reply(["127.255.255.254"]))
    s["dbl_refused"] = seed(0x80, "127.0.1.[2..99]", "d.example", reply(["127.0.1.255", "127.0.1.2"]))
    s["outside"] = seed(OK, "any", "e.example", reply(["198.51.100.1"]))
    s["own_error"] = seed(0x80, "127.0.0.[2..11]", "f.example", reply(["127.0.0.15"]))
    s["huge"] = seed(OK, "127.0.0.2", "g.example", reply(["127.0.0.2"] * 40))
    s["cname"] = seed(OK, "127.0.0.2", "h.example",
                      reply([], extra=[RR(Q, QTYPE.CNAME, rdata=CNAME("x.example")),
                                       RR("x.example", QTYPE.A, rdata=A("127.0.0.2"))]))
    s["nxdomain"] = seed(NXDOMAIN, "127.0.0.[2..11]", "i.example", reply([], RCODE.NXDOMAIN))
    s["servfail"] = seed(SERVFAIL, "bad 127.0.0.256", "", b"")
    s["timeout"] = seed(TIMEOUT, "127.0.0.[11..2]", "k3y0123456789abcdefsecret.zen.dq.example", b"")
    bad = bytearray(reply(["127.0.0.2"]))
    bad[-5] = 5                                   # RDLENGTH 4 -> 5
    s["bad_rdlen"] = seed(OK, "127.0.0.2", "j..example", bytes(bad))
    lie = bytearray(reply(["127.0.0.2"]))
    lie[6:8] = struct.pack("!H", 0xFFFF)          # ANCOUNT far beyond what follows
    s["ancount_lie"] = seed(OK, "[127].0.[0;1].[2..4;9]", "x" * 250, bytes(lie))
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
