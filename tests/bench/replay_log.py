#!/usr/bin/python3
"""replay_log.py - a large JSON decision log for tests/bench/replay.sh.

    replay_log.py GOLDEN LINES OUT

Copies GOLDEN's lines again and again until OUT holds LINES lines; each
copy's txn gets a suffix of its own, so every message of every copy is a
message of its own (as in a real log), and the copies replay exactly as
GOLDEN does.
"""

import re
import sys


def main():
    golden, want, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(golden, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if l.startswith("{")]
    txn = re.compile(r'"txn":"([^"]*)"')
    n, copy = 0, 0
    with open(out, "w", encoding="utf-8") as f:
        while n < want:
            for l in lines:
                if n == want:
                    break
                f.write(txn.sub(lambda m: '"txn":"%s.%x"' % (m.group(1), copy), l) + "\n")
                n += 1
            copy += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
