"""Quotas set with `model-manager quotas`, enforced over gRPC: RESOURCE_EXHAUSTED naming the limit,
with `retry-after` in the trailing metadata, as grpcio sees them."""
import json
import uuid

import grpc
import jwt
import time
from google.protobuf import struct_pb2

from conftest import SECRET


def call(stubs, keyed, org, with_trailers=False):
    body = struct_pb2.Struct()
    body.update({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "quota"}], "max_tokens": 10})
    item = stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions",
                                     org_id=org, user_id="user-1", client_type="interop", extra=body)
    token = jwt.encode({"org_id": org, "user_id": "user-1", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    stub = stubs.grpc.ModelServiceStub(keyed.channel)
    responses = stub.Invoke(item, metadata=[("authorization", f"Bearer {token}")], timeout=20)
    items = list(responses)
    return (items, dict(responses.trailing_metadata())) if with_trailers else items


def test_a_daily_quota_refuses_with_retry_after_and_is_listed_with_its_use(stubs, keyed):
    org = f"org-{uuid.uuid4().hex[:8]}"
    keyed.cli("quotas", "set", "--org-id", org, "--period", "daily", "--metric", "calls", "--limit", "2")
    call(stubs, keyed, org)
    call(stubs, keyed, org)
    try:
        call(stubs, keyed, org)
        raise AssertionError("the third call was admitted")
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"org '{org}' daily calls limit 2, 2 used" in error.details()
        trailers = dict(error.trailing_metadata())
        assert 1 <= int(trailers["retry-after"]) <= 86400
    # The embedded ledger's counters are written behind, every second: the CLI sees them by then.
    deadline = time.time() + 3
    while True:
        listed = json.loads(keyed.cli("quotas", "list", "--org-id", org).stdout)["quotas"]
        if listed and listed[0]["used"] == 2 or time.time() > deadline:
            break
        time.sleep(0.2)
    assert [(q["period"], q["metric"], q["limit"], q["used"]) for q in listed] == [("daily", "calls", 2, 2)]
    assert listed[0]["resets_at"].endswith("T00:00:00Z")
    keyed.cli("quotas", "delete", "--org-id", org, "--period", "daily", "--metric", "calls")
    assert json.loads(keyed.cli("quotas", "list", "--org-id", org).stdout)["quotas"] == []


def test_quota_cli_refuses_bad_input_naming_it(keyed):
    result = keyed.cli("quotas", "set", "--org-id", "o", "--period", "weekly", "--metric", "calls", "--limit", "1",
                       check=False)
    assert result.returncode != 0 and "weekly" in result.stderr
    result = keyed.cli("quotas", "set", "--org-id", "o", "--period", "daily", "--metric", "calls", "--limit", "1.5",
                       check=False)
    assert result.returncode != 0 and "1.5" in result.stderr


def test_a_rate_limit_sends_openai_style_values_in_the_trailers(stubs, keyed):
    org = f"org-{uuid.uuid4().hex[:8]}"
    keyed.cli("quotas", "set", "--org-id", org, "--period", "minute", "--metric", "calls", "--limit", "50")
    keyed.cli("quotas", "set", "--org-id", org, "--period", "minute", "--metric", "tokens", "--limit", "100000")
    items, trailers = call(stubs, keyed, org, with_trailers=True)
    assert items[0].content == "Echo: quota"
    assert trailers["x-ratelimit-limit-requests"] == "50"
    assert trailers["x-ratelimit-remaining-requests"] in ("49", "50")
    assert trailers["x-ratelimit-limit-tokens"] == "100000"
    assert trailers["x-ratelimit-reset-requests"].endswith("s")
