"""The local adapter, against the real SmolLM2 model in llama.cpp.

One llama.cpp server serves the whole module. Requests go through the official ``openai`` SDK
with :class:`LocalAdapterTransport`, exactly as lessons send them, and a recording transport
underneath shows what llama.cpp really received. Answers of a 135M model are not clever, so
the tests check the contract (shapes, types, names, JSON validity, determinism), and the exact
wording only where temperature 0 pins it down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx2
import openai
import pytest
from pydantic import BaseModel, Field

from enterprise_ai.adapter import (
    ARGUMENT_MAX_CHARS,
    AsyncLocalAdapterTransport,
    LocalAdapterTransport,
    chat_completion_to_sse,
    plan_chat_request,
    prepare_exchange,
    response_events,
    tool_choice_schema,
)
from enterprise_ai.local_server import LocalServer

SAMPLING = {"temperature": 0, "seed": 7}
MODEL = "SmolLM2-135M-Instruct"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 30}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}
TICKET_TOOL = {
    "type": "function",
    "function": {
        "name": "create_ticket",
        "description": "Open a support ticket.",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string", "maxLength": 40},
                "priority": {"type": "string", "enum": ["low", "high"]},
            },
            "required": ["title", "priority"],
            "additionalProperties": False,
        },
    },
}
TOOLS = [WEATHER_TOOL, TICKET_TOOL]
WEATHER_QUESTION = [{"role": "user", "content": "What's the weather in Berlin?"}]


# Short maxLengths keep the tiny model's strings from running into max_tokens (the grammar
# enforces them), so every answer here is complete JSON.
class Ticket(BaseModel):
    title: str = Field(max_length=40)
    priority: int = Field(ge=1, le=5)


class Address(BaseModel):
    city: str = Field(max_length=30)
    postcode: str = Field(max_length=5)


class Customer(BaseModel):
    """Nested on purpose: pydantic puts Address in $defs, which the adapter must relocate."""

    name: str = Field(max_length=30)
    address: Address


class RecordingTransport(httpx2.BaseTransport):
    """Passes requests to llama.cpp and keeps each request object and its parsed body."""

    def __init__(self) -> None:
        self.inner = httpx2.HTTPTransport()
        self.requests: list[httpx2.Request] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def bodies(self) -> list[dict]:
        return [json.loads(request.read()) for request in self.requests if request.read()]

    def close(self) -> None:
        self.inner.close()


def sent_schema(body: dict) -> dict:
    """The tool-choice JSON schema the adapter sent upstream (llama.cpp's own grammar)."""
    assert "grammar" not in body, "the tool-choice schema keeps llama.cpp's default grammar"
    return body["response_format"]["json_schema"]["schema"]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    local = LocalServer(n_parallel=2, n_ctx=2048, n_threads=1)
    yield local
    local.close()


@pytest.fixture
def recorder() -> Iterator[RecordingTransport]:
    transport = RecordingTransport()
    yield transport
    transport.close()


@pytest.fixture
def client(server: LocalServer, recorder: RecordingTransport) -> Iterator[openai.OpenAI]:
    http_client = httpx2.Client(transport=LocalAdapterTransport(recorder), timeout=120)
    yield openai.OpenAI(base_url=server.base_url + "/v1", api_key="local", http_client=http_client)
    http_client.close()


# --- structured output ----------------------------------------------------------------------


def test_chat_parse_returns_the_pydantic_model(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Open a ticket: printer broken, priority 2"}],
        response_format=Ticket,
        max_tokens=120,
        **SAMPLING,
    )
    assert isinstance(completion.choices[0].message.parsed, Ticket)


def test_responses_parse_returns_the_pydantic_model(
    client: openai.OpenAI, recorder: RecordingTransport
) -> None:
    response = client.responses.parse(
        model=MODEL,
        instructions="You register customers.",
        input="Anna Schmidt lives in Berlin, postcode 10115.",
        text_format=Customer,
        max_output_tokens=80,
        temperature=0,
        extra_body={"seed": 7},
    )
    assert response.status == "completed"
    assert isinstance(response.output_parsed, Customer)
    assert Customer.model_validate_json(response.output_text) == response.output_parsed
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.usage.output_tokens_details.reasoning_tokens == 0
    # llama.cpp ignores text.format on /v1/responses, so the adapter went through chat.
    sent = recorder.bodies()[-1]
    assert recorder.requests[-1].url.path == "/v1/chat/completions"
    # The schema went upstream as llama.cpp's compact grammar (no whitespace between tokens).
    assert "response_format" not in sent and "whitespace_flexible" in sent["grammar"]
    assert sent["messages"][0] == {"role": "system", "content": "You register customers."}


def test_responses_stream_with_format_emits_the_standard_events(client: openai.OpenAI) -> None:
    with client.responses.stream(
        model=MODEL,
        input="Printer broken, priority 2",
        text_format=Ticket,
        max_output_tokens=120,
        temperature=0,
        extra_body={"seed": 7},
    ) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"
    assert "response.output_text.delta" in types and "response.output_text.done" in types
    assert isinstance(final.output_parsed, Ticket)


# --- tool calls -----------------------------------------------------------------------------


def test_tool_choice_required_returns_a_standard_tool_call(
    client: openai.OpenAI, recorder: RecordingTransport
) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=TOOLS,
        tool_choice="required",
        max_tokens=40,
        **SAMPLING,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name in {"get_weather", "create_ticket"}
    arguments = json.loads(call.function.arguments)
    required = {"get_weather": {"city"}, "create_ticket": {"title", "priority"}}
    assert set(arguments) == required[call.function.name]
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    # llama.cpp saw no tools, only the tool-choice grammar without an answer branch.
    sent = recorder.bodies()[-1]
    assert "tools" not in sent and "tool_choice" not in sent
    branches = sent_schema(sent)["anyOf"]
    assert [b["properties"]["tool"]["const"] for b in branches] == ["get_weather", "create_ticket"]
    assert "get_weather" in sent["messages"][0]["content"]


def test_forced_tool_name_is_the_one_called(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "create_ticket"}},
        max_tokens=60,
        **SAMPLING,
    )
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "create_ticket"
    assert json.loads(call.function.arguments)["priority"] in {"low", "high"}


def test_tool_choice_auto_offers_a_text_branch_and_answers_in_a_valid_shape(
    client: openai.OpenAI, recorder: RecordingTransport
) -> None:
    completion = client.chat.completions.create(
        model=MODEL, messages=WEATHER_QUESTION, tools=TOOLS, max_tokens=60, **SAMPLING
    )
    branches = sent_schema(recorder.bodies()[-1])["anyOf"]
    assert branches[-1]["required"] == ["answer"]
    choice = completion.choices[0]
    if choice.message.tool_calls:
        assert choice.finish_reason == "tool_calls" and choice.message.content is None
    else:
        assert choice.finish_reason in {"stop", "length"}
        assert isinstance(choice.message.content, str)


def test_nested_pydantic_tool_arguments_parse(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Register Anna, Berlin 10115."}],
        tools=[openai.pydantic_function_tool(Customer)],
        tool_choice="required",
        max_tokens=80,
        **SAMPLING,
    )
    (call,) = completion.choices[0].message.tool_calls
    assert isinstance(call.function.parsed_arguments, Customer)


def test_two_turn_tool_conversation_ends_in_text(
    client: openai.OpenAI, recorder: RecordingTransport
) -> None:
    first = client.chat.completions.create(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=[WEATHER_TOOL],
        tool_choice="required",
        max_tokens=40,
        **SAMPLING,
    )
    call = first.choices[0].message.tool_calls[0]
    messages = [
        *WEATHER_QUESTION,
        first.choices[0].message.model_dump(exclude_none=True),
        {
            "role": "tool",
            "tool_call_id": call.id,
            "content": '{"temperature_c": 21, "sky": "sunny"}',
        },
    ]
    final = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], max_tokens=60, **SAMPLING
    )
    assert final.choices[0].finish_reason == "stop"
    assert final.choices[0].message.tool_calls is None
    assert final.choices[0].message.content.strip()
    # The template cannot render tool_calls or role "tool": both arrived as plain text.
    history = recorder.bodies()[-1]["messages"]
    assert [m["role"] for m in history] == ["system", "user", "assistant", "user"]
    assert json.loads(history[2]["content"])["tool"] == "get_weather"
    assert history[3]["content"].startswith('Result of get_weather: {"temperature_c": 21')


def test_streaming_with_tools_yields_chunks_and_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=TOOLS,
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=40,
        **SAMPLING,
    )
    chunks = list(stream)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    name = "".join(d.tool_calls[0].function.name or "" for d in deltas if d.tool_calls)
    arguments = "".join(d.tool_calls[0].function.arguments or "" for d in deltas if d.tool_calls)
    assert name in {"get_weather", "create_ticket"}
    assert isinstance(json.loads(arguments), dict)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0


def test_stream_helper_accumulates_the_tool_call(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL,
        messages=WEATHER_QUESTION,
        tools=TOOLS,
        tool_choice="required",
        max_tokens=40,
        **SAMPLING,
    ) as stream:
        for _ in stream:
            pass
        message = stream.get_final_completion().choices[0].message
    assert message.tool_calls[0].function.name in {"get_weather", "create_ticket"}


def test_responses_tools_two_turns(client: openai.OpenAI) -> None:
    tool = {"type": "function", **WEATHER_TOOL["function"]}
    first = client.responses.create(
        model=MODEL,
        input="What's the weather in Berlin?",
        tools=[tool],
        tool_choice="required",
        max_output_tokens=80,
        temperature=0,
        extra_body={"seed": 7},
    )
    (call,) = first.output
    assert call.type == "function_call" and call.name == "get_weather"
    assert isinstance(json.loads(call.arguments), dict)
    conversation = [
        {"role": "user", "content": "What's the weather in Berlin?"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": "{}"},
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"sky": "sunny"}'},
    ]
    final = client.responses.create(
        model=MODEL,
        input=conversation,
        tools=[tool],
        tool_choice="none",
        max_output_tokens=40,
        temperature=0,
    )
    assert final.output[0].type == "message"
    assert final.output_text.strip()


# --- pass-through, determinism, errors ------------------------------------------------------


def test_plain_requests_pass_through_untouched(
    client: openai.OpenAI, recorder: RecordingTransport, server: LocalServer
) -> None:
    adapted = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], max_tokens=12, **SAMPLING
    )
    client.responses.create(model=MODEL, input="Say hello", max_output_tokens=12)
    client.models.list()
    paths = [request.url.path for request in recorder.requests]
    assert paths == ["/v1/chat/completions", "/v1/responses", "/v1/models"]
    assert "response_format" not in recorder.bodies()[0]
    direct = openai.OpenAI(base_url=server.base_url + "/v1", api_key="local")
    plain = direct.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], max_tokens=12, **SAMPLING
    )
    assert adapted.choices[0].message.content == plain.choices[0].message.content


def test_fast_path_does_not_parse_plain_bodies() -> None:
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode()
    assert prepare_exchange("/v1/chat/completions", body) is None
    assert prepare_exchange("/v1/embeddings", b'{"tools": []}') is None
    assert (
        prepare_exchange("/v1/responses", b'{"input": "hi", "text": {"format": {"type": "text"}}}')
        is None
    )


def test_same_request_twice_gives_the_same_answer(client: openai.OpenAI) -> None:
    def ask() -> tuple[str, str]:
        tool = client.chat.completions.create(
            model=MODEL,
            messages=WEATHER_QUESTION,
            tools=TOOLS,
            tool_choice="required",
            max_tokens=40,
            **SAMPLING,
        )
        parsed = client.responses.parse(
            model=MODEL,
            input="Printer broken, priority 2",
            text_format=Ticket,
            temperature=0,
            max_output_tokens=120,
            extra_body={"seed": 7},
        )
        call = tool.choices[0].message.tool_calls[0].function
        return f"{call.name}{call.arguments}", parsed.output_text

    assert ask() == ask()


def test_truncated_tool_call_is_a_clear_error_without_retries(
    client: openai.OpenAI, recorder: RecordingTransport
) -> None:
    with pytest.raises(openai.InternalServerError, match="max_tokens=3") as caught:
        client.chat.completions.create(
            model=MODEL,
            messages=WEATHER_QUESTION,
            tools=TOOLS,
            tool_choice="required",
            max_tokens=3,
            **SAMPLING,
        )
    assert "Raise max_tokens" in str(caught.value)
    assert len(recorder.requests) == 1  # x-should-retry: false stopped the SDK's retries


def test_truncated_structured_response_is_a_clear_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.InternalServerError, match="max_output_tokens=4"):
        client.responses.parse(
            model=MODEL, input="Anna, Berlin", text_format=Customer, max_output_tokens=4
        )


def test_unsupported_requests_are_refused_with_the_fix(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="function tool"):
        client.responses.create(model=MODEL, input="news?", tools=[{"type": "web_search"}])
    with pytest.raises(openai.BadRequestError, match="whole conversation"):
        client.responses.create(
            model=MODEL,
            input="and?",
            previous_response_id="resp_1",
            text={"format": {"type": "json_object"}},
        )
    with pytest.raises(openai.BadRequestError, match="offers only"):
        client.chat.completions.create(
            model=MODEL,
            messages=WEATHER_QUESTION,
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "send_email"}},
        )


def test_async_transport_parses_and_calls_tools(server: LocalServer) -> None:
    async def run() -> tuple[object, object]:
        http_client = httpx2.AsyncClient(transport=AsyncLocalAdapterTransport(), timeout=120)
        async with openai.AsyncOpenAI(
            base_url=server.base_url + "/v1", api_key="local", http_client=http_client
        ) as client:
            parsed = await client.responses.parse(
                model=MODEL,
                input="Printer broken, priority 2",
                text_format=Ticket,
                max_output_tokens=120,
                temperature=0,
                extra_body={"seed": 7},
            )
            tool = await client.chat.completions.create(
                model=MODEL,
                messages=WEATHER_QUESTION,
                tools=TOOLS,
                tool_choice="required",
                max_tokens=40,
                **SAMPLING,
            )
        return parsed.output_parsed, tool.choices[0].finish_reason

    parsed, finish_reason = asyncio.run(run())
    assert isinstance(parsed, Ticket)
    assert finish_reason == "tool_calls"


# --- pure translation -----------------------------------------------------------------------


def test_nested_schemas_keep_their_refs_resolvable() -> None:
    tool = openai.pydantic_function_tool(Customer)["function"]
    schema, _ = tool_choice_schema([tool], allow_answer=True, response_format=None)
    address = schema["anyOf"][0]["properties"]["arguments"]["properties"]["address"]
    ref = address["$ref"]
    assert ref == "#/$defs/tool0_Address"
    assert schema["$defs"]["tool0_Address"]["properties"]["postcode"]["type"] == "string"


def test_tool_choice_none_only_rewrites_history() -> None:
    plan = plan_chat_request(
        {
            "messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "42"},
            ],
            "tools": TOOLS,
            "tool_choice": "none",
            "stream": True,
        }
    )
    assert plan is not None and not plan.decodes_answer
    assert "tools" not in plan.upstream_body and plan.upstream_body["stream"] is True
    assert plan.upstream_body["messages"][1]["content"].startswith("Result of f: 42")


def test_response_events_are_numbered_and_complete() -> None:
    response = {
        "id": "resp_1",
        "status": "completed",
        "usage": {},
        "output": [
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "call_1",
                "name": "f",
                "arguments": "{}",
                "status": "completed",
            }
        ],
    }
    events = response_events(response)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events][2:-1] == [
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
    ]


def test_text_answers_replay_as_sse_with_usage() -> None:
    completion = {
        "id": "chatcmpl-1",
        "created": 1,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Paris"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    lines = chat_completion_to_sse(completion, include_usage=True).decode().split("\n\n")
    assert lines[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-2]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1]) == "Paris"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 7


def test_a_json_schema_goes_upstream_as_a_compact_grammar() -> None:
    body = {
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "T", "schema": Ticket.model_json_schema(), "strict": True},
        },
    }
    exchange = prepare_exchange("/v1/chat/completions", json.dumps(body).encode())
    assert exchange is not None and exchange.passes_answer_through
    assert "response_format" not in exchange.upstream_body
    assert '"whitespace_flexible":false' in exchange.upstream_body["grammar"].replace(" ", "")
    # Plain text, and json_object, go upstream untouched.
    plain = {"messages": [{"role": "user", "content": "hi"}]}
    assert prepare_exchange("/v1/chat/completions", json.dumps(plain).encode()) is None
    as_object = {**plain, "response_format": {"type": "json_object"}}
    assert prepare_exchange("/v1/chat/completions", json.dumps(as_object).encode()) is None


def test_compact_grammar_answers_have_no_whitespace_between_tokens(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "Open a ticket: printer broken, priority 2"}],
        response_format=Ticket,
        max_tokens=120,
        **SAMPLING,
    )
    text = completion.choices[0].message.content
    assert text.startswith('{"') and "\n" not in text and '", "' not in text and '": ' not in text


def test_free_text_tool_arguments_are_capped_for_the_local_model() -> None:
    """A rambling query must end inside the JSON, not at max_tokens in the middle of it."""
    function = {
        "name": "search_articles",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "maxLength": 200},
                "note": {"type": "string"},
                "short": {"type": "string", "maxLength": 10},
                "article_id": {"type": "string", "pattern": "^[a-z-]+$"},
                "kind": {"type": "string", "enum": ["a", "b"]},
            },
        },
    }
    schema, _ = tool_choice_schema([function], allow_answer=False)
    properties = schema["anyOf"][0]["properties"]["arguments"]["properties"]
    assert properties["query"]["maxLength"] == ARGUMENT_MAX_CHARS
    assert properties["note"]["maxLength"] == ARGUMENT_MAX_CHARS
    assert properties["short"]["maxLength"] == 10
    assert "maxLength" not in properties["article_id"]
    assert "maxLength" not in properties["kind"]
    # The learner's own tool definition is left as it was.
    assert function["parameters"]["properties"]["query"]["maxLength"] == 200
    assert "maxLength" not in function["parameters"]["properties"]["note"]
