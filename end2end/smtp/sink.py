#!/usr/bin/env python3
"""A real SMTP server for the end-to-end tests (aiosmtpd): it accepts every message and keeps it.

    python3 sink.py DIR [HOST:PORT]        (default 127.0.0.1:2626)

Each message is written to DIR as <time>.eml (the raw bytes received) and <time>.json
({"from", "to", "subject", "text", "html"}, decoded), so a test can read what was sent.
Files appear atomically (written to a temporary name, then renamed).
"""
import email
import email.policy
import itertools
import json
import os
import sys
import time

from aiosmtpd.controller import Controller

_counter = itertools.count(1)


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Keep:
    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        os.makedirs(self.dir, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        decoded = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": text.get_content() if text else "",
            "html": html.get_content() if html else "",
        }
        base = os.path.join(self.dir, f"{time.time_ns()}-{next(_counter):05d}")
        _write(base + ".eml", raw)
        _write(base + ".json", json.dumps(decoded).encode())
        return "250 Message accepted for delivery"


def main():
    directory = sys.argv[1]
    host, _, port = (sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1:2626").rpartition(":")
    controller = Controller(Keep(directory), hostname=host or "127.0.0.1", port=int(port))
    controller.start()
    print(f"SMTP sink on {controller.hostname}:{controller.port}, keeping mail in {directory}", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
