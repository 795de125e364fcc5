"""Checks for exercises/10_capstone.ipynb (lesson: notebooks/10_capstone.ipynb).

``ex10_1`` and ``ex10_2`` test the two rule-based pieces of the agent on fixed messages, no
model involved. ``capstone(agent)`` grades the whole agent with
:func:`enterprise_ai.capstone.grade` and prints the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from enterprise_ai import capstone as _capstone
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed
from enterprise_ai.compliance_bot import discloses_ai

__all__ = ["EX10_1_CASES", "EX10_2_CASES", "capstone", "ex10_1", "ex10_2"]

#: ex10_1's messages: (message, what must happen) with "disclose", "handoff" or "none".
EX10_1_CASES: list[tuple[str, str]] = [
    ("Are you a human?", "disclose"),
    ("Bist du ein Mensch?", "disclose"),
    ("I want to talk to a human, please.", "handoff"),
    ("Can I speak with a real person?", "handoff"),
    ("Where is my order IC-100001?", "none"),
    ("How long is the warranty on the battery?", "none"),
]

#: ex10_2's cases: (message, signed-in customer, what must happen).
EX10_2_CASES: list[tuple[str, str | None, str]] = [
    ("Where is my order IC-100001?", "C-0228", "status of IC-100001"),
    ("Where is order IC-100001?", "C-0010", "refused: not this customer's order"),
    ("Please refund 120 EUR on IC-100001.", "C-0228", "escalate for approval, no refund"),
    ("How long is the warranty?", "C-0228", "None: no order number"),
    ("Where is my order IC-100001?", None, "None: nobody signed in"),
]


def _reads(reply: Any) -> tuple[str, bool, list[tuple[str, bool, str]]] | None:
    """``(text, escalate, tools)`` of a reply, or ``None`` if it has no text."""
    text = getattr(reply, "text", None)
    if not isinstance(text, str):
        return None
    tools = []
    for item in getattr(reply, "tools", None) or ():
        arguments = getattr(item, "arguments", None) or {}
        tools.append(
            (str(getattr(item, "name", "")), bool(getattr(item, "ok", False)), str(arguments))
        )
    return text, bool(getattr(reply, "escalate", False)), tools


def ex10_1(rule_reply: Callable[..., Any]) -> bool:
    """Check ``rule_reply(message)``: disclosure and hand-off by rule, ``None`` otherwise."""
    label = "ex10_1"
    for message, expected in EX10_1_CASES:
        ok, got = call_learner_code(label, rule_reply, message)
        if not ok:
            return False
        if expected == "none":
            if got is not None:
                return not_yet(
                    label,
                    f"rule_reply({message!r}) returned {got!r:.80}; no rule applies here",
                    "return None when neither asks_if_human nor wants_human matches, so the "
                    "message goes on to the tools and the help articles",
                )
            continue
        read = _reads(got)
        if read is None:
            return not_yet(
                label,
                f"rule_reply({message!r}) returned {got!r:.60}, not a reply with a text",
                "return AgentReply(text, escalate, source) for the two rules",
            )
        text, escalate, _ = read
        if expected == "disclose" and (not discloses_ai(text) or escalate):
            return not_yet(
                label,
                f"asked {message!r}, the reply was {text[:70]!r} (escalate={escalate})",
                "answer with NOT_HUMAN_TEXT and escalate=False (asks_if_human)",
            )
        if expected == "handoff" and not escalate:
            return not_yet(
                label,
                f"asked {message!r}, the reply did not escalate",
                "answer with HANDOFF_TEXT and escalate=True (wants_human)",
            )
    return passed(label, f"all {len(EX10_1_CASES)} messages handled by the right rule or none.")


def ex10_2(order_reply: Callable[..., Any]) -> bool:
    """Check ``order_reply(message, customer_id)`` on :data:`EX10_2_CASES`."""
    label = "ex10_2"
    for message, customer, expected in EX10_2_CASES:
        ok, got = call_learner_code(label, order_reply, message, customer)
        if not ok:
            return False
        call = f"order_reply({message!r}, {customer!r})"
        if expected.startswith("None"):
            if got is not None:
                return not_yet(
                    label,
                    f"{call} returned {got!r:.60}; expected None ({expected[6:]})",
                    "return None unless tools.route(message) finds an order number and a "
                    "customer is signed in",
                )
            continue
        read = _reads(got)
        if read is None:
            return not_yet(
                label,
                f"{call} returned {got!r:.60}, not a reply with a text",
                "return AgentReply(text, escalate, 'tool', message, [result])",
            )
        text, escalate, tools = read
        ran = [(name, args) for name, ok_, args in tools if ok_]
        if expected.startswith("status"):
            if not any(n == "get_order_status" and "IC-100001" in a for n, a in ran):
                return not_yet(
                    label,
                    f"{call}: no successful get_order_status for IC-100001 in reply.tools "
                    f"({tools})",
                    "run desk.execute(*tools.route(message)) with desk = "
                    "tools.OrderDesk(tools.Session(customer_id)) and put the result in tools",
                )
            if "delivered" not in text:
                return not_yet(
                    label,
                    f"{call}: the reply {text[:70]!r} does not give the status 'delivered'",
                    "build the text from the tool result: json.loads(result.content)['status']",
                )
        elif expected.startswith("refused"):
            if ran or "Isar Urban 2" in text:
                return not_yet(
                    label,
                    f"{call}: another customer's order was shown ({ran}, {text[:60]!r})",
                    "look orders up only through the OrderDesk of the signed-in customer",
                )
        elif ran or not escalate:
            return not_yet(
                label,
                f"{call}: tools run {ran}, escalate={escalate}",
                "a refund request goes to a person: reply with tools.APPROVAL_TEXT, "
                "escalate=True, and run no tool (tools.ACTION_WORDS['request_refund'])",
            )
    return passed(
        label, "own order looked up, foreign order refused, refund passed to a person, rest None."
    )


def capstone(agent: Any, **options: Any) -> _capstone.CapstoneReport:
    """Grade the capstone agent, print the report and return it. Never raises.

    The report lists every criterion with ✅, or "not yet" with the evidence and a hint.
    ``options`` go to :func:`enterprise_ai.capstone.grade`, e.g. ``unseen_cases=`` to run
    fewer held-out cases in a classroom (the solution's notebook does; the benchmark grades
    them all).
    """
    report = _capstone.grade(agent, **options)
    print(report)
    return report
