#!/usr/bin/python3
"""oracle.py - what `mxguard replay` must find on a log of the replay tier,
worked out from the log's own facts in a few lines of Python, without the
daemon's code: the independent side of the tier's assertions.

    oracle.py MODE LOG

LOG holds JSON decision lines (other lines are skipped). A message is its
txn's lines; its decision is its last line's. MODE:
  messages      how many messages
  nullmx        how many messages the null-mx rule decided
  stricter      the moves stricter.conf makes, sorted [(from, to, count)]:
                a message accepted by the default with spf = softfail is
                refused (the new softfail rule); a dry-run spf-permerror
                refusal becomes a real one
  looser        the moves looser.conf makes: dmarc-reject quarantines
                instead; a null-MX message (null-mx is gone) is undecided
  looser-needs  sorted [(fact, count)]: what those undecided messages need.
                At RCPT the rules after null-mx wait for the MAIL FROM facts
                the log lacks (dnsbl.bl for in-bl, mx_addr for drop-mx, spf
                for spf-temperror); when it has them all, the end of the
                message needs the header and DMARC facts a message refused
                at RCPT never got (from_header, dmarc, dmarc_policy).
  enforce       on a log written with dry_run = yes: the moves logged.conf
                makes (null-mx and no-domain refuse; an accept stays one)
  kinds         every kind of line in the log, "RULE ACTION[ dry] STAGE"
                joined by "," (RULE "-" when none)
"""

import collections
import json
import sys


def messages(path):
    """messages - txn -> its last line (a line without txn is a message alone)."""
    last, n = {}, 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            n += 1
            last[d.get("txn") or "line%d" % n] = d
    return last


def label(d):
    """label - the report's name of a line's decision (an accept in dry run is an accept)."""
    return d["action"] + (" (dry run)" if d["dry_run"] and d["action"] != "accept" else "")


def moves(pairs):
    """moves - sorted (from, to, count) of the pairs that differ."""
    c = collections.Counter(p for p in pairs if p[0] != p[1])
    return sorted((a, b, n) for (a, b), n in c.items())


def main():
    mode, path = sys.argv[1], sys.argv[2]
    msgs = list(messages(path).values())
    if mode == "messages":
        print(len(msgs))
    elif mode == "nullmx":
        print(sum(1 for d in msgs if d["rule"] == "null-mx"))
    elif mode == "stricter":
        pairs = []
        for d in msgs:
            new = label(d)
            if d["rule"] == "default" and d["spf"] == "softfail":
                new = "reject"
            elif d["rule"] == "spf-permerror":
                new = "reject"
            pairs.append((label(d), new))
        print(moves(pairs))
    elif mode == "looser":
        pairs = []
        for d in msgs:
            new = label(d)
            if d["rule"] == "dmarc-reject":
                new = "quarantine"
            elif d["rule"] == "null-mx":
                new = "undecided"
            pairs.append((label(d), new))
        print(moves(pairs))
    elif mode == "looser-needs":
        need = collections.Counter()
        for d in msgs:
            if d["rule"] != "null-mx":
                continue
            missing = [f for f in ("mx_addr", "dnsbl.bl", "spf") if d.get(f) is None]
            for f in missing or ["from_header", "dmarc", "dmarc_policy"]:
                need[f] += 1
        print(sorted(need.items()))
    elif mode == "enforce":
        print(moves((label(d), "reject" if d["rule"] in ("null-mx", "no-domain") else label(d))
                    for d in msgs))
    elif mode == "kinds":
        kinds = set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("{"):
                    d = json.loads(line)
                    kinds.add("%s %s%s %s" % (d["rule"] or "-", d["action"], " dry" if d["dry_run"] else "",
                                              d["stage"]))
        print(",".join(sorted(kinds)))
    else:
        sys.exit("oracle.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
