#!/usr/bin/python3
"""smtputf8.py - send one message with a UTF-8 sender (SMTPUTF8) via XCLIENT.

    smtputf8.py PORT CLIENT_IP SENDER RCPT

swaks cannot declare SMTPUTF8, which Postfix requires for a non-ASCII
address. Prints the reply to RCPT TO and, when that was accepted, the reply
to the end of DATA, as "CODE TEXT" lines. Exit 0 when the message was
accepted, 1 when refused, 2 on a protocol error.
"""

import smtplib
import sys


def main():
    """main - one SMTP transaction, replies on stdout."""
    port, client_ip, sender, rcpt = sys.argv[1:5]
    s = smtplib.SMTP("127.0.0.1", int(port), local_hostname="client.e2e.test",
                     timeout=30)
    try:
        s.ehlo()
        code, msg = s.docmd("XCLIENT", "ADDR=" + client_ip)
        if code != 220:
            print("%d %s" % (code, msg.decode()))
            return 2
        s.ehlo()
        code, msg = s.mail(sender, ["SMTPUTF8"])
        if code != 250:
            print("%d %s" % (code, msg.decode()))
            return 1
        code, msg = s.rcpt(rcpt)
        print("%d %s" % (code, msg.decode()))
        if code != 250:
            return 1
        body = "From: %s\r\nTo: %s\r\nSubject: smtputf8\r\n\r\nhello\r\n" % (
            sender, rcpt)
        code, msg = s.data(body.encode("utf-8"))
        print("%d %s" % (code, msg.decode()))
        return 0 if code == 250 else 1
    except smtplib.SMTPException as e:
        print("error %s" % e)
        return 2
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            pass


if __name__ == "__main__":
    sys.exit(main())
