#!/usr/bin/python3
"""msg.py - read headers out of a delivered message, for the auth tier.

    msg.py hdr FILE NAME     each NAME: field's value, unfolded, white space
                             runs made one space, one field a line, in order
    msg.py sigb FILE         the b= tag of each DKIM-Signature, folding
                             white space removed, one a line, in order
    msg.py names FILE        every header field name, one a line, in order
    msg.py check-b FILE ID   for each dkim= clause of the Authentication-Results
                             with authserv-id ID: its header.b is at least 8
                             characters and begins the b= of a DKIM-Signature
                             of the message; prints "ok N" (N clauses with
                             header.b) or what is wrong, and exits 1

FILE is a message as smtp-sink stored it (its own X-* lines first are
ordinary header fields here). Only the header block is read.
"""

import re
import sys


def fields(path):
    """fields - [(name, raw value)] of the header block, folds kept."""
    with open(path, "rb") as f:
        data = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    head = data.split("\n\n", 1)[0]
    out = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1][1] += "\n" + line
        elif ":" in line:
            name, value = line.split(":", 1)
            out.append([name.strip(), value])
    return out


def unfold(value):
    """unfold - one line, white space runs as one blank."""
    return re.sub(r"\s+", " ", value).strip()


def check_b(path, authserv):
    """check_b - every header.b of our A-R names a signature of the message."""
    sigs = []
    ours = []
    for name, value in fields(path):
        if name.lower() == "dkim-signature":
            m = re.search(r"(?:^|;)\s*b\s*=([^;]*)", value)
            sigs.append(re.sub(r"\s+", "", m.group(1)) if m else "")
        elif name.lower() == "authentication-results":
            v = unfold(value)
            if v.lower().startswith(authserv.lower()):
                ours.append(v)
    if len(ours) != 1:
        print("%d Authentication-Results with authserv-id %s" % (len(ours), authserv))
        return 1
    n = 0
    for clause in ours[0].split(";")[1:]:
        if not clause.strip().startswith("dkim="):
            continue
        m = re.search(r'header\.b="?([A-Za-z0-9+/=]+)"?', clause)
        if not m:
            continue
        b = m.group(1)
        if len(b) < 8 or not any(s.startswith(b) for s in sigs):
            print("header.b=%s does not begin any signature's b= (%s)" % (b, clause.strip()))
            return 1
        n += 1
    print("ok %d" % n)
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "hdr" and len(sys.argv) == 4:
        for name, value in fields(path):
            if name.lower() == sys.argv[3].lower():
                print(unfold(value))
    elif cmd == "sigb":
        for name, value in fields(path):
            if name.lower() == "dkim-signature":
                m = re.search(r"(?:^|;)\s*b\s*=([^;]*)", value)
                print(re.sub(r"\s+", "", m.group(1)) if m else "")
    elif cmd == "check-b" and len(sys.argv) == 4:
        return check_b(path, sys.argv[3])
    elif cmd == "names":
        for name, _ in fields(path):
            print(name)
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
