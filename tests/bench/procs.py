#!/usr/bin/python3
"""procs.py - CPU and memory of the bench's components, from /proc (Linux).

    procs.py cpu SPEC...             "NAME MS" per SPEC: CPU used so far
    procs.py mem OUT SECS SPEC...    sample every SECS seconds until killed;
                                     after each sample OUT holds JSON
                                     {NAME: {"rss_kb": peak, "pss_kb": peak,
                                     "procs": peak count}}

SPEC is NAME=PID[/own=COMMS][/reaped=COMMS]: the process tree of PID (the
process and its live descendants). COMMS is a comma list of process names
(/proc/PID/comm), or !COMMS for "all but these". own= says whose own user +
system time (and memory) counts, reaped= whose cutime + cstime (the time of
children it has already waited for) counts; both default to all. So one
Postfix tree splits into the policy service it spawns and the rest:
    policyd=M/own=policyd-spf/reaped=spawn  postfix=M/own=!policyd-spf/reaped=!spawn
(each policyd-spf runs under a spawn process, which reaps it: the bench gives
spawn a long max_use and max_idle, so no spawn exits during the run.)
Sums never go backwards while the components live: an exited child's time
moves into its parent's cutime/cstime. A PID that is gone counts 0.
Memory: RSS and PSS (from smaps_rollup) summed over the counted processes,
the peak of the sums over the samples.
"""

import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def read_stat(pid):
    """read_stat - (ppid, comm, own ticks, reaped ticks), or None when gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    comm = data[data.index("(") + 1:data.rindex(")")]
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid field 4, utime stime cutime cstime 14..17
    return (int(fields[1]), comm, int(fields[11]) + int(fields[12]),
            int(fields[13]) + int(fields[14]))


def snapshot():
    """snapshot - {pid: stat} of every process now."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st is not None:
                procs[int(name)] = st
    return procs


def tree(root, procs):
    """tree - root and its live descendants."""
    children = {}
    for pid, st in procs.items():
        children.setdefault(st[0], []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            out.append(pid)
            todo.extend(children.get(pid, ()))
    return out


def matcher(spec):
    """matcher - a predicate on comm from "a,b" or "!a,b" (None: all)."""
    if spec is None:
        return lambda comm: True
    neg = spec.startswith("!")
    names = set(spec.lstrip("!").split(","))
    return (lambda comm: comm not in names) if neg else (lambda comm: comm in names)


def parse(spec):
    """parse - (name, pid, own predicate, reaped predicate)."""
    parts = spec.split("/")
    name, pid = parts[0].split("=")
    opts = dict(p.split("=", 1) for p in parts[1:])
    return name, int(pid), matcher(opts.get("own")), matcher(opts.get("reaped"))


def cpu(specs):
    """cpu - print each component's CPU milliseconds."""
    procs = snapshot()
    for name, root, own, reaped in map(parse, specs):
        ticks = 0
        for pid in tree(root, procs) if root > 0 else []:
            _, comm, o, r = procs[pid]
            ticks += (o if own(comm) else 0) + (r if reaped(comm) else 0)
        print("%s %d" % (name, ticks * 1000 // TICK))


def mem_of(pid):
    """mem_of - (rss_kb, pss_kb) of one process, or (0, 0)."""
    rss = pss = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def mem(out, secs, specs):
    """mem - sample until killed, the peaks in OUT after every sample."""
    parsed = [parse(s) for s in specs]
    peak = {name: {"rss_kb": 0, "pss_kb": 0, "procs": 0} for name, _, _, _ in parsed}
    while True:
        procs = snapshot()
        for name, root, own, _ in parsed:
            rss = pss = n = 0
            for pid in tree(root, procs) if root > 0 else []:
                if own(procs[pid][1]):
                    r, p = mem_of(pid)
                    rss, pss, n = rss + r, pss + p, n + 1
            pk = peak[name]
            pk["rss_kb"], pk["pss_kb"] = max(pk["rss_kb"], rss), max(pk["pss_kb"], pss)
            pk["procs"] = max(pk["procs"], n)
        with open(out + ".new", "w", encoding="ascii") as f:
            json.dump(peak, f)
        os.replace(out + ".new", out)
        time.sleep(secs)


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "cpu":
        cpu(sys.argv[2:])
        return 0
    if len(sys.argv) >= 4 and sys.argv[1] == "mem":
        mem(sys.argv[2], float(sys.argv[3]), sys.argv[4:])
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
