#!/usr/bin/python3
"""chain_report.py - the lookup-chain table of tests/bench/chain.sh.

    chain_report.py --delay MS --chain NAME=REGEX [--chain ...] RUNS_FILE

RUNS_FILE has one JSON object per message: "server" ("fast" or "slow"),
"client" (chain_client.py's output), "mxguard_ms" (elapsed_ms of mxguard's
decision line) and "dns" (the query-log lines testdns.py wrote for it,
"TIME PROTO NAME TYPE OUTCOME"). Each --chain classifies a lookup by
matching REGEX against "NAME TYPE"; the first match wins.

From the slow server's logs, per chain: how many lookups, and its depth:
lookups that arrive together (within half the delay of the previous one)
were sent in parallel; each later wave waited for an answer, so the depth
is the number of waves. The critical path is the longest chain of the
envelope (MAIL FROM -> RCPT reply) plus the longest chain that only starts
once the headers have arrived (after the RCPT reply): the client cannot
send headers before its RCPT is answered, so that is the shortest the
added latency can be. The measured added latency is the median of slow
minus the median of fast, as the client saw it (MAIL FROM sent -> final
reply) and as mxguard logged it (elapsed_ms). Exits 1 when a run is
missing, was not accepted, or a lookup fits no chain.
"""

import argparse
import json
import re
import statistics
import sys


def waves(offsets, delay):
    """waves - group sorted arrival offsets (ms) into parallel waves."""
    out = []
    for t in sorted(offsets):
        if out and t - out[-1][-1] < delay / 2.0:
            out[-1].append(t)
        else:
            out.append([t])
    return out


def classify(line, chains):
    """classify - (chain name or None, offset-free key) of one log line."""
    parts = line.split()
    key = "%s %s" % (parts[2], parts[3])
    for name, rx in chains:
        if rx.search(key):
            return name
    return None


def analyse(runs, chains, delay):
    """analyse - per-chain lookups/depth/first offset over the slow runs."""
    per = {name: {"lookups": [], "depth": [], "start": []} for name, _ in chains}
    stray = set()
    for run in runs:
        t0 = run["client"]["t0"]
        seen = {name: [] for name, _ in chains}
        for line in run["dns"]:
            name = classify(line, chains)
            if name is None:
                stray.add(" ".join(line.split()[2:4]))
                continue
            seen[name].append((float(line.split()[0]) - t0) * 1000.0)
        for name, offs in seen.items():
            per[name]["lookups"].append(len(offs))
            per[name]["depth"].append(len(waves(offs, delay)))
            per[name]["start"].append(min(offs) if offs else float("nan"))
    return per, stray


def median(xs):
    """median - of a non-empty list."""
    return statistics.median(xs)


def main():
    """main - read the runs, print the table, judge them."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", type=float, required=True)
    ap.add_argument("--chain", action="append", default=[])
    ap.add_argument("runs")
    a = ap.parse_args()
    chains = []
    for c in a.chain:
        name, rx = c.split("=", 1)
        chains.append((name, re.compile(rx)))
    with open(a.runs, encoding="utf-8") as f:
        runs = [json.loads(line) for line in f if line.strip()]
    fast = [r for r in runs if r["server"] == "fast"]
    slow = [r for r in runs if r["server"] == "slow"]
    bad = [r for r in runs if r["client"].get("eom") != 250]
    if not fast or not slow or bad:
        print("chain: %d fast, %d slow runs, %d not accepted: %s" %
              (len(fast), len(slow), len(bad), bad[:1]))
        return 1

    per, stray = analyse(slow, chains, a.delay)
    d = a.delay
    # the envelope's chains start before the RCPT reply, the others after it
    rcpt_ms = median([r["client"]["rcpt_ms"] for r in slow])
    print("  %-6s %8s %6s %12s  %s" % ("chain", "lookups", "depth", "starts at", "(slow server, median)"))
    total = 0
    env_depth = late_depth = 0
    longest = ("", 0)
    for name, _ in chains:
        n = median(per[name]["lookups"])
        dep = median(per[name]["depth"])
        start = median(per[name]["start"])
        total += n
        if dep > longest[1]:
            longest = (name, dep)
        if start < rcpt_ms:
            env_depth = max(env_depth, dep)
            when = "MAIL FROM +%4.0f ms" % start
        else:
            late_depth = max(late_depth, dep)
            when = "after RCPT: MAIL FROM +%4.0f ms" % start
        print("  %-6s %8g %6g   %s" % (name, n, dep, when))
    crit = env_depth + late_depth

    c_fast = median([r["client"]["eom_ms"] for r in fast])
    c_slow = median([r["client"]["eom_ms"] for r in slow])
    m_fast = median([r["mxguard_ms"] for r in fast])
    m_slow = median([r["mxguard_ms"] for r in slow])
    r_fast = median([r["client"]["rcpt_ms"] for r in fast])
    added = c_slow - c_fast
    print("  lookups in all: %g; one after another they would add %g x %g = %.0f ms"
          % (total, total, d, total * d))
    print("  longest single chain (%s): %g x %g = %.0f ms" % (longest[0], longest[1], d, longest[1] * d))
    print("  critical path: longest envelope chain + longest chain after the headers"
          " = %g x %g = %.0f ms" % (crit, d, crit * d))
    print("  client, MAIL FROM -> final reply:  fast %6.0f ms   slow %6.0f ms   added %6.0f ms"
          % (c_fast, c_slow, added))
    print("  client, MAIL FROM -> RCPT reply:   fast %6.0f ms   slow %6.0f ms   added %6.0f ms"
          % (r_fast, rcpt_ms, rcpt_ms - r_fast))
    print("  mxguard elapsed_ms:                fast %6.0f ms   slow %6.0f ms   added %6.0f ms"
          % (m_fast, m_slow, m_slow - m_fast))
    print("  ratio added / critical path %.2f, added / longest single chain %.2f,"
          " added / all lookups in a row %.2f"
          % (added / (crit * d), added / (longest[1] * d), added / (total * d)))
    if stray:
        print("  lookups that fit no chain: %s" % ", ".join(sorted(stray)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
