"""The class server's body rules: what the official SDK sends passes, llama.cpp's extras do not."""

from __future__ import annotations

import doctest
import json
from typing import Any

import httpx2
import openai
import pytest
from pydantic import BaseModel

from enterprise_ai.fair_share import SHORT_TOKENS
from enterprise_ai.request_rules import (
    ALLOWED_FIELDS,
    MAX_NESTING,
    RequestRefused,
    check_request,
    expected_tokens,
    nesting_depth,
)

MODEL = "SmolLM2-135M-Instruct"
MODELS = frozenset({MODEL})
CHAT = "/v1/chat/completions"
RESPONSES = "/v1/responses"
GOOD: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
TOOL = {
    "type": "function",
    "function": {
        "name": "get_order",
        "description": "Look up an order.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    },
}


class Ticket(BaseModel):
    category: str
    priority: int


def _sent_bodies(calls: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Run each call on a real ``openai.OpenAI`` client; return (path, body) of what it sent."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        sent.append((request.url.path, json.loads(request.content)))
        return httpx2.Response(400, json={"error": {"message": "captured", "code": "x"}})

    http = httpx2.Client(transport=httpx2.MockTransport(answer))
    client = openai.OpenAI(base_url="http://class/v1", api_key="k", max_retries=0, http_client=http)
    for call in calls:
        with pytest.raises(openai.BadRequestError):
            call(client)
    return sent


def test_what_the_official_sdk_sends_passes() -> None:
    # The course's own kinds of request, with the parameters its lessons use and more.
    calls = [
        lambda c: c.chat.completions.create(
            **GOOD,
            max_tokens=60,
            temperature=0.7,
            top_p=0.9,
            seed=7,
            stop=["\n\n", "END"],
            presence_penalty=0.5,
            frequency_penalty=-0.5,
            logprobs=True,
            top_logprobs=5,
            logit_bias={"2": -100},
            n=1,
            user="learner-7",
        ),
        lambda c: c.chat.completions.create(
            **GOOD, tools=[TOOL], tool_choice="auto", parallel_tool_calls=False
        ),
        lambda c: c.chat.completions.create(
            **GOOD, stream=True, stream_options={"include_usage": True}
        ),
        lambda c: c.chat.completions.parse(**GOOD, response_format=Ticket, max_tokens=120),
        lambda c: c.responses.create(
            model=MODEL, instructions="Be brief.", input="Hi", max_output_tokens=80
        ),
        lambda c: c.responses.parse(
            model=MODEL, input="Printer broken", text_format=Ticket, temperature=0
        ),
        lambda c: c.responses.create(
            model=MODEL, input="Hi", tools=[TOOL["function"] | {"type": "function"}]
        ),
    ]
    sent = _sent_bodies(calls)
    assert len(sent) == len(calls)
    for path, body in sent:
        check_request(path, body, MODELS)  # raises if a rule is too strict


@pytest.mark.parametrize(
    "field, value",
    [
        ("n_predict", 3000),  # more tokens than max_tokens: measured 3000 with max_tokens=20
        ("ignore_eos", True),
        ("id_slot", 0),
        ("grammar", 'root ::= "a"+'),
        ("json_schema", {"type": "string"}),
        ("cache_prompt", False),
        ("samplers", ["top_k"]),
        ("n_probs", 1000),
        ("t_max_predict_ms", 1),
        ("lora", [{"id": 0, "scale": 1.0}]),
        ("dry_multiplier", 0.8),
        ("mirostat", 2),
    ],
)
def test_llama_cpp_s_own_options_are_refused_with_the_fix(field: str, value: object) -> None:
    with pytest.raises(RequestRefused) as refused:
        check_request(CHAT, {**GOOD, field: value}, MODELS)
    assert refused.value.code == "unknown_parameter"
    assert refused.value.status == 400
    assert f"supplied: {field}" in refused.value.message
    assert "COURSE_BACKEND=local" in refused.value.message


def test_the_responses_endpoint_has_its_own_fields() -> None:
    check_request(RESPONSES, {"model": MODEL, "input": "Hi", "max_output_tokens": 50}, MODELS)
    with pytest.raises(RequestRefused, match="supplied: messages"):
        check_request(RESPONSES, {"model": MODEL, "input": "Hi", "messages": []}, MODELS)
    with pytest.raises(RequestRefused, match="supplied: seed"):  # not a Responses API field
        check_request(RESPONSES, {"model": MODEL, "input": "Hi", "seed": 7}, MODELS)
    assert "n_predict" not in ALLOWED_FIELDS[CHAT] | ALLOWED_FIELDS[RESPONSES]


@pytest.mark.parametrize(
    "changes, fix",
    [
        ({"n": 3}, "send the request 3 times"),
        ({"n": 0}, "one answer per request"),
        ({"n": True}, "one answer per request"),
        ({"max_tokens": 4097}, "at most 4096 tokens"),
        ({"max_completion_tokens": 0}, "at least 1"),
        ({"max_tokens": 20.5}, "whole number"),
        ({"temperature": 2.5}, "e.g. temperature=2.0"),
        ({"temperature": -0.1}, "e.g. temperature=0.0"),
        ({"temperature": "hot"}, "must be a number"),
        ({"temperature": True}, "must be a number"),
        ({"top_p": 1.5}, "(0.0 to 1.0)"),
        ({"presence_penalty": -3}, "(-2.0 to 2.0)"),
        ({"frequency_penalty": 9}, "(-2.0 to 2.0)"),
        ({"top_logprobs": 21}, "(0 to 20)"),
        ({"top_logprobs": 2.0}, "whole number"),
        ({"stop": [f"s{i}" for i in range(5)]}, "at most 4"),
        ({"tools": [TOOL] * 129}, "at most 128"),
    ],
)
def test_values_beyond_the_api_s_ranges_are_refused(changes: dict, fix: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        check_request(CHAT, {**GOOD, **changes}, MODELS)
    assert refused.value.status == 400
    assert fix in refused.value.message


@pytest.mark.parametrize(
    "changes",
    [
        {"n": 1},
        {"max_tokens": 4096},
        {"temperature": 0},
        {"temperature": 2.0},
        {"top_p": 1},
        {"presence_penalty": -2},
        {"top_logprobs": 20},
        {"stop": "END"},
        {"stop": ["a", "b", "c", "d"]},
        {"tools": [TOOL] * 128},
    ],
)
def test_values_at_the_edges_of_the_ranges_pass(changes: dict) -> None:
    check_request(CHAT, {**GOOD, **changes}, MODELS)


def test_unknown_or_missing_model_names_the_served_one() -> None:
    with pytest.raises(RequestRefused) as refused:
        check_request(CHAT, {**GOOD, "model": "gpt-4.1"}, MODELS)
    assert (refused.value.status, refused.value.code) == (404, "model_not_found")
    assert MODEL in refused.value.message
    with pytest.raises(RequestRefused, match="names no model"):
        check_request(CHAT, {"messages": []}, MODELS)
    check_request(CHAT, {**GOOD, "model": "anything"}, frozenset())  # upstream unknown: passed on


def _nested(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"a": value}
    return value


def test_nesting_is_measured_without_recursion_and_refused_past_the_limit() -> None:
    assert nesting_depth("x") == 0
    assert nesting_depth([]) == 1
    assert nesting_depth({"a": [1, {"b": [2]}]}) == 4
    assert nesting_depth(_nested(100_000)) == 100_000  # far past Python's recursion limit
    # a tool schema nested 10 levels (OpenAI's own limit for schemas) is fine
    deep_tool = {"type": "function", "function": {"name": "f", "parameters": _nested(10)}}
    check_request(CHAT, {**GOOD, "tools": [deep_tool]}, MODELS)
    body = {**GOOD, "metadata": _nested(MAX_NESTING)}
    with pytest.raises(RequestRefused) as refused:
        check_request(CHAT, body, MODELS)
    assert refused.value.code == "nesting_too_deep"
    assert f"nested {MAX_NESTING + 1} levels" in refused.value.message
    check_request(CHAT, {**GOOD, "metadata": _nested(MAX_NESTING - 1)}, MODELS)


def test_doctests_pass() -> None:
    from enterprise_ai import request_rules

    assert doctest.testmod(request_rules).failed == 0


def test_a_quick_question_is_short_and_a_grounded_answer_is_not() -> None:
    from enterprise_ai import kb, support

    quick = {
        **GOOD,
        "messages": [
            {"role": "system", "content": "You are the support assistant of Isar Cycles."},
            {"role": "user", "content": "In two sentences: how do I charge my e-bike?"},
        ],
        "max_tokens": 60,
    }
    question = "How do I charge my e-bike?"
    grounded = {
        **GOOD,
        "messages": support.build_messages(question, kb.search(question, k=3)),
        "max_tokens": 100,
    }
    assert expected_tokens(quick) <= SHORT_TOKENS < expected_tokens(grounded)
    assert expected_tokens(GOOD) > SHORT_TOKENS  # no max_tokens: it may fill the context
    many = {**quick, "max_tokens": 4000, "max_completion_tokens": 20}
    assert expected_tokens(many) > SHORT_TOKENS  # either may be used: the larger counts


@pytest.mark.parametrize(
    "path, body, fix",
    [
        (CHAT, {**GOOD, "messages": []}, "non-empty list"),
        (CHAT, {**GOOD, "messages": "hi"}, "non-empty list"),
        (CHAT, {**GOOD, "messages": [{"role": "root", "content": "hi"}]}, "needs a role"),
        (CHAT, {**GOOD, "messages": [{"role": "user", "content": None}]}, "has no content"),
        (
            CHAT,
            {
                **GOOD,
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "file:///x"}}],
                    }
                ],
            },
            "reads text only",
        ),
        (RESPONSES, {"model": MODEL, "input": []}, "non-empty list"),
        (RESPONSES, {"model": MODEL, "input": 12345}, "input must be text"),
        (
            RESPONSES,
            {
                "model": MODEL,
                "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}],
            },
            "reads text only",
        ),
        (CHAT, {**GOOD, "logit_bias": [[0, False]]}, "list form"),
        (CHAT, {**GOOD, "logit_bias": {"2": -1000}}, "(-100 to 100)"),
        (CHAT, {**GOOD, "tools": "all"}, "list of tools"),
        (
            CHAT,
            {**GOOD, "tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
            "JSON schema object",
        ),
        (CHAT, {**GOOD, "tools": [{"type": "function", "function": {}}]}, "with a name"),
        (
            RESPONSES,
            {
                "model": MODEL,
                "input": "List names.",
                "text": {
                    "format": {
                        "type": "json_schema",
                        "name": "n",
                        "schema": {"type": "array", "minItems": 100_000},
                    }
                },
            },
            "no answer could fit",
        ),
    ],
)
def test_malformed_parts_the_model_reads_are_refused(path: str, body: dict, fix: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        check_request(path, body, MODELS)
    assert refused.value.status == 400
    assert fix in refused.value.message


def test_a_tool_call_history_passes() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "get_order", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "Where is order 17?"}]},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "shipped"},
    ]
    check_request(CHAT, {**GOOD, "messages": messages, "tools": [TOOL]}, MODELS)
    items = [
        {"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
        {"type": "function_call", "call_id": "c1", "name": "get_order", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "shipped"},
    ]
    check_request(RESPONSES, {"model": MODEL, "input": items}, MODELS)
