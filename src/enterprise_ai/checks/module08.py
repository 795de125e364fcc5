"""Checks for exercises/08_ai_act.ipynb (lesson: notebooks/08_ai_act.ipynb)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

from enterprise_ai import compliance
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = ["EX08_1_CASE", "EX08_3_REPLIES", "EX08_3_WHAT_IT_IS", "ex08_1", "ex08_2", "ex08_3"]

#: ex08_1's use case, as Isar Cycles' workshop manager describes it.
EX08_1_CASE = (
    "Isar Cycles bought a planning tool from a software vendor. Every morning it assigns the "
    "day's repair jobs to the mechanics, based on each mechanic's measured speed and error rate "
    "over the last weeks. Once a month it ranks the mechanics, and the workshop manager uses "
    "the ranking in performance reviews. Mechanics do not chat with it."
)

#: ex08_3's replies to "Are you a human?" and whether each one discloses the AI.
EX08_3_REPLIES: list[tuple[str, bool]] = [
    ("No, I'm not a human. I'm Isar Cycles' AI support assistant.", True),
    ("I'm a virtual assistant. How can I help with your bike?", True),
    ("Nein, ich bin ein KI-Assistent von Isar Cycles.", True),
    ("I am an automated system, but a colleague can take over.", True),
    ("You're chatting with Isar Cycles' chatbot; a colleague can take over.", True),
    ("Yes, I'm a real person from the support team.", False),
    ("Don't worry, I'm not a bot! This is Lisa.", False),
    ("Hello! How can I help you today?", False),
    ("Ja, ich bin ein Mensch.", False),
    ("Thanks for asking! Your order IC-100042 ships tomorrow.", False),
    ("I'm a human being, not an AI.", False),
    ("Your e-bike is available again from Monday.", False),
    ("Both batteries are covered by the two-year warranty.", False),
    ("Ihr E-Bike ist nach 1.000 Kilometern zur Inspektion fällig.", False),
    ("Our repair team is waiting for the spare part, we will e-mail you.", False),
]

#: What each reply of :data:`EX08_3_REPLIES` is, for the hint when it is judged wrongly: a
#: reply is named for what it says, not only for the word that fooled the check.
EX08_3_WHAT_IT_IS: dict[str, str] = {
    EX08_3_REPLIES[0][0]: "a clear 'no, I'm not a human' that names the AI assistant",
    EX08_3_REPLIES[1][0]: "a disclosure: it calls itself a virtual assistant",
    EX08_3_REPLIES[2][0]: "a German disclosure: 'KI-Assistent' means AI assistant",
    EX08_3_REPLIES[3][0]: "a disclosure: it calls itself an automated system",
    EX08_3_REPLIES[4][0]: "a disclosure: it calls itself a chatbot",
    EX08_3_REPLIES[5][0]: "a claim to be a person",
    EX08_3_REPLIES[6][0]: "a claim to be a person ('not a bot', a name)",
    EX08_3_REPLIES[7][0]: "a greeting that says nothing about who answers",
    EX08_3_REPLIES[8][0]: "a German claim to be a person ('ich bin ein Mensch')",
    EX08_3_REPLIES[9][0]: "an order update: it says nothing about who answers",
    EX08_3_REPLIES[10][0]: "a claim to be a person, even though it mentions AI",
    EX08_3_REPLIES[11][0]: "an availability update: it says nothing about who answers",
    EX08_3_REPLIES[12][0]: "a warranty answer: it says nothing about who answers",
    EX08_3_REPLIES[13][0]: "a German service reminder: it says nothing about who answers",
    EX08_3_REPLIES[14][0]: "an update about a repair: it says nothing about who answers",
}

#: AI words a substring test finds inside ordinary words ("ai" in "available", "bot" in
#: "Both", "ki" in "Kilometern").
_SHORT_AI_WORDS = ("ai", "ki", "bot")
_CLAIMS_PERSON = ("real person", "not a bot", "ein mensch", "human being", "this is lisa")


def _ex08_3_hint(reply: str, expected: bool) -> str:
    """The hint for a wrongly judged reply: what the reply is, then what to change."""
    what = EX08_3_WHAT_IT_IS.get(reply, "this reply")
    lowered = reply.lower()
    if expected:
        return (
            f"this reply is {what}, so it must pass: look for whole words that name an AI "
            "('AI', 'KI', 'KI-Assistent', 'bot', 'chatbot', 'virtual assistant', 'automated "
            "system'), in English and German"
        )
    if any(claim in lowered for claim in _CLAIMS_PERSON):
        return (
            f"this reply is {what}: it must fail even if it mentions AI. Test for claims to be "
            "a person ('real person', 'not a bot', 'ein Mensch', 'human being') first"
        )
    hidden = [w for w in _SHORT_AI_WORDS if w in lowered and not re.search(rf"\b{w}\b", lowered)]
    if hidden:
        inside = ", ".join(f"'{w}'" for w in hidden)
        return (
            f"this reply is {what}. Your check found {inside} inside other words: match whole "
            "words, e.g. re.search(r'\\b(ai|ki|bot)\\b', reply, re.IGNORECASE)"
        )
    return f"this reply is {what}: it must not count as a disclosure"


def ex08_1(use_case: Any) -> bool:
    """Check the learner's :class:`~enterprise_ai.compliance.UseCase` for :data:`EX08_1_CASE`.

    Expected: high-risk under Annex III 4(b) (task allocation by behaviour, performance
    evaluation), as a deployer; no other Annex III point, not prohibited.
    """
    label = "ex08_1"
    if use_case is None:
        return not_yet(
            label,
            "workshop_planner is None",
            "create it: workshop_planner = UseCase(name=..., <the answers that are yes>=True)",
        )
    if not isinstance(use_case, compliance.UseCase):
        return not_yet(
            label,
            f"expected a UseCase, got {type(use_case).__name__}",
            "build it with UseCase(name=..., ...) from enterprise_ai.compliance",
        )
    try:
        result = compliance.assess(use_case)
    except Exception as err:  # noqa: BLE001 - a check reports, it never raises
        return not_yet(label, f"assess() raised {type(err).__name__}: {err}", "check your fields")
    if result.tier == "prohibited":
        return not_yet(
            label,
            f"assess() says prohibited ({', '.join(result.articles)})",
            "the tool allocates tasks and evaluates performance; it does not read emotions or "
            "score people socially. Untick the Art. 5 answers.",
        )
    if use_case.role != "deployer":
        return not_yet(
            label,
            f"role is {use_case.role!r}",
            "Isar Cycles bought the tool and uses it: that makes it the deployer (Art. 3(4)).",
        )
    points = use_case.annex_iii_points()
    if points != ["4(b)"]:
        found = ", ".join(f"Annex III {p}" for p in points) or "no Annex III point"
        return not_yet(
            label,
            f"your answers give {found}; expected Annex III 4(b) only",
            "which Annex III point covers allocating tasks by behaviour and evaluating "
            "performance? Look at the 'work_decisions' field; recruitment (4(a)) is about hiring.",
        )
    if result.tier != "high":
        return not_yet(
            label,
            f"tier {result.tier!r} (decided by {result.articles}), expected 'high'",
            "the tool ranks each mechanic by measured speed and errors: it profiles people, and "
            "then no Art. 6(3) exception helps (set profiles_people=True)",
        )
    return passed(
        label,
        f"high-risk, decided by {', '.join(result.articles)}; as deployer Isar Cycles must "
        "inform the works council before use (Art. 26(7), from Dec 2027), and under §87(1) "
        "Nr. 6 BetrVG the council must agree to it already now.",
    )


def _plain(in_annex_iii: bool, exception: bool, profiles: bool) -> str:
    return (
        f"an Annex III use: {in_annex_iii}, an Art. 6(3) condition holds: {exception}, "
        f"profiles people: {profiles}"
    )


def ex08_2(is_high_risk: Callable[..., Any]) -> bool:
    """Check ``is_high_risk(in_annex_iii, exception_applies, profiles_people) -> bool``.

    All eight combinations: high-risk exactly when the use is in Annex III and either no
    Art. 6(3) condition holds or the system profiles people.
    """
    label = "ex08_2"
    for in_annex_iii, exception, profiles in itertools.product((True, False), repeat=3):
        expected = in_annex_iii and (not exception or profiles)
        ok, got = call_learner_code(label, is_high_risk, in_annex_iii, exception, profiles)
        if not ok:
            return False
        if got is None:
            return not_yet(label, "your function returned None", "end it with `return ...`")
        if not isinstance(got, bool):
            return not_yet(
                label,
                f"it returned {got!r} ({type(got).__name__}), not True or False",
                "return a bool, e.g. `return in_annex_iii and ...`",
            )
        if got != expected:
            return not_yet(
                label,
                f"for {_plain(in_annex_iii, exception, profiles)} it returned {got}, "
                f"expected {expected}",
                "Art. 6(3): the exception only helps a system that does NOT profile people; "
                "outside Annex III this step never makes a system high-risk",
            )
    return passed(label, "all 8 combinations right, including the profiling override.")


def ex08_3(discloses_ai: Callable[..., Any]) -> bool:
    """Check ``discloses_ai(reply) -> bool`` on the fixed replies of :data:`EX08_3_REPLIES`.

    The replies include distractors that fool a substring test ("ai" in "available", "bot" in
    "Both", "ki" in "Kilometern") and claims to be a person that mention AI. The hint for a
    wrongly judged reply says what that reply is.
    """
    label = "ex08_3"
    for reply, expected in EX08_3_REPLIES:
        ok, got = call_learner_code(label, discloses_ai, reply)
        if not ok:
            return False
        if got is None:
            return not_yet(label, "your function returned None", "end it with `return ...`")
        if bool(got) != expected:
            return not_yet(
                label,
                f"discloses_ai({reply!r}) returned {got}, expected {expected}",
                _ex08_3_hint(reply, expected),
            )
    return passed(label, f"all {len(EX08_3_REPLIES)} replies judged right, in English and German.")
