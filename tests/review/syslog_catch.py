#!/usr/bin/python3
"""syslog_catch.py - a minimal syslog socket for tests.

    syslog_catch.py SOCKET OUTFILE PIDFILE

Binds a datagram unix socket at SOCKET (mode 0666, so a daemon that dropped
root can still write), writes its pid to PIDFILE once listening, and appends
every message it receives, as sent ("<PRI>timestamp ident[pid]: text"), as
one line to OUTFILE. Runs until SIGTERM.
"""

import os
import signal
import socket
import sys


def main():
    """main - bind, announce, record until terminated."""
    path, out, pidfile = sys.argv[1:4]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o666)
    with open(pidfile, "w", encoding="ascii") as f:
        f.write("%d\n" % os.getpid())
    with open(out, "ab", buffering=0) as f:
        while True:
            data = sock.recv(65536)
            f.write(data.rstrip(b"\0\n") + b"\n")


if __name__ == "__main__":
    main()
