#!/usr/bin/python3
"""check.py - read what the dmarc tier asserts on: decision lines, delivered
headers, the rules of the tier against the shipped ones.

    check.py facts LINE KEY...     the text decision LINE's KEYs as KEY=VALUE,
                                   blank-separated, values unquoted and
                                   unescaped (a missing key: KEY=<absent>)
    check.py hdr FILE NAME         each NAME: field of a stored message,
                                   unfolded, blank runs made one blank, one a
                                   line, in order (header block only)
    check.py ar FILE AUTHSERV METHOD
                                   the METHOD=... clause(s) of the
                                   Authentication-Results fields whose
                                   authserv-id is AUTHSERV, one a line; exits 1
                                   when there is not exactly one such field
    check.py rules TIER SHIPPED    every rule of TIER is in SHIPPED word for
                                   word (a commented-out one, with
                                   lists.example.org read as lists.list.test,
                                   counts for known-lists), and every shipped
                                   dmarc-* and from-* rule is in TIER; prints
                                   "ok N" or what differs, exit 1
    check.py json LINE ASSERTS     LINE is one JSON object d; run the Python
                                   ASSERTS over it; prints "ok" or the error

FILE is a message as smtp-sink stored it (its X-* lines first are ordinary
header fields here) or as `postcat -h` printed it.
"""

import json
import re
import sys


def parse_line(line):
    """parse_line - a text decision line as a dict (key=value, "..." quoted)."""
    out = {}
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i] == " ":
            i += 1
        j = line.find("=", i)
        if j < 0:
            break
        key = line[i:j]
        i = j + 1
        if i < n and line[i] == '"':
            i += 1
            val = []
            while i < n and line[i] != '"':
                c = line[i]
                if c == "\\" and i + 1 < n:
                    nxt = line[i + 1]
                    if nxt == "x" and i + 3 < n:
                        val.append(chr(int(line[i + 2:i + 4], 16)))
                        i += 4
                        continue
                    val.append(nxt)
                    i += 2
                    continue
                val.append(c)
                i += 1
            i += 1
            out[key] = "".join(val)
        else:
            j = line.find(" ", i)
            j = n if j < 0 else j
            out[key] = line[i:j]
            i = j
    return out


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


def clauses(value):
    """clauses - an A-R value split at the ';' outside comments and quotes."""
    out, cur, depth, quoted = [], [], 0, False
    for c in value:
        if quoted:
            quoted = c != '"'
        elif c == '"':
            quoted = True
        elif c == "(":
            depth += 1
        elif c == ")" and depth:
            depth -= 1
        elif c == ";" and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur).strip())
    return out


def cmd_ar(path, authserv, method):
    """cmd_ar - the METHOD= clauses of our one Authentication-Results."""
    ours = []
    for name, value in fields(path):
        if name.lower() != "authentication-results":
            continue
        parts = clauses(unfold(value))
        if parts[0].split()[0].lower() == authserv.lower():
            ours.append(parts)
    if len(ours) != 1:
        print("%d Authentication-Results fields with authserv-id %s" % (len(ours), authserv))
        return 1
    for c in ours[0][1:]:
        if c.lower().startswith(method.lower() + "="):
            print(c)
    return 0


def logical_rules(path, commented):
    """logical_rules - {name: "rule NAME ..." words} of a config file, its
    continuation lines joined ("default" for the default line); commented:
    the commented-out rules instead ("#rule ..." and its "#   ..." folds)."""
    rules, cur = {}, None

    def flush():
        if cur:
            words = " ".join(cur).split()
            rules.setdefault(words[1] if words[0] == "rule" else "default", " ".join(words))

    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if commented:
                if line.startswith("#rule "):
                    line = line[1:]
                elif cur and line[:1] == "#" and line[1:2] in (" ", "\t") and line[1:].strip():
                    line = line[1:]
                else:
                    line = ""
            if cur and line[:1] in (" ", "\t") and line.strip():
                cur.append(line.strip())
                continue
            flush()
            cur = [line] if line.startswith(("rule ", "default ")) else None
    flush()
    return rules


def cmd_rules(tier, shipped):
    """cmd_rules - every rule of the tier's file is a shipped one."""
    mine = logical_rules(tier, False)
    live = logical_rules(shipped, False)
    dormant = {k: v.replace("lists.example.org", "lists.list.test")
               for k, v in logical_rules(shipped, True).items()}
    bad = []
    for name, words in mine.items():
        want = live.get(name) or dormant.get(name)
        if want != words:
            bad.append("%s:\n  tier:    %s\n  shipped: %s" % (name, words, want))
    for name in live:
        if name.startswith(("dmarc-", "from-")) and name not in mine:
            bad.append("%s: a shipped DMARC rule the tier does not have" % name)
    if bad:
        print("\n".join(bad))
        return 1
    print("ok %d" % len(mine))
    return 0


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "facts":
        d = parse_line(a[1])
        print(" ".join("%s=%s" % (k, d.get(k, "<absent>")) for k in a[2:]))
    elif len(a) == 3 and a[0] == "hdr":
        for name, value in fields(a[1]):
            if name.lower() == a[2].lower():
                print(unfold(value))
    elif len(a) == 4 and a[0] == "ar":
        return cmd_ar(a[1], a[2], a[3])
    elif len(a) == 3 and a[0] == "rules":
        return cmd_rules(a[1], a[2])
    elif len(a) == 3 and a[0] == "json":
        try:
            d = json.loads(a[1])
            exec(a[2], {"d": d})  # the tier's own assertions
        except Exception as e:  # an assertion, a parse error: say which
            print("%s: %s" % (type(e).__name__, e))
            return 1
        print("ok")
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
