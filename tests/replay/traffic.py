#!/usr/bin/python3
"""traffic.py - the replay tier's mail: a few hundred SMTP transactions of
varied classes through a private Postfix, one connection each, XCLIENT
giving each its client address (and an SMTP AUTH login to some).

    traffic.py --port PORT --key FILE --out FILE [--seed S] [--classes NAME:COUNT,...]

--key is the private key of selector "rp" at signed.test (opendkim-genkey).
--classes sends only these classes, COUNT of each (default: every class,
its own count). Writes one JSON object per transaction to --out: class,
sender, recipients, the replies' codes (mail, each rcpt, data). The order
of the transactions is shuffled with --seed, so the log interleaves the
classes as real traffic does, the same way each run.
"""

import argparse
import json
import random
import smtplib
import sys

import dkim

OWN = "192.0.2.10"          # in every test sender domain's SPF
LISTED = "192.0.2.99"       # ... and in bl.test
OUTSIDER = "203.0.113.9"    # in nobody's SPF
TRUSTED = "198.51.100.7"    # trusted_networks
HELO = "client.replay.test"

# name: (count, client, helo, sender domain ("" the null sender), recipients, From: domain, extra)
CLASSES = {
    "valid": (40, OWN, HELO, "valid.test", ["ok"], "valid.test", ""),
    "valid-2rcpt": (10, OWN, HELO, "valid.test", ["ok", "ok"], "valid.test", ""),
    "nullmx": (25, OUTSIDER, HELO, "nullmx.test", ["ok"], "nullmx.test", ""),
    "nullmx-2rcpt": (5, OUTSIDER, HELO, "nullmx.test", ["ok", "ok"], "nullmx.test", ""),
    "nxdomain": (15, OUTSIDER, HELO, "nx%d.nowhere.test", ["ok"], "nowhere.test", ""),
    "none": (8, OUTSIDER, HELO, "none.test", ["ok"], "none.test", ""),
    "bogus": (8, OUTSIDER, HELO, "bogus.test", ["ok"], "bogus.test", ""),
    "temp": (6, OUTSIDER, HELO, "temp.test", ["ok"], "temp.test", ""),
    "spf-fail": (15, OUTSIDER, HELO, "spf.test", ["ok"], "spf.test", ""),
    "softfail": (15, OUTSIDER, HELO, "soft.test", ["ok"], "soft.test", ""),
    "permerror": (10, OUTSIDER, HELO, "perm.test", ["ok"], "perm.test", ""),
    "dmarc-reject": (12, OWN, HELO, "valid.test", ["ok"], "reject.test", ""),
    "dmarc-quarantine": (8, OWN, HELO, "valid.test", ["ok"], "quar.test", ""),
    "signed": (10, OWN, HELO, "valid.test", ["ok"], "signed.test", "sign"),
    "signed-spf-fail": (8, OUTSIDER, HELO, "signed.test", ["ok"], "signed.test", "sign"),
    "unsigned-spf-fail": (5, OUTSIDER, HELO, "signed.test", ["ok"], "signed.test", ""),
    "trusted": (8, TRUSTED, HELO, "nullmx.test", ["ok"], "nullmx.test", ""),
    "authenticated": (8, OUTSIDER, HELO, "nullmx.test", ["ok"], "nullmx.test", "login"),
    "closed-mix": (10, OWN, HELO, "valid.test", ["ok", "closed"], "valid.test", ""),
    "closed-all": (5, OWN, HELO, "valid.test", ["closed"], "valid.test", ""),
    "closed-first": (5, OWN, HELO, "valid.test", ["closed", "ok"], "valid.test", ""),
    "watch": (6, OWN, HELO, "valid.test", ["watch"], "valid.test", ""),
    "watch-closed": (4, OWN, HELO, "valid.test", ["watch", "closed"], "valid.test", ""),
    "listed": (8, LISTED, HELO, "valid.test", ["ok"], "valid.test", ""),
    "dropmx": (6, OWN, HELO, "dropmx.test", ["ok"], "dropmx.test", ""),
    "partial": (5, OWN, HELO, "partial.test", ["ok"], "partial.test", ""),
    "discard": (5, OWN, HELO, "discard.test", ["ok"], "discard.test", ""),
    "abort": (8, OWN, HELO, "valid.test", ["ok"], "valid.test", "abort"),
    "null-sender": (5, OWN, "helo-pass.test", "", ["ok"], "helo-pass.test", ""),
    "from-several": (3, OWN, HELO, "valid.test", ["ok"], "valid.test", "two-from"),
}
RCPT_DOMAINS = {"ok": "rcpt.test", "closed": "closed.test", "watch": "watch.test"}


def message(n, cls, from_dom, extra, key):
    """message - the bytes of transaction n's message (signed when asked)."""
    froms = ["From: Sender <m%d@%s>" % (n, from_dom)]
    if extra == "two-from":
        froms.append("From: Other <o%d@%s>" % (n, from_dom))
    lines = froms + [
        "To: <r%d@rcpt.test>" % n,
        "Subject: replay tier %s %d" % (cls, n),
        "Date: Mon, 01 Jan 2024 10:00:00 +0000",
        "Message-ID: <m%d@replay.test>" % n,
        "",
        "Message %d of class %s." % (n, cls),
        "",
    ]
    body = "\r\n".join(lines).encode()
    if extra == "sign":
        sig = dkim.sign(body, b"rp", b"signed.test", key,
                        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
        body = sig + body
    return body


def transaction(port, n, cls, spec, key):
    """transaction - one SMTP transaction on its own connection; what the server said."""
    _, client, helo, sender_dom, rcpts, from_dom, extra = spec
    sender = "" if not sender_dom else "m%d@%s" % (n, sender_dom % n if "%d" in sender_dom else sender_dom)
    to = ["%s%d@%s" % (r[0], n, RCPT_DOMAINS[r]) for r in rcpts]
    # two recipients of one domain: make them differ
    to = [t if to.index(t) == i else t.replace("@", "b@") for i, t in enumerate(to)]
    rec = {"n": n, "class": cls, "sender": sender, "rcpts": to, "client": client}
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    try:
        s.ehlo(helo)
        args = "ADDR=%s NAME=[UNAVAILABLE] HELO=%s" % (client, helo)
        if extra == "login":
            args += " LOGIN=user%d" % n
        code, msg = s.docmd("XCLIENT", args)
        if code != 220:
            raise RuntimeError("XCLIENT %s: %d %s" % (args, code, msg))
        s.ehlo(helo)
        rec["mail"] = s.mail(sender)[0]
        rec["rcpt"] = []
        if rec["mail"] == 250:
            for t in to:
                rec["rcpt"].append(s.rcpt(t)[0])
        rec["data"] = None
        if 250 in rec["rcpt"]:
            if extra == "abort":
                s.rset()
            else:
                try:
                    rec["data"] = s.data(message(n, cls, from_dom, extra, key))[0]
                except smtplib.SMTPResponseException as e:
                    rec["data"] = e.smtp_code
        s.quit()
    finally:
        s.close()
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--classes", default="")
    ap.add_argument("--first", type=int, default=1, help="number of the first transaction")
    a = ap.parse_args()
    with open(a.key, "rb") as f:
        key = f.read()
    plan = []
    if a.classes:
        for item in a.classes.split(","):
            name, count = item.split(":")
            plan += [name] * int(count)
    else:
        for name, spec in CLASSES.items():
            plan += [name] * spec[0]
    random.Random(a.seed).shuffle(plan)
    with open(a.out, "w") as out:
        for i, cls in enumerate(plan):
            rec = transaction(a.port, a.first + i, cls, CLASSES[cls], key)
            out.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
