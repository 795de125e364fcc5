"""Decode speed of the local model, raw versus through ``get_client()``, in the same run.

``get_client()`` puts two layers between a notebook and llama.cpp: the ``openai`` SDK and the
adapter transport (:mod:`enterprise_ai.adapter`). This measures what they cost by sending the
same request three ways to the same server:

1. raw, in-process: ``xllamacpp.Server.handle_chat_completions`` (no HTTP at all);
2. raw HTTP: a plain ``httpx2`` POST to ``/v1/chat/completions``;
3. ``get_client().chat.completions.create`` (SDK + adapter + HTTP).

Tokens per second = completion tokens / wall time of the whole request, the number a learner
feels. The paths take turns within each repeat, so a busy machine slows all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from enterprise_ai import llm
from enterprise_ai.local_server import get_local_server

PROMPT = (
    "Write a friendly e-mail to a customer of Isar Cycles GmbH that explains, step by step, "
    "how to store and charge an e-bike battery during the winter."
)

RAW_IN_PROCESS = "raw xllamacpp, in-process"
RAW_HTTP = "raw HTTP (httpx2)"
GET_CLIENT = "get_client() (SDK + adapter)"


@dataclass
class PathResult:
    """All repeats of one way of calling the model."""

    name: str
    seconds: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    texts: set[str] = field(default_factory=set)

    @property
    def tokens_per_second(self) -> list[float]:
        return [t / s for t, s in zip(self.tokens, self.seconds, strict=True)]

    @property
    def median_tokens_per_second(self) -> float:
        return statistics.median(self.tokens_per_second)


def _request(max_tokens: int) -> dict[str, Any]:
    return {
        "model": llm.default_model(),
        "messages": [
            {"role": "system", "content": "You are a helpful support assistant."},
            {"role": "user", "content": PROMPT},
        ],
        "max_tokens": max_tokens,
        "temperature": 0,
        "seed": 7,
    }


def measure_throughput(*, repeats: int = 5, max_tokens: int = 128) -> list[PathResult]:
    """Send the same request ``repeats`` times along each path; return the timings per path.

    One warm-up request per path comes first (it fills llama.cpp's prompt cache for all).
    """
    server = get_local_server()
    native = server._server  # the xllamacpp.Server: the in-process baseline has no public handle
    body = _request(max_tokens)
    http = httpx2.Client(base_url=server.base_url, timeout=600)
    client = llm.get_client()

    def raw_in_process() -> tuple[int, str]:
        reply = native.handle_chat_completions(dict(body))
        return reply["usage"]["completion_tokens"], reply["choices"][0]["message"]["content"]

    def raw_http() -> tuple[int, str]:
        reply = http.post("/v1/chat/completions", json=body)
        reply.raise_for_status()
        data = reply.json()
        return data["usage"]["completion_tokens"], data["choices"][0]["message"]["content"]

    def through_get_client() -> tuple[int, str]:
        reply = client.chat.completions.create(**body)
        return reply.usage.completion_tokens, reply.choices[0].message.content or ""

    paths: dict[str, Callable[[], tuple[int, str]]] = {
        RAW_IN_PROCESS: raw_in_process,
        RAW_HTTP: raw_http,
        GET_CLIENT: through_get_client,
    }
    results = {name: PathResult(name) for name in paths}
    for call in paths.values():
        call()  # warm-up
    order = list(paths)
    for repeat in range(repeats):
        shift = repeat % len(order)  # rotate who goes first
        for name in order[shift:] + order[:shift]:
            started = time.perf_counter()
            tokens, text = paths[name]()
            results[name].seconds.append(time.perf_counter() - started)
            results[name].tokens.append(tokens)
            results[name].texts.add(text)
    http.close()
    client.close()
    return list(results.values())
