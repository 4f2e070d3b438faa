"""The official openai and anthropic SDKs, unmodified, against the gateway's compatible routes:
any served model through /v1/chat/completions, /v1/messages, /v1/responses and /v1/embeddings,
streamed and not, with tools, errors in each API's own shape, and usage equal to the native route's."""
import json
import subprocess
import time
import uuid

import anthropic
import openai
import pytest
import requests

from conftest import SECRET, binary

CHAT_MODELS = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"]
NATIVE = {
    "openai/gpt-4o-mini": {"provider": "openai", "invoke_type": "chat-completions",
                           "extra": {"model": "gpt-4o-mini"}},
    "anthropic/claude-sonnet-4-5": {"provider": "anthropic", "invoke_type": "messages",
                                    "extra": {"model": "claude-sonnet-4-5", "max_tokens": 4096}},
    "google/gemini-2.5-flash": {"provider": "google", "invoke_type": "generation",
                                "extra": {"model": "gemini-2.5-flash"}},
}
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def token(org="org-compat", user="u-compat"):
    result = subprocess.run([binary(), "token", "--secret", SECRET, "--org-id", org, "--user-id", user],
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


@pytest.fixture(scope="module")
def oa(server):
    return openai.OpenAI(base_url=server.http_url + "/v1", api_key=token(), max_retries=0)


@pytest.fixture(scope="module")
def an(server):
    return anthropic.Anthropic(base_url=server.http_url, auth_token=token(), max_retries=0)


def native_usage(server, model, messages):
    """The same conversation through the native route (/v1/invoke): its usage."""
    native = NATIVE[model]
    extra = dict(native["extra"])
    if native["provider"] == "google":
        extra["contents"] = [{"role": "user", "parts": [{"text": m["content"]}]} for m in messages]
    else:
        extra["messages"] = messages
    # The HTTP fallback's body: the envelope fields beside the provider parameters.
    body = {"provider": native["provider"], "invoke_type": native["invoke_type"], "org_id": "org-compat",
            "user_id": "u-compat", **extra}
    answer = requests.post(server.http_url + "/v1/invoke", json=body,
                           headers={"Authorization": f"Bearer {token()}"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["usage"]


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_completion_with_usage_equal_to_the_native_route(oa, server, model):
    messages = [{"role": "user", "content": "hello compatible world"}]
    completion = oa.chat.completions.create(model=model, messages=messages)
    assert completion.choices[0].message.content == "Echo: hello compatible world"
    assert completion.choices[0].finish_reason == "stop"
    usage = native_usage(server, model, messages)
    assert completion.usage.prompt_tokens == usage["prompt_tokens"]
    assert completion.usage.completion_tokens == usage["completion_tokens"]
    assert completion.usage.total_tokens == usage["total_tokens"]


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_stream_with_include_usage(oa, model):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "stream me please"}]
    whole = oa.chat.completions.create(model=model, messages=messages)
    chunks = list(oa.chat.completions.create(model=model, messages=messages, stream=True,
                                             stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content == "Echo: be brief stream me please"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert chunks[-1].usage.prompt_tokens == whole.usage.prompt_tokens


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_tools_round_trip_streamed_and_not(oa, model):
    messages = [{"role": "user", "content": "weather in Paris"}]
    first = oa.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}

    pieces = {}
    finish = None
    for chunk in oa.chat.completions.create(model=model, messages=messages, tools=[WEATHER], stream=True):
        for delta in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            entry = pieces.setdefault(delta.index, {"id": None, "name": None, "arguments": ""})
            entry["id"] = entry["id"] or delta.id
            entry["name"] = entry["name"] or (delta.function.name if delta.function else None)
            entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
        if chunk.choices and chunk.choices[0].finish_reason:
            finish = chunk.choices[0].finish_reason
    assert finish == "tool_calls"
    assert pieces[0]["name"] == "get_weather" and json.loads(pieces[0]["arguments"]) == {"city": "Paris"}
    assert pieces[0]["id"]

    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = oa.chat.completions.create(model=model, messages=messages, tools=[WEATHER])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content.startswith("Echo: weather in Paris")


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_chat_with_an_image(oa, model):
    content = [{"type": "text", "text": "what is in this picture"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PIXEL}}]
    completion = oa.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])
    assert completion.choices[0].message.content.startswith("Echo: what is in this picture")


def test_chat_errors_are_the_sdks_exceptions(oa, server):
    with pytest.raises(openai.BadRequestError) as unknown:
        oa.chat.completions.create(model="nowhere/model", messages=[{"role": "user", "content": "x"}])
    assert "nowhere" in unknown.value.message and unknown.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError):
        oa.chat.completions.create(model="mystery-model", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        oa.chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=[])
    bad = openai.OpenAI(base_url=server.http_url + "/v1", api_key="not-a-token", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "openai/gpt-4o-mini", "google/gemini-2.5-flash"])
def test_messages_through_the_anthropic_sdk(an, model):
    message = an.messages.create(model=model, max_tokens=200, system="be brief",
                                 messages=[{"role": "user", "content": "hello anthropic"}])
    assert message.content[0].text == "Echo: be brief hello anthropic"
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens > 0

    with an.messages.stream(model=model, max_tokens=200, system="be brief",
                            messages=[{"role": "user", "content": "hello anthropic"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Echo: be brief hello anthropic"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == message.usage.output_tokens
    assert final.usage.input_tokens == message.usage.input_tokens


@pytest.mark.parametrize("model", ["claude-sonnet-4-5", "openai/gpt-4o-mini", "google/gemini-2.5-flash"])
def test_messages_tools_through_the_anthropic_sdk(an, model):
    tools = [{"name": "get_weather", "description": "The weather in a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    messages = [{"role": "user", "content": "weather in Paris"}]
    first = an.messages.create(model=model, max_tokens=200, tools=tools, messages=messages)
    assert first.stop_reason == "tool_use"
    use = [block for block in first.content if block.type == "tool_use"][0]
    assert use.name == "get_weather" and use.input == {"city": "Paris"}

    with an.messages.stream(model=model, max_tokens=200, tools=tools, messages=messages) as stream:
        final = stream.get_final_message()
    streamed = [block for block in final.content if block.type == "tool_use"][0]
    assert final.stop_reason == "tool_use" and streamed.input == {"city": "Paris"}

    messages += [{"role": "assistant", "content": [block.model_dump() for block in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny"}]}]
    second = an.messages.create(model=model, max_tokens=200, tools=tools, messages=messages)
    assert second.stop_reason == "end_turn" and second.content[0].text.startswith("Echo: weather in Paris")


def test_messages_errors_are_the_sdks_exceptions(an, server):
    with pytest.raises(anthropic.BadRequestError) as unknown:
        an.messages.create(model="nowhere/model", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert unknown.value.body["error"]["type"] == "invalid_request_error"
    bad = anthropic.Anthropic(base_url=server.http_url, api_key="mmk_not_a_key", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        bad.messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_responses_api(oa, model):
    response = oa.responses.create(model=model, input="hello responses", max_output_tokens=200)
    assert response.output_text.endswith("hello responses")
    assert response.usage.output_tokens > 0


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_responses_stream(oa, model):
    events = list(oa.responses.create(model=model, input="stream responses", stream=True))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Echo: stream responses"
    assert events[-1].type == "response.completed" and events[-1].response.usage.output_tokens > 0
    # The SDK's own accumulating helper follows the item and part events to the same answer.
    with oa.responses.stream(model=model, input="stream responses") as stream:
        final = stream.get_final_response()
    assert final.output_text == "Echo: stream responses"


@pytest.mark.parametrize("model", ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-flash"])
def test_responses_function_calls_streamed_and_not(oa, model):
    tools = [{"type": "function", "name": "get_weather", "description": "The weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    answer = oa.responses.create(model=model, input="weather in Paris", tools=tools)
    call = [item for item in answer.output if item.type == "function_call"][0]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    with oa.responses.stream(model=model, input="weather in Paris", tools=tools) as stream:
        final = stream.get_final_response()
    streamed = [item for item in final.output if item.type == "function_call"][0]
    assert streamed.name == "get_weather" and json.loads(streamed.arguments) == {"city": "Paris"}
    follow_up = oa.responses.create(model=model, tools=tools, input=[
        {"role": "user", "content": "weather in Paris"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"}])
    assert follow_up.output_text.startswith("Echo: weather in Paris")


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "google/gemini-embedding-001"])
def test_embeddings(oa, model):
    default = oa.embeddings.create(model=model, input="embed this text")  # the SDK asks for base64
    floats = oa.embeddings.create(model=model, input="embed this text", encoding_format="float")
    assert len(default.data[0].embedding) == len(floats.data[0].embedding) > 0
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)


def test_models_lists_and_needs_a_credential(oa, server):
    assert oa.models.list().object == "list"
    assert requests.get(server.http_url + "/v1/models", timeout=10).status_code == 401


def test_api_keys_scopes_and_ledger_records(keyed):
    """An API key works as OpenAI's Bearer and Anthropic's x-api-key; its model limits hold; each
    call leaves a usage record like a native call's, naming the compatible face it came through."""
    http_url = keyed.http_url
    created = json.loads(keyed.cli("keys", "create", "--org-id", "org-compat-key", "--name", "compat",
                                   "--model", "gpt-4o-mini", "--model", "claude-sonnet-4-5").stdout)
    oa = openai.OpenAI(base_url=http_url + "/v1", api_key=created["key"], max_retries=0)
    completion = oa.chat.completions.create(model="openai/gpt-4o-mini",
                                            messages=[{"role": "user", "content": "keyed call"}])
    assert completion.choices[0].message.content == "Echo: keyed call"
    with pytest.raises(openai.PermissionDeniedError) as refused:
        oa.chat.completions.create(model="google/gemini-2.5-flash", messages=[{"role": "user", "content": "x"}])
    assert "gemini-2.5-flash" in refused.value.message

    sent_as_header = requests.post(http_url + "/v1/messages", timeout=30,
                                   headers={"x-api-key": created["key"], "anthropic-version": "2023-06-01"},
                                   json={"model": "claude-sonnet-4-5", "max_tokens": 50,
                                         "messages": [{"role": "user", "content": "keyed message"}]})
    assert sent_as_header.status_code == 200, sent_as_header.text
    message = sent_as_header.json()

    listed = json.loads(keyed.cli("usage", "list", "--org-id", "org-compat-key", "--json").stdout)["results"]
    by_face = {record["client_type"]: record for record in listed}
    chat = by_face["openai-compatible"]
    assert (chat["provider"], chat["model"], chat["success"]) == ("openai", "gpt-4o-mini", True)
    assert chat["prompt_tokens"] == completion.usage.prompt_tokens
    assert chat["completion_tokens"] == completion.usage.completion_tokens
    messages = by_face["anthropic-compatible"]
    assert (messages["provider"], messages["model"]) == ("anthropic", "claude-sonnet-4-5")
    assert messages["completion_tokens"] == message["usage"]["output_tokens"]


def test_rate_limits_hold_on_the_compatible_routes_with_each_sdks_error(keyed):
    """A per-minute call limit on the key's org: OpenAI's x-ratelimit headers on each answer, and
    the call over it refused as each SDK's RateLimitError, naming the limit, with Retry-After."""
    org = f"org-limit-{uuid.uuid4().hex[:8]}"
    created = json.loads(keyed.cli("keys", "create", "--org-id", org, "--name", "limited").stdout)
    keyed.cli("quotas", "set", "--org-id", org, "--period", "minute", "--metric", "calls", "--limit", "2")
    time.sleep(1.2)  # quotas are read through a cache of at most a second (quotas.cache_seconds)
    oa = openai.OpenAI(base_url=keyed.http_url + "/v1", api_key=created["key"], max_retries=0)
    raw = oa.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "one"}])
    assert raw.headers["x-ratelimit-limit-requests"] == "2"
    assert raw.headers["x-ratelimit-remaining-requests"] == "1"
    assert raw.parse().choices[0].message.content == "Echo: one"
    an = anthropic.Anthropic(base_url=keyed.http_url, api_key=created["key"], max_retries=0)
    an.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=[{"role": "user", "content": "two"}])
    with pytest.raises(openai.RateLimitError) as refused:
        oa.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "three"}])
    assert "minute calls limit 2" in refused.value.message
    assert int(refused.value.response.headers["retry-after"]) >= 1
    with pytest.raises(anthropic.RateLimitError) as refused_too:
        an.messages.create(model="claude-sonnet-4-5", max_tokens=20, messages=[{"role": "user", "content": "four"}])
    assert refused_too.value.body["error"]["type"] == "rate_limit_error"
    # A refused stream is refused before it starts, with the status the SDK turns into its error.
    with pytest.raises(openai.RateLimitError):
        oa.chat.completions.create(model="openai/gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "5"}])
    with pytest.raises(anthropic.RateLimitError):
        with an.messages.stream(model="claude-sonnet-4-5", max_tokens=20,
                                messages=[{"role": "user", "content": "six"}]) as stream:
            stream.get_final_message()
