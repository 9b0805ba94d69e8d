#!/usr/bin/python3
"""verify.py - dkimpy's (Debian python3-dkim) verdict on a message, keys
asked from the tier's test DNS server on loopback, never the machine's
resolver.

    verify.py --dns PORT [--ignore-d-syntax] FILE

Prints "pass" or "fail" (exit 0 either way; 2 on bad usage).

--ignore-d-syntax switches off dkimpy's own check of d= (it refuses
characters such as "(") and nothing else: the key is still asked for at
s._domainkey.d exactly as the signature says, and the signature and body
hash still have to verify. The tier uses it to show that a signature with
d=legitimate.com(.attacker.com is valid but for its d=, so a verifier that
refuses it refuses it for its syntax, not for a missing key.
"""

import argparse
import sys

import dkim
from dnslib import DNSRecord, QTYPE

PORT = 0


def txt(name, timeout=5):
    """txt - the first TXT record at name from 127.0.0.1:PORT, strings joined; None if none."""
    q = DNSRecord.question(name.decode() if isinstance(name, bytes) else name, "TXT")
    reply = DNSRecord.parse(q.send("127.0.0.1", PORT, timeout=timeout))
    for rr in reply.rr:
        if rr.rtype == QTYPE.TXT:
            return b"".join(rr.rdata.data)
    return None


def main():
    global PORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--dns", type=int, required=True)
    ap.add_argument("--ignore-d-syntax", action="store_true")
    ap.add_argument("file")
    a = ap.parse_args()
    PORT = a.dns
    if a.ignore_d_syntax:
        checked = dkim.validate_signature_fields

        def without_d(sig, *args, **kwargs):
            # what dkimpy checks, with d= (and i=, which must end in d=) as a plain name
            plain = dict(sig)
            plain[b"d"] = b"example.test"
            if b"i" in plain:
                plain[b"i"] = b"@example.test"
            return checked(plain, *args, **kwargs)
        dkim.validate_signature_fields = without_d
    with open(a.file, "rb") as f:
        msg = f.read()
    print("pass" if dkim.verify(msg, dnsfunc=txt) else "fail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
