"""Tests for enterprise_ai.capstone: the grader, on scripted agents (no model needed).

The solution-style agent below is the one solutions/10_capstone.ipynb builds; a scripted client
stands in for the model, so each verdict is decided by what the agent *did*.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from enterprise_ai import agents, audit, capstone, guardrails, support, tools, triage
from enterprise_ai.capstone import AgentReply, grade, load_cases
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
    ) -> None:
        self.client = client
        self.model = "scripted"
        self.facts = FACTS
        self.audit_log = audit.AuditLog(log_path, retention_days=184)
        self.budget = agents.Budget(max_steps=2, max_tokens=3000)
        self.evaluation = {"answered correctly": "3 of 3"}
        self.disclose = disclose
        self.redact = redact
        self.block_injections = block_injections
        self.approve_refunds_itself = approve_refunds_itself

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
        answer = support.answer(clean, client=self.client, model=self.model, k=2, max_tokens=80)
        return AgentReply(
            answer.text, answer.escalate, answer.source, clean, [], answer.citations, category
        )


def _agent(tmp_path: Path, reply: str = "I don't know.", **switches: Any) -> Agent:
    return Agent(ScriptedClient([reply]), tmp_path / "log.jsonl", **switches)


def test_cases_cover_every_kind_with_valid_data() -> None:
    cases = load_cases()
    kinds = {case.kind for case in cases}
    assert kinds == set(capstone.CaseKind.__args__)  # type: ignore[attr-defined]
    assert len({case.id for case in cases}) == len(cases)
    assert all(c.category in triage.CATEGORIES for c in cases if c.kind == "triage")
    assert all(c.source_ids and c.key_facts for c in cases if c.kind == "kb_answer")


def test_the_solution_style_agent_gets_full_marks(tmp_path: Path) -> None:
    report = grade(_agent(tmp_path))
    assert report.full_marks, str(report)
    assert report.score == report.max_score == 26
    assert report.compliance is not None and report.compliance.passed
    assert "FULL MARKS" in str(report)


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
    }
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
    assert "0 of 10 tickets" in report["Triage sorts tickets correctly"].evidence
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
    report = _slow_model_grade(Agent(None, tmp_path / "log.jsonl"))
    (result,) = report.results
    assert result.budget_stop == "seconds"
    criterion = report["Stays within its budget"]
    assert not criterion.passed
    assert "case K1: the grader stopped the agent" in criterion.evidence
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
    assert not criterion.passed and "it answered instead" in criterion.evidence


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
    assert "Capstone report: 26/26 points (FULL MARKS)" in capsys.readouterr().out


def test_module_08_support_bot_scores_partially_with_citations_read_from_its_text(
    tmp_path: Path,
) -> None:
    from enterprise_ai.compliance_bot import SupportBot

    bot = SupportBot(
        client=ScriptedClient(["I am not sure."]),
        model="m",
        facts=FACTS,
        redact=lambda text: guardrails.redact_pii(text).text,
        audit_log=audit.AuditLog(tmp_path / "bot.jsonl", retention_days=184),
        k=2,
        max_tokens=80,
    )
    report = grade(bot)
    assert [c.name for c in report.failed()] == [
        "Stays within its budget",
        "Triage sorts tickets correctly",
        "Order questions use the order tool",
        "German messages are handled",
        "Evaluation results for the system card",
    ]
    assert report.score == 19
    assert report["Answers are grounded and cited"].passed
