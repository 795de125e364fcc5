"""Checks for exercises/08_ai_act.ipynb (lesson: notebooks/08_ai_act.ipynb)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from enterprise_ai import compliance
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = ["EX08_1_CASE", "EX08_3_REPLIES", "ex08_1", "ex08_2", "ex08_3"]

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
    ("Yes, I'm a real person from the support team.", False),
    ("Don't worry, I'm not a bot! This is Lisa.", False),
    ("Hello! How can I help you today?", False),
    ("Ja, ich bin ein Mensch.", False),
    ("Thanks for asking! Your order IC-100042 ships tomorrow.", False),
    ("I'm a human being, not an AI.", False),
]


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
        f"high-risk, decided by {', '.join(result.articles)}; Isar Cycles as deployer must, "
        "among other things, inform the works council first (Art. 26(7)).",
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
    """Check ``discloses_ai(reply) -> bool`` on the ten fixed replies of :data:`EX08_3_REPLIES`."""
    label = "ex08_3"
    for reply, expected in EX08_3_REPLIES:
        ok, got = call_learner_code(label, discloses_ai, reply)
        if not ok:
            return False
        if got is None:
            return not_yet(label, "your function returned None", "end it with `return ...`")
        if bool(got) != expected:
            hint = (
                "look for words such as 'AI', 'KI', 'virtual assistant', 'automated system'"
                if expected
                else "a reply that claims to be a person ('real person', 'not a bot', "
                "'ein Mensch') must fail, even if it mentions AI"
            )
            return not_yet(
                label, f"discloses_ai({reply!r}) returned {got}, expected {expected}", hint
            )
    return passed(label, f"all {len(EX08_3_REPLIES)} replies judged right, in English and German.")
