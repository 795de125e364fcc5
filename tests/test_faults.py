"""Endpoints that misbehave on purpose, and what the course does about each.

A real model server cannot be made slow, rude or broken on demand, so these tests put a small
stub in its place: an OpenAI-compatible HTTP server on loopback that answers from a script
(``FaultyEndpoint``). The course is configured against it exactly as a learner would point it at
Ollama or a class server: ``COURSE_BACKEND=compatible`` and ``OPENAI_BASE_URL``. Everything
between the notebook and the socket is the real thing: ``llm.get_client()``, the ``openai``
SDK with its retries, and the library functions a lesson calls.

What must hold, from the issue: an endpoint that is down, slow, truncated or returns invalid
JSON is reported with the URL and the fix, or ends in a safe fallback; never a crash that
loses the learner's work, and never a key in the message.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import openai
import pytest

from enterprise_ai import errors, llm, support, triage

MODEL = "stub-model"
SECRET = "fake-key-for-the-fault-tests-0123456789"
VALID_TRIAGE = json.dumps(
    {
        "category": "returns",
        "urgency": "normal",
        "language": "en",
        "contains_pii": False,
        "expected_action": "create_return",
        "summary": "Wants to return a bike",
    }
)

Behaviour = Callable[[BaseHTTPRequestHandler], None]


def completion(content: str) -> dict[str, Any]:
    """A minimal, valid Chat Completions body with ``content`` as the assistant's text."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


def answer(content: str) -> Behaviour:
    return lambda h: send(h, 200, json.dumps(completion(content)).encode())


def status(code: int, **headers: str) -> Behaviour:
    body = json.dumps({"error": {"message": f"stub says {code}", "type": "server_error"}})
    return lambda h: send(h, code, body.encode(), **headers)


def slow(seconds: float) -> Behaviour:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        # The client may have given up waiting: that is the point of the test.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            answer(VALID_TRIAGE)(handler)

    return behave


def truncated_body(handler: BaseHTTPRequestHandler) -> None:
    """Promise a long body, send half of it, hang up: a server that crashed mid-answer."""
    body = json.dumps(completion(VALID_TRIAGE)).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()
    handler.close_connection = True


def not_json(handler: BaseHTTPRequestHandler) -> None:
    """Say JSON, send HTML: what a misconfigured proxy in front of the endpoint does."""
    send(handler, 200, b"<html>502 Bad Gateway from a proxy</html>")


def html_page(handler: BaseHTTPRequestHandler) -> None:
    """An HTML login page with status 200: a captive portal or a single-sign-on redirect."""
    body = b"<html><body>Please sign in to the company network</body></html>"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@dataclass
class FaultyEndpoint:
    """An OpenAI-compatible stub on loopback that behaves as scripted, one behaviour per call.

    ``/v1/models`` always answers (so ``get_client()`` accepts the endpoint); each
    ``/v1/chat/completions`` request takes the next behaviour, the last one repeating.
    """

    behaviours: list[Behaviour] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)

    def start(self) -> None:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                models = {"object": "list", "data": [{"id": MODEL, "object": "model"}]}
                send(self, 200, json.dumps(models).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                endpoint.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                endpoint.auth_headers.append(self.headers.get("Authorization", ""))
                index = min(len(endpoint.requests), len(endpoint.behaviours)) - 1
                endpoint.behaviours[index](self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def endpoint(clean_course_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultyEndpoint]:
    """The stub, configured as the learner's ``compatible`` backend with an API key."""
    stub = FaultyEndpoint()
    stub.start()
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    llm._compatible_models.cache_clear()
    yield stub
    stub.stop()
    llm._compatible_models.cache_clear()


def client(*, timeout: float = 5.0, max_retries: int = 0) -> openai.OpenAI:
    """``get_client()`` as a lesson gets it, with a short timeout so a test never waits long."""
    return llm.get_client().with_options(timeout=timeout, max_retries=max_retries)


def classify(**client_options: Any) -> triage.TriageResult:
    return triage.classify(
        "I want to return my bike.", client=client(**client_options), model=llm.default_model()
    )


# --- the endpoint is down -------------------------------------------------------------------


def test_a_down_endpoint_names_the_url_and_the_fix_before_any_call(
    clean_course_env: None, monkeypatch: pytest.MonkeyPatch, closed_loopback_url: str
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", closed_loopback_url)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    llm._compatible_models.cache_clear()
    with pytest.raises(errors.EndpointUnreachableError) as caught:
        llm.get_client()
    message = str(caught.value)
    assert closed_loopback_url in message
    assert "OPENAI_BASE_URL" in message and "course doctor" in message
    assert SECRET not in message


def test_an_endpoint_that_dies_mid_lesson_ends_in_a_fallback_that_names_the_url(
    endpoint: FaultyEndpoint,
) -> None:
    learner = client()
    endpoint.stop()  # the server goes away after the client was made
    result = triage.classify("Where is my order?", client=learner, model=MODEL)
    assert result.fallback and result.category is None
    problem = " ".join(result.problems)
    assert "APIConnectionError" in problem
    cause = None
    try:
        learner.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    except openai.APIConnectionError as err:
        cause = str(err.__cause__)
    assert cause is not None and endpoint.url.removesuffix("/v1") in cause
    assert SECRET not in problem + cause


# --- slow, truncated, not JSON ----------------------------------------------------------------


def test_a_slow_endpoint_times_out_into_the_fallback(endpoint: FaultyEndpoint) -> None:
    endpoint.behaviours = [slow(3.0)]
    result = classify(timeout=0.5)
    assert result.fallback
    assert "APITimeoutError" in " ".join(result.problems)


def test_the_sdk_retries_a_timeout_and_the_second_try_succeeds(endpoint: FaultyEndpoint) -> None:
    endpoint.behaviours = [slow(3.0), answer(VALID_TRIAGE)]
    result = classify(timeout=0.5, max_retries=1)
    assert not result.fallback and result.category == "returns"
    assert len(endpoint.requests) == 2


def test_a_body_cut_off_mid_answer_is_a_failed_call_not_a_crash(endpoint: FaultyEndpoint) -> None:
    endpoint.behaviours = [truncated_body]
    result = classify()
    assert result.fallback
    assert "the call failed" in result.problems[0]


@pytest.mark.parametrize("behaviour", [not_json, html_page], ids=["lying-json", "html-page"])
def test_a_body_that_is_not_json_is_caught(endpoint: FaultyEndpoint, behaviour: Behaviour) -> None:
    endpoint.behaviours = [behaviour]
    result = classify()
    assert result.fallback and result.category is None
    assert result.problems[0].startswith("the call failed")  # the reason, kept for the learner
    if behaviour is html_page:
        assert "OPENAI_BASE_URL" in result.problems[0]  # … and the fix


# --- answers that are not what the schema wants -----------------------------------------------


def test_invalid_model_json_is_retried_once_with_the_error_then_accepted(
    endpoint: FaultyEndpoint,
) -> None:
    endpoint.behaviours = [answer('{"category": "refund"'), answer(VALID_TRIAGE)]
    result = classify()
    assert result.category == "returns" and result.attempts == 2 and not result.fallback
    retry_messages = endpoint.requests[1]["messages"]
    assert retry_messages[-2]["content"] == '{"category": "refund"'  # the model sees its answer
    assert "not valid" in retry_messages[-1]["content"]  # … and what was wrong with it


def test_invalid_model_json_twice_escalates_to_the_safe_fallback(endpoint: FaultyEndpoint) -> None:
    endpoint.behaviours = [answer("Sure! It's a return."), answer('{"category": "returns"}')]
    result = classify()
    assert result.fallback and result.category is None and result.attempts == 2
    assert len(result.problems) == 2
    assert len(endpoint.requests) == 2  # no third try: a person takes over


def test_a_grounded_answer_with_an_invented_source_falls_back_to_a_quote(
    endpoint: FaultyEndpoint,
) -> None:
    endpoint.behaviours = [answer("Returns are free for 365 days [made-up-policy].")]
    reply = support.answer(
        "How many days do I have to return an item?", client=client(), model=MODEL
    )
    assert reply.source == "extractive"
    assert reply.citations == [reply.hits[0].article_id]
    assert "365" not in reply.text


# --- overload: the SDK's retry is the queue -----------------------------------------------------


def test_429_with_retry_after_is_retried_by_the_sdk(endpoint: FaultyEndpoint) -> None:
    endpoint.behaviours = [status(429, retry_after="0"), answer(VALID_TRIAGE)]
    result = classify(max_retries=2)
    assert result.category == "returns"
    assert len(endpoint.requests) == 2


def test_503_that_never_ends_gives_up_after_the_retries_and_falls_back(
    endpoint: FaultyEndpoint,
) -> None:
    endpoint.behaviours = [status(503, retry_after="0")]
    result = classify(max_retries=2)
    assert result.fallback
    assert "InternalServerError" in result.problems[0]
    assert len(endpoint.requests) == 3  # the first try and the SDK's two retries, then it stops
    assert result.attempts == 1  # classify() adds no retry round of its own on a failed call


# --- the key ----------------------------------------------------------------------------------


def test_the_key_goes_in_the_header_and_never_into_results_or_reprs(
    endpoint: FaultyEndpoint,
) -> None:
    endpoint.behaviours = [status(401)]
    learner = client()
    result = triage.classify("Where is my order?", client=learner, model=MODEL)
    assert endpoint.auth_headers == [f"Bearer {SECRET}"]
    shown = " ".join(
        [repr(result), str(result.as_dict()), repr(llm.backend_info()), str(result.problems)]
    )
    assert SECRET not in shown
