"""Upstream HTTPS through the gateway's own connection pool: a certificate is verified against the
system's roots plus `upstream_tls.ca_file`, answers and streams arrive whole (chunked bodies
included), and one kept-alive connection serves call after call."""
import http.server
import json
import os
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

from conftest import SECRET, Process
from test_grpcio_client import token

UPSTREAM_KEY = "sk-tls-upstream-0123456789"
ANSWER = {
    "id": "chatcmpl-tls", "object": "chat.completion", "created": 1763740800, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello over TLS"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
}


def chunk(delta, finish=None, usage=None):
    event = {"id": "chatcmpl-tls", "object": "chat.completion.chunk", "created": 1763740800, "model": "gpt-4o-mini",
             "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        event["usage"] = usage
    return "data: " + json.dumps(event) + "\n\n"


STREAM = [chunk({"role": "assistant", "content": "Hello "}), chunk({"content": "over TLS"}), chunk({}, "stop"),
          chunk({}, usage=ANSWER["usage"]), "data: [DONE]\n\n"]
# About 6 MB: far more than the gateway buffers per stream, so a slow reader makes it pause the upstream.
LONG_PIECES = [f"{index:05d}" + "x" * 1000 for index in range(4000)]
LONG_STREAM = ([chunk({"content": piece}) for piece in LONG_PIECES]
               + [chunk({}, "stop"), chunk({}, usage=ANSWER["usage"]), "data: [DONE]\n\n"])


class Upstream:
    """An OpenAI-style HTTPS server with a self-signed certificate for localhost."""

    def __init__(self):
        directory = tempfile.mkdtemp(prefix="mm-upstream-tls-")
        self.cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key,
                        "-out", self.cert], check=True, capture_output=True, timeout=60)
        self.requests = []
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                upstream.requests.append({"path": self.path, "port": self.client_address[1], "body": body,
                                          "authorization": self.headers["Authorization"],
                                          "host": self.headers["Host"]})
                if body.get("stream"):
                    # Chunked, one event a chunk, so the body arrives in pieces.
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    long = body["messages"][-1]["content"] == "long"
                    for event in LONG_STREAM if long else STREAM:
                        data = event.encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    data = json.dumps(ANSWER).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


def gateway(upstream, trust_certificate):
    directory = tempfile.mkdtemp(prefix="mm-tls-gateway-")
    config = {"providers": [{"name": "openai", "base_url": f"https://localhost:{upstream.port}/v1",
                             "api_keys": [UPSTREAM_KEY]}]}
    if trust_certificate:
        config["upstream_tls"] = {"ca_file": upstream.cert}
    path = os.path.join(directory, "config.json")
    with open(path, "w") as file:
        json.dump(config, file)
    process = Process(["serve", "--config", path, "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0",
                       "--database", os.path.join(directory, "ledger.sqlite")],
                      env={"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET})
    listening = process.wait_for_log("model-manager listening")
    return process, f"http://127.0.0.1:{listening['http_port']}"


def invoke(url, stream=False, prompt="hello", slow=False):
    body = {"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini", "stream": stream,
            "messages": [{"role": "user", "content": prompt}]}
    request = urllib.request.Request(f"{url}/v1/invoke", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        if slow:
            # A reader that lags: the gateway's socket buffer fills and it must hold the upstream back.
            parts = []
            while part := response.read(256 << 10):
                parts.append(part)
                time.sleep(0.05)
            text = b"".join(parts).decode()
        else:
            text = response.read().decode()
    if not stream:
        return [json.loads(text)]
    events = [line[len("data: "):] for line in text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


def test_a_verified_https_upstream_answers_and_streams_over_one_kept_alive_connection():
    upstream = Upstream()
    process, url = gateway(upstream, trust_certificate=True)
    try:
        for _ in range(3):
            [item] = invoke(url)
            assert item["error"] is None
            assert item["content"] == "Hello over TLS"
            assert item["usage"]["total_tokens"] == 10
            assert item["raw_response"]["id"] == "chatcmpl-tls"
        items = invoke(url, stream=True)
        assert "".join(item["content"] or "" for item in items) == "Hello over TLS"
        assert all(item["error"] is None for item in items)
        assert items[-1]["usage"]["total_tokens"] == 10
        assert [r["path"] for r in upstream.requests] == ["/v1/chat/completions"] * 4
        assert {r["authorization"] for r in upstream.requests} == {f"Bearer {UPSTREAM_KEY}"}
        assert {r["host"] for r in upstream.requests} == {f"localhost:{upstream.port}"}
        assert upstream.requests[-1]["body"]["stream"] is True
        assert len({r["port"] for r in upstream.requests}) == 1, "each call opened a connection of its own"
    finally:
        assert process.stop() == 0
        upstream.stop()
    assert UPSTREAM_KEY not in process.text()


def test_a_slow_reader_of_a_long_stream_gets_all_of_it_and_the_connection_serves_the_next_call():
    upstream = Upstream()
    process, url = gateway(upstream, trust_certificate=True)
    try:
        items = invoke(url, stream=True, prompt="long", slow=True)
        assert "".join(item["content"] or "" for item in items) == "".join(LONG_PIECES)
        assert items[-1]["usage"]["total_tokens"] == 10
        [item] = invoke(url)
        assert item["content"] == "Hello over TLS"
        assert len({r["port"] for r in upstream.requests}) == 1
    finally:
        assert process.stop() == 0
        upstream.stop()


def test_an_upstream_certificate_nobody_vouches_for_is_refused():
    upstream = Upstream()
    process, url = gateway(upstream, trust_certificate=False)
    try:
        try:
            invoke(url)
            raise AssertionError("the call went through an unverified certificate")
        except urllib.error.HTTPError as refused:
            assert refused.code == 503
            message = refused.read().decode()
            assert "cannot reach openai: TLS failed" in message and "CERTIFICATE_VERIFY_FAILED" in message
        assert upstream.requests == []
    finally:
        assert process.stop() == 0
        upstream.stop()
