"""Quota alerts from two server instances on one PostgreSQL: 200 concurrent calls against a
100-call daily quota admit exactly 100, and the 80, 90 and 100 % alerts arrive once each on NATS
JetStream, on MQTT and at a signed webhook (which fails its first delivery, so one is retried),
and each is in the audit log."""
import asyncio
import concurrent.futures
import json
import subprocess
import time
import uuid

import grpc
import jwt
from google.protobuf import struct_pb2

from brokers import Mosquitto, NatsServer
from conftest import SECRET, Process, binary
from receivers import Webhook, fresh_database, wait_until

WEBHOOK_SECRET = "alert-webhook-secret-0123456789"


def call(stubs, address, org):
    body = struct_pb2.Struct()
    body.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "alert me"}], "max_tokens": 10})
    item = stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions",
                                     org_id=org, user_id="user-1", client_type="interop", extra=body)
    token = jwt.encode({"org_id": org, "user_id": "user-1", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    with grpc.insecure_channel(address) as channel:
        try:
            items = list(stubs.grpc.ModelServiceStub(channel).Invoke(
                item, metadata=[("authorization", f"Bearer {token}")], timeout=30))
            return "ok" if items and items[0].error == "" else f"error {items[0].error if items else 'none'}"
        except grpc.RpcError as error:
            return error.code().name


async def make_stream_of_an_older_version(url):
    """The BILLING stream as versions before alerts made it: usage events only."""
    import nats
    connection = await nats.connect(url)
    try:
        await connection.jetstream().add_stream(name="BILLING", subjects=["billing.usage.recorded.>"])
    finally:
        await connection.close()


def test_two_instances_alert_at_80_90_and_100_percent_once_each_everywhere(stubs):
    database = fresh_database()
    nats_server, mosquitto, webhook = NatsServer(), Mosquitto(), Webhook(WEBHOOK_SECRET)
    org = f"alerts-{uuid.uuid4().hex[:6]}"
    asyncio.run(make_stream_of_an_older_version(nats_server.url))
    subscriber = mosquitto.subscribe("billing/quota/alert/#")
    on_mqtt = subscriber.received
    env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_DATABASE_URL": database,
           "MODEL_MANAGER_NATS_URL": nats_server.url, "MODEL_MANAGER_MQTT_URL": mosquitto.url,
           "MODEL_MANAGER_ALERT_WEBHOOK_URL": webhook.url, "MODEL_MANAGER_ALERT_WEBHOOK_SECRET": WEBHOOK_SECRET}
    servers = []
    try:
        for _ in range(2):
            process = Process(["serve", "--demo", "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"], env=env)
            servers.append((process, f"127.0.0.1:{process.wait_for_log('model-manager listening')['grpc_port']}"))
        subprocess.run([binary(), "quotas", "set", "--org-id", org, "--period", "daily", "--metric", "calls",
                        "--limit", "100", "--database", database], check=True, capture_output=True, timeout=60)

        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            outcomes = list(pool.map(lambda i: call(stubs, servers[i % 2][1], org), range(200)))
        assert outcomes.count("ok") == 100, {o: outcomes.count(o) for o in set(outcomes)}
        assert outcomes.count("RESOURCE_EXHAUSTED") == 100

        expected = {80, 90, 100}
        assert wait_until(lambda: {d[1]["threshold_percent"] for d in webhook.deliveries if not d[3]} == expected), \
            webhook.deliveries
        assert wait_until(lambda: len({e["alert_id"] for _, e in on_mqtt}) == 3), on_mqtt
        time.sleep(1.5)  # a second alert for any threshold would have arrived by now

        accepted = [d for d in webhook.deliveries if not d[3]]
        assert all(valid for _, _, valid, _ in webhook.deliveries), "a webhook delivery had a bad signature"
        assert sorted(d[1]["threshold_percent"] for d in accepted) == [80, 90, 100], accepted
        assert len(webhook.deliveries) == 4 and webhook.deliveries[0][0] in {d[0] for d in accepted}, \
            "the refused delivery was retried with the same event id"
        for event_id, event, _, _ in accepted:
            assert event_id == event["alert_id"]
            assert event["org_id"] == org and event["subject_kind"] == "org" and event["period"] == "daily"
            assert event["metric"] == "calls" and event["limit"] == 100
            assert event["used"] >= event["threshold_percent"]
            assert event["resets_at"].endswith("T00:00:00Z")

        messages = [(msg_id, event) for msg_id, event in asyncio.run(nats_server.billing_messages())
                    if event.get("type") == "quota.alert"]
        assert sorted(event["threshold_percent"] for _, event in messages) == [80, 90, 100], messages
        assert all(msg_id == event["alert_id"] for msg_id, event in messages)

        assert sorted(event["threshold_percent"] for _, event in on_mqtt) == [80, 90, 100], on_mqtt
        assert {topic for topic, _ in on_mqtt} == {f"billing/quota/alert/{org}"}

        audit = subprocess.run([binary(), "audit", "--action", "quota.alert", "--org-id", org, "--database", database],
                               check=True, capture_output=True, text=True, timeout=60)
        entries = json.loads(audit.stdout)["results"]
        assert sorted(entry["details"]["threshold_percent"] for entry in entries) == [80, 90, 100], entries
        assert all(entry["actor"] == "quota" and entry["target"] == f"org '{org}'" for entry in entries)
    finally:
        subscriber.loop_stop()
        for process, _ in servers:
            assert process.stop() == 0
            assert WEBHOOK_SECRET not in process.text(), "the webhook secret appeared in the server log"
        webhook.stop()
        nats_server.stop()
        mosquitto.stop()
