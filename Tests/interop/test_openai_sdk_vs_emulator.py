"""The official openai SDK accepts the emulator's answers, streamed and not."""
import openai
import pytest

from conftest import EMULATOR_KEY


@pytest.fixture
def client(server):
    return openai.OpenAI(base_url=server.emulator_url, api_key=EMULATOR_KEY, max_retries=0)


def test_non_stream(client):
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}], max_tokens=20)
    assert completion.choices[0].message.content == "Echo: hi there"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    assert completion.model.startswith("gpt-4o-mini")


def test_stream_with_usage(client):
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi there"}],
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: hi there"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_errors_are_the_sdk_exceptions(client, server):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}],
                                       extra_headers={"x-emulator-fault": "status=429"})
    bad = openai.OpenAI(base_url=server.emulator_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
