"""tamar-model-client, unmodified, reaching every provider of the mission through our server."""
import asyncio

import pytest
from tamar_model_client import AsyncTamarModelClient, TamarModelClient
from tamar_model_client.enums import Channel, InvokeType, ProviderType
from tamar_model_client.schemas import ModelRequest, UserContext

USER = UserContext(org_id="org-sdk", user_id="user-sdk", client_type="interop")

ROUTES = {
    "openai responses": dict(provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.RESPONSES,
                             model="gpt-4o-mini", input="hello from the sdk"),
    "google generation": dict(provider=ProviderType.GOOGLE, channel=Channel.AI_STUDIO, invoke_type=InvokeType.GENERATION,
                              model="gemini-2.0-flash", contents="hello from the sdk", config={"temperature": 0.3, "max_output_tokens": 64}),
    "google vertex generation": dict(provider=ProviderType.GOOGLE, channel=Channel.VERTEXAI, invoke_type=InvokeType.GENERATION,
                                     model="gemini-2.5-flash", contents="hello from the sdk"),
    "anthropic messages": dict(provider=ProviderType.ANTHROPIC, channel=Channel.ANTHROPIC, invoke_type=InvokeType.MESSAGES,
                               model="claude-sonnet-4-5", max_tokens=128, messages=[{"role": "user", "content": "hello from the sdk"}]),
    "azure chat": dict(provider=ProviderType.AZURE, channel=Channel.OPENAI, invoke_type=InvokeType.CHAT_COMPLETIONS,
                       model="gpt-4o-mini", messages=[{"role": "user", "content": "hello from the sdk"}]),
}


@pytest.mark.parametrize("name", list(ROUTES))
def test_sync_stream_and_not(sdk_env, name):
    with TamarModelClient() as client:
        whole = client.invoke(ModelRequest(user_context=USER, **ROUTES[name]))
        assert whole.error is None, whole.error
        assert whole.content == "Echo: hello from the sdk"
        assert whole.usage["total_tokens"] >= whole.usage["prompt_tokens"] + whole.usage["completion_tokens"]
        chunks = list(client.invoke(ModelRequest(user_context=USER, stream=True, **ROUTES[name])))
    assert "".join(c.content for c in chunks) == whole.content
    assert chunks[-1].usage["total_tokens"] == whole.usage["total_tokens"]


@pytest.mark.parametrize("name", list(ROUTES))
def test_async_stream_and_not(sdk_env, name):
    async def scenario():
        async with AsyncTamarModelClient() as client:
            whole = await client.invoke(ModelRequest(user_context=USER, **ROUTES[name]))
            stream = await client.invoke(ModelRequest(user_context=USER, stream=True, **ROUTES[name]))
            chunks = [chunk async for chunk in stream]
            return whole, chunks

    whole, chunks = asyncio.run(scenario())
    assert whole.content == "Echo: hello from the sdk"
    assert "".join(c.content for c in chunks) == whole.content
    assert chunks[-1].usage["total_tokens"] == whole.usage["total_tokens"]


def test_image_generation(sdk_env):
    with TamarModelClient() as client:
        openai_image = client.invoke(ModelRequest(
            provider=ProviderType.OPENAI, channel=Channel.OPENAI, invoke_type=InvokeType.IMAGE_GENERATION,
            model="dall-e-3", prompt="a red fox", user_context=USER))
        imagen = client.invoke(ModelRequest(
            provider=ProviderType.GOOGLE, channel=Channel.AI_STUDIO, invoke_type=InvokeType.IMAGE_GENERATION_GENAI,
            model="imagen-3.0-generate-002", prompt="a red fox", config={"number_of_images": 2}, user_context=USER))
    assert openai_image.error is None and openai_image.content.startswith("https://")
    assert openai_image.usage["image_count"] == 1
    assert imagen.error is None and imagen.usage["image_count"] == 2
    assert imagen.raw_response["predictions"][0]["mimeType"] == "image/png"
