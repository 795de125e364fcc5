"""Count the model calls and tokens an application makes, below the SDK, and cap them if asked.

``evals.run`` reports the tokens of every question, and the capstone grader counts each reply's
model calls, tokens and the text that reached the model. Both hand the code under test a
*metered copy* of its client: an ``openai.OpenAI`` whose HTTP transport writes down every
request to ``/chat/completions`` and ``/responses`` and reads the ``usage`` of every answer
(a JSON body or the last events of a stream), then passes it on unchanged.

Measuring at the transport, not by wrapping ``client.chat.completions.create``, means that
everything the SDK offers keeps working and is counted: ``.parse``, streaming, the Responses
API, retries (each attempt is a call), and ``client.with_options(timeout=..., max_retries=...)``,
whose copies share the metered HTTP client. A wrapper object would have to imitate each of
those, and one that returned itself from ``with_options`` silently dropped the timeout.

With :class:`Limits`, the meter also *enforces* a budget per turn (:meth:`UsageMeter.new_turn`):
a call beyond ``max_calls`` or after ``max_tokens`` is answered with HTTP 429 and
``x-should-retry: false`` without reaching the model, and every call's timeout is shortened to
what is left of ``max_seconds``, so a slow model cannot hold the turn longer.

A turn belongs to the thread that started it, so several turns can run at once (the capstone
grader sends a few customer messages at a time through one metered client): each thread's
calls count against its own turn. A thread that never called :meth:`UsageMeter.new_turn`
shares one turn that starts when the meter is made.

Example:
    >>> from enterprise_ai.testing import ScriptedClient
    >>> meter = UsageMeter(ScriptedClient(["Your bike ships tomorrow."]))
    >>> reply = meter.client.chat.completions.create(model="m", messages=[])
    >>> len(meter.calls), meter.completion_tokens
    (1, 5)

Used by :func:`enterprise_ai.evals.run` and :func:`enterprise_ai.capstone.grade`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai

__all__ = ["Limits", "ModelCall", "UsageMeter"]

#: Requests that make the model write: these are counted (and capped); others pass unseen.
_MODEL_PATHS = ("/chat/completions", "/responses")
#: Answers longer than this are passed on but not searched for ``usage`` (none is this long).
_MAX_KEPT_BYTES = 4_000_000
_TIMEOUT_KEYS = ("connect", "read", "write", "pool")


@dataclass
class ModelCall:
    """One request that reached the model.

    Attributes:
        path: The URL path, e.g. ``/v1/chat/completions``.
        sent: What the request gave the model (``messages``, or ``instructions`` and
            ``input``) as JSON text, non-ASCII kept readable, so it can be searched.
        status: The HTTP status of the answer; 0 when none came (timeout, no connection).
        prompt_tokens: Input tokens from the answer's ``usage`` (0 if it had none).
        completion_tokens: Output tokens from the answer's ``usage``.
    """

    path: str
    sent: str
    status: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Limits:
    """What one turn (see :meth:`UsageMeter.new_turn`) may use; ``None``: no cap.

    Attributes:
        max_calls: Model calls per turn; the next one is refused.
        max_tokens: Tokens per turn; once reached, further calls are refused (the call that
            crosses the line has already run: a call cannot be stopped halfway).
        max_seconds: Wall time per turn; each call's timeout is cut to what is left.
    """

    max_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None


def _sent_text(content: bytes) -> str:
    """The part of a request body that carries text to the model, as readable JSON."""
    try:
        body = json.loads(content or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return content.decode("utf-8", errors="replace")
    if not isinstance(body, dict):
        return json.dumps(body, ensure_ascii=False)
    if "messages" in body:
        return json.dumps(body["messages"], ensure_ascii=False, default=str)
    parts = {key: body[key] for key in ("instructions", "input") if body.get(key) is not None}
    return json.dumps(parts, ensure_ascii=False, default=str)


def _usage_of(content: bytes, content_type: str) -> tuple[int, int]:
    """(prompt, completion) tokens from a JSON answer or the final events of a stream."""
    documents: list[Any] = []
    if content_type.startswith("text/event-stream"):
        for line in reversed(content.decode("utf-8", errors="replace").splitlines()):
            if line.startswith("data:") and "usage" in line:
                try:
                    documents.append(json.loads(line[5:]))
                except json.JSONDecodeError:
                    continue
                break
    else:
        try:
            documents.append(json.loads(content))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return 0, 0
    for document in documents:
        if not isinstance(document, dict):
            continue
        usage = document.get("usage") or (document.get("response") or {}).get("usage") or {}
        if usage:
            prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0)) or 0
            completion = usage.get("completion_tokens", usage.get("output_tokens", 0)) or 0
            return int(prompt), int(completion)
    return 0, 0


class _CountingStream(httpx2.SyncByteStream):
    """Passes an answer's bytes on as they come; reads its ``usage`` once it has ended.

    Also enforces the turn's deadline while a stream runs: a per-read timeout alone would let
    a model that sends a token every few seconds run past the budget.
    """

    def __init__(
        self,
        response: httpx2.Response,
        *,
        deadline: float | None,
        on_end: Callable[[bytes], None],
        on_deadline: Callable[[], None],
    ) -> None:
        self._response = response
        self._deadline = deadline
        self._on_end = on_end
        self._on_deadline = on_deadline
        self._kept = bytearray()
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._response.iter_bytes():
            if len(self._kept) < _MAX_KEPT_BYTES:
                self._kept += chunk
            yield chunk
            if self._deadline is not None and time.monotonic() > self._deadline:
                self._on_deadline()
                raise httpx2.ReadTimeout(
                    "The turn's time budget ran out during the answer.",
                    request=self._response.request,
                )
        self._end()

    def close(self) -> None:
        self._response.close()
        self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._on_end(bytes(self._kept))


class _MeteredTransport(httpx2.BaseTransport):
    """Sends every request through the original client's own ``httpx2.Client``, counting."""

    def __init__(self, meter: UsageMeter, inner: httpx2.Client) -> None:
        self._meter = meter
        self._inner = inner

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        counted = request.method == "POST" and request.url.path.endswith(_MODEL_PATHS)
        if not counted:
            return self._passed_on(self._inner.send(request, stream=True), None, None)
        refusal = self._meter._refusal(request)
        if refusal is not None:
            return refusal
        deadline, cut = self._meter._cut_timeout(request)
        call = self._meter._record(request.url.path, _sent_text(request.read()))
        try:
            response = self._inner.send(request, stream=True)
        except httpx2.TimeoutException:
            if cut:
                self._meter._stop("seconds")
            raise
        call.status = response.status_code
        return self._passed_on(response, call, deadline)

    def _passed_on(
        self, response: httpx2.Response, call: ModelCall | None, deadline: float | None
    ) -> httpx2.Response:
        # The body is passed on decoded, so the headers that described the encoded bytes go.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        content_type = response.headers.get("content-type", "")

        def on_end(content: bytes) -> None:
            if call is not None:
                call.prompt_tokens, call.completion_tokens = _usage_of(content, content_type)

        stream = _CountingStream(
            response,
            deadline=deadline,
            on_end=on_end,
            on_deadline=lambda: self._meter._stop("seconds"),
        )
        return httpx2.Response(
            response.status_code, headers=headers, stream=stream, extensions=response.extensions
        )

    def close(self) -> None:
        """Nothing to close: the original client's connections belong to the original client."""


def _http_client_of(client: Any) -> httpx2.Client:
    """The ``httpx2.Client`` inside an ``openai.OpenAI`` client.

    The SDK keeps it in ``_client`` and offers no public accessor; its ``send()`` is public
    ``httpx2`` API, so the meter relies on nothing else private.
    """
    if not isinstance(client, openai.OpenAI):
        raise TypeError(
            f"Counting model calls needs an openai.OpenAI client (or a ScriptedClient); got "
            f"{type(client).__name__}. Fix: pass the client from llm.get_client() or "
            "openai.OpenAI(...)."
        )
    inner = getattr(client, "_client", None)
    if not isinstance(inner, httpx2.Client):
        raise TypeError(
            f"This openai client uses a {type(inner).__name__} for HTTP; counting needs an "
            "httpx2.Client. Fix: create it without http_client=, or with an httpx2.Client."
        )
    return inner


@dataclass
class _Turn:
    """One turn's calls, start time and stop reason (see :meth:`UsageMeter.new_turn`)."""

    started_at: float
    calls: list[ModelCall] = field(default_factory=list)
    stopped_by: str | None = None


class UsageMeter:
    """Counts (and with ``limits`` caps) the model calls made through :attr:`client`.

    Args:
        client: The application's ``openai.OpenAI`` client (or a ``ScriptedClient``). It is
            not changed; :attr:`client` is a copy with the same options.
        limits: Caps per turn; default: count only.

    Attributes:
        client: The metered copy: hand this to the code under test.
        calls: Every :class:`ModelCall` so far, over all turns.
        limits: The caps.
        stopped_by: Why a call of the calling thread's current turn was refused or cut:
            ``"calls"``, ``"tokens"``, ``"seconds"``, or ``None``.

    Raises:
        TypeError: ``client`` is not an ``openai.OpenAI`` client.
    """

    def __init__(self, client: Any, *, limits: Limits | None = None) -> None:
        inner = _http_client_of(client)
        self.limits = limits or Limits()
        self.calls: list[ModelCall] = []
        self._lock = threading.Lock()
        self._shared_turn = _Turn(time.monotonic())
        self._threads = threading.local()
        # trust_env=False: proxies and certificates are the inner client's business, not ours.
        metered_http = httpx2.Client(transport=_MeteredTransport(self, inner), trust_env=False)
        self.client = client.with_options(http_client=metered_http)

    @property
    def prompt_tokens(self) -> int:
        """Input tokens over every call."""
        return sum(call.prompt_tokens for call in self.calls)

    @property
    def completion_tokens(self) -> int:
        """Output tokens over every call."""
        return sum(call.completion_tokens for call in self.calls)

    @property
    def stopped_by(self) -> str | None:
        """Why a call of this thread's current turn was refused or cut (``None``: it was not)."""
        return self._turn().stopped_by

    def new_turn(self) -> None:
        """Start a new turn in this thread (e.g. one reply of an agent): caps and clock restart.

        Other threads' turns are not touched, so replies graded at the same time each keep
        their own budget.
        """
        self._threads.turn = _Turn(time.monotonic())

    def turn_calls(self) -> list[ModelCall]:
        """The calls of this thread's current turn."""
        with self._lock:
            return list(self._turn().calls)

    def _turn(self) -> _Turn:
        turn: _Turn | None = getattr(self._threads, "turn", None)
        return self._shared_turn if turn is None else turn

    # --- used by the transport ----------------------------------------------------------------

    def _record(self, path: str, sent: str) -> ModelCall:
        call = ModelCall(path, sent)
        turn = self._turn()
        with self._lock:
            self.calls.append(call)
            turn.calls.append(call)
        return call

    def _stop(self, reason: str) -> None:
        turn = self._turn()
        with self._lock:
            turn.stopped_by = turn.stopped_by or reason

    def _refusal(self, request: httpx2.Request) -> httpx2.Response | None:
        """The budget answer to a call the turn may not make, or None to let it through."""
        limits = self.limits
        calls = self.turn_calls()
        used = sum(call.total_tokens for call in calls)
        if limits.max_seconds is not None and self._seconds_left() <= 0:
            self._stop("seconds")
            raise httpx2.ReadTimeout(
                f"The turn's time budget of {limits.max_seconds:g} s is used up.", request=request
            )
        if limits.max_calls is not None and len(calls) >= limits.max_calls:
            reason, message = (
                "calls",
                (
                    f"Budget used up: this turn already made {len(calls)} model calls, the budget "
                    f"allows {limits.max_calls}. Make fewer calls per reply."
                ),
            )
        elif limits.max_tokens is not None and used >= limits.max_tokens:
            reason, message = (
                "tokens",
                (
                    f"Budget used up: this turn already used {used} tokens, the budget allows "
                    f"{limits.max_tokens}. Send shorter prompts or ask for shorter answers."
                ),
            )
        else:
            return None
        self._stop(reason)
        error = {"message": message, "type": "budget_exceeded", "param": None, "code": reason}
        return httpx2.Response(
            429, headers={"x-should-retry": "false"}, json={"error": error}, request=request
        )

    def _seconds_left(self) -> float:
        assert self.limits.max_seconds is not None
        return self.limits.max_seconds - (time.monotonic() - self._turn().started_at)

    def _cut_timeout(self, request: httpx2.Request) -> tuple[float | None, bool]:
        """Shorten the request's timeouts to the turn's time left.

        Returns:
            The turn's deadline (``time.monotonic()`` scale, None without a time cap), and
            whether the cut made the request's own timeout shorter (then a timeout is the
            budget's doing, not the caller's).
        """
        if self.limits.max_seconds is None:
            return None, False
        left = self._seconds_left()
        timeouts = dict(request.extensions.get("timeout") or {})
        own_read = timeouts.get("read")
        for key in _TIMEOUT_KEYS:
            given = timeouts.get(key)
            timeouts[key] = left if given is None else min(given, left)
        request.extensions = {**request.extensions, "timeout": timeouts}
        return time.monotonic() + left, own_read is None or left < own_read
