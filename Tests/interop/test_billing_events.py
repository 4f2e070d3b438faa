"""Billing events through real brokers: delivery on NATS JetStream and MQTT, a broker outage,
and a server killed with SIGKILL while calls run. Nothing may be lost or published twice."""
import asyncio
import json
import os
import signal
import sqlite3
import tempfile
import threading
import time
import urllib.request

import grpc
import jwt
import pytest
from google.protobuf import struct_pb2

from brokers import Mosquitto, NatsServer
from conftest import SECRET, Process


def token(**claims):
    return jwt.encode({"user_id": "billing", "org_id": "acme", "exp": int(time.time()) + 3600, **claims}, SECRET, algorithm="HS256")


class Server:
    """`model-manager serve --demo` with a ledger file and brokers; restartable on the same ledger."""

    def __init__(self, ledger, nats_url=None, mqtt_url=None):
        self.ledger = ledger
        self.env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_SQLITE_PATH": ledger}
        if nats_url:
            self.env["MODEL_MANAGER_NATS_URL"] = nats_url
        if mqtt_url:
            self.env["MODEL_MANAGER_MQTT_URL"] = mqtt_url
        self.start()

    def start(self):
        self.process = Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"], env=self.env)
        listening = self.process.wait_for_log("model-manager listening")
        self.address = f"127.0.0.1:{listening['grpc_port']}"
        self.http = f"http://127.0.0.1:{listening['http_port']}"

    def kill(self):
        self.process.proc.send_signal(signal.SIGKILL)
        self.process.proc.wait()

    def stop(self):
        return self.process.stop()

    def backlog(self):
        with urllib.request.urlopen(self.http + "/readyz", timeout=5) as response:
            return json.loads(response.read())["outbox_backlog"]

    def wait_for_empty_backlog(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(count == 0 for count in self.backlog().values()):
                return
            time.sleep(0.2)
        raise AssertionError(f"outbox backlog not drained: {self.backlog()}")


def invoke(stubs, address, request_id, timeout=20):
    body = struct_pb2.Struct()
    body.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"bill me {request_id}"}]})
    item = stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions", stream=False,
                                     org_id="acme", user_id="billing", client_type="billing-tests", region="", extra=body)
    with grpc.insecure_channel(address) as channel:
        stub = stubs.grpc.ModelServiceStub(channel)
        items = list(stub.Invoke(item, metadata=[("x-request-id", request_id), ("authorization", f"Bearer {token()}")], timeout=timeout))
    assert items[0].error == "" and json.loads(items[0].usage)["total_tokens"] > 0
    return items[0]


def ledger_rows(path):
    db = sqlite3.connect(path)
    try:
        return dict(db.execute("SELECT request_id, id FROM usage_records").fetchall())
    finally:
        db.close()


@pytest.fixture
def ledger():
    path = os.path.join(tempfile.mkdtemp(prefix="mm-ledger-"), "ledger.sqlite")
    yield path


def test_events_reach_nats_and_mqtt(stubs, ledger):
    nats_server, mosquitto = NatsServer(), Mosquitto()
    subscriber = mosquitto.subscribe("billing/usage/recorded/#")
    received = subscriber.received
    time.sleep(0.3)
    server = Server(ledger, nats_server.url, mosquitto.url)
    try:
        ids = [f"evt-{i}" for i in range(10)]
        for request_id in ids:
            invoke(stubs, server.address, request_id)
        server.wait_for_empty_backlog()
        records = ledger_rows(ledger)
        messages = asyncio.run(nats_server.billing_messages())
        assert sorted(m[0] for m in messages) == sorted(records.values())
        event = messages[0][1]
        assert event["product_id"] == "gpt-4o-mini" and event["unit_type"] == "token" and event["usage_amount"] > 0
        assert event["user_id"] == "billing" and event["org_id"] == "acme" and event["usage_details"]["provider"] == "openai"
        assert event["cost"] > 0 and event["record_id"] == messages[0][0]
        deadline = time.time() + 10
        while len({e["record_id"] for _, e in received}) < len(records) and time.time() < deadline:
            time.sleep(0.1)
        assert {e["record_id"] for _, e in received} == set(records.values())
        assert all(topic == "billing/usage/recorded/gpt-4o-mini" for topic, _ in received)
    finally:
        subscriber.loop_stop()
        assert server.stop() == 0
        nats_server.stop()
        mosquitto.stop()


def test_broker_outage_delays_events_and_loses_none(stubs, ledger):
    nats_server = NatsServer()
    server = Server(ledger, nats_server.url)
    try:
        for i in range(5):
            invoke(stubs, server.address, f"before-{i}")
        nats_server.stop()
        started = time.time()
        for i in range(20):
            invoke(stubs, server.address, f"during-{i}")
        # The outage neither fails nor slows the calls (20 calls, well under a second each).
        assert time.time() - started < 30
        assert server.backlog()["nats"] > 0
        nats_server.start()
        for i in range(5):
            invoke(stubs, server.address, f"after-{i}")
        server.wait_for_empty_backlog()
        records = ledger_rows(ledger)
        assert len(records) == 30
        messages = asyncio.run(nats_server.billing_messages())
        ids = [m[0] for m in messages]
        assert sorted(ids) == sorted(records.values()), "an event was lost or published twice"
        assert len(ids) == len(set(ids))
    finally:
        server.stop()
        nats_server.stop()


def test_sigkill_loses_no_acknowledged_record_and_no_event(stubs, ledger):
    nats_server = NatsServer()
    server = Server(ledger, nats_server.url)
    completed, lock, stop = [], threading.Lock(), threading.Event()

    def caller(worker):
        n = 0
        while not stop.is_set():
            request_id = f"crash-{worker}-{n}"
            n += 1
            try:
                invoke(stubs, server.address, request_id, timeout=5)
            except Exception:
                continue  # in flight when the server died: no answer, so no promise
            with lock:
                completed.append(request_id)

    threads = [threading.Thread(target=caller, args=(w,)) for w in range(8)]
    try:
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while len(completed) < 40 and time.time() < deadline:
            time.sleep(0.05)
        server.kill()
        stop.set()
        for t in threads:
            t.join()
        answered = list(completed)
        assert len(answered) >= 40
        server.start()
        server.wait_for_empty_backlog()
        records = ledger_rows(ledger)
        missing = [r for r in answered if r not in records]
        assert not missing, f"answered calls without a record: {missing[:5]}"
        messages = asyncio.run(nats_server.billing_messages())
        ids = [m[0] for m in messages]
        assert len(ids) == len(set(ids)), "an event was published twice"
        assert set(ids) == set(records.values()), "a record's event is missing"
    finally:
        stop.set()
        server.stop()
        nats_server.stop()


def test_usage_cli_reads_the_ledger(stubs, ledger):
    """`model-manager usage …` answers from the same ledger the server wrote."""
    import subprocess
    from conftest import binary
    server = Server(ledger)
    try:
        for i in range(3):
            invoke(stubs, server.address, f"cli-{i}")
    finally:
        assert server.stop() == 0

    def usage(*args):
        result = subprocess.run([binary(), "usage", *args, "--database", ledger], capture_output=True, text=True, timeout=60)
        return result

    summary = json.loads(usage("summary", "--json").stdout)
    assert summary["total_calls"] == 3 and summary["successful_calls"] == 3 and summary["total_tokens"] > 0
    by_model = json.loads(usage("by-model", "--json").stdout)
    assert by_model[0]["model"] == "gpt-4o-mini" and by_model[0]["calls"] == 3
    series = json.loads(usage("series", "--granularity", "day", "--json").stdout)
    assert sum(bucket["calls"] for bucket in series) == 3
    page = json.loads(usage("list", "--page-size", "2", "--json").stdout)
    assert page["total"] == 3 and len(page["results"]) == 2 and page["results"][0]["request_id"] == "cli-2"
    wrong = usage("series", "--granularity", "week")
    assert wrong.returncode != 0 and "'week'" in wrong.stderr
