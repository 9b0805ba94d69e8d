#!/usr/bin/python3
"""checksink.py - did every message arrive, and did every filter do its work?

    checksink.py [--remove] SINK_DIR LIST STACK

SINK_DIR: an smtp-sink -d directory (one file per message). LIST: the
mkset.py list that was sent. STACK: what must be in each delivered message
(header fields unfolded; authserv-ids as tests/bench/stacks.sh sets them):
  postfix, passmilter  no Authentication-Results and no Received-SPF field:
                       nothing added (and nothing that could be mistaken for
                       a filter's work);
  mxguard              mxguard's Authentication-Results (mxguard.bench) with
                       spf=pass, dkim=pass and dmarc=pass;
  peer                 Received-SPF: Pass (policyd-spf), Authentication-Results
                       of opendkim (opendkim.bench) with dkim=pass and of
                       opendmarc (opendmarc.bench) with dmarc=pass.
Every Message-ID of LIST must be there exactly once, and nothing else.
Prints one line saying what was found; exits 1 with the first problems
otherwise. --remove deletes the files afterwards (kept on failure).
"""

import os
import re
import sys


def headers(path):
    """headers - the unfolded header fields of a sink file, as (name, value)."""
    with open(path, "rb") as f:
        text = f.read().decode("ascii", "replace")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    fields = []
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            fields.append([name.strip().lower(), value.strip()])
    return fields


def ar(fields, authserv):
    """ar - the Authentication-Results values of one authserv-id."""
    # the authserv-id is the first word (a comment may follow it)
    return [v for n, v in fields if n == "authentication-results"
            and re.match(r"\s*([^\s;(]*)", v).group(1).lower() == authserv]


def problems(fields, stack):
    """problems - what this message lacks for STACK (empty: fine)."""
    out = []
    names = [n for n, _ in fields]
    if stack in ("postfix", "passmilter"):
        for n in ("authentication-results", "received-spf"):
            if n in names:
                out.append("has a %s field" % n)
        return out
    if stack == "mxguard":
        got = ar(fields, "mxguard.bench")
        if len(got) != 1:
            return ["%d mxguard Authentication-Results fields" % len(got)]
        for m in ("spf", "dkim", "dmarc"):
            if not re.search(r"[; ]%s=pass\b" % m, got[0]):
                out.append("no %s=pass in %s" % (m, got[0]))
        return out
    spf = [v for n, v in fields if n == "received-spf"]
    if len(spf) != 1 or not spf[0].lower().startswith("pass"):
        out.append("Received-SPF: %s" % (spf or "none"))
    for authserv, m in (("opendkim.bench", "dkim"), ("opendmarc.bench", "dmarc")):
        got = ar(fields, authserv)
        if len(got) != 1 or not re.search(r"[; ]%s=pass\b" % m, got[0]):
            out.append("%s: %s=pass wanted, got %s" % (authserv, m, got or "no field"))
    return out


def main():
    args = sys.argv[1:]
    remove = args[:1] == ["--remove"]
    if remove:
        args = args[1:]
    sink, lst, stack = args
    want = {}
    with open(lst, encoding="ascii") as f:
        for line in f:
            _, kind, _, msgid = line.split()
            want[msgid] = kind
    seen, bad, files = {}, [], sorted(os.listdir(sink))
    for name in files:
        path = os.path.join(sink, name)
        fields = headers(path)
        ids = [v.strip("<>") for n, v in fields if n == "message-id"]
        mid = ids[0] if ids else "(none)"
        seen[mid] = seen.get(mid, 0) + 1
        for p in problems(fields, stack):
            bad.append("%s (%s): %s" % (mid, want.get(mid, "?"), p))
    missing = [m for m in want if m not in seen]
    extra = [m for m in seen if m not in want or seen[m] > 1]
    if missing:
        bad.append("%d messages not delivered, e.g. %s" % (len(missing), missing[:3]))
    if extra:
        bad.append("%d unexpected or duplicate messages, e.g. %s" % (len(extra), extra[:3]))
    if bad:
        print("checksink %s: %d problems in %s:" % (stack, len(bad), sink), file=sys.stderr)
        for b in bad[:8]:
            print("  " + b, file=sys.stderr)
        return 1
    what = {"postfix": "nothing added", "passmilter": "nothing added",
            "mxguard": "mxguard's A-R spf=pass dkim=pass dmarc=pass",
            "peer": "Received-SPF: Pass, opendkim dkim=pass, opendmarc dmarc=pass"}[stack]
    nfirst = sum(1 for k in want.values() if k == "first")
    print("%d/%d delivered (%d first-seen), each: %s" % (len(seen), len(want), nfirst, what))
    if remove:
        for name in files:
            os.unlink(os.path.join(sink, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
