#!/usr/bin/python3
"""smtpload.py - the bench's SMTP client: prepared messages, per-phase times.

    smtpload.py PORT LIST CONCURRENCY OUT

Sends every message of LIST (mkset.py's "FILE KIND DOMAIN MSGID" lines),
one per connection, over CONCURRENCY parallel sessions (asyncio, one
process: it costs little CPU next to the servers it measures). Each
session: banner, EHLO, XCLIENT ADDR=192.0.2.5 NAME=mta.sender.example (the
client then looks like a host on the Internet to every filter; Postfix
answers with a new banner), EHLO mta.sender.example, MAIL FROM:<bounce@DOMAIN>,
RCPT TO:<sink@rcpt.test>, DATA, the message, QUIT. Messages are read into
memory before the clock starts.

Writes OUT: one line per message, "KIND MAIL_MS RCPT_MS EOD_MS TOTAL_MS"
(the time from sending MAIL FROM to its reply, RCPT TO to its reply, the
final "." to its reply, and MAIL FROM sent to the end-of-data reply).
Prints "SECONDS CLIENT_CPU_MS" on stdout. Exits 1, naming the first
failures on stderr, when any reply was not the expected 2xx/354.
"""

import asyncio
import sys
import time

HELO = b"mta.sender.example"


class Fail(Exception):
    """A reply that was not what the step expects."""


async def reply(r):
    """reply - one SMTP reply (all its lines); returns (code, text)."""
    lines = []
    while True:
        line = await r.readline()
        if not line:
            raise Fail("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            break
    return int(lines[-1][:3]), b"".join(lines).decode("ascii", "replace").strip()


async def step(r, w, cmd, want):
    """step - send cmd (None: only read), expect a reply code in want; ms taken."""
    t0 = time.monotonic()
    if cmd is not None:
        w.write(cmd + b"\r\n")
    code, text = await reply(r)
    if code not in want:
        raise Fail("%s -> %s" % ((cmd or b"(greeting)").decode(), text))
    return (time.monotonic() - t0) * 1000.0


async def one(port, kind, domain, data):
    """one - one connection, one message; returns the result line."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    try:
        await step(r, w, None, (220,))
        await step(r, w, b"EHLO " + HELO, (250,))
        await step(r, w, b"XCLIENT ADDR=192.0.2.5 NAME=" + HELO, (220,))
        await step(r, w, b"EHLO " + HELO, (250,))
        t0 = time.monotonic()
        mail = await step(r, w, b"MAIL FROM:<bounce@" + domain + b">", (250,))
        rcpt = await step(r, w, b"RCPT TO:<sink@rcpt.test>", (250,))
        await step(r, w, b"DATA", (354,))
        w.write(data)
        eod = await step(r, w, b".", (250,))
        total = (time.monotonic() - t0) * 1000.0
        w.write(b"QUIT\r\n")
        await w.drain()
    finally:
        w.close()
        try:
            await w.wait_closed()
        except OSError:
            pass
    return "%s %.2f %.2f %.2f %.2f" % (kind, mail, rcpt, eod, total)


def stuffed(raw):
    """stuffed - CRLF lines, dot-stuffed, ending in CRLF (the "." follows)."""
    lines = raw.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines)


async def run(port, jobs, conc):
    """run - conc workers over the job list; (results, errors)."""
    results, errors = [None] * len(jobs), []
    nxt = iter(range(len(jobs)))

    async def worker():
        for i in nxt:
            kind, domain, data = jobs[i]
            try:
                results[i] = await one(port, kind, domain, data)
            except (Fail, OSError, ValueError) as e:
                errors.append("message %d (%s): %s" % (i, domain.decode(), e))

    await asyncio.gather(*(worker() for _ in range(conc)))
    return results, errors


def main():
    port, lst, conc, out = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    jobs = []
    with open(lst, encoding="ascii") as f:
        for line in f:
            path, kind, domain, _ = line.split()
            with open(path, "rb") as m:
                jobs.append((kind, domain.encode(), stuffed(m.read())))
    c0, t0 = time.process_time(), time.monotonic()
    results, errors = asyncio.run(run(port, jobs, conc))
    secs, cpu = time.monotonic() - t0, (time.process_time() - c0) * 1000.0
    with open(out, "w", encoding="ascii") as f:
        for r in results:
            if r is not None:
                f.write(r + "\n")
    print("%.3f %.0f" % (secs, cpu))
    if errors:
        print("smtpload: %d of %d messages failed, first ones:" % (len(errors), len(jobs)),
              file=sys.stderr)
        for e in errors[:5]:
            print("  " + e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
