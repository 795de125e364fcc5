"""Checks for exercises/01_costs.ipynb (lesson: notebooks/01_costs.ipynb).

Every case is plain arithmetic on fixed inputs, so a check gives the same verdict on every
machine and every backend.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = ["EX01_2_WORKLOADS", "EX01_PRICES", "ex01_1", "ex01_2", "ex01_3"]

_LESSON = "see lesson 01, 'From tokens to euros'"

#: A small made-up price table (USD per 1M tokens) for ex01_2 and ex01_3: round numbers, so a
#: learner can redo the arithmetic by hand.
EX01_PRICES = pd.DataFrame(
    {
        "provider": ["example", "example", "example"],
        "model": ["big", "small", "tiny"],
        "input_usd_per_1m": [2.0, 0.5, 0.1],
        "output_usd_per_1m": [8.0, 2.0, 0.4],
    }
)


def _close(got: Any, expected: float) -> bool:
    try:
        return math.isclose(float(got), expected, rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _cost_mistake(got: float, case: dict[str, float]) -> str:
    """Name the usual slip behind a wrong cost, if the number gives it away."""
    p, c = case["prompt_tokens"], case["completion_tokens"]
    pin, pout, rate = case["input_usd_per_1m"], case["output_usd_per_1m"], case["usd_to_eur"]
    usd = (p * pin + c * pout) / 1_000_000
    slips = [
        (usd * rate * 1_000_000, "prices are per 1,000,000 tokens: divide by 1_000_000"),
        (usd * rate * 1_000, "prices are per million tokens, not per thousand"),
        (usd, "the result is in dollars: multiply by usd_to_eur"),
        (usd / rate, "multiply by usd_to_eur (euros per dollar), don't divide"),
        ((p * pout + c * pin) / 1_000_000 * rate, "input and output prices are swapped"),
        ((p + c) * pin / 1_000_000 * rate, "answer tokens use output_usd_per_1m, not the input"),
    ]
    for wrong, hint in slips:
        if _close(got, wrong):
            return hint
    expected = usd * rate
    if any(_close(got, round(expected, digits)) for digits in range(10)):
        return (
            "don't round inside the function: return the full number and round only where you "
            "show it (a rounded cost per call is multiplied by 30,000 calls a month)"
        )
    return "cost = (prompt × input price + completion × output price) / 1,000,000 × usd_to_eur"


#: ex01_1's fixed cases: (keyword arguments, expected EUR).
EX01_1_CASES: list[dict[str, float]] = [
    {
        "prompt_tokens": 1_000,
        "completion_tokens": 500,
        "input_usd_per_1m": 2.0,
        "output_usd_per_1m": 8.0,
        "usd_to_eur": 1.0,
    },
    {
        "prompt_tokens": 1_500,
        "completion_tokens": 300,
        "input_usd_per_1m": 0.4,
        "output_usd_per_1m": 1.6,
        "usd_to_eur": 0.86,
    },
    {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "input_usd_per_1m": 2.0,
        "output_usd_per_1m": 8.0,
        "usd_to_eur": 0.9,
    },
]


def _expected_cost(case: dict[str, float]) -> float:
    return (
        (
            case["prompt_tokens"] * case["input_usd_per_1m"]
            + case["completion_tokens"] * case["output_usd_per_1m"]
        )
        / 1_000_000
        * case["usd_to_eur"]
    )


def ex01_1(cost_eur: Callable[..., Any]) -> bool:
    """Check ``cost_eur(prompt_tokens, completion_tokens, *, input_usd_per_1m,
    output_usd_per_1m, usd_to_eur) -> float`` on fixed cases."""
    label = "ex01_1"
    for case in EX01_1_CASES:
        kwargs = {k: case[k] for k in ("input_usd_per_1m", "output_usd_per_1m", "usd_to_eur")}
        args = (int(case["prompt_tokens"]), int(case["completion_tokens"]))
        ok, got = call_learner_code(label, cost_eur, *args, **kwargs)
        if not ok:
            return False
        call = f"cost_eur({args[0]}, {args[1]}, " + ", ".join(f"{k}={v}" for k, v in kwargs.items())
        if got is None:
            return not_yet(
                label, f"{call}) returned None", "end the function with `return` and the cost"
            )
        expected = _expected_cost(case)
        if not _close(got, expected):
            shown = f"{got!r:.40}" if not isinstance(got, float) else f"{got:.8f}"
            return not_yet(
                label,
                f"{call}) returned {shown}, expected {expected:.8f} EUR",
                f"{_cost_mistake(got, case)}; {_LESSON}",
            )
    return passed(label, "cost_eur() gives the right euros on all 3 cases.")


#: ex01_2's workloads: Isar Cycles' month, and a smaller shop's 31-day month at another rate, so
#: that a function with 1,000 tickets or 30 days written into it does not pass.
EX01_2_WORKLOADS: list[dict[str, float]] = [
    {
        "tickets_per_day": 1_000,
        "tokens_in": 1_000,
        "tokens_out": 250,
        "days": 30,
        "usd_to_eur": 0.9,
    },
    {
        "tickets_per_day": 250,
        "tokens_in": 2_000,
        "tokens_out": 400,
        "days": 31,
        "usd_to_eur": 0.86,
    },
]


def _monthly(workload: dict[str, float], tin: float, tout: float) -> float:
    """The expected monthly EUR of one model for one workload."""
    per_ticket = (tin * workload["tokens_in"] + tout * workload["tokens_out"]) / 1_000_000
    return per_ticket * workload["usd_to_eur"] * workload["tickets_per_day"] * workload["days"]


def _describe(workload: dict[str, float]) -> str:
    return (
        f"{workload['tickets_per_day']:,} tickets/day, {workload['tokens_in']:,} tokens in, "
        f"{workload['tokens_out']:,} out, {workload['days']} days, "
        f"{workload['usd_to_eur']} EUR/USD"
    )


def ex01_2(monthly_projection: Callable[..., Any]) -> bool:
    """Check ``monthly_projection(prices, *, tickets_per_day, tokens_in, tokens_out, days,
    usd_to_eur) -> DataFrame`` with columns ``model`` and ``monthly_eur``, cheapest first,
    on two workloads."""
    label = "ex01_2"
    rates = {
        model: (tin, tout)
        for model, tin, tout in zip(
            EX01_PRICES["model"],
            EX01_PRICES["input_usd_per_1m"],
            EX01_PRICES["output_usd_per_1m"],
            strict=True,
        )
    }
    first = EX01_2_WORKLOADS[0]
    for workload in EX01_2_WORKLOADS:
        ok, table = call_learner_code(label, monthly_projection, EX01_PRICES.copy(), **workload)
        if not ok:
            return False
        if table is None:
            return not_yet(label, "monthly_projection() returned None", "return the DataFrame")
        if not isinstance(table, pd.DataFrame):
            return not_yet(
                label,
                f"expected a pandas DataFrame, got {type(table).__name__}",
                "build the result from the prices table: `table = prices[['model']].copy()`",
            )
        missing = [c for c in ("model", "monthly_eur") if c not in table.columns]
        if missing:
            return not_yet(
                label,
                f"the DataFrame has no column(s) {missing}; it has {list(table.columns)}",
                "keep `model` as a column (not the index) and add a `monthly_eur` column",
            )
        expected = {model: _monthly(workload, *rate) for model, rate in rates.items()}
        # What a function with the first workload's tickets and days written into it returns:
        hard_coded = {
            **workload,
            "tickets_per_day": first["tickets_per_day"],
            "days": first["days"],
        }
        if sorted(map(str, table["model"])) != sorted(expected):
            return not_yet(
                label,
                f"expected one row per model {sorted(expected)}, got {list(table['model'])}",
                "keep every row of the prices table",
            )
        for model, got in zip(table["model"], table["monthly_eur"], strict=True):
            if _close(got, expected[model]):
                continue
            hint = "cost per ticket × tickets_per_day × days; the cost per ticket as in ex01_1"
            if workload is not first and _close(got, _monthly(hard_coded, *rates[model])):
                hint = (
                    "use the arguments tickets_per_day and days, not the numbers of the first "
                    "workload (1,000 tickets, 30 days)"
                )
            return not_yet(
                label,
                f"monthly_eur for {model!r} is {got!r:.30}, expected {expected[model]:.2f} "
                f"({_describe(workload)})",
                hint,
            )
        order = [str(m) for m in table["model"]]
        cheapest_first = sorted(expected, key=expected.get)
        if order != cheapest_first:
            return not_yet(
                label,
                f"the rows are in the order {order}; expected cheapest first {cheapest_first}",
                "end with `.sort_values('monthly_eur')`",
            )
    return passed(label, f"the projection is right and cheapest first for both workloads: {order}.")


def ex01_3(within_budget: Callable[..., Any]) -> bool:
    """Check ``within_budget(table, *, budget_eur) -> list[str]``: the models whose
    ``monthly_eur`` is at most the budget, cheapest first."""
    label = "ex01_3"
    table = pd.DataFrame(
        {"model": ["big", "small", "tiny", "mid"], "monthly_eur": [540.0, 135.0, 27.0, 135.01]}
    )
    cases = [(200.0, ["tiny", "small", "mid"]), (135.0, ["tiny", "small"]), (10.0, [])]
    for budget, expected in cases:
        ok, got = call_learner_code(label, within_budget, table.copy(), budget_eur=budget)
        if not ok:
            return False
        if got is None:
            return not_yet(label, "within_budget() returned None", "return a list of names")
        if isinstance(got, pd.Series):
            got = got.tolist()
        if not isinstance(got, list):
            return not_yet(
                label,
                f"expected a list of model names, got {type(got).__name__}",
                "end with `.tolist()` on the model column",
            )
        if got != expected:
            hint = "keep rows with monthly_eur <= budget_eur, sorted by monthly_eur"
            if budget == 135.0 and got == ["tiny"]:
                hint = "a model that costs exactly the budget fits: use <=, not <"
            elif sorted(got) == sorted(expected):
                hint = "sort by monthly_eur first (cheapest first), then take the names"
            elif not expected:
                hint = "when nothing fits, return an empty list []"
            return not_yet(
                label,
                f"within_budget(table, budget_eur={budget}) returned {got!r}, expected {expected}",
                hint,
            )
    return passed(label, "within_budget() picks the affordable models, cheapest first.")
