#!/usr/bin/python3
"""message_seeds.py - (re)write tests/fuzz/corpus/message from the DKIM fixtures.

Each seed is what fuzz_message.c reads: a flags byte, HELO, MAIL FROM and
RCPT TO (NUL-terminated), then a message. The signed messages come from
tests/unit/dkim_fixtures.h (dkimpy signatures over the keys the harness
serves), so the fuzzer starts from signatures that verify; a few hand-made
messages add forged Authentication-Results and awkward From: fields.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "unit", "dkim_fixtures.h")
OUT = os.path.join(HERE, "corpus", "message")


def c_strings(path):
    """c_strings - name -> bytes of every `static const char FX_...[] = "..." ...;`"""
    text = open(path, encoding="ascii").read()
    out = {}
    for m in re.finditer(r"static const char (FX_\w+)\[\] =(.*?);\n", text, re.S):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        raw = "".join(parts)
        out[m.group(1)] = raw.encode("ascii").decode("unicode_escape").encode("latin-1")
    return out


def seed(flags, helo, sender, rcpt, msg):
    """seed - one input in the harness's layout"""
    return bytes([flags]) + b"\0".join([helo, sender, rcpt]) + b"\0" + msg


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {}
    for name, msg in c_strings(FIXTURES).items():
        seeds[name.lower()] = seed(0, b"mail.example.com", b"<alice@example.com>",
                                   b"<bob@example.net>", msg)
    plain = (b"From: \"Eve (not Alice)\" <eve@helo.example.org>, alice@Mail.Example.COM\r\n"
             b"Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=eve@x\r\n"
             b"Authentication-Results: (c) \"mx.example.com\" 1; none\r\n"
             b"Authentication-Results: other.example; dkim=pass\r\n"
             b"Subject: =?utf-8?q?hi?=\r\n\r\nbody\r\n")
    seeds["forged_ar"] = seed(1 | 32, b"helo.example.org", b"<eve@example.com>", b"<x@example.net>", plain)
    seeds["group_from"] = seed(4, b"[192.0.2.77]", b"<>", b"<postmaster@example.net>",
                               b"From: undisclosed:;\nFrom: a@nullmx.example\n\nbody\n")
    seeds["nullmx"] = seed(8, b"x", b"<u@nullmx.example>", b"<r@example.net>", b"\r\n")
    seeds["trusted"] = seed(3, b"relay.example.com", b"u@bogus.example", b"r@example.org",
                            b"From: u@bogus.example\r\n\r\n")
    # the same through milter/msgfile.c (flag bit 6)
    for name in ("fx_rsa2048_relaxed", "forged_ar"):
        d = seeds[name]
        seeds["msgfile_" + name.replace("fx_", "")] = bytes([d[0] | 64]) + d[1:]
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
