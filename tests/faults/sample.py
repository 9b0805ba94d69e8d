#!/usr/bin/python3
"""sample.py - mxguard's memory, descriptors and threads over a soak.

    sample.py record --pid PID --csv FILE --progress FILE [--every S]
    sample.py report --csv FILE [--warmup F] [--tolerance PCT]

record: every S seconds (default 1) one CSV row "seconds,done,rss_kb,
fds,threads": time since start, messages the load client had finished
(its progress file), VmRSS and Threads from /proc/PID/status, the entries
of /proc/PID/fd. Ends when PID does (or is stopped).

report: the figures and the verdict, as check lines ("ok<TAB>what" or
"FAIL<TAB>what<TAB>detail") and "#" lines, on the samples taken under load
(before the client had finished every message). Warm-up is every sample before
the client had finished the first F of its messages (default 0.2). After
warm-up, for each of RSS, fds and threads: the median over all samples
("steady"), and the median of the last tenth of them ("end"). Flat means
end <= steady * (1 + PCT/100) + slack (PCT default 10; slack 1 MiB of RSS,
2 descriptors or threads: a few of these come and go with the connections
open at the instant). A leak that grows with the messages sent puts the
end above the middle: at 10 % and ~20 MB that is ~50 bytes a message over
80,000 messages. The least-squares slope (KiB per 10,000 messages) is
reported too, never judged.
"""

import argparse
import csv
import os
import statistics
import sys
import time


def read_status(pid):
    """read_status - (rss_kb, threads) of a process, or None once it is gone."""
    rss = thr = None
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    thr = int(line.split()[1])
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, ValueError):
        return None
    if rss is None or thr is None:
        return None
    return rss, fds, thr


def record(a):
    """record - sample until the process ends."""
    t0 = time.monotonic()
    with open(a.csv, "w", newline="", encoding="ascii") as f:
        w = csv.writer(f)
        w.writerow(["seconds", "done", "rss_kb", "fds", "threads"])
        while True:
            st = read_status(a.pid)
            if st is None:
                return 0
            try:
                with open(a.progress, encoding="ascii") as p:
                    done = int(p.read().split()[0])
            except (OSError, ValueError, IndexError):
                done = 0
            w.writerow(["%.1f" % (time.monotonic() - t0), done, *st])
            f.flush()
            time.sleep(a.every)


def slope(xs, ys):
    """slope - least-squares dy/dx (0 when x does not vary)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


def report(a):
    """report - figures and the flatness verdict."""
    with open(a.csv, encoding="ascii") as f:
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    total = max([r["done"] for r in rows] or [0])
    # under load only: not the client's last moment, when every message is done
    rows = [r for r in rows if r["done"] < total]
    warm = [r for r in rows if r["done"] >= a.warmup * total]
    if len(warm) < 20:
        print("FAIL\tsoak: enough samples to judge\tonly %d samples under load after warm-up "
              "in %s (want 20: send more messages)" % (len(warm), a.csv))
        return 1
    tail = warm[-max(1, len(warm) // 10):]
    print("# %d samples over %.0f s, %d messages; warm-up until %d messages (%d samples after it)"
          % (len(rows), rows[-1]["seconds"], total, a.warmup * total, len(warm)))
    bad = 0
    for key, name, unit, slack in (("rss_kb", "RSS", "KiB", 1024), ("fds", "open fds", "", 2),
                                   ("threads", "threads", "", 2)):
        allv = [r[key] for r in rows]
        steady = statistics.median(r[key] for r in warm)
        end = statistics.median(r[key] for r in tail)
        limit = steady * (1 + a.tolerance / 100.0) + slack
        per10k = slope([r["done"] for r in warm], [r[key] for r in warm]) * 10000
        fig = ("%s: start %.0f, max %.0f, median after warm-up %.0f, end %.0f (limit %.0f)%s; "
               "slope %+.1f per 10,000 messages" % (name, allv[0], max(allv), steady, end, limit,
                                                   " " + unit if unit else "", per10k))
        if end <= limit:
            print("ok\tsoak: %s flat after warm-up (end %.0f <= median %.0f + %g %% + %d)"
                  % (name, end, steady, a.tolerance, slack))
        else:
            bad += 1
            print("FAIL\tsoak: %s flat after warm-up\t%s" % (name, fig))
        print("# " + fig)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--pid", type=int, required=True)
    r.add_argument("--csv", required=True)
    r.add_argument("--progress", required=True)
    r.add_argument("--every", type=float, default=1.0)
    p = sub.add_parser("report")
    p.add_argument("--csv", required=True)
    p.add_argument("--warmup", type=float, default=0.2)
    p.add_argument("--tolerance", type=float, default=10.0)
    a = ap.parse_args()
    return record(a) if a.cmd == "record" else report(a)


if __name__ == "__main__":
    sys.exit(main())
