"""A scripted stand-in for ``openai.OpenAI``: test LLM code without a model.

It answers from a list you give it and records every request, and it returns the SDK's own
types (``ChatCompletion``, ``Response``), so code under test cannot tell the difference.
Exercise checks use it to test a learner's function on fixed inputs; module 04 shows how to
test a whole application with it.

A scripted reply can be:

* a ``str``: the assistant's text;
* a ``dict``, ``list`` or pydantic model: sent as JSON text, as a structured-output reply would be;
* a :class:`ToolCall` (or a list of them): the model asks to call a tool
  (``finish_reason == "tool_calls"``); build one with :meth:`ScriptedClient.tool_call`;
* an exception instance: raised instead of answering, e.g. :func:`timeout_error` to test what
  the application does when the provider does not answer in time.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import httpx2
import openai
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from pydantic import BaseModel

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
    """The exception the SDK raises when the provider does not answer in time.

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
    """The exception the SDK raises when the server cannot be reached at all."""
    return openai.APIConnectionError(request=_request(path))


def rate_limit_error(
    path: str = "/chat/completions", *, retry_after_s: int = 1
) -> openai.RateLimitError:
    """The exception the SDK raises on HTTP 429 (too many requests), with ``retry-after``."""
    response = httpx2.Response(
        429,
        request=_request(path),
        headers={"retry-after": str(retry_after_s)},
        json={"error": {"message": "Rate limit reached (scripted)", "type": "rate_limit"}},
    )
    return openai.RateLimitError("Rate limit reached (scripted)", response=response, body=None)


def _count_tokens(text: str) -> int:
    """A rough stand-in for a tokenizer: about one token per word or punctuation mark."""
    return max(1, len(text.replace(",", " ,").replace(".", " .").split()))


def _usage(prompt: str, answer: str) -> tuple[int, int]:
    return _count_tokens(prompt), _count_tokens(answer)


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


def _call_id(call: ToolCall) -> str:
    return call.call_id or f"call_scripted_{next(_ids)}"


class _Completions:
    def __init__(self, client: ScriptedClient) -> None:
        self._client = client

    def create(self, **request: Any) -> ChatCompletion:
        self._client._start("chat.completions", request)
        reply = self._client._next_reply()
        prompt = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
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
                        "id": _call_id(c),
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments_json()},
                    }
                    for c in calls
                ],
            }
            finish_reason = "tool_calls"
        usage_in, usage_out = _usage(prompt, text)
        return self._client._record(
            ChatCompletion.model_validate(
                {
                    "id": f"chatcmpl-scripted-{next(_ids)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "scripted"),
                    "choices": [{"index": 0, "finish_reason": finish_reason, "message": message}],
                    "usage": {
                        "prompt_tokens": usage_in,
                        "completion_tokens": usage_out,
                        "total_tokens": usage_in + usage_out,
                    },
                }
            )
        )


class _Chat:
    def __init__(self, client: ScriptedClient) -> None:
        self.completions = _Completions(client)


class _Responses:
    def __init__(self, client: ScriptedClient) -> None:
        self._client = client

    def create(self, **request: Any) -> Response:
        self._client._start("responses", request)
        reply = self._client._next_reply()
        prompt = f"{request.get('instructions') or ''} {request.get('input', '')}"
        calls = _as_tool_calls(reply)
        if calls is None:
            text = _as_text(reply)
            output: list[dict[str, Any]] = [
                {
                    "type": "message",
                    "id": f"msg-scripted-{next(_ids)}",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            ]
        else:
            text = " ".join(c.arguments_json() for c in calls)
            output = [
                {
                    "type": "function_call",
                    "id": f"fc-scripted-{next(_ids)}",
                    "call_id": _call_id(c),
                    "name": c.name,
                    "arguments": c.arguments_json(),
                    "status": "completed",
                }
                for c in calls
            ]
        usage_in, usage_out = _usage(prompt, text)
        return self._client._record(
            Response.model_validate(
                {
                    "id": f"resp-scripted-{next(_ids)}",
                    "object": "response",
                    "created_at": 0,
                    "model": request.get("model", "scripted"),
                    "status": "completed",
                    "parallel_tool_calls": False,
                    "tool_choice": "auto",
                    "tools": [],
                    "output": output,
                    "usage": {
                        "input_tokens": usage_in,
                        "output_tokens": usage_out,
                        "total_tokens": usage_in + usage_out,
                        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                        "output_tokens_details": {"reasoning_tokens": 0},
                    },
                }
            )
        )


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


class ScriptedClient:
    """Replies with the scripted replies in order and records every request.

    Args:
        replies: what the "model" answers, one per request (see the module docstring for the
            kinds of reply). An empty list answers ``""``.
        repeat_last: when the script is used up, repeat the last reply (the default, handy
            for "always answer X"); with ``False`` a further request raises
            :class:`ScriptExhaustedError`, so a test notices unexpected extra calls.

    Attributes:
        requests: every request as a dict of the keyword arguments it was called with,
            plus ``"api"`` (``"chat.completions"`` or ``"responses"``); failed ones included.
        returned: every ``ChatCompletion`` / ``Response`` handed back, in order.

    Example:
        >>> client = ScriptedClient([ScriptedClient.tool_call("order_status", {"id": "IC-1"})])
        >>> reply = client.chat.completions.create(model="m", messages=[])
        >>> call = reply.choices[0].message.tool_calls[0]
        >>> reply.choices[0].finish_reason, call.function.name, call.function.arguments
        ('tool_calls', 'order_status', '{"id": "IC-1"}')
    """

    def __init__(self, replies: Iterable[Reply], *, repeat_last: bool = True) -> None:
        self._replies: list[Any] = list(replies) or [""]
        for number, reply in enumerate(self._replies, 1):
            _check_reply(number, reply)
        self._repeat_last = repeat_last
        self._position = 0
        self.requests: list[dict[str, Any]] = []
        self.returned: list[Any] = []  # the SDK objects handed back, in order
        self.chat = _Chat(self)
        self.responses = _Responses(self)

    @staticmethod
    def tool_call(
        name: str, arguments: Mapping[str, Any] | str | None = None, *, call_id: str = ""
    ) -> ToolCall:
        """A reply in which the model calls the tool ``name`` with ``arguments``."""
        return ToolCall(name, {} if arguments is None else arguments, call_id)

    def with_options(self, **_options: Any) -> ScriptedClient:
        """Accept ``client.with_options(timeout=…, max_retries=…)`` like the SDK; same script."""
        return self

    @property
    def replies_left(self) -> int:
        """How many scripted replies have not been used yet."""
        return max(0, len(self._replies) - self._position)

    def _start(self, api: str, request: dict[str, Any]) -> None:
        if request.get("stream"):
            raise NotImplementedError(
                "ScriptedClient does not stream: call without stream=True in tests, "
                "or test the streaming loop with a real (local) model."
            )
        self.requests.append({"api": api, **request})

    def _record(self, reply: Any) -> Any:
        self.returned.append(reply)
        return reply

    def _next_reply(self) -> Any:
        if self._position >= len(self._replies) and not self._repeat_last:
            raise ScriptExhaustedError(
                f"ScriptedClient ran out of replies after {len(self.requests) - 1} requests: "
                f"the code made request {len(self.requests)}; add more replies, or pass "
                "repeat_last=True to repeat the last one."
            )
        reply = self._replies[min(self._position, len(self._replies) - 1)]
        self._position += 1
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def __repr__(self) -> str:
        return f"ScriptedClient({len(self._replies)} replies, {len(self.requests)} requests)"
