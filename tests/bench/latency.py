#!/usr/bin/python3
"""latency.py - time MAIL FROM -> RCPT TO reply through Postfix + mxguard.

    latency.py PORT DOMAIN_FILE MESSAGES THREADS RCPT

Each thread keeps one SMTP session open and runs transactions on it:
MAIL FROM:<bench@DOMAIN> (a different domain each time, read from
DOMAIN_FILE, one a line), RCPT TO:<RCPT>, RSET. With mxguard's default
reject_stage (rcpt) the RCPT reply waits for the sender checks, so the time
from sending MAIL FROM to the RCPT reply is the time to the decision as the
client sees it. Prints one line per transaction, "MS RCPT_CODE", then
exits 0; exits 1 when any transaction failed at the protocol level.
"""

import smtplib
import sys
import threading
import time


def worker(port, jobs, lock, results, rcpt):
    """worker - one SMTP session, transactions until the job list is empty."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="bench.client.test",
                     timeout=60)
    s.ehlo()
    try:
        while True:
            with lock:
                if not jobs:
                    break
                domain = jobs.pop()
            t0 = time.monotonic()
            code, _ = s.mail("bench@" + domain)
            if code == 250:
                code, _ = s.rcpt(rcpt)
            ms = (time.monotonic() - t0) * 1000.0
            s.rset()
            with lock:
                results.append((ms, code))
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


def main():
    """main - run the threads, print the timings."""
    port, dfile, count, nthreads, rcpt = sys.argv[1:6]
    with open(dfile, encoding="ascii") as f:
        domains = [line.strip() for line in f if line.strip()]
    jobs = [domains[i % len(domains)] for i in range(int(count))]
    jobs.reverse()
    lock, results, errors = threading.Lock(), [], []

    def run():
        try:
            worker(int(port), jobs, lock, results, rcpt)
        except (OSError, smtplib.SMTPException) as e:
            with lock:
                errors.append(str(e))

    threads = [threading.Thread(target=run) for _ in range(int(nthreads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for ms, code in results:
        print("%.1f %d" % (ms, code))
    for e in errors:
        print("error: %s" % e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
