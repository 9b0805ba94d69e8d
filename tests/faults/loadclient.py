#!/usr/bin/python3
"""loadclient.py - a client that sends mail the way a sending MTA does.

    loadclient.py --port P --out DIR --key FILE --selector S
                  --good D1,D2,... --null N1,N2,... [--count N | --stop-file F]
                  [--concurrency C] [--null-every K] [--deadline S]
                  [--client-ip IP] [--run-id ID]

Sends messages to 127.0.0.1:P, one per SMTP session, C sessions at a time.
Message i comes from a null-MX domain when i % K == K - 1 (K = 10: 10 %),
otherwise from a good domain (round robin); each has its own Message-ID
<ID-i@faults.test>, its own recipient <ID-i@rcpt.test> and envelope sender
<b-ID-i@DOMAIN>. A good message's From: is news@DOMAIN and it carries a
DKIM signature (dkimpy, key --key, selector --selector, d=DOMAIN) made once
per domain at start-up over From/To/Subject/Date and the body, so the
unique Message-ID leaves it valid.

Each session: banner, EHLO, XCLIENT ADDR=--client-ip (the address every
filter then sees; Postfix answers with a new banner), EHLO, MAIL FROM,
RCPT TO, DATA, the message, ".", QUIT. Like an MTA's queue manager it
retries a message after any 4xx reply or connection failure (refused,
reset, closed, timed out) with a short backoff (0.1 s doubling to 2 s,
with jitter) and gives up only on a 5xx reply; a 2xx after the final "."
is success and the message is never sent again. A failure after the
final "." was sent and before its reply came is ambiguous (the server may
have queued it): the client retries, as an MTA must, and counts it.

--count N sends N messages; --stop-file F sends messages until F exists
(and at least --count), then finishes those started. --deadline S: after S
seconds no further attempt starts and an unfinished message ends as
"deadline" (a test fails on it rather than waiting forever).

Writes, in --out DIR:
  progress      "DONE STARTED ATTEMPTS FAILED_ATTEMPTS" (rewritten ~5 times a second)
  attempts.log  one JSON line per failed attempt: time (epoch s), id, kind,
                attempt, stage, code (0 for a connection failure), reply
  results.json  {"messages": {ID: {kind, final, reply, attempts, queue_id}},
                 "seconds": S, "ambiguous": N}; final is accepted, rejected
                or deadline
Prints a one-line summary; exits 0 when it ran (the verdict is the test's).
"""

import argparse
import json
import os
import random
import socket
import sys
import threading
import time

import dkim

HELO = b"mta.sender.faults.test"
IO_TIMEOUT = 60.0       # above Postfix's 30 s milter_command_timeout


class Temp(Exception):
    """A failure to retry: 4xx, or the connection failed."""

    def __init__(self, stage, code, text, after_dot=False):
        super().__init__("%s %s %s" % (stage, code, text))
        self.stage, self.code, self.text, self.after_dot = stage, code, text, after_dot


class Perm(Exception):
    """A 5xx reply: the message is refused for good."""

    def __init__(self, stage, code, text):
        super().__init__("%s %s %s" % (stage, code, text))
        self.stage, self.code, self.text = stage, code, text


def body_template(domain):
    """body_template - a DKIM-signed message for domain, with MSGID to fill in."""
    head = (
        "From: News <news@%s>\r\n"
        "To: <list@rcpt.test>\r\n"
        "Subject: faults tier message\r\n"
        "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n" % domain)
    body = ("\r\n"
            "Hello,\r\n"
            "this message checks that mail survives a restarting filter.\r\n"
            "It ends here.\r\n")
    return head, body


def make_templates(a):
    """make_templates - per domain: (signed head bytes, body bytes)."""
    with open(a.key, "rb") as f:
        key = f.read()
    out = {}
    for d in a.good:
        head, body = body_template(d)
        msg = (head + body).encode()
        sig = dkim.sign(msg, a.selector.encode(), d.encode(), key,
                        canonicalize=(b"relaxed", b"relaxed"),
                        include_headers=[b"from", b"to", b"subject", b"date"])
        out[d] = (sig + head.encode(), body.encode())
    for d in a.null:
        head, body = body_template(d)
        out[d] = (head.encode(), body.encode())
    return out


class Session:
    """Session - one SMTP connection, reading replies line by line."""

    def __init__(self, port):
        self.stage = "connect"
        try:
            self.sock = socket.create_connection(("127.0.0.1", port), timeout=IO_TIMEOUT)
        except OSError as e:
            raise Temp("connect", 0, str(e)) from None
        self.rf = self.sock.makefile("rb")

    def close(self):
        """close - drop the connection, whatever state it is in."""
        try:
            self.rf.close()
            self.sock.close()
        except OSError:
            pass

    def reply(self, after_dot=False):
        """reply - (code, text) of one reply; Temp on a dropped connection."""
        lines = []
        try:
            while True:
                line = self.rf.readline(4096)
                if not line:
                    raise Temp(self.stage, 0, "connection closed", after_dot)
                lines.append(line.decode("ascii", "replace").rstrip("\r\n"))
                if len(line) < 4 or line[3:4] != b"-":
                    break
        except OSError as e:
            raise Temp(self.stage, 0, str(e), after_dot) from None
        try:
            code = int(lines[-1][:3])
        except ValueError:
            raise Temp(self.stage, 0, "bad reply: " + lines[-1], after_dot) from None
        return code, lines[-1]

    def step(self, stage, cmd, want, after_dot=False):
        """step - send cmd (None: only read) and check the reply's code."""
        self.stage = stage
        if cmd is not None:
            try:
                self.sock.sendall(cmd + b"\r\n")
            except OSError as e:
                raise Temp(stage, 0, str(e), after_dot) from None
        code, text = self.reply(after_dot)
        if code in want:
            return text
        # a reply, even after the dot, says what became of the message: only
        # a connection lost before it is ambiguous
        if 400 <= code < 500:
            raise Temp(stage, code, text)
        if 500 <= code < 600:
            raise Perm(stage, code, text)
        raise Temp(stage, code, "unexpected reply: " + text)


def attempt(a, mid, domain, head, body):
    """attempt - one SMTP session for one message; the 250 line after the dot."""
    s = Session(a.port)
    try:
        s.step("banner", None, (220,))
        s.step("ehlo", b"EHLO " + HELO, (250,))
        s.step("xclient", b"XCLIENT ADDR=" + a.client_ip.encode(), (220,))
        s.step("ehlo", b"EHLO " + HELO, (250,))
        s.step("mail", b"MAIL FROM:<b-%s@%s>" % (mid.encode(), domain.encode()), (250,))
        s.step("rcpt", b"RCPT TO:<%s@rcpt.test>" % mid.encode(), (250,))
        s.step("data", b"DATA", (354,))
        data = head + b"Message-ID: <" + mid.encode() + b"@faults.test>\r\n" + body
        try:
            s.sock.sendall(data)
        except OSError as e:
            raise Temp("data", 0, str(e)) from None
        text = s.step("dot", b".", (250,), after_dot=True)
        try:
            s.sock.sendall(b"QUIT\r\n")
        except OSError:
            pass
        return text
    finally:
        s.close()


class Run:
    """Run - shared state of the workers."""

    def __init__(self, a):
        self.a = a
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.attempts = 0
        self.failed = 0
        self.ambiguous = 0
        self.results = {}
        self.t0 = time.time()
        self.log = open(os.path.join(a.out, "attempts.log"), "w", encoding="utf-8")
        self.templates = make_templates(a)

    def take(self):
        """take - the next message number, or None when there are no more."""
        a = self.a
        with self.lock:
            i = self.next
            if a.stop_file:
                if i >= a.count and os.path.exists(a.stop_file):
                    return None
            elif i >= a.count:
                return None
            if time.time() - self.t0 > a.deadline:
                return None
            self.next += 1
            return i

    def note_failure(self, mid, kind, n, e):
        """note_failure - one failed attempt, in attempts.log."""
        rec = {"time": round(time.time(), 3), "id": mid, "kind": kind, "attempt": n,
               "stage": e.stage, "code": e.code, "reply": e.text}
        with self.lock:
            self.failed += 1
            if getattr(e, "after_dot", False):
                self.ambiguous += 1
                rec["after_dot"] = True
            self.log.write(json.dumps(rec) + "\n")

    def one(self, i):
        """one - send message i until it is accepted, refused or out of time."""
        a = self.a
        mid = "%s-%06d" % (a.run_id, i)
        if i % a.null_every == a.null_every - 1:
            kind, domain = "null", a.null[(i // a.null_every) % len(a.null)]
        else:
            kind, domain = "good", a.good[i % len(a.good)]
        head, body = self.templates[domain]
        n, backoff, res = 0, 0.1, None
        while res is None:
            if time.time() - self.t0 > a.deadline:
                res = {"final": "deadline", "reply": "no final reply before the deadline"}
                break
            n += 1
            with self.lock:
                self.attempts += 1
            try:
                text = attempt(a, mid, domain, head, body)
                qid = text.split("queued as ")[-1].strip() if "queued as" in text else ""
                res = {"final": "accepted", "reply": text, "queue_id": qid}
            except Perm as e:
                res = {"final": "rejected", "reply": e.text, "stage": e.stage}
            except Temp as e:
                self.note_failure(mid, kind, n, e)
                time.sleep(backoff * random.uniform(0.5, 1.0))
                backoff = min(backoff * 2, 2.0)
        res.update({"kind": kind, "domain": domain, "attempts": n})
        with self.lock:
            self.results[mid] = res
            self.done += 1

    def worker(self):
        """worker - take messages until there are none."""
        while True:
            i = self.take()
            if i is None:
                return
            self.one(i)

    def progress(self):
        """progress - the counters, for the test that injects faults."""
        with self.lock:
            line = "%d %d %d %d\n" % (self.done, self.next, self.attempts, self.failed)
            self.log.flush()
        tmp = os.path.join(self.a.out, "progress.new")
        with open(tmp, "w", encoding="ascii") as f:
            f.write(line)
        os.replace(tmp, os.path.join(self.a.out, "progress"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--selector", required=True)
    ap.add_argument("--good", required=True)
    ap.add_argument("--null", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--stop-file", default="")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--null-every", type=int, default=10)
    ap.add_argument("--deadline", type=float, default=600.0)
    ap.add_argument("--client-ip", default="192.0.2.5")
    ap.add_argument("--run-id", default="m")
    a = ap.parse_args()
    a.good = a.good.split(",")
    a.null = a.null.split(",")
    r = Run(a)
    r.progress()
    threads = [threading.Thread(target=r.worker, daemon=True) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        r.progress()
    for t in threads:
        t.join()
    r.progress()
    r.log.close()
    secs = time.time() - r.t0
    with open(os.path.join(a.out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"messages": r.results, "seconds": round(secs, 3),
                   "ambiguous": r.ambiguous}, f)
    finals = {}
    for v in r.results.values():
        finals[v["final"]] = finals.get(v["final"], 0) + 1
    print("loadclient: %d messages in %.1f s (%s), %d attempts, %d failed attempts, "
          "%d ambiguous" % (len(r.results), secs,
                            ", ".join("%s %d" % kv for kv in sorted(finals.items())),
                            r.attempts, r.failed, r.ambiguous))
    return 0


if __name__ == "__main__":
    sys.exit(main())
