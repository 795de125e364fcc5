"""``course serve``: the class server in front of the real SmolLM2 model.

One class server (with its own llama.cpp, started the way ``course serve`` starts it) serves
the module; learners are played by the ``openai`` SDK and by raw HTTP where headers matter.
Hostile clients (no key, huge or broken bodies, slow or greedy connections) are played by raw
sockets; a second address on loopback (127.0.0.2) plays another laptop in the room.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import openai
import pytest
from pydantic import BaseModel, Field

from enterprise_ai import serve as serve_module
from enterprise_ai.errors import CourseError, PortInUseError
from enterprise_ai.fair_share import FairShare
from enterprise_ai.serve import (
    ApiKeyRequiredError,
    ClassroomServer,
    is_loopback_host,
    serve,
    start_server,
)

KEY = "class-key-0123456789"
MODEL = "SmolLM2-135M-Instruct"
AUTH = {"Authorization": f"Bearer {KEY}"}
AUTH_LINES = (f"Authorization: Bearer {KEY}",)
GOOD = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 5}
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
    # One test client sends many requests in a row here; the rate limit has its own test.
    server = start_server(port=0, api_key=KEY, parallel=2, learner_burst=1000)
    yield server
    server.shutdown()


@pytest.fixture
def learner(classroom: ClassroomServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=classroom.url, api_key=KEY, max_retries=0)


def _raw(server: ClassroomServer, request: bytes, *, source: str = "127.0.0.1") -> bytes:
    """Send raw bytes and read one answer (head and content-length body).

    A server that never answers fails the test with a socket timeout.
    """
    address = (str(server.host), int(server.port))
    with socket.create_connection(address, timeout=20, source_address=(source, 0)) as sock:
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply and (chunk := sock.recv(65536)):
            reply += chunk
        head = reply.partition(b"\r\n\r\n")[0].lower()
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(reply.partition(b"\r\n\r\n")[2]) < length and (chunk := sock.recv(65536)):
            reply += chunk
    return reply


def _head(path: str, *lines: str, method: str = "POST") -> bytes:
    text = f"{method} {path} HTTP/1.1\r\nHost: class\r\n"
    return (text + "".join(f"{line}\r\n" for line in lines) + "\r\n").encode()


def _status_and_error(reply: bytes) -> tuple[int, dict]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)["error"]


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


# --- hostile clients ------------------------------------------------------------------------


def test_the_key_is_checked_before_a_byte_of_the_body_is_read(classroom: ClassroomServer) -> None:
    # 1 GB announced, nothing sent: the old server waited for the body; this one answers at once.
    reply = _raw(classroom, _head("/v1/chat/completions", "Content-Length: 1000000000"))
    status, error = _status_and_error(reply)
    assert (
        status == 401
        and error["code"] == "invalid_api_key"
        and "OPENAI_API_KEY" in error["message"]
    )
    assert error["type"] == "invalid_request_error" and "param" in error


def test_an_oversized_body_is_refused_before_and_while_it_is_read(
    classroom: ClassroomServer,
) -> None:
    key, json_type = f"Authorization: Bearer {KEY}", "Content-Type: application/json"
    announced = _head("/v1/chat/completions", key, json_type, "Content-Length: 2000000")
    status, error = _status_and_error(_raw(classroom, announced))
    assert status == 413 and "1,000,000 bytes" in error["message"]
    chunked = _head("/v1/chat/completions", key, json_type, "Transfer-Encoding: chunked")
    piece = b"x" * 100_000
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(11))
    status, error = _status_and_error(_raw(classroom, chunked + chunks + b"0\r\n\r\n"))
    assert status == 413 and error["code"] == "request_too_large"


@pytest.mark.parametrize("path", ["/slots", "/props", "/metrics", "/v1/embeddings", "/completion"])
def test_llama_cpp_s_own_endpoints_are_not_reachable(classroom: ClassroomServer, path: str) -> None:
    for method in ("GET", "POST"):
        reply = httpx2.request(method, classroom.url.removesuffix("/v1") + path, headers=AUTH)
        assert reply.status_code == 404, (method, path)
        assert (
            "/v1/chat/completions, /v1/responses and /v1/models" in reply.json()["error"]["message"]
        )
    assert httpx2.delete(f"{classroom.url}/models", headers=AUTH).status_code == 405


@pytest.mark.parametrize(
    ("content_type", "body", "status", "code", "fix"),
    [
        ("application/json", b"{'model': 1", 400, "invalid_json", "not valid JSON"),
        ("application/json", b"[1, 2]", 400, "invalid_json", "not an object"),
        ("application/json", b"\xff\xfe\x00{}", 400, "invalid_encoding", "encoded as UTF-8"),
        (
            "text/plain",
            json.dumps(GOOD).encode(),
            415,
            "unsupported_media_type",
            "application/json",
        ),
        ("", json.dumps(GOOD).encode(), 415, "unsupported_media_type", "application/json"),
        (
            "application/json",
            json.dumps({**GOOD, "model": "gpt-4.1"}).encode(),
            404,
            "model_not_found",
            f"it serves {MODEL}",
        ),
        ("application/json", json.dumps({"messages": []}).encode(), 400, "missing_model", MODEL),
        (
            "application/json",
            json.dumps({**GOOD, "max_tokens": 10**9}).encode(),
            400,
            "invalid_value",
            "e.g. max_tokens=200",
        ),
        (
            "application/json",
            json.dumps({**GOOD, "max_tokens": -1}).encode(),
            400,
            "invalid_value",
            "at least 1",
        ),
        (
            "application/json",
            json.dumps({**GOOD, "max_tokens": "lots"}).encode(),
            400,
            "invalid_value",
            "whole number",
        ),
        ("application/json", b"[" * 100_000, 400, "invalid_json", "JSON"),
        # llama.cpp's own options: more tokens than max_tokens allows, a chosen slot
        (
            "application/json",
            json.dumps({**GOOD, "max_tokens": 20, "n_predict": 3000}).encode(),
            400,
            "unknown_parameter",
            "Unrecognized request argument supplied: n_predict",
        ),
        (
            "application/json",
            json.dumps({**GOOD, "id_slot": 0}).encode(),
            400,
            "unknown_parameter",
            "COURSE_BACKEND=local",
        ),
        (
            "application/json",
            json.dumps({**GOOD, "n": 3}).encode(),
            400,
            "invalid_value",
            "3 times",
        ),
        (
            "application/json",
            json.dumps(GOOD).encode()[:-1] + b', "temperature": NaN}',
            400,
            "invalid_json",
            "NaN, which is not a JSON value",
        ),
        (
            "application/json",
            json.dumps({**GOOD, "metadata": json.loads("[" * 100 + "]" * 100)}).encode(),
            400,
            "nesting_too_deep",
            "Flatten",
        ),
    ],
)
def test_bad_input_gets_an_openai_error_that_names_the_fix(
    classroom: ClassroomServer,
    learner: openai.OpenAI,
    content_type: str,
    body: bytes,
    status: int,
    code: str,
    fix: str,
) -> None:
    headers = {**AUTH, "Content-Type": content_type}
    reply = httpx2.post(f"{classroom.url}/chat/completions", headers=headers, content=body)
    assert reply.status_code == status
    error = reply.json()["error"]
    assert (error["code"], error["type"]) == (code, "invalid_request_error")
    assert fix in error["message"]
    assert reply.headers["x-should-retry"] == "false"
    assert learner.models.list().data  # and the server goes on serving


def test_the_sdk_raises_the_matching_error_for_bad_requests(learner: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="at most 4096 tokens"):
        learner.chat.completions.create(**{**GOOD, "max_tokens": 100_000})
    with pytest.raises(openai.NotFoundError, match="does not exist on this class server"):
        learner.responses.create(model="gpt-4.1-mini", input="Hi")


def test_one_learner_over_the_rate_waits_and_the_others_are_served(
    classroom: ClassroomServer,
) -> None:
    server = start_server(
        port=0,
        api_key=KEY,
        upstream_base_url=classroom.upstream_base_url,
        learner_requests_per_s=4,
        learner_burst=2,
    )
    try:
        models = f"{server.url}/models"
        assert [httpx2.get(models, headers=AUTH).status_code for _ in range(2)] == [200, 200]
        refused = httpx2.get(models, headers=AUTH)
        assert (
            refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
        )
        assert (
            refused.headers["retry-after"] == "1"
            and 0 < int(refused.headers["retry-after-ms"]) <= 250
        )
        assert "so the others in the room get answers too" in refused.json()["error"]["message"]
        other_laptop = httpx2.Client(transport=httpx2.HTTPTransport(local_address="127.0.0.2"))
        with other_laptop:
            assert other_laptop.get(models, headers=AUTH).status_code == 200
        patient = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=2)
        assert patient.models.list().data  # the SDK waits retry-after-ms and asks again
    finally:
        server.shutdown()


def test_the_token_bucket_refills_at_the_rate() -> None:
    learner = serve_module._Learner(tokens=2.0, updated=0.0)
    assert [learner.take(0.0, rate=2.0, burst=2) for _ in range(2)] == [0.0, 0.0]
    assert learner.take(0.0, rate=2.0, burst=2) == pytest.approx(0.5)  # one token per 0.5 s
    assert learner.take(0.5, rate=2.0, burst=2) == 0.0
    assert learner.take(100.0, rate=2.0, burst=2) == 0.0  # refills to the burst, not beyond
    assert learner.take(100.0, rate=2.0, burst=2) == 0.0
    assert learner.take(100.0, rate=2.0, burst=2) > 0


def test_learners_are_told_apart_by_a_valid_key_and_address_only() -> None:
    from starlette.requests import Request

    proxy = serve_module._Proxy(api_key=KEY, upstream_base_url="http://x", models=frozenset())

    def request(authorization: str, address: str) -> Request:
        headers = [(b"authorization", authorization.encode())]
        return Request({"type": "http", "headers": headers, "client": (address, 1)})

    for guess in ("Bearer a", "Bearer b", "Bearer c"):  # made-up headers make no new learners
        proxy.learner(request(guess, "10.0.0.5"), authorized=False)
    assert list(proxy.learners) == [("", "10.0.0.5")]
    proxy.learner(request(f"Bearer {KEY}", "10.0.0.5"), authorized=True)
    assert len(proxy.learners) == 2
    proxy._forget_idle(now=10**9)  # full again and nothing running: forgotten
    assert proxy.learners == {}


def test_a_slow_loris_is_disconnected_while_the_others_are_served(
    classroom: ClassroomServer, learner: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_module, "HEADER_TIMEOUT_S", 0.5)
    address = (str(classroom.host), int(classroom.port))
    with socket.create_connection(address, timeout=20) as slow:
        slow.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: cl")  # and then nothing
        assert learner.models.list().data  # meanwhile, everyone else is served
        assert slow.recv(1024) == b""  # the server hung up on the unfinished headers


def test_oversized_or_malformed_headers_get_openai_shaped_errors(
    classroom: ClassroomServer,
) -> None:
    reply = _raw(classroom, _head("/v1/models", f"X-Padding: {'a' * 20_000}", method="GET"))
    status, error = _status_and_error(reply)
    assert status == 431 and error["code"] == "headers_too_large"
    status, error = _status_and_error(_raw(classroom, b"NOT HTTP AT ALL\r\n\r\n"))
    assert status == 400 and error["code"] == "bad_request_headers"


def test_connections_per_address_are_capped(
    classroom: ClassroomServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_module, "MAX_CONNECTIONS_PER_CLIENT", 2)
    address = (str(classroom.host), int(classroom.port))
    held = [socket.create_connection(address, timeout=20) for _ in range(2)]
    try:
        with socket.create_connection(address, timeout=20) as third:
            assert third.recv(1024) == b""  # closed at once
        reply = _raw(classroom, _head("/v1/models", *AUTH_LINES, method="GET"), source="127.0.0.2")
        assert reply.startswith(b"HTTP/1.1 200")  # another laptop is not affected
    finally:
        for sock in held:
            sock.close()


def test_the_log_shows_method_path_status_and_size_never_keys_or_bodies(
    classroom: ClassroomServer, capfd: pytest.CaptureFixture[str]
) -> None:
    secret = "IBAN DE89370400440532013000"
    body = {**GOOD, "messages": [{"role": "user", "content": secret}]}
    httpx2.post(f"{classroom.url}/chat/completions", headers=AUTH, json=body, timeout=120)
    broken = {**AUTH, "Content-Type": "application/json"}
    httpx2.post(f"{classroom.url}/chat/completions?key={KEY}", headers=broken, content=b"{oops")
    httpx2.get(f"{classroom.url}/models", headers={"Authorization": "Bearer wrong-guess"})
    # The server writes its log line after the reply has gone out: on a busy machine the last
    # line can arrive a moment after the client has its answer, so read until all three are in.
    logged, lines = "", []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        logged += capfd.readouterr().err
        lines = [line for line in logged.splitlines() if line.startswith(("GET ", "POST "))]
        if lines and lines[-1].startswith("GET /v1/models 401 "):
            break
        time.sleep(0.1)
    assert len(lines) >= 3, logged
    assert lines[-3:][0].startswith("POST /v1/chat/completions 200 ")
    assert lines[-3:][1].startswith("POST /v1/chat/completions 400 ")
    assert lines[-3:][2].startswith("GET /v1/models 401 ")
    assert all(len(line.split()) == 4 and line.split()[3].isdigit() for line in lines[-3:])
    assert secret not in logged and KEY not in logged and "wrong-guess" not in logged


class _HeldUpstream(ThreadingHTTPServer):
    """A stand-in for llama.cpp that holds every chat request until ``release`` is set."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _HeldHandler)
        self.release = threading.Event()
        self.arrived = threading.Semaphore(0)
        self.asked: list[str] = []  # the user message of every chat request that got here
        self.bodies: list[bytes] = []  # and the body as it arrived
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def wait_for_arrival(self) -> bool:
        return self.arrived.acquire(timeout=30)


class _HeldHandler(BaseHTTPRequestHandler):
    server: _HeldUpstream

    def do_GET(self) -> None:
        self._json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        self.server.bodies.append(raw)
        self.server.asked.append(body["messages"][-1]["content"])
        self.server.arrived.release()
        self.server.release.wait(30)
        message = {"role": "assistant", "content": "ok"}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        self._json(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 0,
                "model": MODEL,
                "choices": [choice],
            }
        )

    def _json(self, body: dict) -> None:
        content = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, *args: object) -> None:
        pass


def test_the_model_gets_the_body_that_was_checked_not_the_raw_bytes() -> None:
    # Two parsers may read one body differently (here: a key sent twice). The proxy checks
    # Python's reading and sends that reading on, so llama.cpp cannot see something else.
    upstream = _HeldUpstream()
    upstream.release.set()
    server = start_server(port=0, api_key=KEY, upstream_base_url=upstream.url)
    first = json.dumps({"model": MODEL, "max_tokens": 4000, "messages": []})[:-1]
    raw = first + ', "max_tokens": 20, "messages": [{"role": "user", "content": "Hi"}]}'
    try:
        headers = {**AUTH, "Content-Type": "application/json"}
        reply = httpx2.post(f"{server.url}/chat/completions", headers=headers, content=raw)
        assert reply.status_code == 200
        [arrived] = upstream.bodies
        assert arrived.count(b'"max_tokens"') == 1
        assert json.loads(arrived)["max_tokens"] == 20
    finally:
        server.shutdown()
        upstream.shutdown()


def test_one_learner_holds_at_most_one_model_slot_while_others_get_through() -> None:
    upstream = _HeldUpstream()
    server = start_server(port=0, api_key=KEY, upstream_base_url=upstream.url)

    def ask(source: str) -> object:
        http = httpx2.Client(transport=httpx2.HTTPTransport(local_address=source))
        client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, http_client=http)
        question = [{"role": "user", "content": source}]
        return client.chat.completions.create(**{**GOOD, "messages": question})

    try:
        with ThreadPoolExecutor(4) as pool:
            mine = [pool.submit(ask, "127.0.0.1") for _ in range(3)]
            assert upstream.wait_for_arrival()
            other = pool.submit(ask, "127.0.0.2")
            while "127.0.0.2" not in upstream.asked:  # another laptop is not queued behind me
                assert upstream.wait_for_arrival()
            assert upstream.asked.count("127.0.0.1") == 1  # my others wait at the class server
            upstream.release.set()
            assert all(future.result(timeout=30).choices for future in [*mine, other])
            assert upstream.asked.count("127.0.0.1") == 3
    finally:
        upstream.release.set()
        server.shutdown()
        upstream.shutdown()


def test_a_loops_running_request_is_stopped_for_another_learner_and_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # busy_seconds=0: any model time at all makes a learner busy, so one request sets it up.
    monkeypatch.setattr(serve_module, "FairShare", lambda slots: FairShare(slots, busy_seconds=0))
    upstream = _HeldUpstream()
    server = start_server(port=0, api_key=KEY, upstream_base_url=upstream.url)

    def ask(source: str, text: str) -> str:
        http = httpx2.Client(transport=httpx2.HTTPTransport(local_address=source))
        client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, http_client=http)
        question = [{"role": "user", "content": text}]
        reply = client.chat.completions.create(**{**GOOD, "messages": question})
        return str(reply.choices[0].message.content)

    try:
        upstream.release.set()
        assert ask("127.0.0.1", "warm-up") == "ok"  # the loop's first item: now it is busy
        upstream.release.clear()
        with ThreadPoolExecutor(2) as pool:
            loop = pool.submit(ask, "127.0.0.1", "next item")
            assert upstream.wait_for_arrival() and upstream.wait_for_arrival()
            person = pool.submit(ask, "127.0.0.2", "a question")
            assert upstream.wait_for_arrival()  # the person's question is passed on at once
            upstream.release.set()
            assert person.result(timeout=30) == "ok" and loop.result(timeout=30) == "ok"
        # The loop's item reached the model twice: stopped for the person, then sent again.
        assert upstream.asked == ["warm-up", "next item", "a question", "next item"]
    finally:
        upstream.release.set()
        server.shutdown()
        upstream.shutdown()


def test_a_request_that_waits_too_long_for_its_turn_gets_a_503_that_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(serve_module, "QUEUE_TIMEOUT_S", 0.5)
    upstream = _HeldUpstream()
    server = start_server(port=0, api_key=KEY, upstream_base_url=upstream.url)
    client = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(client.chat.completions.create, **GOOD)
            assert upstream.wait_for_arrival()  # the first holds this learner's one turn
            with pytest.raises(openai.InternalServerError, match="waited 0.5 s for its turn"):
                client.chat.completions.create(**GOOD)
            upstream.release.set()
            assert first.result(timeout=30).choices
        assert len(upstream.asked) == 1  # the one that gave up never reached the model
    finally:
        upstream.release.set()
        server.shutdown()
        upstream.shutdown()


def test_a_busy_learners_stream_is_cut_with_a_message_when_another_learner_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # busy_seconds=0: any model time at all makes a learner busy, so one request sets it up.
    monkeypatch.setattr(serve_module, "FairShare", lambda slots: FairShare(slots, busy_seconds=0))
    server = start_server(port=0, api_key=KEY, parallel=2)

    def laptop(source: str) -> openai.OpenAI:
        http = httpx2.Client(transport=httpx2.HTTPTransport(local_address=source))
        return openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, http_client=http)

    loop, person = laptop("127.0.0.1"), laptop("127.0.0.2")
    try:
        loop.chat.completions.create(**GOOD)  # some model time: this learner is busy now
        stream = loop.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a long story about bicycles."}],
            max_tokens=2000,
            stream=True,
            # Long enough to be running when the person asks: the end tokens (<|endoftext|>,
            # <|im_end|>) are banned, the OpenAI API's way to what llama.cpp calls ignore_eos.
            logit_bias={"0": -100, "2": -100},
        )
        chunks = 0
        answers = []
        with pytest.raises(openai.APIError, match="cut this answer short"):
            for _chunk in stream:
                chunks += 1
                if chunks == 3:  # the loop's stream is running: now someone else asks
                    answers.append(person.chat.completions.create(**GOOD))
        assert answers and answers[0].choices[0].message.content
        assert 3 <= chunks < 2000
    finally:
        server.shutdown()
