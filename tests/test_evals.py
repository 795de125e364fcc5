"""Tests for enterprise_ai.evals, the eval dashboard and the module-04 checks (lesson 04).

The bot is driven by the scripted client on a three-article index, so each grade and each cause
is pinned down exactly; one test runs the real local model as a judge.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from enterprise_ai import checks, data, evals, kb, llm, support
from enterprise_ai.data import EvalQuestion
from enterprise_ai.testing import ScriptedClient, rate_limit_error, timeout_error

ARTICLES = [
    SimpleNamespace(
        id="returns",
        title="Returns and refunds",
        text="## Return window\nYou can return a bike within 30 days of delivery. "
        "We refund within 14 days.",
    ),
    SimpleNamespace(
        id="warranty",
        title="Warranty",
        text="## Frame\nThe frame has a 10-year warranty.\n## Battery\n"
        "The battery has a 2-year warranty or 500 charge cycles.",
    ),
    SimpleNamespace(
        id="shipping-germany",
        title="Shipping in Germany",
        text="## Accessories\nStandard shipping of accessories costs 4,95 € and takes 2-3 days.",
    ),
]


def _question(qid: str, text: str, facts: tuple[str, ...] = (), sources: tuple[str, ...] = ()):
    return EvalQuestion(qid, text, "en", bool(facts), facts, sources, "returns")


RETURN = _question("Q1", "How many days do I have to return my bike?", ("30 days",), ("returns",))
FRAME = _question("Q2", "How long is the frame warranty?", ("10-year",), ("warranty",))
SHIPPING = _question(
    "Q3", "What does shipping of accessories cost?", ("4.95 EUR",), ("shipping-germany",)
)
KLARNA = _question("Q4", "Can I return a bike to a shop in Vienna?")  # unanswerable
BATTERY_MISS = _question("Q5", "Return window for bikes?", ("2-year",), ("warranty",))


@pytest.fixture(scope="module")
def index() -> kb.Index:
    return kb.Index(kb.chunk_all(ARTICLES))


def _run(index: kb.Index, questions, replies, **options) -> pd.DataFrame:
    client = ScriptedClient(replies, repeat_last=False)
    options.setdefault("min_score", 0.1)
    return evals.run(questions, client=client, model="m", index=index, progress=False, **options)


# --- grading rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4,95 €", "4.95 eur"),
        ("**1.500 EUR**", "1500 eur"),
        ("1,500 euros", "1500 eur"),
        ("5 – 10  Days", "5-10 days"),
        ("8,1 %", "8.1%"),
        ("Ruf an:\u00a0+49 89", "ruf an: +49 89"),
    ],
)
def test_normalise_answer_writes_money_numbers_and_dashes_one_way(text, expected):
    assert evals.normalise_answer(text) == expected


def test_key_facts_match_whole_numbers_only():
    assert evals.contains_key_facts("Within 30 DAYS.", ["30 days"])
    assert not evals.contains_key_facts("Delivery takes 13 days.", ["3 days"])
    assert not evals.contains_key_facts("It costs 14.95 EUR.", ["4.95 EUR"])
    assert not evals.contains_key_facts("Version 4.5 of the app", ["5"])
    assert evals.missing_facts("30 days, free", ["30 days", "label", "free"]) == ["label"]
    assert evals.contains_key_facts("anything", [])


def test_every_key_fact_of_the_eval_set_is_found_in_its_source_articles():
    articles = {a.id: a.text for a in data.kb_articles()}
    for q in data.eval_set():
        for fact in q.key_facts:
            assert any(evals.contains_key_facts(articles[s], [fact]) for s in q.source_ids), (
                f"{q.id}: {fact!r} not in {q.source_ids}"
            )


def test_unsupported_numbers_ignore_citations_and_ids():
    sources = ["Frames have a 10-year warranty."]
    assert evals.unsupported_numbers("10 years [warranty#2], order IC-100001", sources) == []
    assert evals.unsupported_numbers("3 years, or 3 more, and 5 [warranty]", sources) == ["3", "5"]
    assert evals.unsupported_numbers("Costs 5 EUR", ["Costs 4.95 EUR"]) == ["5"]


def test_is_grounded_needs_a_retrieved_citation_and_sourced_numbers(index):
    def answer(reply: str, **options) -> support.Answer:
        client = ScriptedClient([reply])
        options.setdefault("min_score", 0.1)
        return support.answer(RETURN.question, client=client, model="m", index=index, **options)

    kept = answer("You have 30 days [returns].")
    assert kept.source == "model" and evals.is_grounded(kept)
    assert not evals.is_grounded(answer("You have 60 days [returns]."))
    abstained = answer("unused", min_score=99)
    assert abstained.abstained and evals.is_grounded(abstained)
    invented = support.Answer("q", "30 days [payment]", ["payment"], False, False, [], "model")
    assert not evals.is_grounded(invented)


# --- run, summary, error analysis --------------------------------------------------------------


def test_run_grades_each_reply_and_names_the_cause(index):
    results = _run(
        index,
        [RETURN, FRAME, SHIPPING, KLARNA],
        [
            "You have 30 days [returns].",  # correct, grounded
            "The frame warranty is 3 years [warranty].",  # ungrounded number
            "Shipping is cheap.",  # uncited: the quote is sent, and it holds the fact
            "Yes, Klarna works [returns].",  # unanswerable, but answered
        ],
    )
    assert list(results.columns) == list(evals.COLUMNS)
    rows = results.set_index("id")
    assert rows.loc["Q1", ["correct", "grounded", "source"]].tolist() == [True, True, "model"]
    assert rows.loc["Q2", "cause"] == "ungrounded" and not rows.loc["Q2", "grounded"]
    assert rows.loc["Q3", "source"] == "extractive" and rows.loc["Q3", "correct"]
    assert rows.loc["Q3", "model_correct"] is False  # the model's own text lacked the fact
    assert rows.loc["Q4", "cause"] == "should have abstained"
    assert rows.loc["Q4", "retrieval_hit"] is None
    assert rows["retrieved"].map(len).gt(0).all() and rows["prompt_tokens"].gt(0).all()
    assert "[returns] You can return a bike within 30 days" in rows.loc["Q1", "context"]


def test_run_separates_retrieval_misses_from_needless_abstentions(index):
    results = _run(index, [RETURN, BATTERY_MISS], [], min_score=99)  # abstains on everything
    assert results["cause"].tolist() == ["abstained needlessly", "retrieval missed"]
    assert results["prompt_tokens"].tolist() == [0, 0]  # no model call when abstaining


def test_a_provider_error_becomes_a_row_and_the_run_goes_on(index):
    results = _run(
        index, [RETURN, FRAME, SHIPPING], [timeout_error(), rate_limit_error(), "4,95 € [x]"]
    )
    assert results["cause"].tolist()[:2] == ["call failed", "call failed"]
    assert results.loc[0, "error"] == "APITimeoutError: Request timed out."
    assert results.loc[1, "error"].startswith("RateLimitError")
    assert results.loc[0, "escalated"] and results.loc[2, "error"] == ""
    assert evals.summary(results).loc["call failed", "value"] == pytest.approx(0.667)


def test_a_bug_in_the_bot_is_not_swallowed(index):
    def broken(question: str, **options) -> support.Answer:
        raise TypeError("bug in my bot")

    with pytest.raises(TypeError, match="bug in my bot"):
        evals.run([RETURN], client=ScriptedClient([]), model="m", answer_fn=broken, progress=False)


def test_summary_and_error_analysis_count_what_they_say(index):
    results = _run(
        index,
        [RETURN, FRAME, KLARNA, KLARNA],
        ["30 days [returns].", "3 years [warranty].", "Yes [returns].", "Yes [returns]."],
    )
    table = evals.summary(results)
    assert table.loc["correct", "value"] == 0.25 and table.loc["correct", "questions"] == 4
    assert table.loc["answered when it should not", "value"] == 1.0
    assert table.loc["abstained when it should", "value"] == 0.0
    assert table.loc["grounded", "value"] == 0.75
    causes = evals.error_analysis(results)
    assert causes.to_dict("records") == [
        {"cause": "should have abstained", "replies": 2, "share": 0.67, "example": "Q4"},
        {"cause": "ungrounded", "replies": 1, "share": 0.33, "example": "Q2"},
    ]


def test_threshold_sweep_counts_both_errors_on_the_eval_set():
    sweep = evals.threshold_sweep(thresholds=[0, support.DEFAULT_MIN_SCORE, 100]).set_index(
        "threshold"
    )
    questions = data.eval_set()
    n_answerable = sum(q.answerable for q in questions)
    assert sweep.loc[0.0, ["answered", "caught"]].tolist() == [n_answerable, 0]
    assert sweep.loc[100.0, ["answered", "missed"]].tolist() == [0, 0]
    at_default = sweep.loc[support.DEFAULT_MIN_SCORE]
    assert at_default["answered"] + at_default["lost"] == n_answerable
    assert 0 < at_default["missed"] < at_default["caught"]
    fixed = checks.EX04_3_SWEEP
    live = evals.threshold_sweep(questions, fixed["threshold"])
    assert (
        live[["answered", "missed"]].values.tolist()
        == fixed[["answered", "missed"]].values.tolist()
    )


# --- damage limitation ---------------------------------------------------------------------------


def test_review_queue_takes_everything_but_grounded_model_replies(index):
    results = _run(
        index,
        [RETURN, FRAME, SHIPPING],
        ["30 days [returns].", "3 years [warranty].", "Cheap."],
    )
    queue = evals.ReviewQueue.from_results(results)
    assert queue.to_frame()["reason"].tolist() == [
        "a number in the reply is not in the cited article: check before sending",
        "model reply rejected, a quote was sent: check it answers the question",
    ]
    assert repr(queue) == "ReviewQueue(2 waiting)"


def test_add_if_needed_queues_an_abstention_with_its_reason(index):
    queue = evals.ReviewQueue()
    abstained = support.answer(
        KLARNA.question, client=ScriptedClient([]), model="m", index=index, min_score=99
    )
    assert queue.add_if_needed(abstained) and len(queue) == 1
    assert queue.items[0].reason.startswith("no article matched")


# --- LLM-as-judge --------------------------------------------------------------------------------


def test_judge_asks_for_the_verdict_schema_and_reads_it():
    client = ScriptedClient([{"supported": False, "reason": "3 is not in the text"}])
    verdict = evals.judge("Frame?", "3 years", "10-year warranty", client=client, model="m")
    assert verdict == evals.JudgeVerdict(supported=False, reason="3 is not in the text")
    request = client.requests[0]
    assert request["response_format"]["json_schema"]["schema"]["required"] == [
        "supported",
        "reason",
    ]
    assert "10-year warranty" in request["messages"][1]["content"]


def test_a_long_unreadable_verdict_still_gives_a_verdict():
    cut_off = '{"supported": true, "reason": "' + "The answer repeats the article " * 10
    verdict = evals.judge("q", "a", "c", client=ScriptedClient([cut_off]), model="m")
    assert not verdict.supported and verdict.reason.startswith("unreadable verdict: '{")
    assert len(verdict.reason) <= 100


def test_an_unreadable_verdict_counts_as_not_supported():
    client = ScriptedClient(['{"supported": true, "reason": "cut of'])
    verdict = evals.judge("q", "a", "c", client=client, model="m")
    assert not verdict.supported and verdict.reason.startswith("unreadable verdict")


def test_the_real_local_model_returns_a_valid_verdict():
    verdict = evals.judge(
        "How long is the frame guarantee?",
        "The frame guarantee is 10 years.",
        "Frames carry a 10-year guarantee.",
        client=llm.get_client("local"),
        model=llm.default_model("local"),
    )
    assert isinstance(verdict, evals.JudgeVerdict) and isinstance(verdict.supported, bool)


# --- widget --------------------------------------------------------------------------------------


def test_dashboard_filters_and_shows_the_cause(index):
    from enterprise_ai.widgets import EvalDashboard

    results = _run(  # min_coverage=0: the quote goes out even where it misses the question
        index,
        [RETURN, FRAME, KLARNA],
        ["30 days [returns].", "3 years [warranty].", "Yes."],
        min_coverage=0.0,
    )
    dashboard = EvalDashboard(results)
    assert dashboard.shown["id"].tolist() == ["Q2", "Q4"]  # opens on the wrong replies
    assert "ungrounded" in dashboard.detail.value and "3 years" in dashboard.detail.value
    assert dashboard.select("unanswerable")["id"].tolist() == ["Q4"]
    assert dashboard.select("ungrounded")["id"].tolist() == ["Q2"]
    assert len(dashboard.select("all")) == 3
    assert dashboard._repr_mimebundle_()["text/plain"].startswith("Evaluation dashboard")


def test_dashboard_refuses_a_table_that_is_not_a_run():
    from enterprise_ai.widgets import EvalDashboard

    with pytest.raises(ValueError, match=r"evals\.run\(\)"):
        EvalDashboard(pd.DataFrame({"id": ["Q1"]}))


# --- exercise checks -----------------------------------------------------------------------------


def test_ex04_1_and_ex04_2_pass_the_library_rules_and_reject_naive_ones(capsys):
    def naive_facts(text, facts):
        return all(f.lower() in text.lower() for f in facts)

    def naive_grounded(text, cited):
        return all(n in " ".join(cited) for n in evals._NUMBER.findall(text))

    def grounded(text, cited):
        return bool(cited) and not evals.unsupported_numbers(text, cited)

    assert checks.ex04_1(evals.contains_key_facts)
    assert checks.ex04_2(grounded)
    assert not checks.ex04_1(naive_facts)
    assert not checks.ex04_2(naive_grounded)
    assert not checks.ex04_1(lambda text, facts: None)
    assert not checks.ex04_2(lambda text, cited: 1 / 0)
    out = capsys.readouterr().out
    assert "hint:" in out and "ZeroDivisionError" in out


def test_ex04_3_wants_the_lowest_threshold_within_the_limit(capsys):
    def lowest(sweep, *, max_missed):
        return float(sweep[sweep["missed"] <= max_missed]["threshold"].min())

    def highest(sweep, *, max_missed):
        return float(sweep[sweep["missed"] <= max_missed]["threshold"].max())

    def exactly(sweep, *, max_missed):  # `==` instead of `<=`: right only for limits in the table
        return float(sweep[sweep["missed"] == max_missed]["threshold"].min())

    assert checks.ex04_3(lowest)
    capsys.readouterr()
    assert not checks.ex04_3(highest)
    assert "LOWEST" in capsys.readouterr().out
    assert not checks.ex04_3(exactly)
    out = capsys.readouterr().out
    assert "max_missed=4) returned nan, expected 2.5" in out and "AT MOST 4" in out
    assert not checks.ex04_3(None)


def test_ex04_4_needs_a_test_that_fails_on_a_bot_without_the_citation_check(capsys):
    question = "How many days do I have to return an item bought in the web shop?"

    def good_test(answer_fn):
        scripted = "You have 14 days."
        reply = answer_fn(question, client=ScriptedClient([scripted]), model="scripted")
        assert reply.text != scripted

    def weak_test(answer_fn):
        reply = answer_fn(question, client=ScriptedClient(["You have 14 days."]), model="s")
        assert reply.text

    def empty_test(answer_fn):
        return None

    def request_test(answer_fn):  # checks the request, not what the customer gets
        client = ScriptedClient(["You have 14 days."])
        answer_fn(question, client=client, model="scripted")
        request = client.requests[0]
        assert request["seed"] == 42 and request["max_tokens"] == 160
        assert request["temperature"] == 0

    assert checks.ex04_4(good_test)
    assert not checks.ex04_4(weak_test)
    assert not checks.ex04_4(empty_test)
    assert not checks.ex04_4(None)
    out = capsys.readouterr().out
    assert "also passes on a bot" in out and "never called answer_fn" in out
    assert not checks.ex04_4(request_test)  # the broken bot sends the very same request
    assert "also passes on a bot" in capsys.readouterr().out


def test_module04_cases_are_graded_as_stated_by_the_library():
    for text, facts, expected in checks.EX04_1_CASES:
        assert evals.contains_key_facts(text, facts) is expected, text
    for text, cited, expected in checks.EX04_2_CASES:
        assert (bool(cited) and not evals.unsupported_numbers(text, cited)) is expected, text
    assert json.dumps(checks.EX04_3_SWEEP["threshold"].tolist())  # plain numbers
