"""The official Python SDKs accept the emulator's answers for every upstream it stands in for."""
import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from conftest import EMULATOR_KEY


@pytest.fixture
def root(server):
    return server.emulator_root


def test_openai_responses(server):
    client = openai.OpenAI(base_url=server.emulator_url, api_key=EMULATOR_KEY, max_retries=0)
    response = client.responses.create(model="gpt-4o-mini", input="hello responses")
    assert response.output_text == "Echo: hello responses"
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    events = list(client.responses.create(model="gpt-4o-mini", input="hello responses", stream=True))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "Echo: hello responses"
    assert events[-1].type == "response.completed" and events[-1].response.usage.output_tokens > 0


def test_openai_images(server):
    client = openai.OpenAI(base_url=server.emulator_url, api_key=EMULATOR_KEY, max_retries=0)
    result = client.images.generate(model="gpt-image-1", prompt="a fox", n=2)
    assert len(result.data) == 2 and result.data[0].b64_json
    assert result.usage.total_tokens > 0
    url = client.images.generate(model="dall-e-3", prompt="a fox")
    assert url.data[0].url.startswith("https://") and url.data[0].revised_prompt


def test_azure_openai(root):
    client = openai.AzureOpenAI(azure_endpoint=root, api_key=EMULATOR_KEY, api_version="2024-10-21", max_retries=0)
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi azure"}])
    assert completion.choices[0].message.content == "Echo: hi azure"
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi azure"}],
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hi azure"
    assert chunks[-1].usage.total_tokens > 0
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="no-such-deployment", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.AuthenticationError):
        openai.AzureOpenAI(azure_endpoint=root, api_key="wrong", api_version="2024-10-21", max_retries=0).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])


def test_anthropic(root):
    client = anthropic.Anthropic(base_url=root, api_key=EMULATOR_KEY, max_retries=0)
    message = client.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi claude"}])
    assert message.content[0].text == "Echo: hi claude"
    assert message.stop_reason == "end_turn" and message.usage.output_tokens > 0
    with client.messages.stream(model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "hi claude"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: hi claude"
    assert final.usage.output_tokens == message.usage.output_tokens
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-nope", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}],
                               extra_headers={"x-emulator-fault": "status=429"})


def test_google_genai_ai_studio(root):
    client = genai.Client(api_key=EMULATOR_KEY, http_options=types.HttpOptions(base_url=root, retry_options=None))
    response = client.models.generate_content(model="gemini-2.0-flash", contents="hi gemini",
                                              config=types.GenerateContentConfig(max_output_tokens=50, temperature=0.1))
    assert response.text == "Echo: hi gemini"
    assert response.usage_metadata.total_token_count > 0
    chunks = list(client.models.generate_content_stream(model="gemini-2.0-flash", contents="hi gemini"))
    assert "".join(c.text or "" for c in chunks) == "Echo: hi gemini"
    assert chunks[-1].usage_metadata.candidates_token_count == response.usage_metadata.candidates_token_count
    images = client.models.generate_images(model="imagen-3.0-generate-002", prompt="a fox",
                                           config=types.GenerateImagesConfig(number_of_images=2))
    assert len(images.generated_images) == 2 and images.generated_images[0].image.image_bytes
    with pytest.raises(genai.errors.ClientError):
        client.models.generate_content(model="gemini-nope", contents="x")


def test_openai_embeddings(server):
    client = openai.OpenAI(base_url=server.emulator_url, api_key=EMULATOR_KEY, max_retries=0)
    # The SDK asks for base64 unless told otherwise, and decodes it.
    packed = client.embeddings.create(model="text-embedding-3-small", input=["What is the capital of France?",
                                                                             "what's the capital of france"])
    first, second = (item.embedding for item in packed.data)
    assert len(first) == 1536 and abs(sum(v * v for v in first) - 1) < 1e-4
    assert sum(a * b for a, b in zip(first, second)) > 0.99, "a rewording is (nearly) the same vector"
    plain = client.embeddings.create(model="text-embedding-3-small", input="How do volcanoes form?", dimensions=64,
                                     encoding_format="float")
    assert len(plain.data[0].embedding) == 64 and plain.usage.prompt_tokens > 0
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="no-such-embedding", input="x")


def test_gemini_embeddings(root):
    client = genai.Client(api_key=EMULATOR_KEY, http_options=types.HttpOptions(base_url=root, retry_options=None))
    result = client.models.embed_content(model="gemini-embedding-001",
                                         contents=["What is the capital of France?", "what's the capital of france"],
                                         config=types.EmbedContentConfig(output_dimensionality=64))
    first, second = (embedding.values for embedding in result.embeddings)
    assert len(first) == 64 and sum(a * b for a, b in zip(first, second)) > 0.99
    native = client.models.embed_content(model="text-embedding-004", contents="How do volcanoes form?")
    assert len(native.embeddings[0].values) == 768
