"""``course serve``: the class server in front of the real SmolLM2 model.

One class server (with its own llama.cpp, started the way ``course serve`` starts it) serves
the module; learners are played by the ``openai`` SDK and by raw HTTP where headers matter.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx2
import openai
import pytest
from pydantic import BaseModel, Field

from enterprise_ai.errors import CourseError, PortInUseError
from enterprise_ai.serve import (
    ApiKeyRequiredError,
    ClassroomServer,
    is_loopback_host,
    serve,
    start_server,
)

KEY = "class-key-0123456789"
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
        },
    },
}


class Ticket(BaseModel):
    title: str = Field(max_length=40)
    priority: int = Field(ge=1, le=5)


@pytest.fixture(scope="module")
def classroom() -> Iterator[ClassroomServer]:
    server = start_server(port=0, api_key=KEY, parallel=2)
    yield server
    server.shutdown()


@pytest.fixture
def learner(classroom: ClassroomServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=classroom.url, api_key=KEY, max_retries=0)


# --- refusing to start ----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.20", "trainer-laptop"])
def test_off_loopback_without_key_is_refused_with_the_fix(host: str) -> None:
    with pytest.raises(ApiKeyRequiredError, match="pass --api-key") as caught:
        start_server(host=host, port=0, upstream_base_url="http://127.0.0.1:9")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CourseError)
    assert "\n" not in str(caught.value)


def test_loopback_detection() -> None:
    assert all(is_loopback_host(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"))
    assert not any(is_loopback_host(h) for h in ("0.0.0.0", "::", "", "10.0.0.1", "example.org"))


def test_busy_port_names_the_port_and_the_fix() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortInUseError, match=f"Port {port} .* --port {port + 1}"):
            start_server(port=port, upstream_base_url="http://127.0.0.1:9")


# --- authentication -------------------------------------------------------------------------


def test_requests_without_the_key_get_401_json(classroom: ClassroomServer) -> None:
    reply = httpx2.post(f"{classroom.url}/chat/completions", json={"messages": []})
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "invalid_api_key"
    wrong = openai.OpenAI(base_url=classroom.url, api_key="guess", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="OPENAI_API_KEY"):
        wrong.models.list()


def test_health_needs_no_key(classroom: ClassroomServer) -> None:
    assert httpx2.get(classroom.url.removesuffix("/v1") + "/health").status_code == 200


def test_learner_with_the_key_gets_answers(learner: openai.OpenAI) -> None:
    assert learner.models.list().data
    completion = learner.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Say hello"}],
        max_tokens=10,
        temperature=0,
    )
    assert completion.choices[0].message.content
    assert completion.usage.completion_tokens > 0


# --- the adapter applies through the proxy --------------------------------------------------


def test_tool_calls_work_through_the_proxy(learner: openai.OpenAI) -> None:
    completion = learner.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "What's the weather in Berlin?"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
        max_tokens=40,
        temperature=0,
    )
    (call,) = completion.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)


def test_responses_parse_works_through_the_proxy(learner: openai.OpenAI) -> None:
    response = learner.responses.parse(
        model=MODEL,
        input="Printer broken, priority 2",
        text_format=Ticket,
        max_output_tokens=150,
        temperature=0,
        extra_body={"seed": 7},
    )
    assert isinstance(response.output_parsed, Ticket)


def test_sse_streams_through_in_chunks(classroom: ClassroomServer) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Tell me about Berlin."}],
        "max_tokens": 12,
        "temperature": 0,
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx2.stream(
        "POST", f"{classroom.url}/chat/completions", json=body, headers=headers, timeout=60
    ) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        assert reply.headers["transfer-encoding"] == "chunked"
        events = [line for line in reply.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    deltas = [json.loads(e[6:])["choices"][0]["delta"] for e in events[:-1]]
    assert sum(1 for d in deltas if d.get("content")) > 1  # token by token, not one blob


def test_sdk_streaming_through_the_proxy(learner: openai.OpenAI) -> None:
    stream = learner.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Say hello"}],
        max_tokens=8,
        temperature=0,
        stream=True,
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip()


# --- serve(): banner, ready callback, shutdown ----------------------------------------------


def test_serve_prints_the_url_masks_the_key_and_stops(
    classroom: ClassroomServer, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[ClassroomServer] = []
    ready = threading.Event()

    def on_ready(server: ClassroomServer) -> None:
        started.append(server)
        ready.set()

    thread = threading.Thread(
        target=serve,
        kwargs={
            "port": 0,
            "api_key": KEY,
            "ready": on_ready,
            "upstream_base_url": classroom.upstream_base_url,
        },
    )
    thread.start()
    assert ready.wait(30)
    server = started[0]
    reply = httpx2.get(f"{server.url}/models", headers={"Authorization": f"Bearer {KEY}"})
    assert reply.status_code == 200
    server.shutdown()
    thread.join(10)
    assert not thread.is_alive()
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{server.url}/models")
    printed = capsys.readouterr().out
    assert f"OPENAI_BASE_URL={server.url}" in printed
    assert KEY not in printed and "cla…6789" in printed
