"""Asynchronous tasks: the tamar SDK, unmodified, creates tasks and reads completed, failed and
unknown ones; a task whose instance is killed mid-call completes on another instance on the same
PostgreSQL, with one usage record and a signed callback."""
import json
import os
import signal
import subprocess
import tempfile
import time

import grpc
import jwt
from google.protobuf import struct_pb2
from tamar_model_client import TamarModelClient
from tamar_model_client.enums import Channel, InvokeType, ProviderType
from tamar_model_client.exceptions import TamarModelException
from tamar_model_client.schemas import ModelRequest, UserContext

from conftest import SECRET, Process
from receivers import Webhook, fresh_database, wait_until

USER = UserContext(org_id="org-tasks", user_id="user-tasks", client_type="interop")


def image_task(prompt, **extra):
    """Image generation, the SDK's own asynchronous route."""
    return ModelRequest(
        provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.IMAGE_GENERATION,
        model="dall-e-3", prompt=prompt, user_context=USER, enable_async_task=True, **extra)


def wait_for(client, task_id, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = client.get_task_status(task_id)
        if status.status != "processing":
            return status
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} still processing after {timeout}s")


def test_the_sdk_creates_tasks_and_reads_completed_failed_and_unknown_ones(sdk_env):
    with TamarModelClient() as client:
        created = client.invoke(image_task("a fox in the snow", idempotency_key="fox-1"))
        assert created.error is None and created.content == "" and not created.usage
        task_id = created.raw_response["task_id"]
        assert created.raw_response["status"] == "processing"
        again = client.invoke(image_task("a fox in the snow", idempotency_key="fox-1"))
        assert again.raw_response["task_id"] == task_id, "the idempotency key names the same task"
        failing = client.invoke(image_task("x", extra_headers={"x-emulator-fault": "status=400"}))
        failing_id = failing.raw_response["task_id"]

        done = wait_for(client, task_id)
        assert done.status == "completed" and done.task_id == task_id
        assert done.provider == "openai" and done.invoke_type == "image-generation" and done.model == "dall-e-3"
        assert done.result_data["raw_response"]["data"][0]["url"]
        assert done.result_data["usage"]["image_count"] == 1 and done.error_message is None
        assert done.created_at and done.completed_at
        failed = wait_for(client, failing_id)
        assert failed.status == "failed" and failed.result_data is None and "400" in failed.error_message

        batch = client.batch_get_task_status([failing_id, "task-nope", task_id])
        assert [t.task_id for t in batch.tasks] == [failing_id, "task-nope", task_id]
        assert [t.status for t in batch.tasks] == ["failed", "failed", "completed"]
        assert "not found" in batch.tasks[1].error_message
        try:
            client.get_task_status("task-nope")
            raise AssertionError("an unknown task was found")
        except TamarModelException as error:
            assert "not found" in str(error)


CALLBACK_SECRET = "task-callback-secret-0123456789"


def create_slow_task(stubs, address, callback_url):
    body = struct_pb2.Struct()
    body.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "outlive me"}],
                 "enable_async_task": True, "callback_url": callback_url,
                 "extra_headers": {"x-emulator-fault": "delay-ms=3000"}})
    item = stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions",
                                     org_id="org-tasks", user_id="u1", client_type="interop", extra=body)
    token = jwt.encode({"org_id": "org-tasks", "user_id": "u1", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    with grpc.insecure_channel(address) as channel:
        items = list(stubs.grpc.ModelServiceStub(channel).Invoke(
            item, metadata=[("authorization", f"Bearer {token}"), ("x-request-id", "outliving-task")], timeout=20))
    return json.loads(items[0].raw_response)["task_id"]


def task_row(database, task_id):
    query = f"SELECT status, attempts, record_id FROM tasks WHERE id = '{task_id}'"
    out = subprocess.run(["psql", database, "-At", "-F", "|", "-c", query], check=True, capture_output=True, text=True)
    return out.stdout.strip().split("|")


def test_a_task_outlives_its_killed_instance_with_one_record_and_a_signed_callback(stubs):
    database = fresh_database()
    receiver = Webhook(CALLBACK_SECRET)
    config = os.path.join(tempfile.mkdtemp(prefix="mm-tasks-"), "config.json")
    with open(config, "w") as f:
        json.dump({"tasks": {"lease_seconds": 1.5, "poll_seconds": 0.2, "callback_secret": CALLBACK_SECRET,
                             "callback_allow_private": True}}, f)
    env = {"MODEL_MANAGER_SERVER_JWT_SECRET_KEY": SECRET, "MODEL_MANAGER_DATABASE_URL": database}
    args = ["serve", "--demo", "--config", config, "--grpc-address", "127.0.0.1:0", "--http-address", "127.0.0.1:0"]
    first = Process(args, env=env)
    first_address = f"127.0.0.1:{first.wait_for_log('model-manager listening')['grpc_port']}"
    second = None
    try:
        task_id = create_slow_task(stubs, first_address, receiver.url)
        assert wait_until(lambda: task_row(database, task_id)[1] == "1", timeout=10), "the first instance took it"
        time.sleep(0.5)  # its upstream call is under way (3 s)
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()
        second = Process(args, env=env)
        second.wait_for_log("model-manager listening")

        assert wait_until(lambda: task_row(database, task_id)[0] == "completed", timeout=30), task_row(database, task_id)
        status, attempts, record_id = task_row(database, task_id)
        assert int(attempts) == 2, "run again once, after the first instance's lease expired"
        count = subprocess.run(["psql", database, "-At", "-c",
                                "SELECT COUNT(*) FROM usage_records WHERE request_id = 'outliving-task'"],
                               check=True, capture_output=True, text=True).stdout.strip()
        assert count == "1", f"{count} usage records for one task"
        assert record_id

        assert wait_until(lambda: any(not refused for *_, refused in receiver.deliveries), timeout=30), receiver.deliveries
        event_id, body, valid, _ = receiver.deliveries[-1]
        assert valid, "the callback's signature did not verify"
        assert event_id == task_id and body["task_id"] == task_id and body["status"] == "completed"
        assert body["result_data"]["content"] == "Echo: outlive me"
        assert len(receiver.deliveries) == 2, "the callback was refused once (503) and retried"
    finally:
        for process in (first, second):
            if process and process.proc.poll() is None:
                assert process.stop() == 0
        if second:
            assert CALLBACK_SECRET not in second.text(), "the callback secret appeared in the log"
        receiver.stop()
