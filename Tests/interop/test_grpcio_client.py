"""A plain grpcio client with stubs generated from Protos/, against our server."""
import time
import uuid

import grpc
import jwt
import pytest
from google.protobuf import struct_pb2

from conftest import SECRET


def token(secret=SECRET, **claims):
    payload = {"org_id": "org-1", "user_id": "user-1", "exp": int(time.time()) + 600}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm="HS256")


def metadata(tok=None):
    md = [("x-request-id", str(uuid.uuid4()))]
    if tok is not None:
        md.append(("authorization", f"Bearer {tok}"))
    return md


def chat_item(stubs, text, stream=False, model="gpt-4o-mini", custom_id=None, **extra):
    body = struct_pb2.Struct()
    body.update({"model": model, "messages": [{"role": "user", "content": text}], **extra})
    item = stubs.pb.ModelRequestItem(
        provider="openai", channel="openai", invoke_type="chat-completions", stream=stream,
        org_id="org-1", user_id="user-1", client_type="interop", region="", extra=body)
    if custom_id is not None:
        item.custom_id = custom_id
    return item


@pytest.fixture
def stub(stubs, server):
    channel = grpc.insecure_channel(server.address)
    yield stubs.grpc.ModelServiceStub(channel)
    channel.close()


def test_unary_invoke(stubs, stub):
    items = list(stub.Invoke(chat_item(stubs, "hello from grpcio", max_tokens=100.0), metadata=metadata(token()), timeout=20))
    assert len(items) == 1
    import json
    usage = json.loads(items[0].usage)
    assert items[0].content == "Echo: hello from grpcio"
    assert isinstance(usage["prompt_tokens"], int) and isinstance(usage["completion_tokens"], int)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert json.loads(items[0].raw_response)["object"] == "chat.completion"
    assert items[0].request_id


def test_request_id_is_echoed(stubs, stub):
    md = [("x-request-id", "my-request-123"), ("authorization", f"Bearer {token()}")]
    items = list(stub.Invoke(chat_item(stubs, "x"), metadata=md, timeout=20))
    assert items[0].request_id == "my-request-123"


def test_stream_invoke(stubs, stub):
    items = list(stub.Invoke(chat_item(stubs, "stream this please", stream=True), metadata=metadata(token()), timeout=20))
    assert len(items) > 2
    assert "".join(i.content for i in items) == "Echo: stream this please"
    assert all(i.usage == "" for i in items[:-1])
    assert items[-1].usage != ""


def test_batch(stubs, stub):
    request = stubs.pb.ModelRequest(items=[
        chat_item(stubs, "one", custom_id="a"),
        chat_item(stubs, "two", model="no-such-model", custom_id="b"),
        chat_item(stubs, "three", custom_id="c"),
    ])
    response = stub.BatchInvoke(request, metadata=metadata(token()), timeout=20)
    assert [i.custom_id for i in response.items] == ["a", "b", "c"]
    assert response.items[0].content == "Echo: one"
    assert "no-such-model" in response.items[1].error
    assert response.items[2].content == "Echo: three"
    assert response.request_id


def test_task_status_not_found(stubs, server):
    channel = grpc.insecure_channel(server.address)
    stub = stubs.grpc.ModelServiceStub(channel)
    with pytest.raises(grpc.RpcError) as info:
        stub.GetTaskStatus(stubs.pb.GetTaskStatusRequest(task_id="t-1"), metadata=metadata(token()), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "t-1" in info.value.details()


def test_health(stubs, server):
    channel = grpc.insecure_channel(server.address)
    health = stubs.health_grpc.HealthStub(channel)
    reply = health.Check(stubs.health.HealthCheckRequest(service="model_service.ModelService"), timeout=5)
    assert reply.status == stubs.health.HealthCheckResponse.SERVING
    watch = health.Watch(stubs.health.HealthCheckRequest(service=""), timeout=5)
    assert next(watch).status == stubs.health.HealthCheckResponse.SERVING
    watch.cancel()
    with pytest.raises(grpc.RpcError) as info:
        health.Check(stubs.health.HealthCheckRequest(service="nope"), timeout=5)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


def b64(text):
    import base64
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def rs256_token():
    from cryptography.hazmat.primitives.asymmetric import rsa
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode({"user_id": "u", "exp": int(time.time()) + 600}, key, algorithm="RS256")


TOKEN_CASES = [
    ("missing", None, "missing authorization"),
    ("malformed", "not-a-jwt", "malformed token"),
    ("wrong secret", token(secret="some-other-secret-0123456789abcdef012"), "signature"),
    ("expired", token(exp=int(time.time()) - 3600), "expired"),
    ("no exp", token(exp=None), "'exp'"),
    ("alg none", b64('{"alg":"none","typ":"JWT"}') + "." + b64('{"user_id":"u","exp":9999999999}') + ".", "'none'"),
    ("HS512", jwt.encode({"user_id": "u", "exp": int(time.time()) + 600}, SECRET, algorithm="HS512"), "'HS512'"),
    ("RS256", rs256_token(), "'RS256'"),
]


@pytest.mark.parametrize("name,tok,expected", TOKEN_CASES, ids=[c[0] for c in TOKEN_CASES])
@pytest.mark.parametrize("method", ["unary", "stream", "batch"])
def test_token_matrix(stubs, stub, name, tok, expected, method):
    md = metadata(tok)
    with pytest.raises(grpc.RpcError) as info:
        if method == "batch":
            stub.BatchInvoke(stubs.pb.ModelRequest(items=[chat_item(stubs, "x")]), metadata=md, timeout=10)
        else:
            list(stub.Invoke(chat_item(stubs, "x", stream=(method == "stream")), metadata=md, timeout=10))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
    assert expected in info.value.details(), f"{name}: {info.value.details()}"


def test_body_that_does_not_decode(server):
    channel = grpc.insecure_channel(server.address)
    call = channel.unary_stream("/model_service.ModelService/Invoke", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as info:
        list(call(b"\xff\xff\xff\x0f", metadata=metadata(token()), timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not decode" in info.value.details()


def test_invalid_utf8_is_refused(server):
    channel = grpc.insecure_channel(server.address)
    call = channel.unary_stream("/model_service.ModelService/Invoke", request_serializer=lambda b: b, response_deserializer=lambda b: b)
    with pytest.raises(grpc.RpcError) as info:
        list(call(b"\x0a\x02\xff\xfe", metadata=metadata(token()), timeout=10))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "UTF-8" in info.value.details()


def test_large_request_is_accepted(stubs, stub):
    big = "word " * (2 * 1024 * 1024)  # ~10 MiB, over libgrpc's 4 MiB default
    items = list(stub.Invoke(chat_item(stubs, big), metadata=metadata(token()), timeout=30))
    assert items[0].content.startswith("Echo: word")
