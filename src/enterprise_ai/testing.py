"""A scripted stand-in for a model: test LLM code without one, through the real ``openai`` SDK.

:class:`ScriptedClient` *is* an ``openai.OpenAI`` client. Only its HTTP transport is replaced:
instead of a server, a script answers, in order, and records every request. So the code under
test runs exactly as against a real provider: the SDK builds and validates the request, parses
the answer into its own types (``ChatCompletion``, ``Response``, ``.parse`` results, stream
chunks), retries a scripted 429 when the caller asked for retries, and
``client.with_options(timeout=..., max_retries=...)`` works and keeps the same script. Streams
and Responses objects are built with the same converters the local adapter uses
(:mod:`enterprise_ai.adapter`), so a scripted stream looks like a local model's.

Exercise checks use it to test a learner's function on fixed inputs; module 04 shows how to
test a whole application with it.

A scripted reply can be:

* a ``str``: the assistant's text;
* a ``dict``, ``list`` or pydantic model: sent as JSON text, as a structured-output reply would be;
* a :class:`ToolCall` (or a list of them): the model asks to call a tool
  (``finish_reason == "tool_calls"``); build one with :meth:`ScriptedClient.tool_call`;
* an exception instance: the provider fails instead of answering. :func:`timeout_error`,
  :func:`connection_error` and :func:`rate_limit_error` fail at the HTTP level, so the SDK
  raises its own error (and retries, if the client allows retries); any other exception is
  raised as it is.

Unlike ``openai.OpenAI()``, a ScriptedClient does not retry by default (``max_retries=0``): a
scripted failure reaches the code under test at once. Pass ``max_retries=2`` (or use
``with_options``) to test retrying code.

Example:
    >>> client = ScriptedClient(["Hello!"])
    >>> messages = [{"role": "user", "content": "Hi"}]
    >>> reply = client.chat.completions.create(model="m", messages=messages)
    >>> reply.choices[0].message.content, client.requests[0]["model"]
    ('Hello!', 'm')

Introduced in notebooks/00_setup.ipynb (used by the checks); explained in
notebooks/04_evals.ipynb.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import httpx2
import openai
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel

from enterprise_ai.adapter import chat_completion_to_sse, chat_to_response, response_to_sse

__all__ = [
    "Reply",
    "ScriptExhaustedError",
    "ScriptedClient",
    "ToolCall",
    "connection_error",
    "rate_limit_error",
    "timeout_error",
]

_ids = itertools.count(1)
_FAKE_URL = "http://scripted.invalid/v1"
_SCRIPTED_MODEL = "scripted"


@dataclass(frozen=True)
class ToolCall:
    """A scripted reply in which the model asks to call a tool instead of answering.

    Attributes:
        name: the function (tool) name, as in the request's ``tools``.
        arguments: the arguments; a dict is sent as JSON text, a string as it is (so a test
            can also script broken JSON).
        call_id: the id the application must quote in its ``tool`` message; default: a fresh
            ``"call_scripted_N"``.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    call_id: str = ""

    def arguments_json(self) -> str:
        """The arguments as the SDK carries them: a JSON string."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), ensure_ascii=False)


#: What a script may hold; see the module docstring.
Reply = Union[str, Mapping[str, Any], list, BaseModel, ToolCall, BaseException]  # noqa: UP007


class ScriptExhaustedError(RuntimeError):
    """The code under test made more requests than the script has replies."""


def _request(path: str) -> httpx2.Request:
    return httpx2.Request("POST", f"{_FAKE_URL}{path}")


def timeout_error(path: str = "/chat/completions") -> openai.APITimeoutError:
    """A scripted reply that never comes: the SDK raises ``openai.APITimeoutError``.

    Example:
        >>> client = ScriptedClient([timeout_error()])
        >>> try:
        ...     client.chat.completions.create(model="m", messages=[])
        ... except openai.APITimeoutError as err:
        ...     print(err)
        Request timed out.
    """
    return openai.APITimeoutError(request=_request(path))


def connection_error(path: str = "/chat/completions") -> openai.APIConnectionError:
    """A scripted server that cannot be reached: the SDK raises ``openai.APIConnectionError``."""
    return openai.APIConnectionError(request=_request(path))


def rate_limit_error(
    path: str = "/chat/completions", *, retry_after_s: float = 1
) -> openai.RateLimitError:
    """A scripted HTTP 429 (too many requests) with ``retry-after``: ``openai.RateLimitError``.

    A client with retries waits ``retry_after_s`` seconds and asks again (the next reply of
    the script answers); without retries the error reaches the caller.
    """
    message = f"Rate limit reached (scripted). Retry after {retry_after_s:g} s."
    response = httpx2.Response(
        429,
        request=_request(path),
        headers={"retry-after": f"{retry_after_s:g}"},
        json={"error": {"message": message, "type": "requests", "code": "rate_limit_exceeded"}},
    )
    return openai.RateLimitError(message, response=response, body=None)


def _count_tokens(text: str) -> int:
    """A rough stand-in for a tokenizer: about one token per word or punctuation mark."""
    return max(1, len(text.replace(",", " ,").replace(".", " .").split()))


def _as_tool_calls(reply: Any) -> list[ToolCall] | None:
    """The reply's tool calls, or ``None`` if it is not a tool-call reply."""
    if isinstance(reply, ToolCall):
        return [reply]
    if isinstance(reply, list) and reply and all(isinstance(r, ToolCall) for r in reply):
        return list(reply)
    return None


def _as_text(reply: Any) -> str:
    """The assistant text of a non-tool reply: strings as they are, data as JSON."""
    if isinstance(reply, str):
        return reply
    if isinstance(reply, BaseModel):
        return reply.model_dump_json()
    return json.dumps(reply, ensure_ascii=False)


def _check_reply(number: int, reply: Any) -> None:
    if isinstance(reply, str | Mapping | list | BaseModel | ToolCall | BaseException):
        return
    hint = (
        "pass an instance, e.g. timeout_error(), not the class"
        if isinstance(reply, type)
        else "use a str, dict, list, pydantic model, ToolCall or exception instance"
    )
    raise TypeError(
        f"ScriptedClient reply {number} is {reply!r:.60} ({type(reply).__name__}); {hint}."
    )


def _completion(reply: Any, prompt: str, model: str) -> dict[str, Any]:
    """The ``chat.completion`` a model answering ``reply`` would send (usage by word count)."""
    calls = _as_tool_calls(reply)
    if calls is None:
        text = _as_text(reply)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        finish_reason = "stop"
    else:
        text = " ".join(c.arguments_json() for c in calls)
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": c.call_id or f"call_scripted_{next(_ids)}",
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments_json()},
                }
                for c in calls
            ],
        }
        finish_reason = "tool_calls"
    prompt_tokens, completion_tokens = _count_tokens(prompt), _count_tokens(text)
    return {
        "id": f"chatcmpl-scripted-{next(_ids)}",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": finish_reason, "message": message, "logprobs": None}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Any:
    return httpx2.Response(status, json=body, headers=dict(headers or {}))


def _not_scripted(method: str, path: str) -> httpx2.Response:
    message = (
        f"ScriptedClient does not script {method} {path}: it answers chat.completions, "
        "responses and models.list. Test that call against a real (local) model."
    )
    error = {"message": message, "type": "invalid_request_error", "code": "not_scripted"}
    return _json_response(404, {"error": error}, {"x-should-retry": "false"})


def _failure(reply: BaseException, request: httpx2.Request) -> httpx2.Response:
    """Fail the way a provider fails: SDK errors become HTTP events, others are raised."""
    if isinstance(reply, openai.APITimeoutError):  # before APIConnectionError: a subclass
        raise httpx2.ReadTimeout("The scripted model did not answer in time.", request=request)
    if isinstance(reply, openai.APIConnectionError):
        raise httpx2.ConnectError("The scripted server cannot be reached.", request=request)
    if isinstance(reply, openai.APIStatusError):
        scripted = reply.response
        headers = {
            name: value
            for name, value in scripted.headers.items()
            if name.lower() not in ("content-length", "content-encoding")
        }
        return httpx2.Response(scripted.status_code, headers=headers, content=scripted.content)
    raise reply


class _Script:
    """The scripted model behind a :class:`ScriptedClient` (and every copy of it).

    It is the handler of an ``httpx2.MockTransport``: it gets each HTTP request the SDK sends
    and returns the HTTP response a provider would send.
    """

    def __init__(self, replies: Iterable[Reply], *, repeat_last: bool, latency_s: float) -> None:
        self.replies: list[Any] = list(replies) or [""]
        for number, reply in enumerate(self.replies, 1):
            _check_reply(number, reply)
        if latency_s < 0:
            raise ValueError(f"latency_s={latency_s} cannot be negative; use 0 for no delay.")
        self.repeat_last = repeat_last
        self.latency_s = latency_s
        self.position = 0
        self.requests: list[dict[str, Any]] = []
        self.returned: list[Any] = []
        self._lock = threading.Lock()

    def answer(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if request.method == "GET" and path.endswith("/models"):
            model = {"id": _SCRIPTED_MODEL, "object": "model", "created": 0, "owned_by": "test"}
            return _json_response(200, {"object": "list", "data": [model]})
        if request.method != "POST" or not path.endswith(("/chat/completions", "/responses")):
            return _not_scripted(request.method, path)
        body = json.loads(request.content or b"{}")
        api = "chat.completions" if path.endswith("/chat/completions") else "responses"
        with self._lock:
            self.requests.append({"api": api, **body})
        self._wait(request)
        reply = self._next_reply()
        if isinstance(reply, BaseException):
            return _failure(reply, request)
        if api == "chat.completions":
            return self._chat(reply, body)
        return self._responses(reply, body)

    def _wait(self, request: httpx2.Request) -> None:
        """Take ``latency_s`` like a slow server; time out as the SDK's timeout demands."""
        if not self.latency_s:
            return
        timeout = (request.extensions.get("timeout") or {}).get("read")
        if timeout is not None and timeout < self.latency_s:
            time.sleep(timeout)
            raise httpx2.ReadTimeout(
                f"The scripted model takes {self.latency_s:g} s; the request allowed "
                f"{timeout:g} s.",
                request=request,
            )
        time.sleep(self.latency_s)

    def _next_reply(self) -> Any:
        with self._lock:
            if self.position >= len(self.replies) and not self.repeat_last:
                made = len(self.requests)
                raise ScriptExhaustedError(
                    f"ScriptedClient ran out of replies after {made - 1} requests: the code made "
                    f"request {made}; add more replies, or pass repeat_last=True to repeat the "
                    "last one."
                )
            reply = self.replies[min(self.position, len(self.replies) - 1)]
            self.position += 1
        return reply

    def _chat(self, reply: Any, body: dict[str, Any]) -> httpx2.Response:
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        completion = _completion(reply, prompt, body.get("model", _SCRIPTED_MODEL))
        self.returned.append(ChatCompletion.model_validate(completion))
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            sse = chat_completion_to_sse(completion, include_usage=include_usage)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
        return _json_response(200, completion)

    def _responses(self, reply: Any, body: dict[str, Any]) -> httpx2.Response:
        prompt = f"{body.get('instructions') or ''} {body.get('input', '')}"
        completion = _completion(reply, prompt, body.get("model", _SCRIPTED_MODEL))
        response = chat_to_response(completion, body)
        response |= {"id": f"resp_scripted_{next(_ids)}", "created_at": 0}
        for number, item in enumerate(response["output"]):
            item["id"] = f"{'msg' if item['type'] == 'message' else 'fc'}_scripted_{number}"
        self.returned.append(Response.model_validate(response))
        if body.get("stream"):
            sse = response_to_sse(response)
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
        return _json_response(200, response)


class ScriptedClient(openai.OpenAI):
    """An ``openai.OpenAI`` client whose "model" replies with the script, recording requests.

    Args:
        replies: what the "model" answers, one per request (see the module docstring for the
            kinds of reply). An empty list answers ``""``.
        repeat_last: when the script is used up, repeat the last reply (the default, handy
            for "always answer X"); with ``False`` a further request raises
            :class:`ScriptExhaustedError`, so a test notices unexpected extra calls.
        latency_s: every answer takes this long, like a slow server. A request whose timeout
            (``timeout=`` or ``with_options(timeout=...)``) is shorter waits for the timeout
            and fails with ``openai.APITimeoutError``, as against a real server.
        **options: passed to ``openai.OpenAI`` (e.g. ``max_retries=2``); by default the
            client does not retry.

    Attributes:
        requests: every request body the SDK sent, as a dict, plus ``"api"``
            (``"chat.completions"`` or ``"responses"``); failed and retried ones included.
        returned: every ``ChatCompletion`` / ``Response`` the script answered with, in order
            (for a stream: the whole answer as one object).

    Example:
        >>> client = ScriptedClient([ScriptedClient.tool_call("order_status", {"id": "IC-1"})])
        >>> reply = client.chat.completions.create(model="m", messages=[])
        >>> call = reply.choices[0].message.tool_calls[0]
        >>> reply.choices[0].finish_reason, call.function.name, call.function.arguments
        ('tool_calls', 'order_status', '{"id": "IC-1"}')
    """

    def __init__(
        self,
        replies: Iterable[Reply] = (),
        *,
        repeat_last: bool = True,
        latency_s: float = 0.0,
        _script: _Script | None = None,
        **options: Any,
    ) -> None:
        # A copy made by with_options() arrives with the original's script and HTTP client.
        self._script = _script or _Script(replies, repeat_last=repeat_last, latency_s=latency_s)
        if "http_client" not in options or options["http_client"] is None:
            transport = httpx2.MockTransport(self._script.answer)
            options["http_client"] = httpx2.Client(transport=transport)
        options.setdefault("api_key", "scripted-no-key")
        options.setdefault("base_url", _FAKE_URL)
        options.setdefault("max_retries", 0)
        super().__init__(**options)

    def copy(self, **options: Any) -> ScriptedClient:  # type: ignore[override]
        """Like ``openai.OpenAI.copy``: new options, the same script and recorded requests."""
        return super().copy(**options, _extra_kwargs={"_script": self._script})

    with_options = copy  # the SDK's alias, pointed at this class's copy

    @staticmethod
    def tool_call(
        name: str, arguments: Mapping[str, Any] | str | None = None, *, call_id: str = ""
    ) -> ToolCall:
        """A reply in which the model calls the tool ``name`` with ``arguments``."""
        return ToolCall(name, {} if arguments is None else arguments, call_id)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body sent so far (see the class docstring)."""
        return self._script.requests

    @property
    def returned(self) -> list[Any]:
        """Every ``ChatCompletion`` / ``Response`` answered so far."""
        return self._script.returned

    @property
    def replies_left(self) -> int:
        """How many scripted replies have not been used yet."""
        return max(0, len(self._script.replies) - self._script.position)

    def __repr__(self) -> str:
        replies, requests = len(self._script.replies), len(self._script.requests)
        return f"ScriptedClient({replies} replies, {requests} requests)"
