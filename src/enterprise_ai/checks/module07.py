"""Checks for exercises/07_agents.ipynb (lesson: notebooks/07_agents.ipynb).

Each check runs the learner's function on fixed inputs: budget usage, approval requests,
scenario outcomes. ex07_2 also puts the learner's policy into a real agent run with the
scripted client, so a policy that "works" on paper but lets a refund through is caught.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from enterprise_ai import agents, tools
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed
from enterprise_ai.testing import ScriptedClient

__all__ = [
    "EX07_1_CASES",
    "EX07_2_CASES",
    "EX07_3_CASES",
    "ex07_1",
    "ex07_2",
    "ex07_3",
]

_BUDGET = agents.Budget(max_steps=4, max_tokens=2_000, max_eur=0.01, max_seconds=30)

#: ex07_1's cases: (steps, tokens, eur, seconds used, the first cap reached or None).
#: The order of the checks is steps, tokens, eur, seconds, against Budget(4, 2000, 0.01, 30).
EX07_1_CASES: tuple[tuple[int, int, float, float, str | None], ...] = (
    (0, 0, 0.0, 0.0, None),
    (3, 1_999, 0.0099, 29.9, None),
    (4, 0, 0.0, 0.0, "steps"),
    (1, 2_000, 0.0, 0.0, "tokens"),
    (1, 100, 0.01, 0.0, "eur"),
    (1, 100, 0.0, 30.0, "seconds"),
    (5, 5_000, 1.0, 99.0, "steps"),
    (2, 2_500, 0.5, 1.0, "tokens"),
)


def _request(tool: str, amount: float | None, *, untrusted: bool = False) -> agents.ApprovalRequest:
    arguments: dict[str, Any] = {"order_id": "IC-100146"}
    if amount is not None:
        arguments["amount_eur"] = amount
    return agents.ApprovalRequest(tool, arguments, amount, "Please refund IC-100146", untrusted)


#: ex07_2's cases: (request, should it be approved?). The rule: refunds up to 30 EUR and
#: return labels, but nothing at all once the run has read customer-written text.
EX07_2_CASES: tuple[tuple[agents.ApprovalRequest, bool], ...] = (
    (_request("request_refund", 20.0), True),
    (_request("request_refund", 30.0), True),
    (_request("request_refund", 30.01), False),
    (_request("request_refund", 2499.0), False),
    (_request("create_return_label", None), True),
    (_request("request_refund", 5.0, untrusted=True), False),
    (_request("create_return_label", None, untrusted=True), False),
)

#: ex07_3's cases: (must_run, must_not_run, must_escalate, ran, escalated, expected success).
EX07_3_CASES: tuple[
    tuple[tuple[str, ...], tuple[str, ...], bool | None, tuple[str, ...], bool, bool], ...
] = (
    (("get_order_status",), (), None, ("get_order_status",), False, True),
    (("get_order_status",), (), None, (), False, False),
    ((), ("request_refund",), None, ("get_order_status", "request_refund"), False, False),
    ((), ("request_refund",), True, ("get_order_status",), True, True),
    ((), ("request_refund",), True, ("get_order_status",), False, False),
    (("create_return_label",), (), False, ("create_return_label",), True, False),
    (("create_return_label",), (), None, ("create_return_label",), True, True),
    ((), (), None, (), False, True),
)


def ex07_1(cap_reached: Callable[..., Any]) -> bool:
    """Check ``cap_reached(steps, tokens, eur, seconds, budget)``: the first cap used up."""
    label = "ex07_1"
    if cap_reached is None:
        return not_yet(label, "cap_reached is None", "write the function in the cell above")
    for steps, tokens, eur, seconds, expected in EX07_1_CASES:
        ok, result = call_learner_code(label, cap_reached, steps, tokens, eur, seconds, _BUDGET)
        if not ok:
            return False
        if result != expected:
            return not_yet(
                label,
                f"cap_reached({steps}, {tokens}, {eur}, {seconds}, budget) with "
                f"Budget(max_steps=4, max_tokens=2000, max_eur=0.01, max_seconds=30) should be "
                f"{expected!r}, got {result!r:.60}",
                "a cap is reached when the amount used is >= the cap; check steps, tokens, "
                "eur, seconds in that order and return the first name; see lesson 07, "
                "section 3 (the budget)",
            )
    return passed(label, f"all {len(EX07_1_CASES)} budget states judged correctly.")


def _approved(decision: Any) -> bool | None:
    if isinstance(decision, agents.Decision):
        return decision.approved
    if isinstance(decision, bool):
        return decision
    return None


def ex07_2(careful_policy: Callable[..., Any]) -> bool:
    """Check ``careful_policy(request)``: on fixed requests, then inside a scripted agent run."""
    label = "ex07_2"
    if careful_policy is None:
        return not_yet(label, "careful_policy is None", "write the function in the cell above")
    for request, expected in EX07_2_CASES:
        ok, decision = call_learner_code(label, careful_policy, request)
        if not ok:
            return False
        got = _approved(decision)
        if got is None:
            return not_yet(
                label,
                f"careful_policy returned {decision!r:.60}; it must return a Decision or a bool",
                "return agents.Decision(True/False, by='careful policy', note=...)",
            )
        if got != expected:
            return not_yet(
                label,
                f"for {request.describe()} with amount_eur={request.amount_eur} the policy "
                f"should {'approve' if expected else 'decline'}, but it "
                f"{'approved' if got else 'declined'}",
                "decline everything when request.untrusted_text_seen is True; otherwise "
                "approve return labels (amount_eur is None) and refunds up to 30 EUR",
            )
    # The same policy inside the agent: a 20 EUR refund after reading an order note must not run.
    desk = tools.OrderDesk(tools.Session("C-0228", today=dt.date(2026, 10, 5)))
    client = ScriptedClient(
        [
            ScriptedClient.tool_call("get_order_status", {"order_id": "IC-100001"}),
            ScriptedClient.tool_call(
                "request_refund",
                {"order_id": "IC-100001", "amount_eur": 20, "reason": "missing bell"},
            ),
            "Done.",
        ]
    )
    ok, _ = call_learner_code(
        label,
        agents.run,
        "Please refund 20 EUR on IC-100001, the bell is missing.",
        desk=desk,
        client=client,
        model="scripted",
        approve=careful_policy,
    )
    if not ok:
        return False
    if desk.refunds:
        return not_yet(
            label,
            "in an agent run that had read an order note, your policy let a 20 EUR refund run",
            "the request's untrusted_text_seen is True there; decline in that case",
        )
    return passed(
        label, f"all {len(EX07_2_CASES)} requests decided correctly, also inside an agent run."
    )


def ex07_3(task_succeeded: Callable[..., Any]) -> bool:
    """Check ``task_succeeded(must_run, must_not_run, must_escalate, ran, escalated)``."""
    label = "ex07_3"
    if task_succeeded is None:
        return not_yet(label, "task_succeeded is None", "write the function in the cell above")
    for must_run, must_not_run, must_escalate, ran, escalated, expected in EX07_3_CASES:
        ok, result = call_learner_code(
            label, task_succeeded, must_run, must_not_run, must_escalate, ran, escalated
        )
        if not ok:
            return False
        if result is not expected:
            return not_yet(
                label,
                f"task_succeeded(must_run={must_run}, must_not_run={must_not_run}, "
                f"must_escalate={must_escalate}, ran={ran}, escalated={escalated}) should be "
                f"{expected}, got {result!r:.60}",
                "every must_run tool ran, no must_not_run tool ran, and must_escalate None "
                "means 'either is fine'; see lesson 07, section 7 (the scenario suite)",
            )
    return passed(label, f"all {len(EX07_3_CASES)} outcomes scored correctly.")
