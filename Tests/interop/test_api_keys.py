"""API keys made with `model-manager keys`, presented as gRPC metadata (`api-key`, `apikey`, as the
billing SDK sends them) and as a Bearer token, against a server sharing the CLI's ledger and pepper."""
import json
import time

import grpc
import pytest
from google.protobuf import struct_pb2

def item(stubs, org="", model="gpt-4o-mini"):
    body = struct_pb2.Struct()
    body.update({"model": model, "messages": [{"role": "user", "content": "hello key"}]})
    return stubs.pb.ModelRequestItem(provider="openai", channel="openai", invoke_type="chat-completions",
                                     org_id=org, user_id="user-1", client_type="interop", extra=body)


def invoke(stubs, keyed, md, **kwargs):
    stub = stubs.grpc.ModelServiceStub(keyed.channel)
    return list(stub.Invoke(item(stubs, **kwargs), metadata=md, timeout=20))


def refused_within(stubs, keyed, md, seconds=3):
    """The status a key gets once the server stops accepting it, and how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            invoke(stubs, keyed, md)
        except grpc.RpcError as error:
            return error, time.monotonic() - started
        time.sleep(0.05)
    pytest.fail("the key was still accepted")


def test_cli_key_works_in_each_metadata_form_and_is_listed_without_its_secret(stubs, keyed):
    created = json.loads(keyed.cli("keys", "create", "--org-id", "org-k", "--name", "billing", "--model", "gpt-4o-mini").stdout)
    key, record = created["key"], created["record"]
    assert key.startswith("mmk_" + record["id"] + "_")
    for md in ([("api-key", key)], [("apikey", key)], [("authorization", f"Bearer {key}")]):
        items = invoke(stubs, keyed, md)
        assert items[0].content == "Echo: hello key", md[0][0]
    listed = keyed.cli("keys", "list", "--org-id", "org-k").stdout
    assert record["id"] in listed and key not in listed and "hash" not in listed
    shown = json.loads(keyed.cli("keys", "show", record["prefix"]).stdout)
    assert shown["org_id"] == "org-k" and shown["allowed_models"] == ["gpt-4o-mini"] and shown["revoked_at"] is None


def test_a_key_is_refused_for_another_org_also_per_batch_item(stubs, keyed):
    key = json.loads(keyed.cli("keys", "create", "--org-id", "org-k", "--name", "org-check").stdout)["key"]
    with pytest.raises(grpc.RpcError) as info:
        invoke(stubs, keyed, [("api-key", key)], org="org-other")
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'org-k'" in info.value.details() and "'org-other'" in info.value.details()
    stub = stubs.grpc.ModelServiceStub(keyed.channel)
    batch = stub.BatchInvoke(stubs.pb.ModelRequest(items=[item(stubs, org="org-k"), item(stubs, org="org-other")]),
                             metadata=[("api-key", key)], timeout=20)
    assert batch.items[0].content == "Echo: hello key"
    assert "org-other" in batch.items[1].error


def test_rotate_and_revoke_take_effect_within_a_second(stubs, keyed):
    created = json.loads(keyed.cli("keys", "create", "--org-id", "org-k", "--name", "rotating").stdout)
    old, key_id = created["key"], created["record"]["id"]
    invoke(stubs, keyed, [("api-key", old)])
    new = json.loads(keyed.cli("keys", "rotate", key_id).stdout)["key"]
    assert new != old and new.startswith(f"mmk_{key_id}_")
    error, took = refused_within(stubs, keyed, [("api-key", old)])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and took < 1.5
    assert invoke(stubs, keyed, [("api-key", new)])[0].content == "Echo: hello key"
    keyed.cli("keys", "revoke", key_id)
    error, took = refused_within(stubs, keyed, [("api-key", new)])
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in error.details() and took < 1.5
    again = keyed.cli("keys", "revoke", key_id, check=False)
    assert again.returncode != 0 and "no live API key" in again.stderr


def test_cli_refuses_bad_input_naming_it(keyed):
    result = keyed.cli("keys", "create", "--org-id", "org-k", "--name", "x", "--scope", "superuser", check=False)
    assert result.returncode != 0 and "superuser" in result.stderr
    result = keyed.cli("keys", "create", "--org-id", "org-k", "--name", "x", "--expires-in-days=-1", check=False)
    assert result.returncode != 0 and "-1" in result.stderr


def test_cli_acts_are_on_the_audit_log(keyed):
    created = json.loads(keyed.cli("keys", "create", "--org-id", "org-audit", "--name", "audited").stdout)
    keyed.cli("keys", "revoke", created["record"]["id"])
    log = json.loads(keyed.cli("audit", "--org-id", "org-audit").stdout)
    actions = [(entry["action"], entry["target"]) for entry in log["results"]]
    target = created["record"]["prefix"]
    assert actions == [("key.revoked", target), ("key.created", target)]
    assert all(entry["actor"].startswith("cli:") for entry in log["results"])
    assert created["key"] not in json.dumps(log)
