"""tamar-model-client's HTTP fallback, unmodified, against our server's HTTP face."""
import time

import pytest
import requests
from tamar_model_client import TamarModelClient
from tamar_model_client.enums import Channel, InvokeType, ProviderType
from tamar_model_client.schemas import ModelRequest, UserContext

from brokers import free_port
from conftest import SECRET

USER = UserContext(org_id="org-fallback", user_id="user-fallback", client_type="interop")


def google_request(text):
    # Google generation is the one route whose parameters survive the SDK's fallback body intact.
    return ModelRequest(provider=ProviderType.GOOGLE, channel=Channel.AI_STUDIO, invoke_type=InvokeType.GENERATION,
                        model="gemini-2.0-flash", contents=text, config={"temperature": 0.2}, user_context=USER)


def chat_request(text):
    return ModelRequest(provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
                        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], user_context=USER)


@pytest.fixture
def dead_grpc_env(server, monkeypatch):
    monkeypatch.setenv("MODEL_MANAGER_SERVER_ADDRESS", f"127.0.0.1:{free_port()}")
    monkeypatch.setenv("MODEL_MANAGER_SERVER_JWT_SECRET_KEY", SECRET)
    monkeypatch.setenv("MODEL_MANAGER_SERVER_GRPC_USE_TLS", "false")
    monkeypatch.setenv("MODEL_MANAGER_SERVER_GRPC_POOL_SIZE", "2")
    monkeypatch.setenv("MODEL_MANAGER_SERVER_GRPC_RETRY_DELAY", "0.1")
    monkeypatch.setenv("MODEL_MANAGER_SERVER_INVOKE_TIMEOUT", "20")
    monkeypatch.setenv("MODEL_CLIENT_RESILIENT_ENABLED", "true")
    monkeypatch.setenv("MODEL_CLIENT_HTTP_FALLBACK_URL", server.http_url)
    return server


def test_fast_fallback_with_a_dead_grpc_address(dead_grpc_env, monkeypatch):
    monkeypatch.setenv("MODEL_CLIENT_FAST_FALLBACK_ENABLED", "true")
    with TamarModelClient() as client:
        response = client.invoke(google_request("hello over http"))
    assert response.error is None
    assert response.content == "Echo: hello over http"
    assert response.usage["total_tokens"] > 0


def test_circuit_open_sends_calls_to_http(dead_grpc_env, monkeypatch):
    monkeypatch.setenv("MODEL_CLIENT_FAST_FALLBACK_ENABLED", "false")
    monkeypatch.setenv("MODEL_CLIENT_CIRCUIT_BREAKER_THRESHOLD", "1")
    with TamarModelClient() as client:
        with pytest.raises(Exception):
            client.invoke(google_request("this one fails and opens the circuit"))
        google = client.invoke(google_request("circuit open"))
        chat = client.invoke(chat_request("circuit open chat"))
        chunks = list(client.invoke(ModelRequest(provider=ProviderType.GOOGLE, channel=Channel.AI_STUDIO,
                                                 invoke_type=InvokeType.GENERATION, model="gemini-2.0-flash",
                                                 contents="streamed over sse", stream=True, user_context=USER)))
    assert google.content == "Echo: circuit open"
    # The SDK sends its messages iterator's repr instead of the messages; the server still answers.
    assert chat.error is None and chat.content.startswith("Echo: ")
    assert "".join(c.content for c in chunks) == "Echo: streamed over sse"
    assert chunks[-1].usage["total_tokens"] > 0


def test_http_face_errors(server):
    import jwt
    token = jwt.encode({"org_id": "o", "user_id": "u", "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    not_json = requests.post(server.http_url + "/v1/invoke", data="{nope", headers=headers, timeout=10)
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
    unauthenticated = requests.post(server.http_url + "/v1/invoke", json={"provider": "openai"}, timeout=10)
    assert unauthenticated.status_code == 401
    unknown = requests.post(server.http_url + "/v1/invoke", headers=headers, timeout=10,
                            json={"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-nope",
                                  "messages": [{"role": "user", "content": "x"}], "user_context": {"org_id": "o", "user_id": "u", "client_type": "c"}})
    assert unknown.status_code == 400 and "gpt-nope" in unknown.json()["error"]
    batch = requests.post(server.http_url + "/v1/batch-invoke", headers={**headers, "X-Request-ID": "http-batch"}, timeout=10,
                          json={"user_context": {"org_id": "o", "user_id": "u", "client_type": "c"},
                                "items": [{"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-4o-mini",
                                           "messages": [{"role": "user", "content": "one"}], "custom_id": "a"},
                                          {"provider": "openai", "invoke_type": "chat-completions", "model": "gpt-nope",
                                           "messages": [{"role": "user", "content": "two"}], "custom_id": "b"}]})
    body = batch.json()
    assert batch.status_code == 200 and body["request_id"] == "http-batch"
    assert [r["custom_id"] for r in body["results"]] == ["a", "b"]
    assert body["results"][0]["content"] == "Echo: one" and body["results"][0]["usage"]["total_tokens"] > 0
    assert "gpt-nope" in body["results"][1]["error"]
    too_large = requests.post(server.http_url + "/v1/invoke", headers=headers, data=b"x" * (65 * 1024 * 1024), timeout=30)
    assert too_large.status_code == 413
