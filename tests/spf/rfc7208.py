#!/usr/bin/python3
"""rfc7208.py - run the RFC 7208 SPF test suite through mxguard's SPF code.

    rfc7208.py DRIVER [SUITE.yml[.gz]] [--label NAME] [--threads N] [--verbose] [--only TEST ...]

The suite (python3-spf's rfc7208-tests.yml: scenarios of zone data plus
tests) is served by a small DNS server in this process, on a free UDP+TCP
port of 127.0.0.1, holding the zone data of the scenario whose test is
running. DRIVER (tests/spf/spf_driver.c) is mxguard's own SPF path on the
real c-ares resolver pointed at that server; it reads "ip TAB mailfrom TAB
helo" lines and answers "result TAB explanation TAB reason".

Zone data is read the way the suite's own driver (testspf.py) reads it:
  - SPF-type records are also served as TXT when the name has no TXT entry;
  - "NONE" as a value means no record;
  - a bare TIMEOUT entry: queries of a type with no record listed before it
    are never answered; {TYPE: TIMEOUT}: queries of that type never answered;
  - names that are not in the zone are NXDOMAIN, except names under
    "error." which are never answered;
  - a CNAME is answered as such (the resolver follows it).
A test passes when the result is the expected one (or one of the expected
list) and, when the test names an explanation, the explanation matches.
Prints each failure and then "N passed, M failed".
"""

import gzip
import socket
import struct
import subprocess
import sys
import threading

import yaml
from dnslib import DNSRecord, RR, QTYPE, RCODE, A, AAAA, MX, PTR, TXT, CNAME, DNSLabel

SUITE = "/usr/share/doc/python3-spf/rfc7208-tests.yml.gz"


def txt_strings(value):
    """A zone TXT/SPF value as a list of byte strings (one record); strings
    longer than 255 bytes are split, as a zone file compiler would."""
    if isinstance(value, str):
        value = [value]
    out = []
    for s in value:
        b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
        out += [b[i:i + 255] for i in range(0, len(b), 255)] or [b""]
    return out


def load_zone(data):
    """name -> list of entries: ('TIMEOUT',) or (type, value)."""
    zone = {}
    for name, entries in (data.get("zonedata") or {}).items():
        out, spf_vals, has_txt = [], [], False
        for entry in entries or []:
            if entry == "TIMEOUT":
                out.append(("TIMEOUT",))
                continue
            for rtype, value in entry.items():
                if rtype == "TXT":
                    has_txt = True
                if rtype == "SPF":
                    spf_vals.append(value)
                if value == "NONE":
                    continue
                out.append((rtype, value))
        if not has_txt:
            out += [("TXT", v) for v in spf_vals if v != "NONE"]
        zone[name.lower().rstrip(".")] = out
    return zone


class ZoneServer:
    """A DNS server answering from the current scenario's zone."""

    def __init__(self):
        self.zone = {}
        for _ in range(100):    # a port free for both UDP and TCP
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        else:
            raise RuntimeError("no free port for the zone server")
        self.tcp.listen(8)
        for target in (self.serve_udp, self.serve_tcp):
            threading.Thread(target=target, daemon=True).start()

    def answer(self, data):
        """The reply bytes for a query, or None to stay silent."""
        try:
            q = DNSRecord.parse(data)
        except Exception:
            return None
        try:
            return self.lookup(q)
        except Exception as e:          # a broken zone entry: say so, answer SERVFAIL
            print("zone server: %s" % e, file=sys.stderr)
            reply = q.reply()
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()

    def lookup(self, q):
        """The reply for a parsed query (see the module comment)."""
        # the raw labels: str() would escape a space as \\032
        qname = b".".join(q.q.qname.label).decode("latin-1")
        qtype = QTYPE.get(q.q.qtype)
        reply = q.reply()
        key = qname.lower()
        if key not in self.zone:
            if key.startswith("error."):
                return None
            reply.header.rcode = RCODE.NXDOMAIN
            return reply.pack()
        found = False
        for entry in self.zone[key]:
            if entry[0] == "TIMEOUT":
                if not found:
                    return None
                break
            rtype, value = entry
            if value == "TIMEOUT":
                if rtype == qtype:
                    return None
                continue
            if rtype == "CNAME" and qtype != "CNAME":
                reply.add_answer(RR(qname, QTYPE.CNAME, rdata=CNAME(value), ttl=60))
                found = True
                break
            if rtype != qtype:
                continue
            found = True
            reply.add_answer(self.rr(qname, rtype, value))
        return reply.pack()

    @staticmethod
    def rr(qname, rtype, value):
        if rtype == "A":
            return RR(qname, QTYPE.A, rdata=A(value), ttl=60)
        if rtype == "AAAA":
            return RR(qname, QTYPE.AAAA, rdata=AAAA(value), ttl=60)
        if rtype == "MX":
            pref, host = value
            return RR(qname, QTYPE.MX, rdata=MX(host if host else ".", pref), ttl=60)
        if rtype == "PTR":
            return RR(qname, QTYPE.PTR, rdata=PTR(value), ttl=60)
        if rtype in ("TXT", "SPF"):
            return RR(qname, getattr(QTYPE, rtype), rdata=TXT(txt_strings(value)), ttl=60)
        raise ValueError("unsupported type %s" % rtype)

    def serve_udp(self):
        while True:
            data, peer = self.udp.recvfrom(4096)
            out = self.answer(data)
            if out is None:
                continue
            if len(out) > 512:
                q = DNSRecord.parse(out)
                q.rr = []
                q.header.tc = 1
                out = q.pack()
            self.udp.sendto(out, peer)

    def serve_tcp(self):
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self.tcp_conn, args=(conn,), daemon=True).start()

    def tcp_conn(self, conn):
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (n,) = struct.unpack("!H", head)
                data = b""
                while len(data) < n:
                    chunk = conn.recv(n - len(data))
                    if not chunk:
                        return
                    data += chunk
                out = self.answer(data)
                if out is None:
                    continue
                conn.sendall(struct.pack("!H", len(out)) + out)
        finally:
            conn.close()


def run_suite(driver, scenarios, label, verbose=False, only=(), threads=1):
    """Run every test of scenarios (parsed suite documents) through driver
    (each check in `threads` threads at once); print failures and
    "LABEL: N passed, M failed"; return (passed, failed)."""
    server = ZoneServer()
    proc = subprocess.Popen([driver, "-t", str(threads), "127.0.0.1:%d" % server.port],
                            stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, encoding="utf-8",
                            errors="replace")
    passed = failed = 0
    try:
        for sc in scenarios:
            zone = load_zone(sc)
            for name, t in sc["tests"].items():
                if only and name not in only:
                    continue
                server.zone = zone
                proc.stdin.write("%s\t%s\t%s\n" % (t["host"], t["mailfrom"], t["helo"]))
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line:
                    raise RuntimeError("driver died (test %s)" % name)
                got, exp, reason = (line.rstrip("\n").split("\t") + ["", ""])[:3]
                want = t["result"] if isinstance(t["result"], list) else [t["result"]]
                ok = got in want
                if ok and t.get("explanation") is not None and exp != t["explanation"]:
                    ok = False
                if ok:
                    passed += 1
                    if verbose:
                        print("ok   %-32s %s (%s)" % (name, got, reason))
                else:
                    failed += 1
                    print("FAIL %-32s want %s%s, got %s%s (%s)" % (
                        name, "/".join(want),
                        " exp=%r" % t["explanation"] if t.get("explanation") is not None else "",
                        got, " exp=%r" % exp if exp else "", reason))
    except RuntimeError as e:
        failed += 1
        print("FAIL %s" % e)
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    if proc.returncode not in (0, None):
        failed += 1
        print("FAIL driver exited with status %s" % proc.returncode)
    print("%s: %d passed, %d failed" % (label, passed, failed))
    return passed, failed


def main(argv):
    label = "rfc7208"
    if "--label" in argv:
        label = argv[argv.index("--label") + 1]
        argv = argv[:argv.index("--label")] + argv[argv.index("--label") + 2:]
    verbose = "--verbose" in argv
    threads = 1
    if "--threads" in argv:
        threads = int(argv[argv.index("--threads") + 1])
        argv = argv[:argv.index("--threads")] + argv[argv.index("--threads") + 2:]
    only = set()
    if "--only" in argv:
        only = set(argv[argv.index("--only") + 1:])
        argv = argv[:argv.index("--only")]
    args = [a for a in argv[1:] if not a.startswith("--")]
    driver = args[0]
    suite = args[1] if len(args) > 1 else SUITE
    opener = gzip.open if suite.endswith(".gz") else open
    with opener(suite, "rb") as f:
        scenarios = list(yaml.safe_load_all(f))
    run_suite(driver, scenarios, label, verbose, only, threads)


if __name__ == "__main__":
    main(sys.argv)
