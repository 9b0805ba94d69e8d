#!/usr/bin/python3
"""verify.py - did the load survive the faults? (the faults tier's judge)

    verify.py --client DIR --sink DIR --authserv ID [--phases FILE]
              [--mxlog FILE...]

--client: loadclient.py's output directory (results.json, attempts.log).
--sink: the smtp-sink -d directory (one file per delivered message).
--phases: lines "NAME EXPECT START END" (epoch seconds) written by the
tier while it injected faults; EXPECT is "clean" (no attempt may fail in
that window: the fault must not disturb mail) or "disrupt" (at least one
attempt must fail in it: proof that the fault hit traffic).

Prints one line per check, "ok<TAB>what" or "FAIL<TAB>what<TAB>detail", and
then "#"-lines with figures (failed attempts per phase and reply). The
checks:
  - every message ended (none ran out of the client's deadline);
  - every good message was accepted (250 after the final dot), every
    null-MX one refused with 550 5.7.27 and never accepted;
  - no attempt failed between the final dot and its reply (where a retry
    could duplicate a message);
  - the sink holds every good message exactly once, no null-MX message, and
    nothing else;
  - every delivered message has exactly one Authentication-Results field of
    --authserv, with spf=pass and dmarc=pass and dkim=pass (or temperror:
    DMARC passes by aligned SPF alone, so a key lookup lost to a DNS outage
    does not hold the message; counted and reported);
  - with --mxlog (mxguard's stderr logs, one per run of the daemon): each
    accepted message's queue id has a decision line with action=accept;
  - each phase as its EXPECT says.
Exit status: 0 when every check passed.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter

MSGID_RE = re.compile(r"<([^<>@\s]+)@faults\.test>")


def fields_of(path):
    """fields_of - the unfolded header fields of a sink file, as [name, value]."""
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


def ar_problem(fields, authserv):
    """ar_problem - (problem or "", dkim result) for one delivered message."""
    ours = [v for n, v in fields if n == "authentication-results"
            and re.match(r"\s*([^\s;(]*)", v).group(1).lower() == authserv]
    if len(ours) != 1:
        return "%d Authentication-Results fields of %s" % (len(ours), authserv), ""
    v = ours[0]
    res = {m: re.search(r"\b%s=([a-z]+)" % m, v) for m in ("spf", "dkim", "dmarc")}
    got = {m: (r.group(1) if r else "-") for m, r in res.items()}
    if got["spf"] != "pass" or got["dmarc"] != "pass" or got["dkim"] not in ("pass", "temperror"):
        return "Authentication-Results: " + v, got["dkim"]
    return "", got["dkim"]


class Report:
    """Report - the check lines and the verdict."""

    def __init__(self):
        self.failed = 0

    def check(self, ok, what, detail=""):
        """check - one check line."""
        if ok:
            print("ok\t" + what)
        else:
            self.failed += 1
            print("FAIL\t%s\t%s" % (what, detail.replace("\n", " | ")[:2000]))


def first(items, n=5):
    """first - a few items, for a failure's detail."""
    items = sorted(items)
    return ", ".join(items[:n]) + (" ..." if len(items) > n else "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--client", required=True)
    ap.add_argument("--sink", required=True)
    ap.add_argument("--authserv", required=True)
    ap.add_argument("--phases", default="")
    ap.add_argument("--mxlog", nargs="*", default=[])
    a = ap.parse_args()
    rep = Report()

    with open(os.path.join(a.client, "results.json"), encoding="utf-8") as f:
        res = json.load(f)
    msgs = res["messages"]
    good = {k for k, v in msgs.items() if v["kind"] == "good"}
    null = {k for k, v in msgs.items() if v["kind"] == "null"}
    fails = []
    with open(os.path.join(a.client, "attempts.log"), encoding="utf-8") as f:
        for line in f:
            fails.append(json.loads(line))

    late = [k for k, v in msgs.items() if v["final"] == "deadline"]
    rep.check(not late, "client: all %d messages ended (%d good, %d null-MX)"
              % (len(msgs), len(good), len(null)),
              "%d ran out of the deadline: %s" % (len(late), first(late)))
    bad = [k for k in good if msgs[k]["final"] != "accepted"]
    rep.check(not bad, "client: every good message was accepted (250 after the dot)",
              "%d not: %s" % (len(bad), "; ".join("%s %s" % (k, msgs[k]["reply"]) for k in sorted(bad)[:5])))
    nm = [k for k in null if not (msgs[k]["final"] == "rejected" and msgs[k].get("stage") == "rcpt"
                                  and msgs[k]["reply"].startswith("550 5.7.27 "))]
    rep.check(not nm, "client: every null-MX message refused with 550 5.7.27 at RCPT, none accepted",
              "%d not: %s" % (len(nm), "; ".join("%s %s %s" % (k, msgs[k]["final"], msgs[k]["reply"])
                                                 for k in sorted(nm)[:5])))
    amb = [x for x in fails if x.get("after_dot")]
    rep.check(not amb, "client: no attempt lost between the final dot and its reply",
              "%d: %s" % (len(amb), "; ".join("%s %s" % (x["id"], x["reply"]) for x in amb[:5])))

    # the sink
    seen, strays, arbad, dk = Counter(), [], [], Counter()
    names = [n for n in os.listdir(a.sink) if n.startswith("msg-")]
    for n in names:
        fields = fields_of(os.path.join(a.sink, n))
        ids = [m.group(1) for f, v in fields if f == "message-id" for m in [MSGID_RE.search(v)] if m]
        if len(ids) != 1 or ids[0] not in msgs:
            strays.append(n)
            continue
        seen[ids[0]] += 1
        prob, dkim = ar_problem(fields, a.authserv)
        dk[dkim] += 1
        if prob:
            arbad.append("%s: %s" % (ids[0], prob))
    missing = [k for k in good if seen[k] == 0]
    dup = [k for k in good if seen[k] > 1]
    leaked = [k for k in null if seen[k] > 0]
    rep.check(not missing, "sink: every good message delivered (%d files)" % len(names),
              "%d missing: %s" % (len(missing), first(missing)))
    rep.check(not dup, "sink: no message delivered twice",
              "%d duplicated: %s" % (len(dup), first("%s x%d" % (k, seen[k]) for k in dup)))
    rep.check(not leaked, "sink: no null-MX message delivered", "%d: %s" % (len(leaked), first(leaked)))
    rep.check(not strays, "sink: nothing but the client's messages",
              "%d other files: %s" % (len(strays), first(strays)))
    rep.check(not arbad and sum(dk.values()) > 0,
              "sink: every delivered message has one Authentication-Results of %s with spf=pass, "
              "dmarc=pass, dkim=pass or temperror" % a.authserv,
              "%d not: %s" % (len(arbad), "; ".join(arbad[:3])))

    # mxguard's decision lines: each accepted message was decided by mxguard
    if a.mxlog:
        decided = set()
        for p in a.mxlog:
            with open(p, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = re.match(r"queue_id=(\S+) .* action=accept ", line)
                    if m:
                        decided.add(m.group(1))
        qids = {k: msgs[k].get("queue_id", "") for k in good if msgs[k]["final"] == "accepted"}
        undecided = [k for k, q in qids.items() if not q or q not in decided]
        rep.check(qids and not undecided, "mxguard's log: a decision line with action=accept for the "
                  "queue id of every accepted message (%d logs)" % len(a.mxlog),
                  "%d without: %s" % (len(undecided), first("%s (%s)" % (k, qids[k]) for k in undecided)))

    # the phases
    by_phase = []
    if a.phases:
        with open(a.phases, encoding="ascii") as f:
            for line in f:
                name, expect, t0, t1 = line.split()
                t0, t1 = float(t0), float(t1)
                inside = [x for x in fails if t0 <= x["time"] < t1]
                by_phase.append((name, inside))
                if expect == "clean":
                    rep.check(not inside, "phase %s: no attempt failed (%.1f s)" % (name, t1 - t0),
                              "%d failed, first: %s" % (len(inside), "; ".join(
                                  "%s at %s: %s" % (x["id"], x["stage"], x["reply"]) for x in inside[:3])))
                else:
                    rep.check(len(inside) > 0, "phase %s: the fault hit traffic (%d attempts failed "
                              "and were retried, %.1f s)" % (name, len(inside), t1 - t0),
                              "no attempt failed between %.3f and %.3f" % (t0, t1))

    # figures
    acc_att = [msgs[k]["attempts"] for k in good if msgs[k]["final"] == "accepted"]
    print("# %d messages in %.1f s: %d good, %d null-MX; %d attempts, %d failed and retried; "
          "most attempts for one message %d" % (len(msgs), res["seconds"], len(good), len(null),
                                                sum(v["attempts"] for v in msgs.values()), len(fails),
                                                max(acc_att or [0])))
    print("# delivered: dkim=%s" % ", ".join("%s %d" % kv for kv in sorted(dk.items())))
    for name, inside in by_phase:
        kinds = Counter("%s %s" % (x["stage"], (x["reply"][:40] if x["code"] else "conn: " + x["reply"][:30]))
                        for x in inside)
        print("# phase %-12s %4d failed attempts%s" % (name, len(inside), "".join(
            "\n#     %4d  %s" % (c, k) for k, c in kinds.most_common(6))))
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
