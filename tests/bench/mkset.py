#!/usr/bin/python3
"""mkset.py - the sender mix of make bench: a zone and DKIM-signed messages.

    mkset.py --out DIR --keys DIR --nkeys K --domains P --messages N
             --first-share F --variant NAME:COUNT [--variant ...] [--seed S]

Makes, under --out:
  zone          the "example." zone for NSD and testdns.py (SOA, NS, TTL
                3600; not test.: opendkim's libunbound answers RFC 6761's
                test. itself): P repeat-sender domains zI.example and every
                first-seen domain below, each with an MX (mx.DOMAIN, one A
                in 192.0.2.0/24, no AAAA), an SPF record allowing the bench
                client 192.0.2.0/24 (a third of them through include:
                _spf.provider.example, as a hosted domain does), the DKIM key
                selK._domainkey.DOMAIN (one of K keys, keys/kK.txt) and a
                DMARC record (p=reject for 80%, quarantine 10%, none 10%);
                plus the bench client's HELO name mta.sender.example with SPF.
  VARIANT.list  one line per message of that variant: "FILE KIND DOMAIN
                MSGID", KIND "repeat" or "first"; the first COUNT slots of
                the one sequence of N slots.
  repeat/*.eml  the repeat-sender messages (shared by every variant);
  VARIANT/*.eml the first-seen messages of that variant.
The N slots are drawn once (seeded): a share F of them first-seen, the
others from the P domains with Zipf frequencies (s = 1: domain I is picked
with weight 1/I). Every variant holds the same repeat messages in the same
slots; in the first-seen slots each variant has domains of its own (fNAME-
SLOT.example), so a domain is first seen by every stack in every round and
no cache anywhere has it. Messages are ~2.8 KB (headers, a text body),
From: and MAIL FROM in the sender domain, signed by dkimpy (rsa-sha256,
relaxed/relaxed, d= the sender domain): SPF, DKIM and DMARC all pass.
"""

import argparse
import multiprocessing
import os
import random
import sys

import dkim

BODY_LINES = [
    "Hello,",
    "",
    "this message is part of the mxguard benchmark. It is about as long as",
    "an ordinary business mail: a few paragraphs of text, a signature, and",
    "the usual header fields. Nothing in it is read by the filters except",
    "the From: field and the DKIM signature that covers it.",
    "",
]


def body(slot):
    """body - ~2.3 KB of text, different per slot."""
    lines = list(BODY_LINES)
    for i in range(30):
        lines.append("Line %02d of message %05d: the quick brown fox jumps over the lazy dog." % (i, slot))
    lines += ["", "--", "The bench sender", "mta.sender.example"]
    return "\r\n".join(lines) + "\r\n"


def message(slot, domain, msgid):
    """message - the unsigned message of one slot."""
    hdr = [
        "From: Bench Sender <news@%s>" % domain,
        "To: <sink@rcpt.test>",
        "Subject: bench message %d from %s" % (slot, domain),
        "Date: Mon, 01 Jan 2024 10:00:00 +0000",
        "Message-ID: <%s>" % msgid,
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    return ("\r\n".join(hdr) + "\r\n\r\n" + body(slot)).encode("ascii")


KEYS = {}


def sign_job(job):
    """sign_job - (path, slot, domain, msgid, keyno): write the signed message."""
    path, slot, domain, msgid, keyno, keydir = job
    key = KEYS.get(keyno)
    if key is None:
        with open(os.path.join(keydir, "k%d.private" % keyno), "rb") as f:
            key = KEYS[keyno] = f.read()
    msg = message(slot, domain, msgid)
    sig = dkim.sign(msg, b"sel%d" % keyno, domain.encode(), key,
                    canonicalize=(b"relaxed", b"relaxed"),
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id",
                                     b"mime-version", b"content-type"])
    with open(path, "wb") as f:
        f.write(sig + msg)
    return 0


def key_record(keydir, k):
    """key_record - the TXT text of opendkim-genkey's kK.txt (strings joined)."""
    with open(os.path.join(keydir, "k%d.txt" % k), encoding="ascii") as f:
        text = f.read().split("; -----")[0]
    parts = []
    while '"' in text:
        _, rest = text.split('"', 1)
        s, text = rest.split('"', 1)
        parts.append(s)
    return "".join(parts)


def domain_records(d, i, nkeys, keys):
    """domain_records - zone lines of one sender domain (i: its number)."""
    pol = "reject" if i % 10 < 8 else ("quarantine" if i % 10 == 8 else "none")
    spf = ("v=spf1 include:_spf.provider.example -all" if i % 3 == 0
           else "v=spf1 ip4:192.0.2.0/24 -all")
    k = i % nkeys
    out = [
        "%s. MX 10 mx.%s." % (d, d),
        "mx.%s. A 192.0.2.%d" % (d, i % 250 + 1),
        '%s. TXT "%s"' % (d, spf),
        '_dmarc.%s. TXT "v=DMARC1; p=%s; rua=mailto:dmarc@%s"' % (d, pol, d),
    ]
    # split the key into 255-byte strings (NSD wants them so)
    rec = keys[k]
    chunks = " ".join('"%s"' % rec[j:j + 250] for j in range(0, len(rec), 250))
    out.append("sel%d._domainkey.%s. TXT %s" % (k, d, chunks))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--nkeys", type=int, default=4)
    ap.add_argument("--domains", type=int, default=300)
    ap.add_argument("--messages", type=int, required=True)
    ap.add_argument("--first-share", type=float, default=0.1)
    ap.add_argument("--variant", action="append", default=[])
    ap.add_argument("--seed", type=int, default=9)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    keys = [key_record(a.keys, k) for k in range(a.nkeys)]
    weights = [1.0 / i for i in range(1, a.domains + 1)]
    slots = []   # per slot: None (first-seen) or the repeat domain's number
    for _ in range(a.messages):
        if rnd.random() < a.first_share:
            slots.append(None)
        else:
            slots.append(rnd.choices(range(1, a.domains + 1), weights)[0])

    variants = []
    for v in a.variant:
        name, count = v.split(":")
        variants.append((name, min(int(count), a.messages)))
    longest = max([c for _, c in variants] + [0])

    jobs = []
    os.makedirs(os.path.join(a.out, "repeat"), exist_ok=True)
    for s in range(longest):
        if slots[s] is not None:
            d = "z%d.example" % slots[s]
            jobs.append((os.path.join(a.out, "repeat", "%05d.eml" % s), s, d,
                         "r%05d@%s" % (s, d), slots[s] % a.nkeys, a.keys))
    zone = ["$ORIGIN example.", "$TTL 3600",
            "@ SOA ns.example. hostmaster.example. 1 3600 600 86400 3600",
            "@ NS ns.example.", "ns.example. A 127.0.0.1",
            'mta.sender.example. TXT "v=spf1 ip4:192.0.2.0/24 -all"',
            "mta.sender.example. A 192.0.2.5",
            '_spf.provider.example. TXT "v=spf1 ip4:192.0.2.0/24 -all"']
    for i in range(1, a.domains + 1):
        zone += domain_records("z%d.example" % i, i, a.nkeys, keys)
    nfirst = 0
    for name, count in variants:
        vdir = os.path.join(a.out, name)
        os.makedirs(vdir, exist_ok=True)
        with open(os.path.join(a.out, name + ".list"), "w", encoding="ascii") as lst:
            for s in range(count):
                if slots[s] is None:
                    d = "f%s-%d.example" % (name, s)
                    nfirst += 1
                    zone += domain_records(d, nfirst, a.nkeys, keys)
                    path = os.path.join(vdir, "%05d.eml" % s)
                    msgid = "f%05d.%s@%s" % (s, name, d)
                    jobs.append((path, s, d, msgid, nfirst % a.nkeys, a.keys))
                    lst.write("%s first %s %s\n" % (path, d, msgid))
                else:
                    d = "z%d.example" % slots[s]
                    lst.write("%s repeat %s r%05d@%s\n" % (
                        os.path.join(a.out, "repeat", "%05d.eml" % s), d, s, d))
    with open(os.path.join(a.out, "zone"), "w", encoding="ascii") as f:
        f.write("\n".join(zone) + "\n")
    with multiprocessing.Pool(os.cpu_count() or 2) as pool:
        pool.map(sign_job, jobs, chunksize=32)
    rep = sum(1 for s in slots[:longest] if s is not None)
    distinct = len(set(s for s in slots[:longest] if s is not None))
    print("%d slots: %d repeat-sender messages from %d of %d domains, %d first-seen; "
          "%d messages signed" % (longest, rep, distinct, a.domains, longest - rep, len(jobs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
