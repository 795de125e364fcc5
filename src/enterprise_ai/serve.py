"""``course serve``: one OpenAI-compatible endpoint on the trainer's machine for the whole class.

Laptops that cannot run the model, or a class that should all see the same answers, point the
course at the trainer instead (``COURSE_BACKEND=compatible`` with ``OPENAI_BASE_URL``). The
trainer's machine starts llama.cpp with several request slots and puts a small proxy in front
of it: a Starlette app served by uvicorn, on the room's network. The proxy

- forwards only what the course uses: ``POST /v1/chat/completions``, ``POST /v1/responses``,
  ``GET /v1/models``, and ``GET /health`` (no key needed, for a browser check). Everything else,
  llama.cpp's own ``/slots``, ``/props`` or ``/metrics`` included, is 404;
- checks ``Authorization: Bearer <api_key>`` from the headers alone, before it reads one byte
  of the body, and refuses to listen beyond this machine without a key: a model server open to
  a whole network is someone else's free compute;
- keeps one learner from starving the room. A learner is a key plus the address it comes from
  (each laptop in the room has its own). Each has a token bucket of requests (beyond it: 429
  with ``Retry-After``, which the ``openai`` SDK waits out and retries by itself) and at most
  :data:`LEARNER_IN_FLIGHT` model requests running, the rest waiting their turn. Which request
  the model writes next is decided by :class:`~enterprise_ai.fair_share.FairShare`: a person's
  question before a loop's next item, and a loop's running request is stopped and sent again
  later when someone else asks (on a CPU, answers written at once share the cores); a loop's
  stream, which cannot be sent again, is cut with an error event that says why. Among people,
  a short question goes first and is written alone (its size from
  :func:`~enterprise_ai.request_rules.expected_tokens`);
- bounds what a client can hold: :data:`MAX_BODY_BYTES` per body (413), request headers of
  at most 16 KB that must arrive within :data:`HEADER_TIMEOUT_S`, a body within
  :data:`BODY_TIMEOUT_S`, :data:`MAX_CONNECTIONS_PER_CLIENT` connections per address, and a
  client that stops reading an answer for :data:`WRITE_TIMEOUT_S` is dropped. uvicorn serves
  every connection on one event loop, so a slow client costs a little memory, not a thread;
- refuses bad input with a 4xx in the OpenAI error shape, whose message names the fix: wrong
  content type, a body that is not UTF-8 or not JSON, an unknown model, an absurd
  ``max_tokens``, and anything the OpenAI API itself would not accept, llama.cpp's own options
  such as ``n_predict`` or ``grammar`` included (:mod:`enterprise_ai.request_rules`). What goes
  to the model is the body as checked, written out again, never the learner's raw bytes;
- applies the same translation as :mod:`enterprise_ai.adapter`, so learners get tool calls and
  ``responses.parse`` exactly as with the offline backend, and streams answers (SSE) through
  chunk by chunk;
- logs one line per request: method, path, status and size. Never a header, a key or a body.

Introduced in book/setup.md ("A class server").
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import math
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

from enterprise_ai.adapter import AsyncLocalAdapterTransport
from enterprise_ai.config import is_loopback_host, mask_secret
from enterprise_ai.errors import CourseError, PortInUseError
from enterprise_ai.fair_share import FairShare
from enterprise_ai.request_rules import RequestRefused, check_request, expected_tokens

__all__ = ["ApiKeyRequiredError", "ClassroomServer", "is_loopback_host", "serve", "start_server"]

#: Largest request body accepted. A course request is a few KB; an agent's whole conversation
#: stays far below this, and the model could not read more (4096 tokens per slot) anyway.
MAX_BODY_BYTES = 1_000_000
#: Request headers larger than this are refused by the HTTP parser (h11) itself.
MAX_HEADER_BYTES = 16 * 1024
#: A request line and headers (a few hundred bytes) must arrive within this many seconds,
#: also on a kept-alive connection: a client trickling bytes (slow loris) is disconnected.
HEADER_TIMEOUT_S = 10.0
#: The whole body must arrive within this many seconds (1 MB at 33 KB/s).
BODY_TIMEOUT_S = 30.0
#: A client that does not take a piece of the answer for this long is dropped.
WRITE_TIMEOUT_S = 30.0
#: Open connections per client address; an SDK uses a handful, a greedy client hundreds.
MAX_CONNECTIONS_PER_CLIENT = 64
#: How much lower the proxy thread's CPU priority is than llama.cpp's (Linux ``nice`` steps).
#: The model is what the room waits for: refusing an attacker's thousands of requests must
#: not take CPU from it. Measured: the proxy answering four attackers used about a fifth of
#: a core (benchmarks/classroom_load.py --hostile).
PROXY_NICENESS = 5
#: Requests per second a learner may send on average, and the burst allowed at once. A lesson
#: sends about one a minute; an evaluation loop one every second or two.
LEARNER_REQUESTS_PER_S = 2.0
LEARNER_BURST = 30
#: Model requests of one learner running at once; more wait for their turn (at most
#: :data:`QUEUE_TIMEOUT_S`). So a learner's loop holds at most one of llama.cpp's slots: on a
#: laptop's CPU the slots share the same cores, so every extra answer being written slows all
#: the others down. Measured with two at a time, an 8-thread flood got more answers than 30
#: learners together (benchmarks/classroom_load.py --hostile).
LEARNER_IN_FLIGHT = 1
QUEUE_TIMEOUT_S = 300.0

_MAX_LEARNERS_KEPT = 10_000  # beyond this many (addresses), idle allowances are forgotten
_UNAUTHENTICATED_PATHS = {"/health"}  # lets a trainer check the server from a browser
_UPSTREAM_TIMEOUT = httpx2.Timeout(600.0, connect=5.0)  # a busy class queues for minutes
_PASSED_BACK_HEADERS = ("content-type", "x-should-retry", "retry-after")


class ApiKeyRequiredError(CourseError, ValueError):
    """``course serve`` was asked to listen beyond this machine without an API key."""


def _learner_base_url(host: str, port: int) -> str:
    """The OPENAI_BASE_URL learners use: a wildcard bind is reached by this machine's name."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/v1"


# --------------------------------------------------------------------------------------------
# Answers in the OpenAI error shape
# --------------------------------------------------------------------------------------------


def _error(
    status: int,
    message: str,
    *,
    code: str,
    error_type: str = "invalid_request_error",
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error as the OpenAI API sends it, so the SDK raises the matching exception.

    Args:
        status: The HTTP status.
        message: What happened and the fix; the SDK shows it in the exception.
        code: The machine-readable ``error.code``.
        error_type: The ``error.type``.
        headers: Extra headers (``retry-after``).

    A request refused before its body was read keeps its connection: uvicorn discards the
    body's bytes as they come, so the client can finish sending and read the answer (closing
    at once would reset the connection and lose the answer), and the header deadline closes
    the connection if the discarding takes longer than :data:`HEADER_TIMEOUT_S`.
    """
    extra = dict(headers or {})
    if status != 429 and status < 500:
        extra["x-should-retry"] = "false"  # the same request would fail the same way
    error = {"message": message, "type": error_type, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status, headers=extra)


# --------------------------------------------------------------------------------------------
# Fair share per learner
# --------------------------------------------------------------------------------------------


@dataclass
class _Learner:
    """One learner's allowance: a token bucket of requests and a cap on running ones."""

    tokens: float
    updated: float
    running: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(LEARNER_IN_FLIGHT))
    active: int = 0  # model requests running or waiting for their turn

    def leave(self) -> None:
        """A model request of this learner is over: its turn goes to the next one."""
        self.active -= 1
        self.running.release()

    def take(self, now: float, *, rate: float, burst: int) -> float:
        """Use one request; return 0.0, or the seconds until one is available again."""
        self.tokens = min(float(burst), self.tokens + (now - self.updated) * rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / rate


@dataclass
class _Proxy:
    """What every request handler needs: key, upstream, served models, learners' allowances."""

    api_key: str | None
    upstream_base_url: str
    models: frozenset[str]
    rate: float = LEARNER_REQUESTS_PER_S
    burst: int = LEARNER_BURST
    learners: dict[tuple[str, str], _Learner] = field(default_factory=dict)
    fair: FairShare = field(default_factory=lambda: FairShare(slots=4))
    client: httpx2.AsyncClient | None = None

    def authorized(self, request: Request) -> bool:
        """The request carries the class key (compared in constant time), or needs none."""
        if self.api_key is None or request.url.path in _UNAUTHENTICATED_PATHS:
            return True
        expected = f"Bearer {self.api_key}".encode()
        given = (request.headers.get("authorization") or "").encode()
        return hmac.compare_digest(given, expected)

    def identity(self, request: Request) -> tuple[str, str]:
        """Who sent a request that passed :meth:`authorized`: the key and the address."""
        address = request.client.host if request.client else ""
        return (request.headers.get("authorization", "") if self.api_key else "", address)

    def learner(self, request: Request, *, authorized: bool) -> _Learner:
        """The allowance of the key and address this request comes from.

        Only a key that passed :meth:`authorized` counts; anything else a client sends in the
        header would let it make up new learners at will.
        """
        identity = self.identity(request)
        if not authorized:
            identity = ("", identity[1])
        learner = self.learners.get(identity)
        if learner is None:
            if len(self.learners) >= _MAX_LEARNERS_KEPT:
                self._forget_idle(time.monotonic())
            learner = _Learner(tokens=float(self.burst), updated=time.monotonic())
            self.learners[identity] = learner
        return learner

    def _forget_idle(self, now: float) -> None:
        """Drop allowances that are full again and unused: they hold nothing worth keeping."""
        for identity, learner in list(self.learners.items()):
            refilled = learner.tokens + (now - learner.updated) * self.rate >= self.burst
            if refilled and not learner.active:
                del self.learners[identity]


def _too_many_requests(wait_s: float, rate: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait_s))
    message = (
        f"Too many requests from you: this class server allows {rate:g} per second on average, "
        f"so the others in the room get answers too. Wait {seconds} s and try again (the openai "
        "SDK does this by itself); a loop over many items should wait between calls."
    )
    headers = {"retry-after": str(seconds), "retry-after-ms": str(math.ceil(wait_s * 1000))}
    return _error(429, message, code="rate_limit_exceeded", error_type="requests", headers=headers)


# --------------------------------------------------------------------------------------------
# Reading and checking a request body
# --------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    """A request refused with an OpenAI-style error; carries the response."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


async def _read_body(request: Request) -> bytes:
    """The body, read within :data:`BODY_TIMEOUT_S` and at most :data:`MAX_BODY_BYTES`."""
    announced = request.headers.get("content-length", "")
    too_large = _error(
        413,
        f"The request body is larger than this class server accepts ({MAX_BODY_BYTES:,} bytes). "
        "Send less text: shorten the conversation or the documents you put in the prompt.",
        code="request_too_large",
    )
    if announced.isdigit() and int(announced) > MAX_BODY_BYTES:
        raise _BadRequest(too_large)  # refused before a byte of it is read
    body = bytearray()
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise _BadRequest(too_large)
    except TimeoutError:
        message = (
            f"The request body did not arrive within {BODY_TIMEOUT_S:g} s. Check the network "
            "connection to the class server and send the request again."
        )
        raise _BadRequest(_error(408, message, code="body_timeout")) from None
    return bytes(body)


def _not_json_constant(name: str) -> Any:
    """Python reads NaN and Infinity; JSON (and llama.cpp) does not: refuse them here."""
    message = (
        f"The request body contains {name}, which is not a JSON value. Send a number or null; "
        "in Python, check for float('nan') before sending."
    )
    raise _BadRequest(_error(400, message, code="invalid_json"))


def _parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a 400 that says what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        message = (
            f"The request body is not UTF-8 text (byte {raw[err.start]:#04x} at position "
            f"{err.start}). Send JSON encoded as UTF-8; the openai SDK does this for you."
        )
        raise _BadRequest(_error(400, message, code="invalid_encoding")) from None
    try:
        body = json.loads(text, parse_constant=_not_json_constant)
    except json.JSONDecodeError as err:
        message = (
            f"The request body is not valid JSON ({err.msg} at line {err.lineno}, column "
            f'{err.colno}). Send a JSON object such as {{"model": ..., "messages": [...]}}; '
            "the openai SDK builds it from your keyword arguments."
        )
        raise _BadRequest(_error(400, message, code="invalid_json")) from None
    except (ValueError, RecursionError):  # 5000-digit numbers, nesting beyond the parser
        message = "The request body is JSON the server cannot read (numbers or nesting too large)."
        raise _BadRequest(_error(400, message, code="invalid_json")) from None
    if not isinstance(body, dict):
        message = (
            f"The request body is a JSON {type(body).__name__}, not an object. Send "
            '{"model": ..., "messages": [...]} (chat) or {"model": ..., "input": ...} (responses).'
        )
        raise _BadRequest(_error(400, message, code="invalid_json"))
    return body


# --------------------------------------------------------------------------------------------
# Forwarding
# --------------------------------------------------------------------------------------------


def _headers_back(response: httpx2.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower() in _PASSED_BACK_HEADERS}


class _Once:
    """Calls ``action`` the first time it is called, never again (a turn is freed once)."""

    def __init__(self, action: Callable[[], object]) -> None:
        self._action: Callable[[], object] | None = action

    def __call__(self) -> None:
        action, self._action = self._action, None
        if action is not None:
            action()


#: The last event of a busy learner's stream that was cut for the others (see _UpstreamStream).
#: The openai SDK raises it as an ``APIError`` with this message.
_STREAM_CUT_EVENT = (
    "data: "
    + json.dumps(
        {
            "error": {
                "message": "The class server cut this answer short: it ran long, or your requests "
                "kept the model busy, while others waited. Ask again without streaming (it is "
                "then sent again by itself), ask for fewer tokens, or ask when the room is "
                "quieter.",
                "type": "server_error",
                "code": "stream_cut_for_others",
            }
        }
    )
    + "\n\n"
).encode()


class _UpstreamStream(StreamingResponse):
    """An SSE answer passed on chunk by chunk. However it ends (finished, learner hung up, the
    client too slow, ``stop`` set), the upstream answer is closed, which frees llama.cpp's slot,
    and ``on_end`` runs.

    ``stop`` is set by :class:`~enterprise_ai.fair_share.FairShare` for a busy learner's stream
    (or one that has run for long) when someone else asks: a stream cannot be sent again like a
    plain request, so it ends with an error event that says why.
    """

    def __init__(
        self,
        upstream: httpx2.Response,
        on_end: Callable[[], None],
        stop: asyncio.Event | None = None,
    ) -> None:
        super().__init__(
            self._chunks(upstream, stop),
            status_code=upstream.status_code,
            headers=_headers_back(upstream),
        )
        self._upstream = upstream
        self._on_end = on_end

    @staticmethod
    async def _chunks(
        upstream: httpx2.Response, stop: asyncio.Event | None
    ) -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_bytes():
                yield chunk
                if stop is not None and stop.is_set() and chunk.endswith(b"\n\n"):
                    yield _STREAM_CUT_EVENT  # after a whole event, never inside one
                    return
        except httpx2.HTTPError:
            return  # the model server broke off: the learner sees the stream end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._upstream.aclose()
            self._on_end()


async def _forward(
    proxy: _Proxy,
    method: str,
    path: str,
    body: bytes,
    *,
    on_stream_end: Callable[[], None],
    stop: asyncio.Event | None = None,
) -> Response:
    """Send the request to llama.cpp (through the adapter) and hand the answer back.

    Returns:
        The answer; an :class:`_UpstreamStream` (which calls ``on_stream_end`` when it is over)
        for a stream, else a plain response with the whole body.
    """
    assert proxy.client is not None, "the app's lifespan creates the upstream client"
    headers = {"content-type": "application/json"} if body else {}
    request = proxy.client.build_request(
        method, proxy.upstream_base_url + path, headers=headers, content=body
    )
    try:
        response = await proxy.client.send(request, stream=True)
    except httpx2.TimeoutException:
        message = (
            f"The model did not answer within {_UPSTREAM_TIMEOUT.read:g} s: the class server is "
            "very busy. Try again in a minute; tell your trainer if it keeps happening."
        )
        return _error(504, message, code="upstream_timeout", error_type="server_error")
    except httpx2.HTTPError as err:
        message = (
            f"The model server behind this class server did not answer ({type(err).__name__})."
            " Tell your trainer; restarting `course serve` fixes it."
        )
        return _error(502, message, code="upstream_unavailable", error_type="server_error")
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        return _UpstreamStream(response, on_stream_end, stop)
    try:
        content = await response.aread()
    except httpx2.HTTPError:
        message = (
            "The model server broke off its answer. Try again; tell your trainer if it recurs."
        )
        return _error(502, message, code="upstream_broke_off", error_type="server_error")
    finally:
        await response.aclose()
    return Response(content, status_code=response.status_code, headers=_headers_back(response))


def _proxy_of(request: Request) -> _Proxy:
    return request.app.state.proxy


async def _health(request: Request) -> Response:
    proxy = _proxy_of(request)
    learner = proxy.learner(request, authorized=False)
    wait = learner.take(time.monotonic(), rate=proxy.rate, burst=proxy.burst)
    if wait:
        return _too_many_requests(wait, proxy.rate)
    return await _forward(proxy, "GET", "/health", b"", on_stream_end=lambda: None)


async def _models(request: Request) -> Response:
    proxy = _proxy_of(request)
    refusal = _admission(proxy, request)
    if refusal is not None:
        return refusal
    return await _forward(proxy, "GET", "/v1/models", b"", on_stream_end=lambda: None)


def _admission(proxy: _Proxy, request: Request) -> JSONResponse | None:
    """The key, then the learner's request budget: both from the headers alone."""
    if not proxy.authorized(request):
        message = (
            "Missing or wrong API key for this class server. Set OPENAI_API_KEY to the key your "
            "trainer gave you."
        )
        return _error(401, message, code="invalid_api_key")
    learner = proxy.learner(request, authorized=True)
    wait = learner.take(time.monotonic(), rate=proxy.rate, burst=proxy.burst)
    if wait:
        return _too_many_requests(wait, proxy.rate)
    return None


async def _generate(request: Request) -> Response:
    """``POST /v1/chat/completions`` and ``POST /v1/responses``: check, wait for a turn, forward."""
    proxy = _proxy_of(request)
    refusal = _admission(proxy, request)
    if refusal is not None:
        return refusal
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("application/json"):
        message = (
            f"Content-Type is {content_type or 'missing'!r}; send the body as JSON with "
            "Content-Type: application/json (the openai SDK does this for you)."
        )
        return _error(415, message, code="unsupported_media_type")
    try:
        raw = await _read_body(request)
        body = _parse_json(raw)
        check_request(request.url.path, body, proxy.models)
    except _BadRequest as refused:
        return refused.response
    except RequestRefused as refused:
        return _error(refused.status, refused.message, code=refused.code)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening any more
    # What goes upstream is what was checked: the parsed body written out again, so llama.cpp
    # cannot read the raw bytes differently (duplicate keys, escapes) from the checks above.
    checked = json.dumps(body).encode()
    learner = proxy.learner(request, authorized=True)
    learner.active += 1
    wait_until = asyncio.get_running_loop().time() + QUEUE_TIMEOUT_S
    try:
        async with asyncio.timeout_at(wait_until):
            await learner.running.acquire()
    except BaseException as waited_in_vain:
        learner.active -= 1
        if not isinstance(waited_in_vain, TimeoutError):
            raise
        return _queue_timeout()
    release = _Once(learner.leave)
    streaming = False
    try:
        if body.get("stream") is True:
            # A stream cannot be sent again once it has begun: a busy learner's is cut instead.
            async with asyncio.timeout_at(wait_until):
                turn = await proxy.fair.wait_turn(
                    proxy.identity(request), may_stop=True, tokens=expected_tokens(body)
                )
            end = _Once(lambda: (proxy.fair.finish(turn), release()))
            try:
                response = await _forward(
                    proxy, "POST", request.url.path, checked, on_stream_end=end, stop=turn.stop
                )
                streaming = isinstance(response, _UpstreamStream)  # its turn ends with it
                return response
            finally:
                if not streaming:
                    end()

        async def ask_model() -> Response:
            return await _forward(proxy, "POST", request.url.path, checked, on_stream_end=release)

        return await proxy.fair.run(
            proxy.identity(request), ask_model, wait_until=wait_until, tokens=expected_tokens(body)
        )
    except TimeoutError:
        return _queue_timeout()
    finally:
        if not streaming:
            release()


def _queue_timeout() -> JSONResponse:
    message = (
        f"This request waited {QUEUE_TIMEOUT_S:g} s for its turn: the class server is very busy, "
        "or your earlier requests are still running. Send one request at a time and try again."
    )
    return _error(503, message, code="queue_timeout", error_type="server_error")


async def _http_error(request: Request, exc: Exception) -> Response:
    """404 for any path the course does not use, 405 for a wrong method: OpenAI-shaped."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        message = (
            f"{request.url.path} is not served here. This class server answers "
            "/v1/chat/completions, /v1/responses and /v1/models (and /health)."
        )
        return _error(404, message, code="unknown_url")
    if status == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
        return _error(405, message, code="method_not_allowed")
    return _error(status, "The class server could not handle this request.", code="error")


async def _server_error(request: Request, exc: Exception) -> Response:
    message = "The class server failed on this request. Tell your trainer."
    return _error(500, message, code="internal_error", error_type="server_error")


def build_app(proxy: _Proxy) -> Callable[..., Any]:
    """The ASGI application: routes and error shapes, inside the access log, the write
    deadline and the header limit."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Created on the server's own event loop, closed with it.
        transport = AsyncLocalAdapterTransport()
        proxy.client = httpx2.AsyncClient(
            transport=transport, timeout=_UPSTREAM_TIMEOUT, trust_env=False
        )
        try:
            yield
        finally:
            await proxy.client.aclose()

    app = Starlette(
        routes=[
            Route("/health", _health, methods=["GET"]),
            Route("/v1/models", _models, methods=["GET"]),
            Route("/v1/chat/completions", _generate, methods=["POST"]),
            Route("/v1/responses", _generate, methods=["POST"]),
        ],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
        lifespan=lifespan,
    )
    app.state.proxy = proxy
    return _AccessLog(_WriteDeadline(_HeaderLimit(app)))


# --------------------------------------------------------------------------------------------
# Around the app: what reaches the log, and clients that stop reading
# --------------------------------------------------------------------------------------------


class _AccessLog:
    """One stderr line per request: method, path, status, bytes sent. Nothing a learner wrote
    beyond the path; control characters in the path are escaped so a line stays one line."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, size = 0, 0

        async def counting_send(message: dict[str, Any]) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        except Exception as error:  # noqa: BLE001 - logged by name only: never request data
            sys.stderr.write(f"course serve: internal error ({type(error).__name__})\n")
        finally:
            path = scope["path"][:200].encode("unicode_escape").decode("ascii")
            sys.stderr.write(f"{scope['method']} {path} {status or '-'} {size}\n")


class _HeaderLimit:
    """Refuse requests whose headers exceed :data:`MAX_HEADER_BYTES` in all (431).

    h11 refuses a head that stays incomplete beyond that size; one that arrives in a single
    piece is parsed whole, so the size is checked again here.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = sum(len(name) + len(value) + 4 for name, value in scope["headers"])
            if size > MAX_HEADER_BYTES:
                message = (
                    f"The request headers are {size:,} bytes; this class server accepts "
                    f"{MAX_HEADER_BYTES:,}. Send a normal request, e.g. with the openai SDK."
                )
                response = _error(431, message, code="headers_too_large")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _WriteDeadline:
    """Drop a client that does not take a piece of the answer within :data:`WRITE_TIMEOUT_S`.

    uvicorn waits while the client's receive window is full; without a deadline, a client that
    never reads would keep a stream, and with it a llama.cpp slot, busy for ever.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def send_in_time(message: dict[str, Any]) -> None:
            async with asyncio.timeout(WRITE_TIMEOUT_S):
                await send(message)

        with contextlib.suppress(TimeoutError):  # uvicorn then closes the connection
            await self.app(scope, receive, send_in_time)


# --------------------------------------------------------------------------------------------
# uvicorn's h11 protocol with a header deadline and a connection cap per address
# --------------------------------------------------------------------------------------------


class _GuardedConfig(uvicorn.Config):
    """uvicorn's settings plus the open connections per client address of this server."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_per_address: Counter[str] = Counter()


class _GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 connection handler, plus two guards uvicorn lacks.

    - A request's line and headers must be complete within :data:`HEADER_TIMEOUT_S` after the
      connection opens or the previous answer ends. uvicorn's keep-alive timer restarts on
      every byte, so a client sending one byte every few seconds (slow loris) would otherwise
      keep its connection, and with enough of them all file descriptors, for ever.
    - At most :data:`MAX_CONNECTIONS_PER_CLIENT` connections per client address.
    """

    config: _GuardedConfig

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        self._header_deadline: asyncio.TimerHandle | None = None
        self.config.open_per_address[self._address] += 1
        if self.config.open_per_address[self._address] > MAX_CONNECTIONS_PER_CLIENT:
            transport.close()
            return
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        counts = self.config.open_per_address
        counts[self._address] -= 1
        if counts[self._address] <= 0:
            del counts[self._address]
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request line and headers arrived
            self._disarm_header_deadline()

    def on_response_complete(self) -> None:
        self._arm_header_deadline()  # before super(): a pipelined request disarms it again
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """Malformed or oversized request headers: an OpenAI-shaped 400, then close."""
        message = (
            f"The request's line or headers are malformed or larger than {MAX_HEADER_BYTES:,} "
            "bytes. Send a normal HTTP request, e.g. with the openai SDK."
        )
        error = {"message": message, "type": "invalid_request_error", "param": None}
        body = json.dumps({"error": {**error, "code": "bad_request_headers"}}).encode()
        head = (
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head.encode() + body)
        self.transport.close()
        sys.stderr.write(f"- - 400 {len(body)}\n")

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(HEADER_TIMEOUT_S, self._too_slow)

    def _disarm_header_deadline(self) -> None:
        if getattr(self, "_header_deadline", None) is not None:
            self._header_deadline.cancel()  # type: ignore[union-attr]
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()  # no request in progress: a slow or idle client


# --------------------------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------------------------


class ClassroomServer:
    """A running class server: uvicorn in a background thread and, unless given, llama.cpp.

    Attributes:
        host: The address the proxy is bound to.
        port: The port it listens on (the real one when 0 was asked for).
        url: The ``OPENAI_BASE_URL`` learners set, ending in ``/v1``.
        upstream_base_url: The llama.cpp server the proxy forwards to.
        model_name: The served model, when this server started it.
    """

    def __init__(
        self,
        sock: socket.socket,
        proxy: _Proxy,
        *,
        local_server: object | None,
        model_name: str | None,
    ) -> None:
        self._socket = sock
        self._local_server = local_server
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.host, self.port = sock.getsockname()[:2]
        self.url = _learner_base_url(str(self.host), int(self.port))
        self.upstream_base_url = proxy.upstream_base_url
        self.model_name = model_name
        config = _GuardedConfig(
            build_app(proxy),
            http=_GuardedH11Protocol,
            ws="none",
            lifespan="on",
            loop="asyncio",
            log_level="warning",  # uvicorn's own start-up lines and access log stay quiet
            access_log=False,  # _AccessLog writes the only request lines
            proxy_headers=False,  # the client address is the socket's, never a header's
            server_header=False,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=3,
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(sock,), name="course-serve", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.shutdown()
                raise CourseError("The class server did not start. Run `course doctor`.")
            time.sleep(0.01)

    def _run(self, sock: socket.socket) -> None:
        """The proxy thread: lower its own priority (see :data:`PROXY_NICENESS`), serve."""
        with contextlib.suppress(AttributeError, OSError):  # Linux gives threads their own nice
            thread_id = threading.get_native_id()
            niceness = os.getpriority(os.PRIO_PROCESS, thread_id) + PROXY_NICENESS
            os.setpriority(os.PRIO_PROCESS, thread_id, min(niceness, 19))
        self._uvicorn.run(sockets=[sock])

    def wait(self, timeout: float | None = None) -> bool:
        """Block until :meth:`shutdown` ran (or ``timeout`` passed); True once it has."""
        return self._stopped.wait(timeout)

    def shutdown(self) -> None:
        """Stop accepting requests, close the socket and stop llama.cpp. Safe to call twice."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._uvicorn.should_exit = True
            self._thread.join(timeout=15)
            self._socket.close()
            if self._local_server is not None:
                self._local_server.close()  # type: ignore[attr-defined]
            self._stopped.set()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped.is_set() else "running"
        return f"ClassroomServer({self.url!r}, {state})"


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything slow starts, with errors that name a fix."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart right after Ctrl+C
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
        return sock
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise PortInUseError(
                f"Port {port} on {host} is already in use (another `course serve` or program "
                f"holds it). Fix: stop that program, or pass --port {port + 1}."
            ) from None
        if err.errno == errno.EACCES:
            raise CourseError(
                f"Port {port} needs administrator rights on this machine. Fix: pass a port "
                "above 1023, e.g. --port 8080."
            ) from None
        if err.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME) or isinstance(
            err, socket.gaierror
        ):
            raise CourseError(
                f"{host!r} is not an address of this machine. Fix: pass --host 0.0.0.0 (all "
                "networks of this machine) or the address shown by `ip addr` / `ipconfig`."
            ) from None
        raise


def _served_models(upstream_base_url: str) -> frozenset[str]:
    """The model ids the upstream server lists; empty (no check) if it cannot tell."""
    try:
        reply = httpx2.get(f"{upstream_base_url}/v1/models", timeout=5, trust_env=False)
        return frozenset(m["id"] for m in reply.json().get("data", []) if m.get("id"))
    except (httpx2.HTTPError, ValueError, KeyError, TypeError, AttributeError):
        return frozenset()


def start_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str | None = None,
    parallel: int = 4,
    threads: int | None = None,
    upstream_base_url: str | None = None,
    learner_requests_per_s: float = LEARNER_REQUESTS_PER_S,
    learner_burst: int = LEARNER_BURST,
) -> ClassroomServer:
    """Start the class server in background threads and return its handle at once.

    Args:
        host: Address to bind. Anything but loopback requires ``api_key``.
        port: Port to listen on; 0 picks a free one (tests).
        api_key: Key learners must send as ``Authorization: Bearer <key>``; None: no check.
        parallel: llama.cpp request slots, i.e. learners answered at the same time.
        threads: CPU threads for llama.cpp; default: ``COURSE_THREADS`` or every core (at most
            8), because a class server is the machine's main job
            (:func:`~enterprise_ai.local_server.class_server_threads`).
        upstream_base_url: Forward to this already running llama.cpp server (e.g.
            ``http://127.0.0.1:39813``) instead of starting one.
        learner_requests_per_s: Requests per second one learner (key and address) may send
            on average.
        learner_burst: Requests one learner may send at once before that average applies.

    Returns:
        The running :class:`ClassroomServer`; call ``.shutdown()`` to stop it.

    Raises:
        ApiKeyRequiredError: non-loopback ``host`` without ``api_key``.
        enterprise_ai.errors.PortInUseError: the port is taken.
        enterprise_ai.errors.CourseError: the host or port cannot be bound for another reason.
    """
    if learner_requests_per_s <= 0 or learner_burst < 1:
        raise ValueError(
            f"learner_requests_per_s={learner_requests_per_s} and learner_burst={learner_burst} "
            "must be positive, e.g. 2.0 and 30."
        )
    if not api_key and not is_loopback_host(host):
        raise ApiKeyRequiredError(
            f"Refusing to serve on {host!r} without an API key: anyone on the network could use "
            "this machine's model. Fix: pass --api-key <a secret you share with the class>."
        )
    sock = _bind(host, port)  # bind first: a busy port fails before the model loads
    local_server = None
    model_name = None
    try:
        if upstream_base_url is None:
            from enterprise_ai.local_server import LocalServer, class_server_threads

            local_server = LocalServer(
                n_parallel=parallel, n_threads=threads or class_server_threads()
            )
            upstream_base_url = local_server.base_url
            model_name = local_server.model_name
        upstream_base_url = upstream_base_url.rstrip("/")
        models = frozenset({model_name}) if model_name else _served_models(upstream_base_url)
        proxy = _Proxy(
            api_key=api_key or None,
            upstream_base_url=upstream_base_url,
            models=models,
            rate=learner_requests_per_s,
            burst=learner_burst,
            fair=FairShare(slots=parallel),
        )
        return ClassroomServer(sock, proxy, local_server=local_server, model_name=model_name)
    except BaseException:
        sock.close()
        if local_server is not None:
            local_server.close()
        raise


def banner(server: ClassroomServer, *, api_key: str | None, parallel: int) -> str:
    """The few lines ``course serve`` prints: what learners put in ``.env``. Key shown masked."""
    model = server.model_name or "the model"
    lines = [
        f"course serve: {model} for the class, {parallel} requests at a time.",
        "Learners put these lines in their .env:",
        "  COURSE_BACKEND=compatible",
        f"  OPENAI_BASE_URL={server.url}",
    ]
    if api_key:
        lines.append(f"  OPENAI_API_KEY=<the key you chose: {mask_secret(api_key)}>")
    if server.host in ("", "0.0.0.0", "::"):
        lines.append(f"(If {server.url.split('/')[2]} does not resolve, use this machine's IP.)")
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    api_key: str | None = None,
    parallel: int = 4,
    threads: int | None = None,
    ready: Callable[[ClassroomServer], object] | threading.Event | None = None,
    upstream_base_url: str | None = None,
) -> None:
    """Run the class server until Ctrl+C or ``ClassroomServer.shutdown()``; ``course serve``.

    Args:
        host: Address to bind; non-loopback addresses require ``api_key``.
        port: Port to listen on (0: a free one).
        api_key: Key learners must send; never printed, only shown masked.
        parallel: llama.cpp request slots.
        threads: CPU threads for llama.cpp; default: ``COURSE_THREADS`` or every core (max 8).
        ready: Called with the running :class:`ClassroomServer` once requests are accepted
            (so a test can read ``.url`` and later call ``.shutdown()``); a
            ``threading.Event`` is set instead.
        upstream_base_url: Use this running llama.cpp server instead of starting one.

    Raises:
        ApiKeyRequiredError: non-loopback ``host`` without ``api_key``.
        enterprise_ai.errors.PortInUseError: the port is taken.
    """
    server = start_server(
        host=host,
        port=port,
        api_key=api_key,
        parallel=parallel,
        threads=threads,
        upstream_base_url=upstream_base_url,
    )
    try:
        print(banner(server, api_key=api_key, parallel=parallel), flush=True)
        if isinstance(ready, threading.Event):
            ready.set()
        elif ready is not None:
            ready(server)
        while not server.wait(timeout=0.5):  # short waits keep Ctrl+C responsive
            pass
    finally:
        server.shutdown()
