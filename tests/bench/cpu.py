#!/usr/bin/python3
"""cpu.py - CPU time used so far by process trees, from /proc (Linux).

    cpu.py PID...

Prints one line per PID: "PID MS", MS the milliseconds of user + system
time consumed by that process (all its threads, live and exited), by its
live descendants, and by the descendants already reaped (cutime + cstime of
every process counted). Reading this before and after a load and taking
the difference gives the CPU that load cost, also on a saturated machine
where wall-clock rates say little: a child that exits in between moves its
time into its parent's cutime/cstime, so the sum never goes backwards.
A PID that is gone prints "PID 0"; PID 0 (nothing to measure) prints "0 -".
"""

import os
import sys

TICK = os.sysconf("SC_CLK_TCK")


def read_stat(pid):
    """read_stat - (ppid, ticks) of one process, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses.
    fields = data[data.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime 14..17.
    ppid = int(fields[1])
    ticks = sum(int(x) for x in fields[11:15])
    return ppid, ticks


def snapshot():
    """snapshot - {pid: (ppid, ticks)} of every process now."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st is not None:
                procs[int(name)] = st
    return procs


def tree_ticks(root, procs):
    """tree_ticks - ticks of root and every descendant in procs."""
    children = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][1]
        todo.extend(children.get(pid, ()))
    return total


def main():
    """main - print each tree's CPU milliseconds."""
    procs = snapshot()
    for arg in sys.argv[1:]:
        pid = int(arg)
        if pid <= 0:
            print("%d -" % pid)
            continue
        print("%d %d" % (pid, tree_ticks(pid, procs) * 1000 // TICK))
    return 0


if __name__ == "__main__":
    sys.exit(main())
