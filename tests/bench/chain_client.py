#!/usr/bin/python3
"""chain_client.py - one timed SMTP transaction for tests/bench/chain.sh.

    chain_client.py PORT CLIENT_ADDR SENDER RCPT MESSAGE_FILE

Connects to 127.0.0.1:PORT, EHLO, XCLIENT ADDR=CLIENT_ADDR (the address
the milter sees; nothing is sent anywhere else), EHLO again, then times
MAIL FROM -> RCPT reply -> DATA -> final reply. Prints one JSON object:
  t0        wall-clock time (time.time()) just before MAIL FROM was sent,
            to line the DNS server's query log up with the transaction
  rcpt_ms   MAIL FROM sent -> RCPT reply received
  eom_ms    MAIL FROM sent -> reply to the final dot received
  rcpt, eom the reply codes; eom_text the final reply text
Exits 0 when the transaction ran (whatever the codes), 1 on a protocol or
connection error.
"""

import json
import smtplib
import sys
import time


def main():
    """main - the transaction, then the JSON line."""
    port, addr, sender, rcpt, path = sys.argv[1:6]
    with open(path, "rb") as f:
        msg = f.read()
    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="chain.client.test", timeout=60)
    try:
        s.ehlo()
        code, text = s.docmd("XCLIENT", "ADDR=" + addr)
        if code != 220:
            raise smtplib.SMTPException("XCLIENT: %d %s" % (code, text))
        s.ehlo()
        t0 = time.time()
        m0 = time.monotonic()
        code, _ = s.mail(sender)
        out = {"t0": t0, "mail": code}
        code, _ = s.rcpt(rcpt)
        out["rcpt"] = code
        out["rcpt_ms"] = (time.monotonic() - m0) * 1000.0
        if code == 250:
            code, text = s.data(msg)
            out["eom"] = code
            out["eom_text"] = text.decode("utf-8", "replace")
            out["eom_ms"] = (time.monotonic() - m0) * 1000.0
        s.quit()
    except (OSError, smtplib.SMTPException) as e:
        print("chain_client: %s" % e, file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
