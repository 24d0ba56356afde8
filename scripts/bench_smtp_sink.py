#!/usr/bin/env python3
"""The SMTP server of the delivery benchmark (aiosmtpd): accepts every message and appends its
Message-ID, one per line, to FILE, so that lost and repeated mails can be counted.

    python3 bench_smtp_sink.py FILE HOST:PORT
"""
import os
import re
import sys
import time

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Record:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def handle_DATA(self, server, session, envelope):
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        os.write(self.fd, (found.group(1) if found else b"<none>") + b"\n")
        return "250 Message accepted for delivery"


def main():
    host, _, port = sys.argv[2].rpartition(":")
    controller = Controller(Record(sys.argv[1]), hostname=host, port=int(port))
    controller.start()
    print(f"benchmark SMTP sink on {host}:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
