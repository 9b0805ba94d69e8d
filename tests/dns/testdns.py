#!/usr/bin/python3
"""testdns.py - an authoritative test DNS server that misbehaves on purpose.

Serves the records of one or more master-format zone files over UDP and TCP
on a loopback address, for every mxguard test tier.  Run it with Debian's
/usr/bin/python3 (python3-dnslib).

    testdns.py --zones FILE [--zones FILE ...] --port PORT|0 [--port-file F]
               [--pid-file F] [--delay-ms N] [--log F] [--addr 127.0.0.1]

Zone files hold records with absolute owner names (relative names are made
absolute with $ORIGIN, default "."), $ORIGIN / $TTL lines, ';' comments and
parenthesised multi-line records.  TXT strings longer than 255 bytes are
split into 255-byte strings for you.  Answers:
  - a name that appears (or lies between two names that appear, an "empty
    non-terminal") and has the type: NOERROR with the records;
  - such a name without the type: NODATA (NOERROR, empty answer, the closest
    SOA in authority when the data has one);
  - any other name: NXDOMAIN;  "*.suffix." owners act as wildcards;
  - a CNAME is followed (8 hops at most) and the target's records appended;
  - an answer too big for UDP (512 bytes, or the EDNS0 size up to 4096) is
    sent with TC set and no records; TCP gets it whole.

Fault directives, one per line, in the same files:
    $FAULT name servfail|refused|drop|truncate|malformed|nofollow|validated|delay=MS [TYPE]
  servfail/refused  that rcode;            drop       never answers;
  truncate          TC and no records over UDP, the full answer over TCP;
  malformed         garbage with the query's id;
  delay=MS          answer normally after MS ms (that request's thread only);
  nofollow          a CNAME at the name is answered alone, not followed (as an
                    authoritative server does when the target is out of zone);
  validated         answer normally, with AD set when the query had AD set (as a
                    validating resolver does for data it authenticated, RFC 6840
                    5.7); the log shows "validated,ad," or "validated,noad,".
Every other answer has AD clear.
A TYPE restricts the fault to queries of that type; a typed fault wins over
an untyped one for the same name.  Fault names may be "*.suffix." too.

--port 0 picks a free port (the same for UDP and TCP); the port is written to
--port-file once both sockets listen, which is the readiness signal.
--delay-ms N delays every answer by N ms, in the request's own thread.
--log F appends one line per query: "TIME PROTO NAME TYPE OUTCOME", TIME when
it arrived, NAME lower case and absolute, OUTCOME "RCODE/ANSWERS" (NOERROR/1,
NXDOMAIN/0) prefixed by what was done to it ("tc,", "delay=100,",
"truncate,") or just the fault ("servfail", "refused", "drop", "malformed").
SIGHUP re-reads the zone files and says "zones reloaded" on stderr (a broken
file keeps the old data: "reload failed, keeping old data: FILE:LINE: ..."); SIGTERM and SIGINT exit cleanly.
"""

import argparse
import os
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

from dnslib import (DNSRecord, DNSLabel, RR, QTYPE, RCODE, OPCODE, EDNS0,
                    DNSError)

MAX_CNAME_HOPS = 8
UDP_DEFAULT = 512
UDP_MAX = 4096
FAULT_KINDS = ("servfail", "refused", "drop", "truncate", "malformed", "nofollow",
               "validated")


class ZoneError(Exception):
    """A zone file problem, with file:line in the message."""


def norm(name):
    """norm - canonical dict key for a domain name: lower case, absolute."""
    s = str(name).lower()
    return s if s.endswith(".") else s + "."


def parent(name):
    """parent - the parent of a normalised name, or None for the root."""
    if name == ".":
        return None
    rest = name.split(".", 1)[1]
    return rest if rest else "."


def ancestors(name):
    """ancestors - proper ancestors of a normalised name, closest first."""
    p = parent(name)
    while p is not None:
        yield p
        p = parent(p)


def split_long_txt(line):
    """split_long_txt - rewrite quoted strings over 255 bytes as several."""
    def cut(m):
        body = m.group(1)
        if len(body.encode()) <= 255:
            return m.group(0)
        parts = [body[i:i + 255] for i in range(0, len(body), 255)]
        return " ".join('"%s"' % p for p in parts)
    return re.sub(r'"((?:[^"\\]|\\.)*)"', cut, line)


def strip_comment(line):
    """strip_comment - drop a ';' comment that is not inside quotes."""
    quoted, i = False, 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == ";" and not quoted:
            return line[:i]
        i += 1
    return line


def unparen(line):
    """unparen - (net '(' count, line with parentheses outside quotes blanked)."""
    out, depth, quoted, i = [], 0, False, 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            out.append(line[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif not quoted and c in "()":
            depth += 1 if c == "(" else -1
            c = " "
        out.append(c)
        i += 1
    return depth, "".join(out)


class Fault:
    """One $FAULT directive: what to do, for which query type (None = all)."""

    def __init__(self, kind, ms, qtype):
        self.kind, self.ms, self.qtype = kind, ms, qtype

    def describe(self):
        """describe - the fault as written, for the query log."""
        return "delay=%d" % self.ms if self.kind == "delay" else self.kind


class ZoneData:
    """Immutable records + faults loaded from zone files; swapped on SIGHUP."""

    def __init__(self):
        self.records = {}   # name -> [RR]
        self.names = set()  # names that exist (owners and empty non-terminals)
        self.faults = {}    # name -> [Fault]

    @classmethod
    def load(cls, paths):
        """load - parse every zone file; raises ZoneError on any problem."""
        z = cls()
        for path in paths:
            try:
                with open(path, encoding="utf-8") as f:
                    text = f.read()
            except OSError as e:
                raise ZoneError("%s: %s" % (path, e.strerror))
            z._parse(path, text)
        z._add_empty_non_terminals()
        return z

    def _parse(self, path, text):
        """_parse - one file: directives, faults and records, line by line."""
        origin, ttl, owner = ".", 300, None
        pending, start = None, 0
        for lineno, raw in enumerate(text.splitlines(), 1):
            raw = strip_comment(raw)
            if pending is None:
                pending, start = raw, lineno
            else:
                pending += " " + raw
            depth, line = unparen(pending)
            if depth > 0:
                continue
            pending = None
            where = "%s:%d" % (path, start)
            stripped = line.strip()
            if not stripped:
                continue
            words = stripped.split()
            if words[0] == "$ORIGIN":
                origin = norm(words[1]) if len(words) > 1 else "."
                continue
            if words[0] == "$TTL":
                if len(words) < 2 or not words[1].isdigit():
                    raise ZoneError("%s: $TTL needs a number of seconds" % where)
                ttl = int(words[1])
                continue
            if words[0] == "$FAULT":
                self._parse_fault(where, words[1:], origin)
                continue
            if words[0].startswith("$"):
                raise ZoneError("%s: unknown directive %s" % (where, words[0]))
            if line[0] in " \t":
                if owner is None:
                    raise ZoneError("%s: record without an owner name" % where)
                line = owner + " " + line.strip()
            try:
                rrs = RR.fromZone(split_long_txt(line), origin=origin, ttl=ttl)
            except (DNSError, ValueError, AttributeError, IndexError,
                    TypeError, KeyError) as e:
                raise ZoneError("%s: cannot parse record: %s" % (where, e))
            for rr in rrs:
                name = norm(rr.rname)
                owner = name
                self.records.setdefault(name, []).append(rr)
                self.names.add(name)
        if pending is not None:
            raise ZoneError("%s:%d: unbalanced '('" % (path, start))

    def _parse_fault(self, where, args, origin):
        """_parse_fault - "$FAULT name kind [type]" into the fault table."""
        if len(args) not in (2, 3):
            raise ZoneError("%s: usage: $FAULT name kind [type]" % where)
        name, kind = args[0], args[1].lower()
        name = norm(name) if name.endswith(".") else \
            norm(name + "." + origin.rstrip(".") if origin != "." else name)
        ms = 0
        if kind.startswith("delay="):
            try:
                ms = int(kind[6:])
            except ValueError:
                ms = -1
            if ms < 0:
                raise ZoneError("%s: delay=MS needs milliseconds" % where)
            kind = "delay"
        elif kind not in FAULT_KINDS:
            raise ZoneError("%s: unknown fault %r" % (where, args[1]))
        qtype = None
        if len(args) == 3:
            try:
                qtype = getattr(QTYPE, args[2].upper())
            except (DNSError, AttributeError):
                qtype = None
            if not isinstance(qtype, int):
                raise ZoneError("%s: unknown type %r" % (where, args[2]))
        self.faults.setdefault(name, []).append(Fault(kind, ms, qtype))

    def _add_empty_non_terminals(self):
        """_add_empty_non_terminals - names between two owner names exist."""
        owners = set(self.names)
        for name in owners:
            between = []
            for anc in ancestors(name):
                if anc in owners:
                    self.names.update(between)
                    break
                between.append(anc)

    def fault_for(self, qname, qtype):
        """fault_for - the fault for a query, or None; typed faults first."""
        for name in [qname] + ["*." + a if a != "." else "*." for a in
                               ancestors(qname)]:
            faults = self.faults.get(name)
            if not faults:
                continue
            typed = [f for f in faults if f.qtype == qtype]
            if typed:
                return typed[0]
            untyped = [f for f in faults if f.qtype is None]
            if untyped:
                return untyped[0]
        return None

    def _find(self, name):
        """_find - records of a name (wildcards synthesised) or None."""
        if name in self.records:
            return self.records[name]
        if name in self.names:
            return []
        for anc in ancestors(name):
            wild = ("*." + anc) if anc != "." else "*."
            if wild in self.records:
                out = []
                for rr in self.records[wild]:
                    out.append(RR(rname=DNSLabel(name), rtype=rr.rtype,
                                  rclass=rr.rclass, ttl=rr.ttl, rdata=rr.rdata))
                return out
            if anc in self.names:
                return None
        return None

    def _soa_for(self, name):
        """_soa_for - the closest enclosing SOA record, for negative answers."""
        for n in [name] + list(ancestors(name)):
            for rr in self.records.get(n, []):
                if rr.rtype == QTYPE.SOA:
                    return [rr]
        return []

    def resolve(self, qname, qtype, follow=True):
        """resolve - (rcode, answer RRs, authority RRs) for one question."""
        answers, name = [], qname
        for _ in range(MAX_CNAME_HOPS + 1):
            rrs = self._find(name)
            if rrs is None:
                return RCODE.NXDOMAIN, answers, self._soa_for(name)
            match = [rr for rr in rrs if qtype in (rr.rtype, QTYPE.ANY)]
            if match:
                return RCODE.NOERROR, answers + match, []
            cname = [rr for rr in rrs if rr.rtype == QTYPE.CNAME]
            if not cname:
                return RCODE.NOERROR, answers, self._soa_for(name)
            answers.append(cname[0])
            if not follow:
                return RCODE.NOERROR, answers, []
            name = norm(cname[0].rdata.label)
        return RCODE.SERVFAIL, [], []


class Server:
    """Sockets, the current ZoneData and the per-request threads."""

    def __init__(self, opts):
        self.opts = opts
        self.zones = ZoneData.load(opts.zones)
        self.log_lock = threading.Lock()
        self.logf = open(opts.log, "a", encoding="utf-8") if opts.log else None
        self.udp, self.tcp = self._bind(opts.addr, opts.port)
        self.port = self.udp.getsockname()[1]

    @staticmethod
    def _bind(addr, port):
        """_bind - UDP and TCP sockets on one port (retry clashes for 0)."""
        for _ in range(50):
            udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            udp.bind((addr, port))
            tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                tcp.bind((addr, udp.getsockname()[1]))
            except OSError:
                udp.close()
                tcp.close()
                if port != 0:
                    raise
                continue
            tcp.listen(64)
            return udp, tcp
        raise OSError("no free port for both UDP and TCP")

    def reload(self):
        """reload - swap in freshly parsed zones; keep the old on error."""
        try:
            self.zones = ZoneData.load(self.opts.zones)
            print("testdns: zones reloaded", file=sys.stderr, flush=True)
        except ZoneError as e:
            print("testdns: reload failed, keeping old data: %s" % e,
                  file=sys.stderr, flush=True)

    def log(self, when, proto, qname, qtype, outcome):
        """log - one query-log line (receipt time); the file is appended."""
        if not self.logf:
            return
        line = "%.3f %s %s %s %s\n" % (when, proto, qname,
                                       QTYPE.get(qtype, str(qtype)), outcome)
        with self.log_lock:
            self.logf.write(line)
            self.logf.flush()

    def answer(self, data, proto):
        """answer - the reply bytes for one query, or None to stay silent."""
        when = time.time()
        try:
            q = DNSRecord.parse(data)
        except (DNSError, struct.error, IndexError, ValueError):
            return None
        reply = q.reply()
        reply.header.ra = 0
        reply.header.ad = 0
        edns = [rr for rr in q.ar if rr.rtype == QTYPE.OPT]
        limit = UDP_DEFAULT
        if edns:
            limit = max(UDP_DEFAULT, min(edns[0].edns_len, UDP_MAX))
            reply.add_ar(EDNS0(udp_len=UDP_MAX))
        if q.header.opcode != OPCODE.QUERY or len(q.questions) != 1:
            reply.header.rcode = RCODE.NOTIMP if q.header.opcode != \
                OPCODE.QUERY else RCODE.FORMERR
            return reply.pack()
        zones = self.zones  # one snapshot for the whole request
        qname, qtype = norm(q.q.qname), q.q.qtype
        fault = zones.fault_for(qname, qtype)
        if self.opts.delay_ms:
            time.sleep(self.opts.delay_ms / 1000.0)
        if fault and fault.kind == "delay":
            time.sleep(fault.ms / 1000.0)
        tag = (fault.describe() + ",") if fault else ""
        if fault and fault.kind == "validated":
            reply.header.ad = q.header.ad
            tag += "ad," if q.header.ad else "noad,"
        if fault and fault.kind == "drop":
            self.log(when, proto, qname, qtype, "drop")
            return None
        if fault and fault.kind == "malformed":
            self.log(when, proto, qname, qtype, "malformed")
            # Claims one answer, then a label pointing past the end.
            return struct.pack("!H", q.header.id) + \
                b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\x07garbage\xff\xff"
        if fault and fault.kind in ("servfail", "refused"):
            reply.header.rcode = RCODE.SERVFAIL if fault.kind == "servfail" \
                else RCODE.REFUSED
            self.log(when, proto, qname, qtype, fault.kind)
            return reply.pack()
        if fault and fault.kind == "truncate" and proto == "udp":
            reply.header.tc = 1
            self.log(when, proto, qname, qtype, "truncate,tc")
            return reply.pack()
        nofollow = bool(fault and fault.kind == "nofollow")
        rcode, ans, auth = zones.resolve(qname, qtype, follow=not nofollow)
        reply.header.rcode = rcode
        for rr in ans:
            reply.add_answer(rr)
        for rr in auth:
            reply.add_auth(rr)
        wire = reply.pack()
        if proto == "udp" and len(wire) > limit:
            reply.rr, reply.auth = [], []
            reply.header.tc = 1
            wire = reply.pack()
            tag += "tc,"
        self.log(when, proto, qname, qtype,
                 "%s%s/%d" % (tag, RCODE.get(rcode), len(ans)))
        return wire

    def serve_udp(self, data, peer):
        """serve_udp - one datagram, in its own thread."""
        wire = self.answer(data, "udp")
        if wire is not None:
            try:
                self.udp.sendto(wire, peer)
            except OSError:
                pass

    def serve_tcp(self, conn):
        """serve_tcp - length-prefixed queries until the client closes."""
        conn.settimeout(30)
        try:
            while True:
                head = self._recv_exact(conn, 2)
                if head is None:
                    break
                data = self._recv_exact(conn, struct.unpack("!H", head)[0])
                if data is None:
                    break
                wire = self.answer(data, "tcp")
                if wire is not None:
                    conn.sendall(struct.pack("!H", len(wire)) + wire)
        except OSError:
            pass
        finally:
            conn.close()

    @staticmethod
    def _recv_exact(conn, n):
        """_recv_exact - exactly n bytes, or None at end of stream."""
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                return None
            buf += chunk
        return buf

    def run(self, wake):
        """run - the accept/dispatch loop; returns on SIGTERM or SIGINT."""
        state = {"stop": False, "reload": False}

        def on_signal(signum, _frame):
            if signum == signal.SIGHUP:
                state["reload"] = True
            else:
                state["stop"] = True
        for s in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(s, on_signal)
        while not state["stop"]:
            try:
                ready, _, _ = select.select([self.udp, self.tcp, wake], [], [])
            except InterruptedError:
                ready = []
            if state["reload"]:
                state["reload"] = False
                self.reload()
            for sock in ready:
                if sock is wake:
                    try:
                        wake.recv(512)
                    except BlockingIOError:
                        pass
                elif sock is self.udp:
                    data, peer = self.udp.recvfrom(65535)
                    threading.Thread(target=self.serve_udp, args=(data, peer),
                                     daemon=True).start()
                else:
                    conn, _ = self.tcp.accept()
                    threading.Thread(target=self.serve_tcp, args=(conn,),
                                     daemon=True).start()
        self.udp.close()
        self.tcp.close()


def write_atomic(path, text):
    """write_atomic - write via rename so readers never see half a file."""
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    """main - parse options, load zones, bind, announce, serve."""
    ap = argparse.ArgumentParser(description="mxguard test DNS server")
    ap.add_argument("--zones", action="append", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--port-file")
    ap.add_argument("--pid-file")
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--addr", default="127.0.0.1")
    opts = ap.parse_args()
    if not (opts.addr.startswith("127.") or opts.addr == "::1"):
        ap.error("--addr must be a loopback address")
    try:
        server = Server(opts)
    except ZoneError as e:
        print("testdns: %s" % e, file=sys.stderr)
        return 2
    except OSError as e:
        print("testdns: cannot listen: %s" % e, file=sys.stderr)
        return 2
    wake_r, wake_w = socket.socketpair()
    wake_r.setblocking(False)
    wake_w.setblocking(False)
    signal.set_wakeup_fd(wake_w.fileno())
    if opts.pid_file:
        write_atomic(opts.pid_file, "%d\n" % os.getpid())
    if opts.port_file:
        write_atomic(opts.port_file, "%d\n" % server.port)
    server.run(wake_r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
