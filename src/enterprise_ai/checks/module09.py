"""Checks for exercises/09_business_case.ipynb (lesson: notebooks/09_business_case.ipynb)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from enterprise_ai import pilot
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = ["EX09_1_CASES", "EX09_2_CASES", "EX09_3_CASES", "ex09_1", "ex09_2", "ex09_3"]

_BASE: dict[str, float] = {
    "tickets": 1_000,
    "deflection_rate": 0.2,
    "minutes_per_ticket": 6,
    "staff_eur_per_hour": 60,
    "error_rate": 0.0,
    "cost_per_wrong_answer_eur": 0,
    "running_costs_eur": 0,
}

#: ex09_1's fixed cases: (what the case shows, keyword arguments, expected EUR per month).
EX09_1_CASES: list[tuple[str, dict[str, float], float]] = [
    # 1,000 × 0.2 = 200 tickets × 6 min = 20 h × 60 € = 1,200 €
    ("time saved only", dict(_BASE), 1_200.0),
    ("minus running costs", {**_BASE, "running_costs_eur": 500}, 700.0),
    # 200 deflected × 0.1 wrong × 30 € = 600 €
    (
        "minus wrong answers",
        {**_BASE, "error_rate": 0.1, "cost_per_wrong_answer_eur": 30, "running_costs_eur": 500},
        100.0,
    ),
    # a weak model: 100 deflected → 600 € saved, 40 wrong × 30 € = 1,200 € lost
    (
        "a cheap but weak model",
        {**_BASE, "deflection_rate": 0.1, "error_rate": 0.4, "cost_per_wrong_answer_eur": 30},
        -600.0,
    ),
]

#: ex09_2's fixed cases: (baseline_rate, expected_rate, alpha, power).
EX09_2_CASES: list[tuple[float, float, float, float]] = [
    (0.10, 0.15, 0.05, 0.8),
    (0.15, 0.10, 0.05, 0.8),
    (0.30, 0.35, 0.05, 0.8),
    (0.70, 0.75, 0.05, 0.9),
    (0.20, 0.30, 0.01, 0.8),
]

#: ex09_3's fixed cases: (what the case shows, scores, weights, gates, expected score or None).
EX09_3_CASES: list[
    tuple[str, dict[str, float], dict[str, float], dict[str, bool], float | None]
] = [
    ("equal weights", {"quality": 4, "cost": 2}, {"quality": 1, "cost": 1}, {}, 3.0),
    (
        "weights that do not sum to 1",
        {"quality": 5, "cost": 1},
        {"quality": 3, "cost": 1},
        {"data_stays_in_eu": True},
        4.0,
    ),
    (
        "a failed gate",
        {"quality": 5, "cost": 5},
        {"quality": 1, "cost": 1},
        {"data_stays_in_eu": False, "processor_agreement": True},
        None,
    ),
    (
        "a criterion with weight 0",
        {"quality": 2, "cost": 4, "exit": 1},
        {"quality": 0.5, "cost": 0.5, "exit": 0},
        {"processor_agreement": True},
        3.0,
    ),
]


def _number(label: str, got: Any, what: str) -> float | None:
    """``got`` as a float, or ``None`` after a friendly 'not yet'."""
    if got is None:
        not_yet(label, f"{what} returned None", "end your function with `return ...`")
        return None
    if isinstance(got, bool) or not isinstance(got, int | float):
        not_yet(
            label,
            f"{what} returned {got!r} ({type(got).__name__}), not a number",
            "return the number itself, not a string or a table",
        )
        return None
    return float(got)


def ex09_1(net_monthly_benefit: Callable[..., Any]) -> bool:
    """Check ``net_monthly_benefit(*, tickets, deflection_rate, ...)`` on four fixed cases."""
    label = "ex09_1"
    for name, kwargs, expected in EX09_1_CASES:
        ok, got = call_learner_code(label, net_monthly_benefit, **kwargs)
        if not ok:
            return False
        value = _number(label, got, f"net_monthly_benefit(...) for '{name}'")
        if value is None:
            return False
        if math.isclose(value, expected, abs_tol=0.01):
            continue
        deflected = kwargs["tickets"] * kwargs["deflection_rate"]
        saved = deflected * kwargs["minutes_per_ticket"] * kwargs["staff_eur_per_hour"]
        if math.isclose(value, saved, rel_tol=1e-6) or math.isclose(value, saved / 3600):
            hint = "minutes × EUR per HOUR: divide the minutes by 60 (not by 3,600, not at all)"
        elif kwargs["error_rate"] and math.isclose(
            value, expected + deflected * kwargs["error_rate"] * kwargs["cost_per_wrong_answer_eur"]
        ):
            hint = "subtract the wrong answers: deflected tickets × error_rate × cost per wrong one"
        elif kwargs["running_costs_eur"] and math.isclose(
            value, expected + kwargs["running_costs_eur"]
        ):
            hint = "subtract running_costs_eur once per month"
        else:
            hint = (
                "deflected = tickets × deflection_rate; saved = deflected × minutes / 60 × "
                "EUR per hour; minus deflected × error_rate × cost per wrong answer; minus "
                "running costs"
            )
        args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
        return not_yet(
            label,
            f"for '{name}' ({args}) it returned {value:,.2f}, expected {expected:,.2f} EUR",
            hint,
        )
    return passed(
        label,
        f"all {len(EX09_1_CASES)} cases right, including the cheap model that loses "
        f"{-EX09_1_CASES[-1][2]:,.0f} EUR a month.",
    )


def ex09_2(sample_size: Callable[..., Any]) -> bool:
    """Check ``sample_size(baseline_rate, expected_rate, alpha=..., power=...)`` per group."""
    label = "ex09_2"
    for baseline, expected_rate, alpha, power in EX09_2_CASES:
        expected = pilot.sample_size(baseline, expected_rate, alpha=alpha, power=power)
        ok, got = call_learner_code(
            label, sample_size, baseline, expected_rate, alpha=alpha, power=power
        )
        if not ok:
            return False
        call = f"sample_size({baseline}, {expected_rate}, alpha={alpha}, power={power})"
        value = _number(label, got, call)
        if value is None:
            return False
        if value == expected and float(got) == int(got):
            continue
        if expected - 1 <= value < expected:
            hint = "round UP to the next whole ticket: math.ceil(...)"
        elif value < expected:
            hint = (
                "too few: a two-sided test uses NormalDist().inv_cdf(1 - alpha / 2), and the "
                "formula squares the whole sum before dividing by (p1 - p2) ** 2"
            )
        else:
            hint = (
                "check the pooled part: p̄ = (p1 + p2) / 2 and sqrt(2 × p̄ × (1 - p̄)); the "
                "power part uses sqrt(p1(1-p1) + p2(1-p2)) and NormalDist().inv_cdf(power)"
            )
        return not_yet(label, f"{call} returned {got!r}, expected {expected}", hint)
    return passed(
        label,
        f"all {len(EX09_2_CASES)} cases match; 0.10 vs 0.15 needs "
        f"{pilot.sample_size(0.10, 0.15)} tickets per group.",
    )


def ex09_3(weighted_score: Callable[..., Any]) -> bool:
    """Check ``weighted_score(scores, weights, gates) -> float | None`` on four fixed cases."""
    label = "ex09_3"
    for name, scores, weights, gates, expected in EX09_3_CASES:
        ok, got = call_learner_code(label, weighted_score, dict(scores), dict(weights), dict(gates))
        if not ok:
            return False
        call = f"weighted_score({scores}, {weights}, {gates})"
        if expected is None:
            if got is not None:
                return not_yet(
                    label,
                    f"for '{name}' {call} returned {got!r}, expected None",
                    "a failed gate knocks the option out whatever its score: if not "
                    "all(gates.values()), return None before computing anything",
                )
            continue
        if got is None:
            return not_yet(
                label,
                f"for '{name}' {call} returned None although every gate holds",
                "return None only if a gate is False; otherwise return the weighted mean",
            )
        value = _number(label, got, call)
        if value is None:
            return False
        if math.isclose(value, expected, abs_tol=0.001):
            continue
        total = sum(scores[c] * w for c, w in weights.items())
        hint = (
            "divide by the sum of the weights, so the score stays on the 1-5 scale"
            if math.isclose(value, total)
            else "score = sum(scores[c] × weights[c] for each criterion) / sum(weights)"
        )
        return not_yet(label, f"for '{name}' {call} returned {value}, expected {expected}", hint)
    return passed(label, f"all {len(EX09_3_CASES)} cases right, and the gate knocks out.")
