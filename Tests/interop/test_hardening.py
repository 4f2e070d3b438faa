"""Process-level hardening (issue 8) against the real binary, debug or release (MODEL_MANAGER_BIN)."""
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import grpc
import pytest

from conftest import SECRET, Process, binary
from test_grpcio_client import metadata, token

ADMIN_SECRET = "interop-admin-secret-0123456789abcdef0123456789"


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nested_item(depth, org_id=b"org-1"):
    """A ModelRequestItem whose extra.x is a list nested `depth` deep, written by hand (no recursion)."""
    value = b""
    for _ in range(depth):
        value = field(6, field(1, value))
    entry = field(1, b"x") + field(2, value)
    return field(1, b"openai") + field(5, org_id) + field(10, field(1, entry))


def raw_invoke(address, payload, timeout=10):
    channel = grpc.insecure_channel(address)
    call = channel.unary_stream("/model_service.ModelService/Invoke", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        return list(call(payload, metadata=metadata(token()), timeout=timeout))
    finally:
        channel.close()


def test_deep_nesting_and_nul_are_refused_and_the_server_lives_on(server):
    for payload, expected in [(nested_item(4500), "nests deeper than 64 levels"), (nested_item(1, org_id=b"o\x00rg"), "'org_id' contains a NUL")]:
        with pytest.raises(grpc.RpcError) as failure:
            raw_invoke(server.address, payload)
        assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected in failure.value.details()
    # The HTTP face holds a body to the same limit (plus the batch's items array and item object).
    deep = "[" * 4500 + "]" * 4500
    body = ('{"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini", "x": ' + deep + "}").encode()
    request = urllib.request.Request(f"{server.http_url}/v1/invoke", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert "nesting deeper than 66 levels" in refused.value.read().decode()
    health = urllib.request.urlopen(f"{server.http_url}/healthz", timeout=5)
    assert health.status == 200


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(args=(), env=None):
    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-hardening-"), "ledger.sqlite")
    full_env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": ledger}
    full_env.update(env or {})
    return Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", *args], env=full_env)


def test_a_busy_http_port_exits_non_zero_naming_it():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        started = time.time()
        process = serve(["--http-address", f"127.0.0.1:{port}"])
        code = process.proc.wait(timeout=20)
        assert code != 0
        assert f"127.0.0.1:{port}" in process.text()
        assert time.time() - started < 10


def test_a_busy_grpc_port_exits_non_zero_naming_it():
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        ledger = os.path.join(tempfile.mkdtemp(prefix="mm-hardening-"), "ledger.sqlite")
        started = time.time()
        process = Process(["serve", "--demo", "--grpc-address", f"127.0.0.1:{port}", "--http-address", f"127.0.0.1:{free_port()}"],
                          env={"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": ledger})
        code = process.proc.wait(timeout=20)
        assert code != 0
        assert f"cannot listen for gRPC on 127.0.0.1:{port}" in process.text()
        assert time.time() - started < 10


def test_a_graceful_stop_lets_a_running_stream_finish_and_records_it(stubs):
    """SIGTERM: gRPC stops taking calls, the running stream gets the grace period and ends with its usage, the ledger
    commits its record before the database closes, and the process exits 0."""
    import sqlite3

    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-graceful-"), "ledger.sqlite")
    process = serve(["--http-address", f"127.0.0.1:{free_port()}"], env={"MODEL_MANAGER_SQLITE_PATH": ledger})
    listening = process.wait_for_log("model-manager listening")
    address = f"127.0.0.1:{listening['grpc_port']}"
    from google.protobuf import struct_pb2

    extra = struct_pb2.Struct()
    extra.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "a b c d e f g h i j k l"}],
                  "extra_headers": {"x-emulator-fault": "chunk-delay-ms=150"}})
    request = stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions", stream=True,
                                        org_id="org-1", user_id="user-1", client_type="interop", extra=extra)
    channel = grpc.insecure_channel(address)
    try:
        stub = stubs.grpc.ModelServiceStub(channel)
        md = [("x-request-id", "graceful-stop-1"), ("authorization", f"Bearer {token()}")]
        stream = stub.Invoke(request, metadata=md, timeout=30)
        first = next(stream)
        assert not first.error
        process.proc.send_signal(signal.SIGTERM)
        rest = list(stream)
        assert rest, "the stream should go on through the grace period"
        assert not rest[-1].error and json.loads(rest[-1].usage)["total_tokens"] > 0
        assert process.proc.wait(timeout=30) == 0
    finally:
        channel.close()
    with sqlite3.connect(ledger) as database:
        rows = database.execute("SELECT success, stream FROM usage_records WHERE request_id = 'graceful-stop-1'").fetchall()
    assert rows == [(1, 1)], "the record is committed before the ledger stops"


def test_an_unknown_configuration_key_is_an_error_naming_key_and_file():
    path = os.path.join(tempfile.mkdtemp(prefix="mm-config-"), "config.json")
    with open(path, "w") as file:
        json.dump({"_comment": "comments are allowed", "limits": {"max_concurent_calls": 5}}, file)
    result = subprocess.run([binary(), "serve", "--config", path], env={**os.environ, "MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "limits.max_concurent_calls" in result.stderr + result.stdout
    assert path in result.stderr + result.stdout


def test_a_malformed_malloc_trim_interval_is_an_error_naming_it():
    result = subprocess.run([binary(), "serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"],
                            env={**os.environ, "MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_MALLOC_TRIM_SECONDS": "soon"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "MODEL_MANAGER_MALLOC_TRIM_SECONDS" in result.stderr and "'soon'" in result.stderr


def test_a_second_sigterm_exits_at_once():
    process = serve(["--http-address", f"127.0.0.1:{free_port()}"])
    listening = process.wait_for_log("model-manager listening")
    body = json.dumps({"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini", "stream": True,
                       "messages": [{"role": "user", "content": "a b c d e f g h i j k l m n o p"}],
                       "extra_headers": {"x-emulator-fault": "chunk-delay-ms=3000"}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{listening['http_port']}/v1/invoke", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {token()}", "Content-Type": "application/json"})
    reader = threading.Thread(target=lambda: _read_quietly(request), daemon=True)
    reader.start()
    time.sleep(1.0)
    process.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert process.proc.poll() is None, "the stream should hold the graceful stop (10 s grace)"
    started = time.time()
    process.proc.send_signal(signal.SIGTERM)
    code = process.proc.wait(timeout=5)
    assert time.time() - started < 2
    assert code == 130
    assert "second signal" in process.text()


def _read_quietly(request):
    try:
        urllib.request.urlopen(request, timeout=30).read()
    except Exception:
        pass


def test_admin_tokens_come_from_the_admin_secret_only():
    process = serve(["--http-address", f"127.0.0.1:{free_port()}"], env={"MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY": ADMIN_SECRET})
    try:
        listening = process.wait_for_log("model-manager listening")
        assert listening["admin_api"] == "on"
        url = f"http://127.0.0.1:{listening['http_port']}/api/v1/admin/token-stats"

        def status(tok):
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {tok}"})
            try:
                return urllib.request.urlopen(request, timeout=5).status
            except urllib.error.HTTPError as error:
                return error.code

        minted = subprocess.run([binary(), "token", "--admin", "--user-id", "root"], capture_output=True, text=True, timeout=30,
                                env={**os.environ, "MODEL_MANAGER_SERVER_ADMIN_JWT_SECRET_KEY": ADMIN_SECRET})
        assert minted.returncode == 0, minted.stderr
        assert status(minted.stdout.strip()) == 200
        assert status(token(role="admin")) == 403, "the clients' secret must not grant admin"
        assert status("not-a-token") == 401
    finally:
        assert process.stop() == 0


def test_readyz_writes_and_answers_503_within_a_second_while_the_ledger_is_locked():
    import sqlite3

    ledger = os.path.join(tempfile.mkdtemp(prefix="mm-readyz-"), "ledger.sqlite")
    process = serve(["--http-address", f"127.0.0.1:{free_port()}"], env={"MODEL_MANAGER_SQLITE_PATH": ledger})
    try:
        listening = process.wait_for_log("model-manager listening")
        url = f"http://127.0.0.1:{listening['http_port']}/readyz"

        def readiness():
            started = time.time()
            try:
                response = urllib.request.urlopen(url, timeout=10)
                status, body = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                status, body = error.code, json.loads(error.read())
            return status, body, time.time() - started

        status, body, _ = readiness()
        assert status == 200 and body["ledger"] == "ok"
        other = sqlite3.connect(ledger, timeout=1, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            status, body, took = readiness()
            assert status == 503 and body["ledger"] == "unavailable"
            assert took < 3, f"/readyz took {took:.1f} s"
        finally:
            other.execute("ROLLBACK")
            other.close()
        deadline = time.time() + 10
        while readiness()[0] != 200 and time.time() < deadline:
            time.sleep(0.2)
        assert readiness()[0] == 200
    finally:
        assert process.stop() == 0


def test_the_http_face_serves_https_when_configured():
    import ssl

    directory = tempfile.mkdtemp(prefix="mm-https-")
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    config = os.path.join(directory, "config.json")
    with open(config, "w") as file:
        json.dump({"http": {"tls": {"certificate_file": cert, "private_key_file": key}}}, file)
    process = serve(["--http-address", f"127.0.0.1:{free_port()}", "--config", config])
    try:
        listening = process.wait_for_log("model-manager listening")
        context = ssl.create_default_context(cafile=cert)
        response = urllib.request.urlopen(f"https://127.0.0.1:{listening['http_port']}/healthz", context=context, timeout=10)
        assert response.status == 200
        with pytest.raises(Exception):
            urllib.request.urlopen(f"http://127.0.0.1:{listening['http_port']}/healthz", timeout=5).read()
    finally:
        assert process.stop() == 0
