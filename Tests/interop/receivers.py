"""Helpers for tests that need more than one server: a signed-POST receiver, a fresh
PostgreSQL database, waiting for a condition."""
import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from brokers import free_port


class Webhook:
    """A receiver that checks each POST's signature, refuses the first one with 503 (so the
    sender must retry) and keeps every delivery."""

    def __init__(self, secret):
        self.deliveries = []
        self.refused_first = False
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                scheme, _, signature = self.headers["X-Model-Manager-Signature"].partition("=")
                expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                valid = scheme == "sha256" and hmac.compare_digest(signature, expected)
                refuse = not received.refused_first
                received.refused_first = True
                received.deliveries.append((self.headers["X-Model-Manager-Event-Id"], json.loads(body), valid, refuse))
                self.send_response(503 if refuse else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/quota"

    def stop(self):
        self.server.shutdown()


def fresh_database():
    base = os.environ.get("MM_TEST_POSTGRES_URL")
    assert base, "MM_TEST_POSTGRES_URL is not set: run the tests through scripts/test.sh, which starts PostgreSQL"
    name = f"alerts_{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    return base.rsplit("/", 1)[0] + "/" + name


def wait_until(condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()
