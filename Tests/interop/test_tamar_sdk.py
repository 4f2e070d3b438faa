"""The tamar-model-client SDK from PyPI, unmodified, against our server."""
import asyncio

from tamar_model_client import AsyncTamarModelClient, TamarModelClient
from tamar_model_client.enums import Channel, InvokeType, ProviderType
from tamar_model_client.schemas import BatchModelRequest, BatchModelRequestItem, ModelRequest, UserContext

USER = UserContext(org_id="org-sdk", user_id="user-sdk", client_type="interop")


def chat(text, stream=False):
    return ModelRequest(
        provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], user_context=USER,
        stream=stream, max_tokens=100, temperature=0.7)


def batch():
    return BatchModelRequest(user_context=USER, items=[
        BatchModelRequestItem(provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
                              model="gpt-4o-mini", messages=[{"role": "user", "content": "first"}], custom_id="1"),
        BatchModelRequestItem(provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
                              model="gpt-4o-mini", messages=[{"role": "user", "content": "second"}], custom_id="2"),
    ])


def test_sync_invoke(sdk_env):
    with TamarModelClient() as client:
        response = client.invoke(chat("hello sdk"))
    assert response.error is None
    assert response.content == "Echo: hello sdk"
    assert response.usage["prompt_tokens"] > 0
    assert response.usage["total_tokens"] == response.usage["prompt_tokens"] + response.usage["completion_tokens"]
    assert response.request_id


def test_sync_stream(sdk_env):
    with TamarModelClient() as client:
        chunks = list(client.invoke(chat("hello stream", stream=True)))
    assert "".join(c.content for c in chunks) == "Echo: hello stream"
    assert chunks[-1].usage["completion_tokens"] > 0
    assert all(c.error is None for c in chunks)


def test_sync_stream_error_is_in_band(sdk_env):
    request = ModelRequest(
        provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
        model="gpt-unknown", messages=[{"role": "user", "content": "x"}], user_context=USER, stream=True)
    with TamarModelClient() as client:
        chunks = list(client.invoke(request))
    assert len(chunks) == 1 and "gpt-unknown" in chunks[0].error


def test_sync_batch(sdk_env):
    with TamarModelClient() as client:
        response = client.invoke_batch(batch())
    assert [r.content for r in response.responses] == ["Echo: first", "Echo: second"]
    assert response.request_id


def test_async_invoke_stream_and_batch(sdk_env):
    async def scenario():
        async with AsyncTamarModelClient() as client:
            single = await client.invoke(chat("hello async"))
            stream = await client.invoke(chat("async stream", stream=True))
            chunks = [chunk async for chunk in stream]
            batched = await client.invoke_batch(batch())
            return single, chunks, batched

    single, chunks, batched = asyncio.run(scenario())
    assert single.content == "Echo: hello async"
    assert single.usage["total_tokens"] > 0
    assert "".join(c.content for c in chunks) == "Echo: async stream"
    assert chunks[-1].usage["total_tokens"] > 0
    assert [r.content for r in batched.responses] == ["Echo: first", "Echo: second"]
