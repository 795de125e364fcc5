"""ScriptedClient: scripted replies of every kind come back as the SDK's own types."""

from __future__ import annotations

import json

import openai
import pytest
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel

from enterprise_ai.testing import (
    ScriptedClient,
    ScriptExhaustedError,
    ToolCall,
    connection_error,
    rate_limit_error,
    timeout_error,
)

MESSAGES = [{"role": "user", "content": "Where is my order IC-100001?"}]


def _chat(client: ScriptedClient, **extra: object) -> ChatCompletion:
    return client.chat.completions.create(model="m", messages=MESSAGES, **extra)


def test_text_replies_come_in_order_and_the_last_one_repeats():
    client = ScriptedClient(["one", "two"])
    texts = [_chat(client).choices[0].message.content for _ in range(3)]
    assert texts == ["one", "two", "two"]
    assert len(client.requests) == 3 and client.requests[0]["api"] == "chat.completions"


def test_without_repeat_a_used_up_script_names_the_request_count():
    client = ScriptedClient(["only"], repeat_last=False)
    _chat(client)
    with pytest.raises(ScriptExhaustedError, match="ran out of replies after 1 requests"):
        _chat(client)


def test_dict_and_pydantic_replies_are_sent_as_json_text():
    class Reply(BaseModel):
        category: str

    client = ScriptedClient([{"category": "returns", "note": "Grüße"}, Reply(category="payment")])
    first = _chat(client).choices[0].message.content
    assert json.loads(first) == {"category": "returns", "note": "Grüße"}
    assert "Grüße" in first  # not escaped: what a real model writes
    assert json.loads(_chat(client).choices[0].message.content) == {"category": "payment"}


def test_a_tool_call_reply_is_a_real_sdk_tool_call():
    client = ScriptedClient([ScriptedClient.tool_call("order_status", {"order_id": "IC-100001"})])
    reply = _chat(client, tools=[{"type": "function", "function": {"name": "order_status"}}])
    choice = reply.choices[0]
    assert isinstance(reply, ChatCompletion)
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "order_status"
    assert json.loads(call.function.arguments) == {"order_id": "IC-100001"}
    assert call.id.startswith("call_")
    assert "tools" in client.requests[0]


def test_several_tool_calls_in_one_reply_keep_their_ids():
    calls = [ToolCall("a", {"x": 1}, call_id="call_1"), ToolCall("b", '{"broken": ', "call_2")]
    message = _chat(ScriptedClient([calls])).choices[0].message
    assert [(c.id, c.function.name) for c in message.tool_calls] == [
        ("call_1", "a"),
        ("call_2", "b"),
    ]
    assert message.tool_calls[1].function.arguments == '{"broken": '  # scripted as it is


def test_responses_api_gives_text_and_function_calls():
    client = ScriptedClient(["Hello", ScriptedClient.tool_call("lookup", {"q": "x"})])
    text = client.responses.create(model="m", input="Hi")
    assert isinstance(text, Response) and text.output_text == "Hello"
    call = client.responses.create(model="m", input="Hi").output[0]
    assert call.type == "function_call" and call.name == "lookup"
    assert json.loads(call.arguments) == {"q": "x"}
    assert [r["api"] for r in client.requests] == ["responses", "responses"]


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (timeout_error(), openai.APITimeoutError, None),
        (connection_error(), openai.APIConnectionError, None),
        (rate_limit_error(retry_after_s=7), openai.RateLimitError, 429),
    ],
)
def test_scripted_errors_are_raised_as_the_sdk_raises_them(error, kind, status):
    client = ScriptedClient([error, "recovered"])
    with pytest.raises(kind) as caught:
        _chat(client)
    assert isinstance(caught.value, openai.APIError)
    assert getattr(caught.value, "status_code", None) == status
    assert len(client.requests) == 1  # the failed request is recorded
    assert _chat(client).choices[0].message.content == "recovered"


def test_rate_limit_error_carries_retry_after():
    assert rate_limit_error(retry_after_s=7).response.headers["retry-after"] == "7"


def test_an_exception_class_instead_of_an_instance_is_refused_with_the_fix():
    with pytest.raises(TypeError, match="pass an instance"):
        ScriptedClient([openai.APITimeoutError])


def test_usage_counts_prompt_and_reply_words():
    reply = _chat(ScriptedClient(["Your bike ships tomorrow."]))
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens == 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 5


def test_with_options_keeps_the_script_and_repr_shows_counts():
    client = ScriptedClient(["a", "b"])
    copy = client.with_options(timeout=5, max_retries=1)
    assert isinstance(copy, ScriptedClient) and (copy.timeout, copy.max_retries) == (5, 1)
    assert copy.chat.completions.create(model="m", messages=[]).choices[0].message.content == "a"
    assert client.replies_left == 1 and client.requests is copy.requests
    assert repr(client) == "ScriptedClient(2 replies, 1 requests)"


# --- the real SDK runs: streaming, .parse, retries, timeouts ---------------------------------


def test_it_is_a_real_sdk_client_that_validates_calls():
    client = ScriptedClient(["x"])
    assert isinstance(client, openai.OpenAI) and client.max_retries == 0
    with pytest.raises(TypeError, match="messages"):
        client.chat.completions.create(model="m")  # the SDK itself refuses, as in production
    assert client.requests == []


def test_chat_streams_text_chunk_by_chunk_with_usage_at_the_end():
    client = ScriptedClient(["Your bike ships tomorrow."])
    stream = _chat(client, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Your bike ships tomorrow."
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5
    assert client.requests[0]["stream"] is True
    assert client.returned[0].choices[0].message.content == text


def test_a_streamed_tool_call_arrives_as_sdk_deltas():
    client = ScriptedClient([ScriptedClient.tool_call("order_status", {"order_id": "IC-1"})])
    chunks = list(_chat(client, stream=True))
    deltas = [d for c in chunks for d in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "order_status"
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"order_id": "IC-1"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_responses_stream_events_end_with_the_completed_response():
    client = ScriptedClient(["Hello there"])
    events = list(client.responses.create(model="m", input="Hi", stream=True))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Hello there"]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "Hello there"


class Triage(BaseModel):
    category: str
    urgent: bool


def test_chat_parse_and_responses_parse_return_the_pydantic_object():
    client = ScriptedClient(
        [{"category": "returns", "urgent": False}, Triage(category="x", urgent=True)]
    )
    parsed = client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Triage)
    assert parsed.choices[0].message.parsed == Triage(category="returns", urgent=False)
    schema = client.requests[0]["response_format"]["json_schema"]["schema"]
    assert set(schema["properties"]) == {"category", "urgent"}  # what the SDK really sends
    response = client.responses.parse(model="m", input="Hi", text_format=Triage)
    assert response.output_parsed == Triage(category="x", urgent=True)


def test_a_scripted_429_is_retried_after_retry_after_when_the_client_retries():
    script = [rate_limit_error(retry_after_s=0.01), "after the wait"]
    patient = ScriptedClient(script).with_options(max_retries=2)
    assert _chat(patient).choices[0].message.content == "after the wait"
    assert len(patient.requests) == 2  # the SDK asked twice, as against a real provider
    with pytest.raises(openai.RateLimitError) as caught:
        _chat(ScriptedClient(script))  # max_retries=0: the caller sees the 429
    assert caught.value.response.headers["retry-after"] == "0.01"


def test_a_scripted_timeout_is_retried_like_a_real_one():
    client = ScriptedClient([timeout_error(), "second try"], max_retries=1)
    assert _chat(client).choices[0].message.content == "second try"
    assert len(client.requests) == 2


def test_a_slow_model_times_out_at_the_timeout_the_caller_set():
    client = ScriptedClient(["late"], latency_s=0.3)
    with pytest.raises(openai.APITimeoutError):
        _chat(client.with_options(timeout=0.05))
    assert _chat(client).choices[0].message.content == "late"  # no timeout: it waits


def test_other_exceptions_are_raised_unchanged_and_unscripted_apis_say_so():
    with pytest.raises(ValueError, match="boom"):
        _chat(ScriptedClient([ValueError("boom")]))
    with pytest.raises(openai.NotFoundError, match="does not script POST /v1/embeddings"):
        ScriptedClient([]).embeddings.create(model="m", input="x")
    assert [m.id for m in ScriptedClient([]).models.list()] == ["scripted"]
