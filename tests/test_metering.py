"""The usage meter counts below the SDK: every API, streams, retries and with_options copies."""

from __future__ import annotations

import threading

import openai
import pytest
from pydantic import BaseModel

from enterprise_ai import evals, support
from enterprise_ai.data import EvalQuestion
from enterprise_ai.metering import Limits, UsageMeter
from enterprise_ai.testing import ScriptedClient, rate_limit_error

MESSAGES = [{"role": "user", "content": "Grüße! Where is my order?"}]


class Ticket(BaseModel):
    category: str


def _chat(client: openai.OpenAI, **extra: object) -> object:
    return client.chat.completions.create(model="m", messages=MESSAGES, **extra)


def test_every_api_is_counted_with_the_usage_of_its_answer() -> None:
    scripted = ScriptedClient(["Your bike ships tomorrow.", {"category": "shipping"}])
    meter = UsageMeter(scripted)
    _chat(meter.client)
    meter.client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Ticket)
    meter.client.responses.create(model="m", input="Hi", instructions="Be brief.")
    list(_chat(meter.client, stream=True, stream_options={"include_usage": True}))
    meter.client.models.list()  # not a model call: not counted
    expected = [r.usage for r in scripted.returned]
    assert [c.total_tokens for c in meter.calls] == [u.total_tokens for u in expected]
    assert meter.completion_tokens == sum(
        getattr(u, "completion_tokens", None) or u.output_tokens for u in expected
    )
    assert meter.calls[2].path == "/v1/responses" and "Be brief." in meter.calls[2].sent
    assert "Grüße" in meter.calls[0].sent  # readable, so the grader can search it
    assert all(c.status == 200 for c in meter.calls)


def test_copies_made_with_options_are_counted_and_keep_their_options() -> None:
    scripted = ScriptedClient(["late"], latency_s=0.3)
    meter = UsageMeter(scripted)
    with pytest.raises(openai.APITimeoutError):
        _chat(meter.client.with_options(timeout=0.05, max_retries=0))  # the timeout applies
    _chat(meter.client.with_options(max_retries=0))
    assert len(meter.calls) == 2 and meter.calls[0].status == 0  # no answer to the first
    assert meter.calls[1].completion_tokens == 1
    assert meter.stopped_by is None  # the caller's own timeout, not a budget


def test_each_retry_is_a_call_and_the_original_client_is_not_counted() -> None:
    scripted = ScriptedClient([rate_limit_error(retry_after_s=0.01), "ok"], max_retries=2)
    meter = UsageMeter(scripted)
    assert _chat(meter.client).choices[0].message.content == "ok"
    assert [c.status for c in meter.calls] == [429, 200]
    _chat(scripted)  # the application's own client stays unmetered
    assert len(meter.calls) == 2 and len(scripted.requests) == 3


def test_a_call_beyond_max_calls_is_refused_until_the_next_turn() -> None:
    scripted = ScriptedClient(["one", "two", "three"])
    meter = UsageMeter(scripted, limits=Limits(max_calls=2))
    _chat(meter.client), _chat(meter.client)
    with pytest.raises(openai.RateLimitError, match="already made 2 model calls") as caught:
        _chat(meter.client.with_options(max_retries=3))
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert meter.stopped_by == "calls" and len(scripted.requests) == 2  # never reached the model
    meter.new_turn()
    assert _chat(meter.client).choices[0].message.content == "three"
    assert meter.stopped_by is None and len(meter.turn_calls()) == 1


def test_each_thread_has_its_own_turn() -> None:
    # The capstone grader sends several replies at once through one metered client.
    scripted = ScriptedClient(["answer"])
    meter = UsageMeter(scripted, limits=Limits(max_calls=1))
    refused: dict[str, bool] = {}
    ready = threading.Barrier(2)

    def reply(name: str) -> None:
        meter.new_turn()
        ready.wait()  # both turns are open before either calls
        _chat(meter.client)
        try:
            _chat(meter.client)  # the second call of this turn
        except openai.RateLimitError:
            refused[name] = meter.stopped_by == "calls" and len(meter.turn_calls()) == 1

    threads = [threading.Thread(target=reply, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == {"a": True, "b": True}
    assert len(scripted.requests) == 2 and meter.stopped_by is None  # the main thread's turn


def test_calls_after_max_tokens_are_refused() -> None:
    meter = UsageMeter(ScriptedClient(["a b c d e f g h"]), limits=Limits(max_tokens=5))
    _chat(meter.client)  # crosses the cap: a call in flight cannot be stopped
    with pytest.raises(openai.RateLimitError, match=r"used \d+ tokens, the budget allows 5"):
        _chat(meter.client)
    assert meter.stopped_by == "tokens"


def test_a_slow_model_is_cut_at_the_turns_time_budget() -> None:
    scripted = ScriptedClient(["too late"], latency_s=30)
    meter = UsageMeter(scripted, limits=Limits(max_seconds=0.2))
    with pytest.raises(openai.APITimeoutError):
        _chat(meter.client.with_options(max_retries=0))  # no timeout of its own
    assert meter.stopped_by == "seconds" and meter.calls[0].status == 0
    with pytest.raises(openai.APITimeoutError):  # the turn's time is gone: no new call
        _chat(meter.client.with_options(max_retries=0))
    assert len(scripted.requests) == 1


def test_only_openai_clients_can_be_metered() -> None:
    with pytest.raises(TypeError, match="needs an openai.OpenAI client"):
        UsageMeter(object())


def test_evals_run_counts_tokens_of_a_bot_that_uses_with_options() -> None:
    question = EvalQuestion(
        id="Q1",
        question="How many days do I have to return an item bought in the web shop?",
        language="en",
        answerable=True,
        category="returns",
        key_facts=("30 days",),
        source_ids=("returns",),
    )

    def careful_bot(text: str, *, client: openai.OpenAI, model: str) -> support.Answer:
        return support.answer(text, client=client.with_options(timeout=30), model=model)

    scripted = ScriptedClient(["You have 30 days [returns]."])
    rows = evals.run([question], client=scripted, model="m", answer_fn=careful_bot, progress=False)
    usage = scripted.returned[0].usage
    assert rows.loc[0, "prompt_tokens"] == usage.prompt_tokens > 0
    assert rows.loc[0, "completion_tokens"] == usage.completion_tokens == 6
