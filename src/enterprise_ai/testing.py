"""A scripted stand-in for ``openai.OpenAI``: test LLM code without a model.

It answers from a list you give it and records every request, and it returns the SDK's own
types (``ChatCompletion``, ``Response``), so code under test cannot tell the difference.
Exercise checks use it to test a learner's function on fixed inputs; module 04 shows how to
test a whole application with it.

Example:
    >>> client = ScriptedClient(["Hello!"])
    >>> messages = [{"role": "user", "content": "Hi"}]
    >>> reply = client.chat.completions.create(model="m", messages=messages)
    >>> reply.choices[0].message.content, client.requests[0]["model"]
    ('Hello!', 'm')

Introduced in notebooks/00_setup.ipynb (used by the checks); explained in module 04.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from openai.types.chat import ChatCompletion
from openai.types.responses import Response

__all__ = ["ScriptedClient"]

_ids = itertools.count(1)


def _count_tokens(text: str) -> int:
    """A rough stand-in for a tokenizer: about one token per word or punctuation mark."""
    return max(1, len(text.replace(",", " ,").replace(".", " .").split()))


class _Completions:
    def __init__(self, client: ScriptedClient) -> None:
        self._client = client

    def create(self, **request: Any) -> ChatCompletion:
        self._client.requests.append({"api": "chat.completions", **request})
        text = self._client._next_reply()
        prompt = " ".join(str(m.get("content", "")) for m in request.get("messages", []))
        usage_in, usage_out = _count_tokens(prompt), _count_tokens(text)
        return self._client._record(
            ChatCompletion.model_validate(
                {
                    "id": f"chatcmpl-scripted-{next(_ids)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "scripted"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": text},
                        }
                    ],
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
        self._client.requests.append({"api": "responses", **request})
        text = self._client._next_reply()
        prompt = f"{request.get('instructions') or ''} {request.get('input', '')}"
        usage_in, usage_out = _count_tokens(prompt), _count_tokens(text)
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
                    "output": [
                        {
                            "type": "message",
                            "id": f"msg-scripted-{next(_ids)}",
                            "role": "assistant",
                            "status": "completed",
                            "content": [{"type": "output_text", "text": text, "annotations": []}],
                        }
                    ],
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


class ScriptedClient:
    """Replies with the given texts in order (the last one repeats) and records requests.

    Args:
        replies: the texts the "model" answers with.

    Attributes:
        requests: every request as a dict of the keyword arguments it was called with,
            plus ``"api"`` (``"chat.completions"`` or ``"responses"``).
        returned: every ``ChatCompletion`` / ``Response`` handed back, in order.
    """

    def __init__(self, replies: Iterable[str]) -> None:
        self._replies = list(replies) or [""]
        self._position = 0
        self.requests: list[dict[str, Any]] = []
        self.returned: list[Any] = []  # the SDK objects handed back, in order
        self.chat = _Chat(self)
        self.responses = _Responses(self)

    def _record(self, reply: Any) -> Any:
        self.returned.append(reply)
        return reply

    def _next_reply(self) -> str:
        reply = self._replies[min(self._position, len(self._replies) - 1)]
        self._position += 1
        return reply

    def __repr__(self) -> str:
        return f"ScriptedClient({len(self._replies)} replies, {len(self.requests)} requests)"
