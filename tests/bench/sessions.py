#!/usr/bin/python3
"""sessions.py - many milter sessions at once, all waiting on DNS; the RSS.

    sessions.py PORT PID COUNT OUT

Opens COUNT milter connections to the daemon on 127.0.0.1:PORT (its PID
given), each as an MTA would: option negotiation (protocol version 6,
the actions Postfix offers), CONNECT from 192.0.2.5, HELO, and MAIL FROM
<s@wN.wait.test> - a different sender domain per session, whose lookups
the bench's DNS server drops, so every session stays at MAIL FROM waiting
for its answers (the daemon answers MAIL FROM only once its checks are
done). Then samples the daemon's VmRSS and thread count for 3 s and
writes OUT (JSON): sessions, waiting (sessions with no reply to MAIL FROM
yet, checked at the end), rss_idle_kb (before the first connection),
rss_peak_kb, threads_peak, per_session_kb ((peak - idle) / COUNT).
Closes every connection. Exits 1 when a session could not be set up.
"""

import asyncio
import json
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


async def session(port, i, gate):
    """session - set one session up to MAIL FROM; returns (reader, writer)."""
    async with gate:
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


async def sample(pid, box, stop):
    """sample - mxguard's RSS and threads every 0.2 s until stop is set; peaks into box."""
    while not stop.is_set():
        rss, t = status(pid)
        box["peak"], box["thr"] = max(box["peak"], rss), max(box["thr"], t)
        await asyncio.sleep(0.2)


async def main_async(port, pid, count, out):
    """main_async - open, wait, sample (all along: libmilter's pool may take long to set them up), close."""
    idle, _ = status(pid)
    gate = asyncio.Semaphore(count)
    box, stop = {"peak": 0, "thr": 0}, asyncio.Event()
    sampler = asyncio.create_task(sample(pid, box, stop))
    t0 = time.monotonic()
    conns = await asyncio.gather(*(session(port, i, gate) for i in range(count)))
    setup = time.monotonic() - t0
    # libmilter's worker pool adds a thread per blocked session as it goes
    await asyncio.sleep(2.0)
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
           "per_session_kb": round((peak - idle) / count, 1)}
    with open(out, "w", encoding="ascii") as f:
        json.dump(res, f)
    print("  %d sessions (%d still waiting at MAIL FROM), set up in %.1f s: mxguard RSS %.1f MB"
          " (idle %.1f MB), %d threads, %.1f KB per session" % (
              count, waiting, setup, peak / 1024, idle / 1024, thr, res["per_session_kb"]))
    if waiting < count:
        # the earliest sessions' deadline (dns_timeout) passed while libmilter's worker pool was
        # still setting the later ones up: the peak is of fewer waiting sessions than COUNT
        print("  (%d of %d sessions had their answer before the last was set up: libmilter's"
              " worker pool set them up in %.1f s)" % (count - waiting, count, setup))
    return 0 if waiting > 0 else 1


def main():
    port, pid, count, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    try:
        return asyncio.run(main_async(port, pid, count, out))
    except (OSError, RuntimeError, asyncio.IncompleteReadError) as e:
        print("sessions.py: %s" % e, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
