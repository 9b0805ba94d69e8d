#!/usr/bin/python3
"""syslogd.py - a minimal syslog receiver for the sendmail tier.

    syslogd.py SOCKET LOGFILE

Binds a Unix datagram socket at SOCKET (mode 0666: Sendmail's delivery
children may log as another user) and appends each message, one a line,
to LOGFILE, flushed at once so the tier can grep it while it runs. The
tier links its private /dev/log (in Sendmail's mount namespace) to
SOCKET: Sendmail logs only through syslog(3), and the machine may have no
syslog daemon at all. Exits on SIGTERM.
"""

import os
import signal
import socket
import sys


def main():
    path, logfile = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(logfile, "a", encoding="utf-8") as out:
        while True:
            data = s.recv(65536)
            out.write(data.decode("utf-8", "replace").rstrip("\n\0") + "\n")
            out.flush()


if __name__ == "__main__":
    main()
