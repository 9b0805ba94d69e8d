#!/usr/bin/python3
"""sessions.py - many milter sessions at once, all waiting on DNS; the RSS.

    sessions.py PORT PID COUNT OUT DNSLOG

Opens COUNT milter connections to the daemon on 127.0.0.1:PORT (its PID
given), each as an MTA would: option negotiation (protocol version 6,
the actions Postfix offers), CONNECT from 192.0.2.5, HELO, and MAIL FROM
<s@wN.wait.test> - a different sender domain per session, whose lookups
the bench's DNS server drops, so every session stays at MAIL FROM waiting
for its answers (the daemon answers MAIL FROM only once its checks are
done). Sessions are set up one after another: the next starts once the
DNS server's log (DNSLOG, testdns.py --log) shows the MX query of the
previous one, i.e. once a libmilter worker runs its MAIL FROM callback.
Why: Debian's libmilter is built with its worker pool (_FFR_WORKERS_POOL),
whose controller marks a session ready and signals *one* idle worker per
ready session but counts idle workers only as they wake, so two sessions
ready at once with one idle worker leave the second waiting until some
worker finishes a callback or the 10 s COND_TIMEOUT - with every worker
blocked on DNS that is the DNS deadline (libmilter/worker.c, 8.17.1.9:
mi_pool_controller and mi_start_session). A burst of sessions measures that,
not mxguard's memory; burst.py shows it on its own. Then samples the daemon's VmRSS and thread count for 3 s and
writes OUT (JSON): sessions, waiting (sessions with no reply to MAIL FROM
yet, checked at the end), rss_idle_kb (before the first connection),
rss_peak_kb, threads_peak, per_session_kb ((peak - idle) / COUNT).
Closes every connection. Exits 1 when a session could not be set up.
"""

import asyncio
import json
import re
import struct
import sys
import time

SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE, SMFIF_SETSYMLIST = 0x01, 0x10, 0x20, 0x100


def packet(cmd, data=b""):
    """packet - one milter command: length, command byte, data."""
    return struct.pack("!I", len(data) + 1) + cmd + data


async def read_packet(r):
    """read_packet - (command byte, data) of one reply."""
    n = struct.unpack("!I", await r.readexactly(4))[0]
    body = await r.readexactly(n)
    return body[:1], body[1:]


def status(pid):
    """status - (VmRSS kB, Threads) of a process."""
    rss = thr = 0
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("Threads:"):
                thr = int(line.split()[1])
    return rss, thr


log_seen = [0]   # how far asked() has read the DNS log


async def asked(log, i):
    """asked - wait until the DNS server logged a query for session i's domain (30 s at most)."""
    name = ("w%d.wait.test" % i).encode()
    for _ in range(15000):
        with open(log, "rb") as f:
            f.seek(log_seen[0])
            data = f.read()
        if re.search(rb" " + re.escape(name) + rb"\.? ", data):
            log_seen[0] += data.rfind(b"\n") + 1 if b"\n" in data else 0
            return
        await asyncio.sleep(0.002)
    raise RuntimeError("session %d: its MAIL FROM lookup never reached the DNS server" % i)


async def session(port, i):
    """session - set one session up to MAIL FROM; returns (reader, writer)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    acts = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST
    w.write(packet(b"O", struct.pack("!III", 6, acts, 0)))
    cmd, _ = await read_packet(r)
    if cmd != b"O":
        raise RuntimeError("session %d: option negotiation answered %r" % (i, cmd))
    w.write(packet(b"C", b"mta.sender.test\0" + b"4" + struct.pack("!H", 25000 + i % 1000)
                   + b"192.0.2.5\0"))
    cmd, _ = await read_packet(r)
    if cmd != b"c":
        raise RuntimeError("session %d: CONNECT answered %r" % (i, cmd))
    w.write(packet(b"H", b"mta.sender.test\0"))
    cmd, _ = await read_packet(r)
    if cmd != b"c":
        raise RuntimeError("session %d: HELO answered %r" % (i, cmd))
    w.write(packet(b"M", b"<s@w%d.wait.test>\0" % i))
    await w.drain()
    return r, w


def breakdown(pid):
    """breakdown - resident kB of mxguard by kind of mapping: thread stacks, malloc heaps, the rest."""
    kinds = {"stacks_kb": 0, "heap_kb": 0, "other_kb": 0}
    kind, size = "other_kb", 0
    with open("/proc/%d/smaps" % pid, encoding="ascii", errors="replace") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                size, path = (hi - lo) // 1024, head[5] if len(head) > 5 else ""
                # glibc: a thread stack is an 8 MiB anonymous mapping (its guard page separate);
                # a thread arena's heap is a 64 MiB-aligned anonymous region of at most 64 MiB
                if path == "[heap]":
                    kind = "heap_kb"
                elif path:
                    kind = "other_kb"
                elif size == 8192:
                    kind = "stacks_kb"
                elif size <= 65536 and lo % (65536 * 1024) == 0:
                    kind = "heap_kb"
                else:
                    kind = "other_kb"
            elif head and head[0] == "Rss:":
                kinds[kind] += int(head[1])
    return kinds


async def sample(pid, box, stop):
    """sample - mxguard's RSS and threads every 0.2 s until stop is set; peaks into box."""
    while not stop.is_set():
        rss, t = status(pid)
        box["peak"], box["thr"] = max(box["peak"], rss), max(box["thr"], t)
        await asyncio.sleep(0.2)


async def main_async(port, pid, count, out, log):
    """main_async - open one by one, wait, sample all along, close."""
    idle, _ = status(pid)
    box, stop = {"peak": 0, "thr": 0}, asyncio.Event()
    sampler = asyncio.create_task(sample(pid, box, stop))
    t0 = time.monotonic()
    conns = []
    for i in range(count):
        conns.append(await session(port, i))
        await asked(log, i)
    setup = time.monotonic() - t0
    # libmilter's worker pool adds a thread per blocked session as it goes
    await asyncio.sleep(2.0)
    parts = breakdown(pid)
    stop.set()
    await sampler
    peak, thr = box["peak"], box["thr"]
    waiting = 0
    for r, _ in conns:
        # no reply to MAIL FROM yet: nothing to read
        waiting += 0 if r.at_eof() or len(r._buffer) else 1   # pylint: disable=protected-access
    for _, w in conns:
        w.close()
    res = {"sessions": count, "waiting": waiting, "setup_s": round(setup, 2),
           "rss_idle_kb": idle, "rss_peak_kb": peak, "threads_peak": thr,
           "per_session_kb": round((peak - idle) / count, 1), **parts}
    with open(out, "w", encoding="ascii") as f:
        json.dump(res, f)
    print("  %d sessions (%d still waiting at MAIL FROM), set up in %.1f s: mxguard RSS %.1f MB"
          " (idle %.1f MB), %d threads, %.1f KB per session" % (
              count, waiting, setup, peak / 1024, idle / 1024, thr, res["per_session_kb"]))
    print("  resident: thread stacks %.1f MB, malloc heaps %.1f MB, the rest %.1f MB" % (
        parts["stacks_kb"] / 1024, parts["heap_kb"] / 1024, parts["other_kb"] / 1024))
    if waiting < count:
        print("  %d of %d sessions got an answer before the end: the figure is not of %d waiting"
              " sessions" % (count - waiting, count, count))
    return 0 if waiting == count else 1


def main():
    port, pid, count, out, log = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
                                  sys.argv[5])
    try:
        return asyncio.run(main_async(port, pid, count, out, log))
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
        print("sessions.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
