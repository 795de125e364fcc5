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


def test_streaming_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="does not stream"):
        _chat(ScriptedClient(["x"]), stream=True)


def test_usage_counts_prompt_and_reply_words():
    reply = _chat(ScriptedClient(["Your bike ships tomorrow."]))
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens == 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + 5


def test_with_options_keeps_the_script_and_repr_shows_counts():
    client = ScriptedClient(["a", "b"])
    assert client.with_options(timeout=5).chat.completions.create(model="m", messages=[])
    assert client.replies_left == 1
    assert repr(client) == "ScriptedClient(2 replies, 1 requests)"
