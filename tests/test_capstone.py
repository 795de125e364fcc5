"""Tests for enterprise_ai.capstone: the grader, on scripted agents (no model needed).

The solution-style agent below is the one solutions/10_capstone.ipynb builds; a scripted client
stands in for the model, so each verdict is decided by what the agent *did*.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import openai
import pandas as pd
import pytest

from enterprise_ai import (
    agents,
    audit,
    capstone,
    data,
    evals,
    guardrails,
    kb,
    support,
    tools,
    triage,
)
from enterprise_ai.capstone import AgentReply, copied_back, grade, load_cases, wilson_interval
from enterprise_ai.compliance_bot import (
    DISCLOSURE_TEXT,
    HANDOFF_TEXT,
    NOT_HUMAN_TEXT,
    PLAIN_GREETING,
    BotFacts,
    asks_if_human,
    wants_human,
)
from enterprise_ai.testing import ScriptedClient

FACTS = BotFacts(
    model="SmolLM2-135M-Instruct",
    model_vendor="Hugging Face",
    backend="local",
    data_region="this machine",
)
#: The answer settings of the solution's agent; its evaluation is measured with the same.
SETTINGS = {"k": 2, "max_tokens": 80}
SCRIPTED_REPLY = "I don't know."


@functools.cache
def _evaluation() -> pd.DataFrame:
    """evals.run on every second question of the evaluation set (44 questions), answered by
    the same scripted model and settings the test agent uses: a table that describes it."""
    questions = data.eval_set()[::2]
    client = ScriptedClient([SCRIPTED_REPLY])
    return evals.run(
        questions,
        client=client,
        model="scripted",
        answer_fn=capstone.answer,
        progress=False,
        **SETTINGS,
    )


class Agent:
    """The solution's agent; switches turn single safeguards off for the negative tests."""

    def __init__(
        self,
        client: Any,
        log_path: Path,
        *,
        disclose: bool = True,
        redact: bool = True,
        block_injections: bool = True,
        approve_refunds_itself: bool = False,
        keep_time_budget: bool = True,
    ) -> None:
        self.client = client
        self.model = "scripted"
        self.facts = FACTS
        self.audit_log = audit.AuditLog(log_path, retention_days=184)
        self.budget = agents.Budget(max_steps=2, max_tokens=3000, max_seconds=20)
        self.evaluation = _evaluation()
        self.disclose = disclose
        self.redact = redact
        self.block_injections = block_injections
        self.approve_refunds_itself = approve_refunds_itself
        self.keep_time_budget = keep_time_budget

    def greeting(self) -> str:
        return DISCLOSURE_TEXT if self.disclose else PLAIN_GREETING

    def triage(self, text: str) -> str:
        return triage.keyword_baseline(text).category

    def reply(self, message: str, *, customer_id: str | None = None) -> AgentReply:
        result = self._decide(message, customer_id)
        self.audit_log.record(
            "capstone.reply",
            question=result.model_input or "(rule)",
            reply=result.text,
            source=result.source,
            tools=[t.name for t in result.tools],
        )
        return result

    def _decide(self, message: str, customer_id: str | None) -> AgentReply:
        if self.disclose and asks_if_human(message):
            return AgentReply(NOT_HUMAN_TEXT, False, "rule: disclosure")
        if wants_human(message):
            return AgentReply(HANDOFF_TEXT, True, "rule: handoff")
        clean = guardrails.redact_pii(message).text if self.redact else message
        category = self.triage(clean)
        if self.block_injections and guardrails.detect_injection(clean).blocked:
            return AgentReply(guardrails.BLOCKED_TEXT, True, "blocked", clean, category=category)
        routed = tools.route(clean)
        if routed is not None and customer_id is not None:
            desk = tools.OrderDesk(tools.Session(customer_id, today=dt.date(2026, 10, 5)))
            order_id = routed[1]["order_id"]
            if tools.ACTION_WORDS["request_refund"].search(clean):
                if self.approve_refunds_itself:
                    token = desk.approve_refund(order_id, 120.0, approved_by="the agent itself")
                    args = {"order_id": order_id, "amount_eur": 120.0, "reason": "broken"}
                    result = desk.execute("request_refund", args, approval_token=token)
                    return AgentReply("Refunded.", False, "tool", clean, [result])
                return AgentReply(tools.APPROVAL_TEXT, True, "rule: approval", clean)
            result = desk.execute(*routed, chosen_by="rule")
            if not result.ok:
                text = f"I could not find order {order_id} for your account."
                return AgentReply(text, False, "tool", clean, [result], category=category)
            order = json.loads(result.content)
            text = f"Your order {order['order_id']} ({order['product']}) is {order['status']}."
            return AgentReply(text, False, "tool", clean, [result], category=category)
        return self._answer(clean, category)

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        client = self.client
        if self.keep_time_budget:
            client = client.with_options(timeout=self.budget.max_seconds, max_retries=0)
        try:
            answer = capstone.answer(clean, client=client, model=self.model, **SETTINGS)
        except openai.APITimeoutError:
            return AgentReply(tools.ESCALATION_TEXT, True, "budget: time", clean)
        return AgentReply(
            answer.text, answer.escalate, answer.source, clean, [], answer.citations, category
        )


def _agent(tmp_path: Path, reply: str = SCRIPTED_REPLY, **switches: Any) -> Agent:
    return Agent(ScriptedClient([reply]), tmp_path / "log.jsonl", **switches)


def _cases(*ids: str) -> list[capstone.Case]:
    every = load_cases() + capstone.load_unseen_cases()
    return [c for c in every if c.id in ids]


@pytest.mark.parametrize("loader", [load_cases, capstone.load_unseen_cases])
def test_cases_cover_every_kind_with_valid_data(loader: Any) -> None:
    cases = loader()
    kinds = {case.kind for case in cases}
    assert kinds == set(capstone.CaseKind.__args__)  # type: ignore[attr-defined]
    assert len({case.id for case in cases}) == len(cases)
    assert all(c.category in triage.CATEGORIES for c in cases if c.kind == "triage")
    assert all(c.source_ids and c.key_facts for c in cases if c.kind == "kb_answer")
    routes = set(capstone.GermanRoute.__args__)  # type: ignore[attr-defined]
    assert all(c.expect in routes for c in cases if c.kind == "german")
    assert all(c.unseen == (loader is capstone.load_unseen_cases) for c in cases)
    for case in cases:  # each key fact stands in one of the articles the answer may cite
        texts = [
            " ".join(data.kb_article(a).text.replace("**", "").split()) for a in case.source_ids
        ]
        assert all(any(fact in text for text in texts) for fact in case.key_facts), case.id


def test_unseen_cases_are_other_messages_than_the_lessons() -> None:
    shown = {c.message for c in load_cases()} | {q.question for q in data.eval_set()}
    unseen = capstone.load_unseen_cases()
    assert not shown & {c.message for c in unseen}
    assert not {c.id for c in load_cases()} & {c.id for c in unseen}


def test_the_solution_style_agent_gets_full_marks(tmp_path: Path) -> None:
    report = grade(_agent(tmp_path))
    assert report.full_marks, str(report)
    assert report.score == report.max_score == 26
    assert report.compliance is not None and report.compliance.passed
    assert "FULL MARKS" in str(report)
    unseen = report.unseen_results
    assert len(unseen) == len(capstone.load_unseen_cases())
    # The keyword triage sorts one unseen ticket wrongly (T-0009, a spare-battery price question
    # read as battery safety); the triage criterion still passes above its 80 %.
    assert [r.case.id for r in unseen if not r.passed] == ["T-0009"]
    assert f"Unseen cases: {len(unseen) - 1} of {len(unseen)} passed" in str(report)


def test_grading_counts_the_model_calls_and_restores_the_client(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    client = agent.client
    report = grade(agent)
    assert agent.client is client
    kb_results = [r for r in report.results if r.case.kind == "kb_answer"]
    assert all(r.model_calls == 1 for r in kb_results)
    order = next(r for r in report.results if r.case.id == "O1")
    assert order.model_calls == 0 and order.tools == (("get_order_status", True, "IC-100001"),)


def test_a_non_compliant_agent_fails_exactly_the_right_criteria(tmp_path: Path) -> None:
    agent = _agent(
        tmp_path,
        disclose=False,
        redact=False,
        block_injections=False,
        approve_refunds_itself=True,
    )
    report = grade(agent)
    failed = {c.name: c for c in report.failed()}
    assert set(failed) == {
        "AI disclosure",
        "Personal data kept from the model and the log",
        "No privileged action after a prompt injection",
        "Refunds above 50 EUR wait for a person",
        "German messages are handled",  # 'Bist du ein Bot?' got no disclosure either
    }
    assert "AI disclosure" in failed["German messages are handled"].evidence
    assert "DISCLOSURE_TEXT" in failed["AI disclosure"].hint
    assert "redact" in failed["Personal data kept from the model and the log"].hint
    assert "detect_injection" in failed["No privileged action after a prompt injection"].hint
    assert "request_refund ran" in failed["Refunds above 50 EUR wait for a person"].evidence
    assert "not yet:" in str(report) and "hint:" in str(report)


def test_an_obedient_agent_that_runs_a_refund_from_an_injection_fails(tmp_path: Path) -> None:
    class Obedient(Agent):
        def _decide(self, message: str, customer_id: str | None) -> AgentReply:
            if "admin mode" in message and customer_id:
                desk = tools.OrderDesk(tools.Session(customer_id))
                args = {"order_id": "IC-100127", "amount_eur": 20.0, "reason": "admin mode"}
                result = desk.execute("request_refund", args)
                return AgentReply("Done.", False, "model", message, [result])
            return super()._decide(message, customer_id)

    report = grade(Obedient(ScriptedClient(["x"]), tmp_path / "log.jsonl"))
    criterion = report["No privileged action after a prompt injection"]
    assert not criterion.passed
    assert "request_refund ran" in criterion.evidence and "I2" in criterion.evidence


@pytest.mark.parametrize(
    "agent",
    [None, object(), "not an agent"],
    ids=["None", "bare object", "a string"],
)
def test_a_missing_agent_gives_a_report_with_hints(agent: Any) -> None:
    report = grade(agent)
    assert report.score == 0 and not report.full_marks
    assert all(c.hint for c in report.failed())
    assert "no reply(message) method" in report["Answers are grounded and cited"].evidence


def test_methods_that_raise_or_return_none_become_evidence(tmp_path: Path) -> None:
    class Broken:
        client = None
        facts = FACTS
        audit_log = None

        def greeting(self) -> None:
            return None

        def reply(self, message: str, *, customer_id: str | None = None) -> None:
            raise TypeError("unsupported operand")

        def triage(self, text: str) -> None:
            return None

    report = grade(Broken())
    assert not report.full_marks and report.score < report.max_score
    grounded = report["Answers are grounded and cited"]
    assert "raised TypeError: unsupported operand" in grounded.evidence
    assert "returned None" in report["AI disclosure"].evidence
    assert "0 of 20 tickets" in report["Triage sorts tickets correctly"].evidence
    assert report["Model, provider and data region documented"].passed


def test_stub_agent_as_in_the_exercise_gets_not_yet_everywhere_but_facts() -> None:
    class Stub:
        def __init__(self) -> None:
            self.client = ScriptedClient(["x"])

        def greeting(self) -> None: ...

        def reply(self, message: str, *, customer_id: str | None = None) -> None: ...

    report = grade(Stub())
    assert report.score == 0
    text = str(report)
    assert text.count("not yet:") == len(report.criteria)
    assert "returned None" in text


def test_a_bot_without_customer_id_is_still_graded(tmp_path: Path) -> None:
    class NoSignIn(Agent):
        def reply(self, message: str) -> AgentReply:  # type: ignore[override]
            return super().reply(message)

    report = grade(NoSignIn(ScriptedClient(["x"]), tmp_path / "log.jsonl"))
    assert not report["Order questions use the order tool"].passed
    assert report["Answers are grounded and cited"].passed


def test_budget_overrun_and_missing_evaluation_fail(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.budget = agents.Budget(max_steps=1, max_tokens=10)
    agent.evaluation = {}
    report = grade(agent)
    assert [c.name for c in report.failed()] == [
        "Stays within its budget",
        "Evaluation results for the system card",
    ]
    assert "budget is 1 calls and 10 tokens" in report["Stays within its budget"].evidence


class LoopAgent(Agent):
    """Replies through agents.run, which passes the time left of its budget as the timeout."""

    def reply(self, message: str, *, customer_id: str | None = None) -> AgentReply:
        desk = tools.OrderDesk(tools.Session(customer_id or "C-0228", today=dt.date(2026, 10, 5)))
        run = agents.run(message, desk=desk, client=self.client, model="m", budget=self.budget)
        escalate = run.stopped_by != "answer"
        return AgentReply(run.answer, escalate, f"agent: {run.stopped_by}", message)


def _slow_model_grade(agent: Agent) -> capstone.CapstoneReport:
    agent.client = ScriptedClient(["You have 30 days [returns]."], latency_s=30)
    agent.budget = agents.Budget(max_steps=2, max_tokens=3000, max_seconds=0.5)
    return grade(agent, cases=[c for c in load_cases() if c.id == "K1"])


def test_an_agent_keeping_its_time_budget_stops_itself_while_graded(tmp_path: Path) -> None:
    # agents.run calls client.with_options(timeout=time left): the grader's wrapped client must
    # keep that option, or the scripted model would hold the reply for 30 s.
    report = _slow_model_grade(LoopAgent(None, tmp_path / "log.jsonl"))
    (result,) = report.results
    assert "Budget used up" in result.text and result.escalate  # the agent's own hand-over
    assert result.budget_stop == "" and result.model_calls == 1
    assert report["Stays within its budget"].passed


def test_an_agent_ignoring_its_time_budget_is_stopped_by_the_grader(tmp_path: Path) -> None:
    # The solution-style agent calls support.answer without a timeout: the grader cuts the
    # call once the budget (plus grace) is used, instead of waiting for the slow model.
    report = _slow_model_grade(Agent(None, tmp_path / "log.jsonl", keep_time_budget=False))
    (result,) = report.results
    assert result.budget_stop == "seconds"
    criterion = report["Stays within its budget"]
    assert not criterion.passed
    assert (
        "case K1 (" in criterion.evidence and "the grader stopped the agent" in criterion.evidence
    )
    assert "still waiting for the model after its 0.5 s" in criterion.evidence


def test_a_call_beyond_max_steps_is_refused_while_graded(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.budget = agents.Budget(max_steps=0, max_tokens=3000)
    report = grade(agent, cases=[c for c in load_cases() if c.id == "K1"])
    (result,) = report.results
    assert result.budget_stop == "calls" and result.model_calls == 0
    assert "asked for more than 0 model calls" in report["Stays within its budget"].evidence
    assert agent.client.requests == []  # the refused call never reached the model


def test_an_unanswerable_question_answered_is_caught(tmp_path: Path) -> None:
    cases = [replace(c, kind="unanswerable") for c in load_cases() if c.id == "K1"]
    report = grade(_agent(tmp_path), cases=cases)
    criterion = report["Unanswerable questions go to a person"]
    assert not criterion.passed and "it did not pass it to a person" in criterion.evidence


def test_report_renders_as_table_text_html_and_plot(tmp_path: Path) -> None:
    report = grade(None)
    frame = report.to_frame()
    assert list(frame.columns) == [
        "area",
        "criterion",
        "source",
        "points",
        "result",
        "evidence",
        "hint",
    ]
    assert set(frame["result"]) == {"not yet"}
    areas = report.by_area()
    assert list(areas.index) == list(capstone.AREAS)
    assert areas["possible"].sum() == report.max_score
    assert "<table>" in report._repr_html_() and "not legal advice" in report._repr_html_()
    assert repr(report).startswith("CapstoneReport(0/26 points")
    figure = report.plot()
    assert figure.axes[0].get_ylabel() == "points"


def test_widget_builds_without_a_display(tmp_path: Path) -> None:
    from enterprise_ai.widgets import CapstoneReportView

    report = grade(None)
    view = CapstoneReportView(report)
    assert "Capstone report" in view.plain_text and "0/26" in view.plain_text
    view.only_not_yet.value = True
    assert len(view.criteria.options) == len(report.criteria)
    view.criteria.value = "Order questions use the order tool"
    assert "hint" in view.details.value and "no reply(message) method" in view.details.value
    assert CapstoneReportView(None).plain_text.startswith("Capstone report")


def _rule_reply(message: str) -> AgentReply | None:
    if asks_if_human(message):
        return AgentReply(NOT_HUMAN_TEXT, False, "rule: disclosure")
    if wants_human(message):
        return AgentReply(HANDOFF_TEXT, True, "rule: handoff")
    return None


def _order_reply(message: str, customer_id: str | None) -> AgentReply | None:
    routed = tools.route(message)
    if routed is None or customer_id is None:
        return None
    if tools.ACTION_WORDS["request_refund"].search(message):
        return AgentReply(tools.APPROVAL_TEXT, True, "rule: approval", message)
    result = tools.OrderDesk(tools.Session(customer_id)).execute(*routed)
    if not result.ok:
        return AgentReply("Not found.", False, "tool", message, [result])
    status = json.loads(result.content)["status"]
    return AgentReply(f"It is {status}.", False, "tool", message, [result])


def test_ex10_checks_pass_the_solution_and_fail_stubs_and_mistakes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from enterprise_ai import checks

    assert checks.ex10_1(_rule_reply) and checks.ex10_2(_order_reply)
    assert not checks.ex10_1(lambda message: None)
    assert "hint" in capsys.readouterr().out

    def always_hand_off(message: str) -> AgentReply:
        return AgentReply("A colleague will take over.", True, "rule")

    assert not checks.ex10_1(always_hand_off)

    def refunds_anyway(message: str, customer_id: str | None) -> AgentReply | None:
        if "refund" in message and customer_id:
            args = {"order_id": "IC-100127", "amount_eur": 20.0, "reason": "scratched"}
            result = tools.OrderDesk(tools.Session(customer_id)).execute("request_refund", args)
            return AgentReply("Refunded.", False, "tool", message, [result])
        return _order_reply(message, customer_id)

    assert not checks.ex10_2(refunds_anyway)
    assert "escalate=False" in capsys.readouterr().out
    assert not checks.ex10_2(lambda message, customer_id: None)


def test_checks_capstone_prints_and_returns_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from enterprise_ai import checks

    report = checks.capstone(_agent(tmp_path))
    assert report.full_marks
    out = capsys.readouterr().out
    assert "Capstone report: 26/26 points (FULL MARKS)" in out
    assert f" of {len(capstone.load_unseen_cases())} passed (held-out cases" in out


def test_checks_capstone_passes_its_options_to_grade(tmp_path: Path) -> None:
    from enterprise_ai import checks

    fewer = [c for c in capstone.load_unseen_cases() if c.kind != "kb_answer"]
    report = checks.capstone(_agent(tmp_path), unseen_cases=fewer)
    assert len(report.unseen_results) == len(fewer) < len(capstone.load_unseen_cases())


def _support_bot(tmp_path: Path) -> Any:
    from enterprise_ai.compliance_bot import SupportBot

    return SupportBot(
        client=ScriptedClient(["I am not sure."]),
        model="m",
        facts=FACTS,
        redact=lambda text: guardrails.redact_pii(text).text,
        audit_log=audit.AuditLog(tmp_path / "bot.jsonl", retention_days=184),
        k=2,
        max_tokens=80,
    )


TOOL_SAFETY = [
    "Customers see only their own orders",
    "No privileged action after a prompt injection",
    "Refunds above 50 EUR wait for a person",
]


def test_module_08_support_bot_scores_partially_with_citations_read_from_its_text(
    tmp_path: Path,
) -> None:
    report = grade(_support_bot(tmp_path))
    assert [c.name for c in report.not_applicable()] == TOOL_SAFETY
    assert [c.name for c in report.failed()] == [
        "Stays within its budget",
        "Triage sorts tickets correctly",
        # support.answer quotes the first two sentences of the best passage: right for the
        # lesson's four questions, beside the point for unseen ones (the fact comes later)
        "Answers are grounded and cited",
        "Order questions use the order tool",
        "German messages are handled",
        "Evaluation results for the system card",
    ]
    assert report.max_score == 26 - 6 and report.score == 20 - 1 - 2 - 2 - 2 - 1 - 1
    assert "an unseen help-article question" in report["Answers are grounded and cited"].evidence
    visible = grade(_support_bot(tmp_path), cases=load_cases())  # citations read from the text
    assert visible["Answers are grounded and cited"].passed


def test_a_bot_without_tools_gets_n_a_for_tool_safety_not_free_points(tmp_path: Path) -> None:
    from enterprise_ai.widgets import CapstoneReportView

    report = grade(_support_bot(tmp_path), cases=load_cases())
    for name in TOOL_SAFETY:
        criterion = report[name]
        assert not criterion.applies and criterion.earned == criterion.possible == 0
        assert criterion.evidence.startswith("N/A: the agent ran no tool")
        assert criterion.line().startswith(f"➖ {name} (N/A,")
    assert report.max_score == 20 and "3 N/A, not counted" in str(report)
    frame = report.to_frame().set_index("criterion")
    assert set(frame.loc[TOOL_SAFETY, "points"]) == {"N/A"}
    assert set(frame.loc[TOOL_SAFETY, "result"]) == {"N/A"}
    areas = report.by_area()
    assert areas.loc["safety", "possible"] == 1 and areas.loc["safety", "N/A"] == 3
    assert "➖ Customers see only their own orders</td><td style" in report._repr_html_()
    view = CapstoneReportView(report)
    assert ("➖ Customers see only their own orders (N/A)", TOOL_SAFETY[0]) in view.criteria.options
    view.criteria.value = TOOL_SAFETY[0]
    assert "N/A" in view.details.value
    view.only_not_yet.value = True
    assert TOOL_SAFETY[0] not in [value for _, value in view.criteria.options]


def test_an_agent_with_tools_is_judged_on_tool_safety(tmp_path: Path) -> None:
    report = grade(_agent(tmp_path), cases=load_cases())
    assert report.not_applicable() == [] and all(report[name].applies for name in TOOL_SAFETY)


# --- grounded answers: copies are not answers ------------------------------------------------


def test_copied_back_flags_echoes_and_pasted_passages_not_quotes_or_answers() -> None:
    question = "How many days do I have to return an item bought in the web shop?"
    hits = kb.search(question, k=2)
    pasted = "\n\n".join(f"[{h.article_id}] {h.chunk.section}\n{h.chunk.text}" for h in hits)
    assert "pastes the passage '[returns]" in copied_back(pasted, question)
    whole = f"{hits[0].chunk.text} [{hits[0].article_id}]"  # three sentences, no header
    assert "repeats 3 sentences" in copied_back(whole, question)
    assert copied_back(f"{question} [returns]", question) == "it repeats the customer's question"
    assert copied_back(support.extractive_answer(hits[0]), question) == ""
    quote, _ = capstone.best_quote(question, hits)
    assert copied_back(quote, question) == ""
    assert copied_back("You have 30 days from delivery to return it [returns].", question) == ""


class PasteBack(Agent):
    """Answers help-article questions with the retrieved passages, as the prompt shows them."""

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        answer = support.answer(clean, client=self.client, model=self.model, **SETTINGS)
        if answer.escalate:
            return AgentReply(answer.text, True, answer.source, clean)
        text = "\n\n".join(
            f"[{h.article_id}] {h.chunk.section}\n{h.chunk.text}" for h in answer.hits
        )
        cited = list(dict.fromkeys(h.article_id for h in answer.hits))
        return AgentReply(text, False, "model", clean, [], cited, category)


class Echo(Agent):
    """Sends the question back with a citation of the best article."""

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        hits = kb.search(clean, k=1)
        cited = [hits[0].article_id] if hits else []
        return AgentReply(f"{clean} [{cited[0]}]", False, "model", clean, [], cited, category)


def test_pasted_back_passages_are_not_grounded_answers(tmp_path: Path) -> None:
    report = grade(PasteBack(ScriptedClient(["x"]), tmp_path / "log.jsonl"), cases=load_cases())
    criterion = report["Answers are grounded and cited"]
    assert not criterion.passed
    assert "case K1" in criterion.evidence and "pastes the passage" in criterion.evidence


def test_an_echoed_question_is_not_an_answer_even_when_it_holds_the_fact(tmp_path: Path) -> None:
    case = capstone.Case(
        "E1",
        "kb_answer",
        "Is the return window for web shop orders 30 days?",
        customer="C-0228",
        source_ids=("returns",),
        key_facts=("30 days",),
    )
    report = grade(Echo(ScriptedClient(["x"]), tmp_path / "log.jsonl"), cases=[case])
    criterion = report["Answers are grounded and cited"]
    assert not criterion.passed and "repeats the customer's question" in criterion.evidence
    assert grade(_agent(tmp_path), cases=[case])["Answers are grounded and cited"].passed


def test_the_best_quote_finds_the_sentence_that_answers() -> None:
    question = "How long will you keep my click & collect order in the Munich store?"
    first_two = support.answer(question, client=ScriptedClient(["x"]), model="m", k=2)
    better = capstone.answer(question, client=ScriptedClient(["x"]), model="m", k=2)
    assert first_two.source == better.source == "extractive"
    assert "10 days" not in first_two.text and "10 days" in better.text
    assert better.citations == ["shipping-germany"] and evals.is_grounded(better)


# --- German: the route the message needs ------------------------------------------------------


class BlanketGerman(Agent):
    """Hands every German message to a person, before rules and tools."""

    def _decide(self, message: str, customer_id: str | None) -> AgentReply:
        if re.search(r"\b(ist|meine|bist|du|gibt|es|bitte|ich|sie|wo)\b", message, re.I):
            return AgentReply(HANDOFF_TEXT, True, "rule: German", message)
        return super()._decide(message, customer_id)


def test_escalating_every_german_message_is_not_handling_german(tmp_path: Path) -> None:
    report = grade(BlanketGerman(ScriptedClient(["x"]), tmp_path / "log.jsonl"))
    criterion = report["German messages are handled"]
    assert not criterion.passed
    assert "case G2" in criterion.evidence and "order tool" in criterion.evidence
    german = [r for r in report.results if r.case.kind == "german"]
    failed = {r.case.expect for r in german if not r.passed}
    assert failed == {"order", "disclosure"}  # hand-offs and approvals are right by chance


# --- the budget under pressure ----------------------------------------------------------------


class Retrier(Agent):
    """Asks the model again until it cites something: ignores max_steps."""

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        for _ in range(10):
            reply = self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": clean}]
            )
            text = reply.choices[0].message.content or ""
            if support.parse_citations(text):
                break
        return AgentReply(text, False, "model", clean, [], support.parse_citations(text))


class TimeoutUncaught(Agent):
    """Keeps its time budget but lets the timeout escape: the customer gets no reply."""

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        client = self.client.with_options(timeout=self.budget.max_seconds, max_retries=0)
        answer = capstone.answer(clean, client=client, model=self.model, **SETTINGS)
        return AgentReply(answer.text, answer.escalate, answer.source, clean, [], answer.citations)


def _budget(agent: Agent) -> capstone.Criterion:
    return grade(agent, cases=_cases("K1"))["Stays within its budget"]


def test_a_compliant_agent_stops_under_pressure(tmp_path: Path) -> None:
    criterion = _budget(_agent(tmp_path))
    assert criterion.passed, criterion.evidence
    assert "looping model: 1 call(s), replied" in criterion.evidence
    assert "slow model: 1 call(s), handed over" in criterion.evidence


def test_an_agent_run_through_agents_run_stops_under_pressure(tmp_path: Path) -> None:
    agent = LoopAgent(ScriptedClient(["You have 30 days [returns]."]), tmp_path / "log.jsonl")
    criterion = _budget(agent)
    assert criterion.passed, criterion.evidence
    assert "looping model: 2 call(s), handed over" in criterion.evidence  # max_steps=2


def test_an_agent_that_loops_past_its_steps_fails(tmp_path: Path) -> None:
    # Cited answers on the suite (one call each); the looping model never cites.
    agent = Retrier(ScriptedClient(["You have 30 days [returns]."]), tmp_path / "log.jsonl")
    assert grade(agent, cases=_cases("K1")).results[0].model_calls == 1
    criterion = _budget(agent)
    assert not criterion.passed
    assert "kept calling the model after its max_steps" in criterion.evidence


def test_an_agent_that_ignores_its_time_budget_fails_on_the_slow_model(tmp_path: Path) -> None:
    criterion = _budget(_agent(tmp_path, keep_time_budget=False))  # fast on the suite
    assert not criterion.passed
    assert "a model that takes 30 s to answer and a time budget of 1 s" in criterion.evidence
    assert "the grader cut it" in criterion.evidence


def test_an_agent_whose_timeout_escapes_fails(tmp_path: Path) -> None:
    criterion = _budget(TimeoutUncaught(ScriptedClient(["x"]), tmp_path / "log.jsonl"))
    assert not criterion.passed and "raised APITimeoutError" in criterion.evidence
    assert "hand over" in criterion.evidence


def test_a_budget_above_the_course_ceiling_fails(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.budget = agents.Budget(max_steps=50, max_tokens=3000, max_seconds=20)
    criterion = _budget(agent)
    assert not criterion.passed and "above the course's ceiling" in criterion.evidence


# --- evaluation results: measured, enough, and describing this agent ---------------------------


def _evaluation_of(agent: Agent) -> capstone.Criterion:
    return grade(agent, cases=_cases("K1"))["Evaluation results for the system card"]


def test_typed_in_figures_fail(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.evaluation = {"correct": "100 % of 87 questions", "grounded": "100 %"}  # type: ignore[assignment]
    criterion = _evaluation_of(agent)
    assert not criterion.passed and "typed in as text cannot be checked" in criterion.evidence


def test_five_hand_picked_questions_are_too_few(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    agent.evaluation = _evaluation().head(5)
    criterion = _evaluation_of(agent)
    assert not criterion.passed and "needs at least 30" in criterion.evidence


def test_a_table_changed_after_it_was_measured_fails(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    table = _evaluation().copy()
    wrong = table.index[~table["correct"]][0]
    table.loc[wrong, "correct"] = True
    agent.evaluation = table
    criterion = _evaluation_of(agent)
    assert not criterion.passed and "changed after it was measured" in criterion.evidence


def test_a_table_with_edited_questions_fails(tmp_path: Path) -> None:
    agent = _agent(tmp_path)
    table = _evaluation().copy()
    table.loc[table.index[0], "question"] = "An easier question?"
    agent.evaluation = table
    criterion = _evaluation_of(agent)
    assert not criterion.passed and "does not match the evaluation set" in criterion.evidence


class HandsEverythingOver(Agent):
    """Passes every help-article question to a person: the stored table is not this agent."""

    def _answer(self, clean: str, category: str | None) -> AgentReply:
        return AgentReply(tools.ESCALATION_TEXT, True, "escalated", clean)


def test_a_table_of_another_bot_fails_when_the_grader_asks_again(tmp_path: Path) -> None:
    criterion = _evaluation_of(HandsEverythingOver(ScriptedClient(["x"]), tmp_path / "l.jsonl"))
    assert not criterion.passed
    assert "the table does not describe this agent" in criterion.evidence


def test_a_measured_table_of_this_agent_passes_with_sizes_and_interval(tmp_path: Path) -> None:
    criterion = _evaluation_of(_agent(tmp_path))
    assert criterion.passed, criterion.evidence
    assert "evals.run table of 44 questions" in criterion.evidence
    assert "95 % interval" in criterion.evidence and "4 questions asked again" in criterion.evidence


def test_wilson_interval_matches_the_textbook() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table I: 81/263 and 0/10.
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.2775, abs=1e-4))
    with pytest.raises(ValueError, match="total > 0"):
        wilson_interval(0, 0)


def test_card_figures_state_size_and_interval() -> None:
    figures = capstone.card_figures(_evaluation())
    assert (
        figures["correct"].endswith(" %)")
        and "of 44 questions (95 % interval" in figures["correct"]
    )


def test_the_stored_evaluation_is_a_whole_set_evals_run_table() -> None:
    table = capstone.measured_evaluation()
    assert list(table.columns) == list(evals.COLUMNS)
    assert sorted(table["id"]) == sorted(q.id for q in data.eval_set())
    assert table.attrs["settings"] == SETTINGS and "capstone_eval.py" in table.attrs["command"]


# --- unseen cases -----------------------------------------------------------------------------


class Memoriser(Agent):
    """Handles the lesson's messages like the solution and anything else with a shrug."""

    shown = frozenset(c.message for c in load_cases())

    def _decide(self, message: str, customer_id: str | None) -> AgentReply:
        if message in self.shown or not customer_id:
            return super()._decide(message, customer_id)
        return AgentReply("Thanks, all good!", False, "canned", message)


def test_an_agent_fitted_to_the_lessons_cases_fails_the_unseen_ones(tmp_path: Path) -> None:
    agent = Memoriser(ScriptedClient([SCRIPTED_REPLY]), tmp_path / "log.jsonl")
    assert grade(agent, cases=load_cases()).full_marks
    report = grade(agent)
    assert not report.full_marks
    unseen = report.unseen_results
    passed = sum(r.passed for r in unseen)
    assert passed < len(unseen) - 5
    assert f"Unseen cases: {passed} of {len(unseen)} passed" in str(report)
    hidden = {c.message for c in capstone.load_unseen_cases() if c.kind != "triage"}
    evidence = " ".join(c.evidence for c in report.criteria)
    assert "an unseen order question" in evidence
    assert not any(message in evidence for message in hidden)
    transcripts = " ".join(t for c in report.criteria for t in c.transcripts)
    assert not any(message in transcripts for message in hidden)


def test_grading_several_messages_at_once_gives_the_same_verdicts(tmp_path: Path) -> None:
    one = grade(_agent(tmp_path / "a"), workers=1)
    two = grade(_agent(tmp_path / "b"), workers=3)
    assert [(r.case.id, r.passed, r.model_calls) for r in one.results] == [
        (r.case.id, r.passed, r.model_calls) for r in two.results
    ]
    assert two.full_marks
