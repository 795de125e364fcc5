"""The business case: what the support bot costs, what it saves, and when it pays for itself.

A business case is a small model of assumptions, and most of its assumptions are guesses. This
module keeps them in one place (:class:`Assumptions`, every field with its unit and why it is
there), turns them into money lines (:func:`monthly_costs`, :func:`monthly_benefits`,
:func:`one_off_costs`), a cash flow over time (:func:`cash_flow`) and a break-even month
(:func:`break_even_month`), and shows which guess matters most (:func:`sensitivity`, drawn as a
tornado chart by :func:`plot_tornado`).

Saved staff time is not automatically money. ``Assumptions.time_savings_as`` says what it is:
``"freed capacity"`` (the default: the hours go to other work, the payroll stays the same, so
the cash flow gets nothing) or ``"cash"`` (the hours leave the payroll: hiring you no longer
need, overtime or temp staff you no longer pay, a headcount change). :func:`verdict` judges
each with its own rule: a cash case by its break-even month, a capacity case by what one freed
hour costs (:func:`cost_per_freed_hour`) against what an hour of staff time costs.

:func:`compare_backends` runs the same case on the local model, OpenAI and Azure in the EU,
because a cheaper model that answers worse can cost more than it saves.

Token prices and the hardware line come from :mod:`enterprise_ai.costs` (module 01), so one
price table serves both lessons. Every Isar Cycles number here is an EXAMPLE to replace with
your own: the deflection rate, above all, must come from your own evaluation (module 04), not
from a vendor's slide.

Example:
    >>> capacity = Assumptions()  # saved time is freed capacity: no cash comes back
    >>> break_even_month(capacity) is None, round(cost_per_freed_hour(capacity), 2)
    (True, 29.14)
    >>> cash = Assumptions(time_savings_as="cash")  # e.g. planned hires that are not needed
    >>> round(net_monthly_benefit(cash)) > 0, break_even_month(cash)
    (True, 9)

Introduced in notebooks/09_business_case.ipynb.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from enterprise_ai import costs
from enterprise_ai.charts import ChartFigure

__all__ = [
    "DEPLOYMENT_OPTIONS",
    "PRE_PILOT_RANGES",
    "SCENARIOS",
    "SENSITIVITY_FIELDS",
    "Assumptions",
    "DeploymentOption",
    "HOURS_PER_FTE_MONTH",
    "TimeSavings",
    "GoNoGo",
    "break_even_month",
    "cash_benefits",
    "cash_flow",
    "cost_per_freed_hour",
    "freed_hours",
    "compare_backends",
    "monthly_benefits",
    "monthly_costs",
    "net_monthly_benefit",
    "one_off_costs",
    "plot_cash_flow",
    "plot_tornado",
    "scenario_table",
    "sensitivity",
    "verdict",
    "with_changes",
]

_MINUTES_PER_HOUR = 60
#: Paid hours of one full-time employee per month, to show freed hours as people (FTE). An
#: EXAMPLE (40 hours × 4 weeks); use your own contract hours.
HOURS_PER_FTE_MONTH = 160
#: What saved staff time is: hours for other work, or money that leaves the payroll.
TimeSavings = Literal["freed capacity", "cash"]
_MONTHS_PER_YEAR = 12


class Assumptions(BaseModel):
    """Everything the business case assumes, one field per number, with unit and reason.

    The defaults are Isar Cycles' EXAMPLE numbers (1,000 tickets a day, gpt-4.1-mini through
    the API), chosen to be plausible for a German online bike shop, not measured. Replace them
    with your own; :func:`sensitivity` tells you which ones are worth measuring first.

    Example:
        >>> Assumptions(deflection_rate=0.4).deflection_rate
        0.4
        >>> Assumptions(deflection_rate=1.4)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        pydantic_core._pydantic_core.ValidationError: 1 validation error for Assumptions...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- Workload and what the bot does with it ------------------------------------------------
    tickets_per_month: int = Field(
        30_000,
        ge=0,
        description="tickets per month (count): module 01's 1,000 a day × 30 days; "
        "everything else scales with it",
    )
    share_in_scope: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of tickets the bot is allowed to handle (0-1): order status, "
        "shipping, returns questions; warranty claims, battery safety and complaints stay "
        "with people by design",
    )
    deflection_rate: float = Field(
        0.25,
        ge=0,
        le=1,
        description="share of in-scope tickets the bot closes without a person (0-1). Take it "
        "from YOUR evaluation (module 04) and the pilot, never from a vendor's slide: a "
        "deflection you have not measured is a guess",
    )
    error_rate: float = Field(
        0.08,
        ge=0,
        le=1,
        description="share of the bot's closed tickets that got a wrong answer (0-1), measured "
        "in the review queue; a cheap model that is often wrong can lose money",
    )
    cost_per_wrong_answer_eur: float = Field(
        20.0,
        ge=0,
        description="EUR per wrong answer: the customer writes again, a person fixes it, "
        "sometimes a goodwill voucher or a refund",
    )
    # --- People time ---------------------------------------------------------------------------
    minutes_per_ticket: float = Field(
        6.0,
        ge=0,
        description="minutes a person needs for one ticket today (handle time, from the "
        "ticket system); each deflected ticket saves this time",
    )
    minutes_saved_assisted: float = Field(
        1.0,
        ge=0,
        description="minutes saved on an in-scope ticket the bot did NOT close, because a "
        "person starts from its draft and its triage; 0 if the drafts are useless",
    )
    staff_eur_per_hour: float = Field(
        40.0,
        ge=0,
        description="loaded cost of one support hour in EUR (salary + employer contributions "
        "+ workplace); ask finance for the number they use",
    )
    time_savings_as: TimeSavings = Field(
        "freed capacity",
        description="what saved staff time is. 'freed capacity' (default): the hours go to "
        "other work, the payroll stays the same, so they are not cash and the cash flow does "
        "not count them; 'cash': the hours really leave the payroll (hiring you no longer "
        "need, overtime or temp staff you no longer pay, a headcount change). Choose 'cash' "
        "only with a named plan and its owner",
    )
    # --- Model and infrastructure --------------------------------------------------------------
    model: str = Field(
        "gpt-4.1-mini",
        description="a model from the price table (enterprise_ai/data/prices.csv); priced "
        "with costs.call_cost_eur",
    )
    tokens_in: int = Field(
        1_500, ge=0, description="prompt tokens per ticket (system prompt + articles + ticket)"
    )
    tokens_out: int = Field(300, ge=0, description="answer tokens per ticket")
    infrastructure_eur_per_month: float = Field(
        0.0,
        ge=0,
        description="EUR per month for machines the bot runs on: 0 for an API, "
        "costs.hardware_eur_per_month() for a model on your own machine",
    )
    # --- Running it ----------------------------------------------------------------------------
    engineer_hours_per_month: float = Field(
        40.0,
        ge=0,
        description="hours per month of an engineer who updates prompts, articles and "
        "evaluations and keeps it running",
    )
    engineer_eur_per_hour: float = Field(90.0, ge=0, description="loaded EUR per engineer hour")
    reviewer_hours_per_month: float = Field(
        60.0,
        ge=0,
        description="hours per month a support lead reads a sample of the bot's answers (the "
        "review queue that measures error_rate); paid at staff_eur_per_hour",
    )
    # --- One-off costs -------------------------------------------------------------------------
    build_cost_eur: float = Field(
        60_000.0,
        ge=0,
        description="one-off EUR to build and integrate the bot (project team, pilot)",
    )
    compliance_one_off_eur: float = Field(
        15_000.0,
        ge=0,
        description="one-off EUR for compliance work: AI Act classification and system card, "
        "Art. 50 disclosure, a GDPR Art. 35 DPIA where needed, the Art. 28 processor agreement",
    )
    compliance_eur_per_year: float = Field(
        12_000.0,
        ge=0,
        description="EUR per year for monitoring, audits, updating the system card and "
        "re-checking after each model change",
    )
    employees_trained: int = Field(
        60,
        ge=0,
        description="people who get AI-literacy training (AI Act Art. 4): support, leads, IT, "
        "data protection, management",
    )
    training_hours_per_employee: float = Field(
        2.5,
        ge=0,
        description="average training hours per person (see pilot.literacy_plan() per role); "
        "paid at staff_eur_per_hour",
    )
    usd_to_eur: float = Field(
        costs.DEFAULT_USD_TO_EUR,
        gt=0,
        description="EUR per USD for the token prices (costs.DEFAULT_USD_TO_EUR by default)",
    )

    # --- Derived counts (properties, so the arithmetic is visible in one place) ---------------

    @property
    def bot_tickets(self) -> float:
        """Tickets per month the bot works on (it drafts an answer for each)."""
        return self.tickets_per_month * self.share_in_scope

    @property
    def deflected_tickets(self) -> float:
        """Tickets per month the bot closes without a person."""
        return self.bot_tickets * self.deflection_rate

    @property
    def assisted_tickets(self) -> float:
        """In-scope tickets a person still answers, starting from the bot's draft."""
        return self.bot_tickets - self.deflected_tickets


def with_changes(assumptions: Assumptions, **changes: float | int | str) -> Assumptions:
    """A copy of ``assumptions`` with some fields changed, validated like a new one.

    ``Assumptions`` is frozen, so a scenario never changes the case it started from.

    Example:
        >>> with_changes(Assumptions(), deflection_rate=0.4).deflection_rate
        0.4
    """
    return Assumptions(**{**assumptions.model_dump(), **changes})


# ---------------------------------------------------------------------------------------------
# Money lines
# ---------------------------------------------------------------------------------------------


def monthly_costs(assumptions: Assumptions, *, prices: pd.DataFrame | None = None) -> pd.Series:
    """Running costs per month in EUR, one entry per line of the budget.

    The model's tokens are usually the smallest line; the people who run and review the bot,
    and the wrong answers it gives, are usually the largest. Seeing the lines side by side is
    the point of module 09.

    Args:
        assumptions: the case.
        prices: a price table like :func:`enterprise_ai.costs.load_prices` (default: the
            course's example prices).

    Returns:
        A ``Series`` (EUR per month) with the lines ``model tokens``, ``infrastructure``,
        ``engineer``, ``review queue``, ``compliance (yearly / 12)``, ``wrong answers``.

    Raises:
        UnknownModelError: ``assumptions.model`` is not in the price table.
    """
    a = assumptions
    per_ticket = costs.call_cost_eur(
        a.tokens_in, a.tokens_out, model=a.model, prices=prices, usd_to_eur=a.usd_to_eur
    )
    return pd.Series(
        {
            "model tokens": per_ticket * a.bot_tickets,
            "infrastructure": a.infrastructure_eur_per_month,
            "engineer": a.engineer_hours_per_month * a.engineer_eur_per_hour,
            "review queue": a.reviewer_hours_per_month * a.staff_eur_per_hour,
            "compliance (yearly / 12)": a.compliance_eur_per_year / _MONTHS_PER_YEAR,
            "wrong answers": a.deflected_tickets * a.error_rate * a.cost_per_wrong_answer_eur,
        },
        name="EUR per month",
    )


def monthly_benefits(assumptions: Assumptions) -> pd.Series:
    """What the staff time saved per month is worth at the loaded hourly cost, in EUR.

    Only time is counted: it is what a finance team can check. Faster answers may also keep
    customers, but that is harder to prove; leave it out of the case and mention it as an
    upside. Whether this value is cash depends on ``time_savings_as``: see
    :func:`cash_benefits`; the cash flow uses that one.

    Returns:
        A ``Series`` (EUR per month): ``deflected tickets`` (the whole handle time of each ticket
        the bot closed) and ``assisted tickets`` (minutes saved where a person used its draft).
    """
    a = assumptions
    hourly = a.staff_eur_per_hour / _MINUTES_PER_HOUR
    return pd.Series(
        {
            "deflected tickets": a.deflected_tickets * a.minutes_per_ticket * hourly,
            "assisted tickets": a.assisted_tickets * a.minutes_saved_assisted * hourly,
        },
        name="EUR per month",
    )


def cash_benefits(assumptions: Assumptions) -> pd.Series:
    """The part of :func:`monthly_benefits` that is cash: all of it, or nothing.

    Freed capacity (the default) is not cash: 560 hours a month that the same 40 agents now
    spend on other work do not lower the payroll by one euro. It becomes cash only when the
    payroll changes: hires you no longer make, overtime or temp staff you no longer pay, a
    headcount change. Then set ``time_savings_as="cash"`` and write down the plan.

    Example:
        >>> cash = Assumptions(time_savings_as="cash")
        >>> float(cash_benefits(Assumptions()).sum()), float(cash_benefits(cash).sum())
        (0.0, 22500.0)
    """
    value = monthly_benefits(assumptions)
    if assumptions.time_savings_as == "cash":
        return value
    return (value * 0.0).rename("EUR per month")


def freed_hours(assumptions: Assumptions) -> float:
    """Staff hours the bot saves per month: deflected tickets' handle time plus drafts' minutes.

    Example:
        >>> freed_hours(Assumptions())  # 3,750 × 6 min + 11,250 × 1 min = 33,750 min
        562.5
    """
    a = assumptions
    minutes = a.deflected_tickets * a.minutes_per_ticket
    minutes += a.assisted_tickets * a.minutes_saved_assisted
    return minutes / _MINUTES_PER_HOUR


def one_off_costs(assumptions: Assumptions) -> pd.Series:
    """Costs paid once before the bot goes live, in EUR, one entry per line.

    Returns:
        A ``Series``: ``build``, ``compliance (one-off)``, ``AI-literacy training`` (people ×
        hours × the staff rate).
    """
    a = assumptions
    return pd.Series(
        {
            "build": a.build_cost_eur,
            "compliance (one-off)": a.compliance_one_off_eur,
            "AI-literacy training": (
                a.employees_trained * a.training_hours_per_employee * a.staff_eur_per_hour
            ),
        },
        name="EUR once",
    )


def net_monthly_benefit(assumptions: Assumptions, *, prices: pd.DataFrame | None = None) -> float:
    """Cash benefits minus running costs per month, in EUR (negative: the bot costs money).

    With ``time_savings_as="freed capacity"`` the cash benefits are 0, so this is minus the
    running costs: honest about the cash, and the reason :func:`verdict` judges a capacity case
    by :func:`cost_per_freed_hour` instead.

    Example:
        >>> case = Assumptions(tickets_per_month=0, engineer_hours_per_month=1,
        ...                    reviewer_hours_per_month=0, compliance_eur_per_year=0)
        >>> net_monthly_benefit(case)
        -90.0
    """
    benefit = float(cash_benefits(assumptions).sum())
    return benefit - float(monthly_costs(assumptions, prices=prices).sum())


def cash_flow(
    assumptions: Assumptions, *, months: int = 24, prices: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Month by month: costs, benefits, net and the running total, starting with the investment.

    Month 0 holds the one-off costs (build, compliance, training); months 1 to ``months`` hold
    the running costs and the cash benefits (:func:`cash_benefits`: nothing while saved time
    is only freed capacity), the same every month. Real projects ramp up over a few
    months; the pilot (``pilot.PILOT_PHASES``) is where you learn how fast.

    Args:
        assumptions: the case.
        months: how many months after the launch to show (the horizon).
        prices: a price table (default: the course's example prices).

    Returns:
        Columns ``month``, ``costs_eur``, ``benefits_eur``, ``net_eur``, ``cumulative_eur``;
        ``months + 1`` rows.

    Raises:
        ValueError: ``months`` is less than 1.
    """
    if months < 1:
        raise ValueError(f"months={months}; the horizon must be at least 1 month (e.g. 24).")
    one_off = float(one_off_costs(assumptions).sum())
    running = float(monthly_costs(assumptions, prices=prices).sum())
    benefit = float(cash_benefits(assumptions).sum())
    rows = [{"month": 0, "costs_eur": one_off, "benefits_eur": 0.0}]
    rows += [
        {"month": m, "costs_eur": running, "benefits_eur": benefit} for m in range(1, months + 1)
    ]
    table = pd.DataFrame(rows)
    table["net_eur"] = table["benefits_eur"] - table["costs_eur"]
    table["cumulative_eur"] = table["net_eur"].cumsum()
    return table


def break_even_month(
    assumptions: Assumptions, *, months: int = 36, prices: pd.DataFrame | None = None
) -> int | None:
    """The first month in which the running total is no longer negative.

    Args:
        assumptions: the case.
        months: the horizon to look within (default 36: three years, the usual life of a
            first version before it is rebuilt).
        prices: a price table (default: the course's example prices).

    Returns:
        The month (0 if nothing was invested and nothing is lost), or ``None`` if the case does
        not pay back within ``months``: either the bot loses money every month, or it earns
        too little to recover the investment in time. ``None`` is an answer, not an error.

    Example:
        >>> weak = Assumptions(time_savings_as="cash", deflection_rate=0.02)
        >>> break_even_month(with_changes(weak, minutes_saved_assisted=0)) is None
        True
    """
    table = cash_flow(assumptions, months=months, prices=prices)
    reached = table.loc[table["cumulative_eur"] >= 0, "month"]
    return None if reached.empty else int(reached.iloc[0])


def cost_per_freed_hour(
    assumptions: Assumptions, *, months: int = 24, prices: pd.DataFrame | None = None
) -> float:
    """What one freed staff hour costs over the horizon, in EUR, all costs included.

    (one-off costs + ``months`` × running costs) ÷ (``months`` × :func:`freed_hours`). Compare
    it with ``staff_eur_per_hour``: below it, the bot frees an hour for less than an hour of
    staff time costs; above it, buying the hour would be cheaper. ``math.inf`` if the bot
    frees no time at all.

    Example:
        >>> round(cost_per_freed_hour(Assumptions()), 2)  # (81,000 + 24 × 13,014) / 13,500
        29.14
    """
    if months < 1:
        raise ValueError(f"months={months}; the horizon must be at least 1 month (e.g. 24).")
    hours = freed_hours(assumptions) * months
    if hours <= 0:
        return math.inf
    spent = float(one_off_costs(assumptions).sum())
    spent += months * float(monthly_costs(assumptions, prices=prices).sum())
    return spent / hours


@dataclass(frozen=True)
class GoNoGo:
    """The go/no-go decision on a business case (:func:`verdict`), with the rule that fits.

    Attributes:
        go: the verdict.
        time_savings_as: ``"cash"`` or ``"freed capacity"``.
        rule: the rule applied, in words.
        reason: the numbers behind the verdict.
        break_even_month: the cash break-even (``None``: not within the horizon, or never).
        cost_per_freed_hour: EUR per freed staff hour over the horizon.
    """

    go: bool
    time_savings_as: str
    rule: str
    reason: str
    break_even_month: int | None
    cost_per_freed_hour: float

    def __str__(self) -> str:
        return f"{'GO' if self.go else 'NO-GO'} ({self.rule}): {self.reason}"


def verdict(
    assumptions: Assumptions, *, months: int = 24, prices: pd.DataFrame | None = None
) -> GoNoGo:
    """Go or no-go, judged by the rule that fits ``time_savings_as``.

    * ``"cash"``: go if the running total turns positive within ``months``
      (:func:`break_even_month`).
    * ``"freed capacity"``: no cash comes back, so a break-even month would be a fiction. Go if
      one freed hour costs less than an hour of staff time (:func:`cost_per_freed_hour` <
      ``staff_eur_per_hour``) and only with a named use for the hours; it is never a cash
      saving until the payroll changes.

    Example:
        >>> print(verdict(Assumptions()).rule)
        cost per freed hour below the staff rate
    """
    a = assumptions
    month = break_even_month(a, months=months, prices=prices)
    per_hour = cost_per_freed_hour(a, months=months, prices=prices)
    hours = freed_hours(a)
    if a.time_savings_as == "cash":
        go = month is not None
        reason = (
            f"saved time counts as cash; break-even in month {month}"
            if go
            else f"saved time counts as cash, but there is no break-even within {months} months"
        )
        return GoNoGo(go, "cash", f"break-even within {months} months", reason, month, per_hour)
    go = per_hour < a.staff_eur_per_hour
    reason = (
        f"{hours:,.1f} staff hours a month ({hours / HOURS_PER_FTE_MONTH:.1f} FTE) are freed, "
        f"not saved: one freed hour costs {per_hour:,.2f} EUR over {months} months, an hour "
        f"of staff time {a.staff_eur_per_hour:,.2f} EUR. No cash comes back unless hiring, "
        "overtime or headcount change; name what the hours are for"
    )
    return GoNoGo(
        go, "freed capacity", "cost per freed hour below the staff rate", reason, month, per_hour
    )


# ---------------------------------------------------------------------------------------------
# Sensitivity
# ---------------------------------------------------------------------------------------------

#: The assumptions :func:`sensitivity` varies by default: the ones a business case is usually
#: unsure about.
SENSITIVITY_FIELDS: tuple[str, ...] = (
    "deflection_rate",
    "error_rate",
    "cost_per_wrong_answer_eur",
    "minutes_per_ticket",
    "minutes_saved_assisted",
    "staff_eur_per_hour",
    "tickets_per_month",
    "engineer_hours_per_month",
    "reviewer_hours_per_month",
    "build_cost_eur",
    "tokens_in",
)

#: How unsure Isar Cycles is about each assumption BEFORE the pilot (EXAMPLE shares for
#: :func:`sensitivity`'s ``vary``): wide for what nobody has measured yet (deflection, wrong
#: answers), narrow for what the ticket system or finance already knows.
PRE_PILOT_RANGES: dict[str, float] = {
    "deflection_rate": 0.6,
    "error_rate": 0.5,
    "cost_per_wrong_answer_eur": 0.5,
    "minutes_saved_assisted": 0.5,
    "engineer_hours_per_month": 0.3,
    "build_cost_eur": 0.3,
    "minutes_per_ticket": 0.15,
    "tickets_per_month": 0.1,
    "staff_eur_per_hour": 0.05,
    "tokens_in": 0.5,
}

_RATE_FIELDS = {"share_in_scope", "deflection_rate", "error_rate"}


def _moved(assumptions: Assumptions, field: str, factor: float) -> float | int:
    value = getattr(assumptions, field) * factor
    if field in _RATE_FIELDS:
        value = min(value, 1.0)
    if Assumptions.model_fields[field].annotation is int:
        return round(value)
    return value


def sensitivity(
    assumptions: Assumptions,
    *,
    vary: Sequence[str] | Mapping[str, float] = SENSITIVITY_FIELDS,
    spread: float = 0.2,
    months: int = 24,
    prices: pd.DataFrame | None = None,
    measure: Literal["cash result", "cost per freed hour"] = "cash result",
) -> pd.DataFrame:
    """Move one assumption at a time down and up by ``spread`` and see the result move.

    The result is the running total after ``months`` (profit or loss over the horizon, the
    investment included), or with ``measure="cost per freed hour"`` what one freed staff hour
    costs (:func:`cost_per_freed_hour`: the measure of a freed-capacity case, where the cash
    total only counts costs). The assumption with the widest swing is the one to measure
    before anything else: usually the deflection rate, rarely the token price.

    Args:
        assumptions: the base case.
        vary: names of numeric fields of :class:`Assumptions` to move, or name → spread to give
            each its own range. Use wide ranges for what you have not measured (the
            deflection rate before a pilot: ±60 %) and narrow ones for what you know (the
            hourly rate finance gave you: ±5 %); equal ranges flatter the unmeasured guesses.
        spread: how far to move each one, as a share (0.2: -20 % and +20 %), unless ``vary``
            gives its own. Rates are capped at 1.
        months: the horizon of the result.
        prices: a price table (default: the course's example prices).
        measure: ``"cash result"`` (EUR after ``months``) or ``"cost per freed hour"`` (EUR).

    Returns:
        One row per assumption, widest swing first: ``assumption``, ``base``, ``low``,
        ``high`` (the values tried), ``result_low_eur``, ``result_high_eur``, ``swing_eur``
        (the absolute difference), ``base_result_eur`` (the same in every row), ``spread`` and
        ``measure``.

    Raises:
        ValueError: a spread is not between 0 and 1, or a name is not a numeric field (the
            message lists those that are).
    """
    spreads = dict(vary) if isinstance(vary, Mapping) else dict.fromkeys(vary, spread)
    bad = {name: value for name, value in spreads.items() if not 0 < value < 1}
    if bad:
        raise ValueError(f"spread {bad}: use a share between 0 and 1, e.g. 0.2 for ±20 %.")
    numeric = [
        name
        for name, info in Assumptions.model_fields.items()
        if info.annotation in (int, float) and name != "usd_to_eur"
    ]
    unknown = [name for name in spreads if name not in numeric]
    if unknown:
        raise ValueError(
            f"Cannot vary {unknown}: not a numeric field of Assumptions. Choose from {numeric}."
        )

    if measure not in ("cash result", "cost per freed hour"):
        raise ValueError(f"measure={measure!r}; use 'cash result' or 'cost per freed hour'.")

    def result(case: Assumptions) -> float:
        if measure == "cost per freed hour":
            return cost_per_freed_hour(case, months=months, prices=prices)
        table = cash_flow(case, months=months, prices=prices)
        return float(table["cumulative_eur"].iloc[-1])

    base = result(assumptions)
    rows = []
    for name, share in spreads.items():
        low = _moved(assumptions, name, 1 - share)
        high = _moved(assumptions, name, 1 + share)
        result_low = result(with_changes(assumptions, **{name: low}))
        result_high = result(with_changes(assumptions, **{name: high}))
        rows.append(
            {
                "assumption": name,
                "base": getattr(assumptions, name),
                "low": low,
                "high": high,
                "result_low_eur": result_low,
                "result_high_eur": result_high,
                "swing_eur": abs(result_high - result_low),
                "base_result_eur": base,
                "spread": share,
                "measure": measure,
            }
        )
    table = pd.DataFrame(rows)
    return table.sort_values("swing_eur", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Scenarios and backends
# ---------------------------------------------------------------------------------------------

#: Three EXAMPLE scenarios for the lesson's static table: what changes from the base case.
SCENARIOS: dict[str, dict[str, float]] = {
    "pessimistic": {"deflection_rate": 0.12, "error_rate": 0.12, "minutes_saved_assisted": 0.5},
    "expected": {},
    "optimistic": {"deflection_rate": 0.40, "error_rate": 0.04, "minutes_saved_assisted": 1.5},
}


def scenario_table(
    assumptions: Assumptions,
    scenarios: Mapping[str, Mapping[str, float | int | str]] = SCENARIOS,
    *,
    months: int = 24,
    prices: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per scenario: its key numbers, monthly money and break-even.

    Args:
        assumptions: the base case; each scenario changes some of its fields.
        scenarios: scenario name → the fields it changes (default :data:`SCENARIOS`).
        months: the horizon for ``result_after_months_eur`` and the break-even search.
        prices: a price table (default: the course's example prices).

    Returns:
        Columns ``scenario``, ``deflection_rate``, ``error_rate``, ``benefits_eur_per_month``
        (cash benefits: 0 while saved time is freed capacity), ``costs_eur_per_month``,
        ``net_eur_per_month``, ``one_off_eur``, ``break_even_month`` (``None``: not within
        ``months``), ``result_after_months_eur``, ``freed_hours_per_month``,
        ``cost_per_freed_hour_eur`` and ``go`` (:func:`verdict`).
    """
    rows = []
    for name, changes in scenarios.items():
        case = with_changes(assumptions, **changes)
        table = cash_flow(case, months=months, prices=prices)
        rows.append(
            {
                "scenario": name,
                "deflection_rate": case.deflection_rate,
                "error_rate": case.error_rate,
                "benefits_eur_per_month": float(cash_benefits(case).sum()),
                "costs_eur_per_month": float(monthly_costs(case, prices=prices).sum()),
                "net_eur_per_month": net_monthly_benefit(case, prices=prices),
                "one_off_eur": float(one_off_costs(case).sum()),
                "break_even_month": break_even_month(case, months=months, prices=prices),
                "result_after_months_eur": float(table["cumulative_eur"].iloc[-1]),
                "freed_hours_per_month": freed_hours(case),
                "cost_per_freed_hour_eur": cost_per_freed_hour(case, months=months, prices=prices),
                "go": verdict(case, months=months, prices=prices).go,
            }
        )
    return _nullable_months(pd.DataFrame(rows))


def _nullable_months(table: pd.DataFrame) -> pd.DataFrame:
    """Break-even months as integers with <NA> for "not within the horizon" (not 9.0 / NaN)."""
    table["break_even_month"] = table["break_even_month"].astype("Int64")
    return table


@dataclass(frozen=True)
class DeploymentOption:
    """One way to deploy the bot: where the model runs, and how well it does the job there.

    One row of :func:`compare_backends`. Not the connection settings of a backend
    (:class:`enterprise_ai.config.Backend`): this is its business side. Quality numbers
    (``deflection_rate``, ``error_rate``, ``minutes_saved_assisted``) are part of it because a
    different model gives different answers: measure them with module 04's evaluation on that
    backend before you trust them.

    Attributes:
        name: what the comparison shows.
        model: a model of the price table.
        deflection_rate: share of in-scope tickets closed without a person (0-1).
        error_rate: share of closed tickets answered wrongly (0-1).
        minutes_saved_assisted: minutes saved per drafted ticket.
        infrastructure_eur_per_month: machines, EUR per month.
        extra_engineer_hours_per_month: upkeep of your own machines, on top of the base case.
        data_location: where prompts and answers are processed.
        note: where the numbers come from.
    """

    name: str
    model: str
    deflection_rate: float
    error_rate: float
    minutes_saved_assisted: float
    infrastructure_eur_per_month: float
    extra_engineer_hours_per_month: float
    data_location: str
    note: str

    def apply(self, assumptions: Assumptions) -> Assumptions:
        """The case with this backend's model, quality and machine costs."""
        return with_changes(
            assumptions,
            model=self.model,
            deflection_rate=self.deflection_rate,
            error_rate=self.error_rate,
            minutes_saved_assisted=self.minutes_saved_assisted,
            infrastructure_eur_per_month=self.infrastructure_eur_per_month,
            engineer_hours_per_month=(
                assumptions.engineer_hours_per_month + self.extra_engineer_hours_per_month
            ),
        )


#: The course's three backends as deployment options, with EXAMPLE quality numbers. SmolLM2's
#: are set from module 04 (the bot answered 48 % of the evaluation questions correctly; real
#: tickets are harder); the hosted models' are guesses until you run module 04 on them.
DEPLOYMENT_OPTIONS: dict[str, DeploymentOption] = {
    "local SmolLM2 (own mini PC)": DeploymentOption(
        name="local SmolLM2 (own mini PC)",
        model="SmolLM2-135M-Instruct",
        deflection_rate=0.10,
        error_rate=0.30,
        minutes_saved_assisted=0.0,
        infrastructure_eur_per_month=round(costs.hardware_eur_per_month(), 2),
        extra_engineer_hours_per_month=8.0,
        data_location="your own machine",
        note="EXAMPLE set from module 04: 48 % of eval questions right; drafts rarely usable",
    ),
    "gpt-4.1-mini (OpenAI API)": DeploymentOption(
        name="gpt-4.1-mini (OpenAI API)",
        model="gpt-4.1-mini",
        deflection_rate=0.25,
        error_rate=0.08,
        minutes_saved_assisted=1.0,
        infrastructure_eur_per_month=0.0,
        extra_engineer_hours_per_month=0.0,
        data_location="provider's regions (check the contract)",
        note="EXAMPLE guess: run module 04 with COURSE_BACKEND=openai to measure it",
    ),
    "gpt-4.1-mini (Azure, EU Data Zone)": DeploymentOption(
        name="gpt-4.1-mini (Azure, EU Data Zone)",
        model="gpt-4.1-mini (Azure)",
        deflection_rate=0.25,
        error_rate=0.08,
        minutes_saved_assisted=1.0,
        infrastructure_eur_per_month=0.0,
        extra_engineer_hours_per_month=2.0,
        data_location="EU (Data Zone deployment)",
        note="EXAMPLE: same model as OpenAI's; check your Azure agreement's prices",
    ),
}


def compare_backends(
    assumptions: Assumptions,
    backends: Sequence[str | DeploymentOption] | None = None,
    *,
    months: int = 24,
    prices: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The same business case on each backend: token bill, quality, net per month, break-even.

    Args:
        assumptions: the base case (workload, people, one-off costs).
        backends: names from :data:`DEPLOYMENT_OPTIONS` or your own :class:`DeploymentOption`
            objects (default: all of :data:`DEPLOYMENT_OPTIONS`).
        months: the horizon for the result and the break-even search.
        prices: a price table (default: the course's example prices).

    Returns:
        One row per backend: ``backend``, ``model``, ``data_location``, ``deflection_rate``,
        ``error_rate``, ``model_tokens_eur_per_month``, ``wrong_answers_eur_per_month``,
        ``net_eur_per_month``, ``break_even_month`` and ``result_after_months_eur``.

    Raises:
        KeyError: a name is not in :data:`DEPLOYMENT_OPTIONS` (the message lists the names).
    """
    chosen = list(DEPLOYMENT_OPTIONS.values()) if backends is None else list(backends)
    rows = []
    for item in chosen:
        if isinstance(item, str):
            if item not in DEPLOYMENT_OPTIONS:
                raise KeyError(
                    f"No deployment option named {item!r}. Known: {list(DEPLOYMENT_OPTIONS)}; "
                    "or pass your own roi.DeploymentOption(...)."
                )
            item = DEPLOYMENT_OPTIONS[item]
        case = item.apply(assumptions)
        lines = monthly_costs(case, prices=prices)
        table = cash_flow(case, months=months, prices=prices)
        rows.append(
            {
                "backend": item.name,
                "model": item.model,
                "data_location": item.data_location,
                "deflection_rate": case.deflection_rate,
                "error_rate": case.error_rate,
                "model_tokens_eur_per_month": float(lines["model tokens"]),
                "wrong_answers_eur_per_month": float(lines["wrong answers"]),
                "net_eur_per_month": net_monthly_benefit(case, prices=prices),
                "break_even_month": break_even_month(case, months=months, prices=prices),
                "result_after_months_eur": float(table["cumulative_eur"].iloc[-1]),
            }
        )
    return _nullable_months(pd.DataFrame(rows))


# ---------------------------------------------------------------------------------------------
# Plots (the style of charts.plot_monthly_costs: large fonts, EUR, labelled axes)
# ---------------------------------------------------------------------------------------------

_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e")


def _eur(value: float) -> str:
    return f"{value:,.0f} €"


def plot_cash_flow(
    flows: pd.DataFrame | Mapping[str, pd.DataFrame], *, title: str | None = None
) -> ChartFigure:
    """The running total (EUR) month by month, one line per scenario, break-even marked (◆).

    Args:
        flows: a :func:`cash_flow` table, or scenario name → table to draw several lines.
        title: the chart title (default: says what is drawn).

    Returns:
        A :class:`~enterprise_ai.charts.ChartFigure` (shows itself in a notebook; widgets can
        redraw it without pyplot).
    """
    named = {"business case": flows} if isinstance(flows, pd.DataFrame) else dict(flows)
    figure = ChartFigure(figsize=(10, 5.2), dpi=80)
    ax = figure.add_subplot()
    for colour, (name, table) in zip(_COLOURS * 3, named.items(), strict=False):
        reached = table.loc[table["cumulative_eur"] >= 0, "month"]
        when = "never" if reached.empty else f"month {int(reached.iloc[0])}"
        result = _eur(float(table["cumulative_eur"].iloc[-1]))
        ax.plot(
            table["month"],
            table["cumulative_eur"] / 1_000,
            marker="o",
            markersize=4,
            lw=2.5,
            color=colour,
            label=f"{name}: {result} after {int(table['month'].iloc[-1])} months, "
            f"break-even {when}",
        )
        if not reached.empty:
            ax.plot([int(reached.iloc[0])], [0], marker="D", markersize=10, color=colour)
    ax.legend(loc="best", fontsize=13, frameon=False)
    ax.axhline(0, color="#333333", lw=1)
    ax.set_xlabel("months after launch (month 0: one-off costs)", fontsize=15)
    ax.set_ylabel("running total (thousand EUR)", fontsize=15)
    ax.tick_params(labelsize=14)
    ax.set_title(title or "Cumulative cash flow of the support bot (example numbers)", fontsize=16)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.tight_layout()
    return figure


def plot_tornado(table: pd.DataFrame, *, title: str | None = None) -> ChartFigure:
    """A tornado chart of a :func:`sensitivity` table: widest swing on top.

    Each bar runs from the result with the assumption at its low value to the result at its
    high value; the vertical line is the base case. Orange is the low value of an assumption,
    green its high value (a cost assumption's green bar points left: more cost, less result).
    A table of ``measure="cost per freed hour"`` is drawn in EUR per hour (lower is better).

    Args:
        table: a :func:`sensitivity` result.
        title: the chart title (default: says what is drawn).
    """
    figure = ChartFigure(figsize=(10, 0.55 * len(table) + 2.0), dpi=80)
    ax = figure.add_subplot()
    ordered = table.iloc[::-1]  # widest on top
    per_hour = "measure" in table and (table["measure"] == "cost per freed hour").any()
    scale = 1.0 if per_hour else 1_000.0
    base = float(table["base_result_eur"].iloc[0]) / scale if len(table) else 0.0
    for y, row in enumerate(ordered.itertuples()):
        low, high = row.result_low_eur / scale, row.result_high_eur / scale
        ax.barh(y, low - base, left=base, color="#d95f02", height=0.6)
        ax.barh(y, high - base, left=base, color="#1b9e77", height=0.6)
    labels = [
        re.sub(r"_eur$", " (EUR)", str(n)).replace("_eur_", " EUR ").replace("_", " ")
        for n in ordered["assumption"]
    ]
    ax.set_yticks(range(len(ordered)), labels)
    ax.axvline(base, color="#333333", lw=1.5)
    ax.annotate(
        f"base case: {base:,.2f} € per hour" if per_hour else f"base case: {_eur(base * scale)}",
        (base, len(ordered) - 0.5),
        xytext=(6, 0),
        textcoords="offset points",
        fontsize=12,
    )
    ax.set_xlabel(
        "cost per freed staff hour (EUR)"
        if per_hour
        else "result after the horizon (thousand EUR)",
        fontsize=15,
    )
    ax.tick_params(labelsize=13)
    spreads = sorted({round(100 * float(x)) for x in table["spread"]})
    if len(spreads) == 1:
        default = f"Which assumption matters most?\norange: -{spreads[0]} %, green: +{spreads[0]} %"
    else:
        default = "Which assumption matters most?\norange: low value, green: high value"
    ax.set_title(title or default, fontsize=16)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.tight_layout()
    return figure
