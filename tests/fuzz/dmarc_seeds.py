#!/usr/bin/python3
"""dmarc_seeds.py - (re)write the seeds in tests/fuzz/corpus/dmarc.

Run with Debian's /usr/bin/python3 (python3-dnslib). Each seed is what
fuzz_dmarc reads: a mode byte ('R' a DMARC record, 'F' a From: value,
'L' a List-Id: value, 'A' a raw TXT answer for _dmarc.mail.example.com),
then the bytes.
"""
import os

from dnslib import QTYPE, RCODE, RR, TXT, DNSRecord

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "dmarc")
Q = "_dmarc.mail.example.com"


def answer(texts, rcode=RCODE.NOERROR):
    """answer - a TXT reply for Q, one record per entry (a list of strings is one record)"""
    r = DNSRecord.question(Q, "TXT").reply()
    r.header.rcode = rcode
    for t in texts:
        parts = t if isinstance(t, list) else [t]
        r.add_answer(RR(Q, QTYPE.TXT, rdata=TXT([p.encode() for p in parts])))
    return r.pack()


def seeds():
    """seeds - name -> bytes"""
    s = {}
    records = {
        "full": "v=DMARC1; p=reject; sp=quarantine; np=none; adkim=s; aspf=s; t=y; psd=n; "
                "rua=mailto:a@example.com,mailto:b@example.org!10m; ruf=mailto:f@example.com; fo=0:d:s",
        "minimal": "v=DMARC1",
        "badp_rua": "v=DMARC1; p=block; rua=mailto:x@example.org",
        "badp": "v=DMARC1; p=block",
        "junk": "v=DMARC1;;; =; p; x=; p=none; p=reject; \x01=2",
        "notfirst": "p=reject; v=DMARC1",
        "spaces": "v = DMARC1 ; p = quarantine ; psd = y",
    }
    for k, v in records.items():
        s["rec_" + k] = b"R" + v.encode("latin-1")
    froms = {
        "plain": "a@example.com",
        "named": '"Alice (x)" <alice@Example.COM>',
        "two_same": "a@example.com, b@EXAMPLE.com",
        "two_domains": "a@example.com, b@evil.example",
        "group": "friends: a@example.com, b@example.com;",
        "route": "<@relay.example:a@example.com>",
        "comment": "a(comment (nested) \\) )@example.com",
        "bad": "undisclosed-recipients",
        "idn": "a@b\xc3\xbccher.example",
    }
    for k, v in froms.items():
        s["from_" + k] = b"F" + v.encode("latin-1")
    for k, v in {"std": "Debian Users <debian-user.lists.debian.org>",
                 "bare": "list.example.org", "empty": "<>",
                 "ctl": "x <A\tB.example>"}.items():
        s["list_" + k] = b"L" + v.encode("latin-1")
    for k, v in {"plain": " v=1; a=rsa-sha256; d=Example.COM; s=sel; b=x",
                 "folded": " v=1; d=mail.\r\n\texample.org; s=s",
                 "attacker": " v=1; d=legitimate.com(.attacker.com; s=s",
                 "none": " v=1; s=sel; b=x"}.items():
        s["dsig_" + k] = b"D" + v.encode("latin-1")
    s["ans_one"] = b"A" + answer(["v=DMARC1; p=reject"])
    s["ans_split"] = b"A" + answer([["v=DMARC1; ", "p=quarantine; ", "sp=none"]])
    s["ans_two"] = b"A" + answer(["v=DMARC1; p=reject", "v=DMARC1; p=none"])
    s["ans_mixed"] = b"A" + answer(["v=spf1 -all", "v=DMARC1; p=reject; psd=y"])
    s["ans_nx"] = b"A" + answer([], RCODE.NXDOMAIN)
    s["ans_truncated"] = b"A" + answer(["v=DMARC1; p=reject"])[:-5]
    return s


def main():
    """main - write every seed"""
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
