#!/usr/bin/python3
"""sign.py - add a DKIM-Signature made by dkimpy (Debian python3-dkim).

    sign.py --key FILE --selector S --domain D [--canon H/B]
            [--alg rsa-sha256|ed25519-sha256] [--length] IN OUT

--key is the private key as opendkim-genkey (.private, PEM) or dknewkey
(.key) wrote it. IN and OUT may be the same file (to sign twice).
"""

import argparse
import sys

import dkim


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--key", required=True)
    ap.add_argument("--selector", required=True)
    ap.add_argument("--domain", required=True)
    ap.add_argument("--canon", default="relaxed/relaxed")
    ap.add_argument("--alg", default="rsa-sha256")
    ap.add_argument("--length", action="store_true")
    ap.add_argument("infile")
    ap.add_argument("outfile")
    a = ap.parse_args()
    with open(a.key, "rb") as f:
        key = f.read()
    with open(a.infile, "rb") as f:
        msg = f.read()
    hc, bc = a.canon.split("/")
    sig = dkim.sign(msg, a.selector.encode(), a.domain.encode(), key,
                    canonicalize=(hc.encode(), bc.encode()),
                    signature_algorithm=a.alg.encode(), length=a.length,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    with open(a.outfile, "wb") as f:
        f.write(sig + msg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
