"""Rolling the bot out: the pilot, the KPIs, AI-literacy training and the choice of vendor.

The business case of :mod:`enterprise_ai.roi` rests on guesses; the rollout is how they become
measurements. This module holds the four planning tools of lesson 09:

* :data:`PILOT_PHASES`, :func:`sample_size` and :func:`non_inferiority_sample_size`: first
  *shadow mode* (the bot drafts, a person sends, you measure how often the person agrees), then
  an *A/B test* (half the tickets get the bot), with enough tickets per group to tell a real
  difference from luck: to show the bot is *better* (superiority) or *not worse by more than a
  margin* (non-inferiority, the question of the go/no-go rule); :func:`non_inferiority_test`
  applies that rule to the pilot's counts;
* :func:`kpis`: what to measure during and after the pilot, each KPI with its definition, data
  source and the guardrail that stops the rollout;
* :func:`literacy_plan`: AI-literacy training per role (AI Act Art. 4), dated from
  :data:`enterprise_ai.compliance.TIMELINE`;
* :func:`decision_matrix`: vendor choice as weighted scores with MUST criteria (gates) that
  knock an option out whatever its score.

All numbers are EXAMPLES for Isar Cycles; the legal points are a teaching aid, not legal advice.

Introduced in notebooks/09_business_case.ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import NormalDist

import pandas as pd

from enterprise_ai import compliance

__all__ = [
    "GO_NO_GO_MARGIN",
    "PILOT_PHASES",
    "VENDOR_GATES",
    "VENDOR_WEIGHTS",
    "NonInferiorityResult",
    "decision_matrix",
    "kpis",
    "literacy_plan",
    "literacy_status",
    "non_inferiority_sample_size",
    "non_inferiority_test",
    "sample_size",
    "vendor_options",
    "weeks_needed",
]

# ---------------------------------------------------------------------------------------------
# Pilot design
# ---------------------------------------------------------------------------------------------

#: The go/no-go rule's margin: the bot group may be at most 3 points (0.03) worse than the
#: human group on first-contact resolution. An EXAMPLE for Isar Cycles; agree yours first.
GO_NO_GO_MARGIN = 0.03

#: The pilot in three phases: (phase, weeks, what customers see, what you measure, exit rule).
PILOT_PHASES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "1 shadow mode",
        "2-4",
        "nothing changes: the bot drafts, a person answers as before",
        "agreement: share of drafts the person would send unchanged or with small edits; "
        "wrong-answer rate of the drafts",
        "agreement ≥ 70 % and wrong answers ≤ 5 % on ≥ 400 reviewed drafts",
    ),
    (
        "2 A/B test",
        "4-8",
        "half of the in-scope tickets (chosen at random) get the bot's answer, half a person's",
        "resolution without re-contact, CSAT, handle time, escalations, wrong answers "
        "(review queue), in both groups",
        "go if the bot group is not worse than the human group by more than 3 points on "
        "first-contact resolution (non-inferiority: non_inferiority_sample_size() tickets per "
        "group, judged with non_inferiority_test()), and no guardrail broken",
    ),
    (
        "3 staged rollout",
        "4+",
        "all in-scope tickets, one category at a time; review queue keeps sampling",
        "the KPIs of kpis() every week",
        "any guardrail broken → back to the previous stage",
    ),
)


def sample_size(
    baseline_rate: float, expected_rate: float, *, alpha: float = 0.05, power: float = 0.8
) -> int:
    """Tickets needed PER GROUP to tell two rates apart in an A/B test (two proportions).

    The standard normal-approximation formula with a pooled variance under the null hypothesis
    (two-sided test)::

        n = (z_(1-alpha/2) * sqrt(2 p̄ (1-p̄)) + z_(power) * sqrt(p1 (1-p1) + p2 (1-p2)))²
            / (p1 - p2)²,   p̄ = (p1 + p2) / 2

    rounded up. Small differences need many tickets: the number grows with 1 / difference².
    So decide before the pilot which difference matters to the business, and run it until each
    group has this many tickets; stopping early when the numbers look good is how pilots
    fool their sponsors.

    Args:
        baseline_rate: the rate without the bot, e.g. 0.10 (first-contact resolution, CSAT
            "very satisfied", ...), strictly between 0 and 1.
        expected_rate: the rate you hope for with the bot (the smallest change worth knowing).
        alpha: the false-alarm risk: the chance to declare a difference that is only luck.
        power: the chance to detect the difference if it is real.

    Returns:
        Tickets per group (the whole test needs twice as many).

    Raises:
        ValueError: a rate is not strictly between 0 and 1, the rates are equal, or alpha or
            power are outside (0, 1).

    Example:
        >>> sample_size(0.10, 0.15)   # textbook case: 686 per group
        686
        >>> sample_size(0.30, 0.35)
        1377
    """
    for name, value in (
        ("baseline_rate", baseline_rate),
        ("expected_rate", expected_rate),
        ("alpha", alpha),
        ("power", power),
    ):
        if not 0 < value < 1:
            raise ValueError(f"{name}={value}; it must be strictly between 0 and 1.")
    if baseline_rate == expected_rate:
        raise ValueError(
            f"baseline_rate and expected_rate are both {baseline_rate}: no difference can be "
            "detected. Set expected_rate to the smallest change that matters to the business."
        )
    normal = NormalDist()
    z_alpha = normal.inv_cdf(1 - alpha / 2)
    z_power = normal.inv_cdf(power)
    p1, p2 = baseline_rate, expected_rate
    pooled = (p1 + p2) / 2
    spread = z_alpha * math.sqrt(2 * pooled * (1 - pooled)) + z_power * math.sqrt(
        p1 * (1 - p1) + p2 * (1 - p2)
    )
    return math.ceil(spread**2 / (p1 - p2) ** 2)


def _check_share(name: str, value: float) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{name}={value}; it must be strictly between 0 and 1.")


def non_inferiority_sample_size(
    control_rate: float,
    margin: float,
    *,
    expected_rate: float | None = None,
    alpha: float = 0.025,
    power: float = 0.8,
) -> int:
    """Tickets PER GROUP to show that the bot is not worse than people by more than ``margin``.

    A superiority test (:func:`sample_size`) asks "is the bot better?". The pilot's go/no-go
    rule asks something else: "is the bot *not worse* than people, by more than a margin we
    can accept?". That is a one-sided non-inferiority test of

        H0: p_bot - p_human <= -margin   against   H1: p_bot - p_human > -margin,

    and its normal-approximation sample size (unpooled variance; e.g. S.-C. Chow, J. Shao,
    H. Wang, *Sample Size Calculations in Clinical Research*, 2nd ed., 2008, section 4.2) is::

        n = (z_(1-alpha) + z_(power))² · (p1 (1-p1) + p2 (1-p2)) / (p2 - p1 + margin)²

    rounded up, with p1 the human (control) rate and p2 the rate you expect from the bot. By
    hand for p1 = p2 = 0.70, margin 0.03, power 0.8 (z_0.8 = 0.8416):

    * alpha = 0.025 (z = 1.9600): 2.8016² · 0.42 / 0.0009 = 3,662.8 → 3,663 per group;
    * alpha = 0.05 (z = 1.6449): 2.4865² · 0.42 / 0.0009 = 2,885.2 → 2,886 per group.

    A 3-point margin needs two to three times the tickets of a 5-point superiority test,
    because the difference to resolve is smaller (the count grows with 1 / margin²).

    Args:
        control_rate: the human group's rate, e.g. 0.70 first-contact resolution (0 < p < 1).
        margin: how much worse the bot may be and still count as good enough, as a share
            (0.03 = 3 points). Decide it before the pilot, with the business and the works
            council.
        expected_rate: the rate you expect from the bot; default ``control_rate`` ("as good").
        alpha: the one-sided false-alarm risk: the chance to declare "not worse" when the bot
            is in truth worse by the margin. 0.025 matches a two-sided 95 % confidence
            interval; 0.05 is common in business tests.
        power: the chance to declare "not worse" if the bot really is as good as expected.

    Returns:
        Tickets per group (the whole test needs twice as many).

    Raises:
        ValueError: a rate, alpha or power is outside (0, 1), the margin is not in (0, 1), or
            the expected rate is so far below the control rate that the margin cannot be met.

    Example:
        >>> non_inferiority_sample_size(0.70, 0.03)
        3663
        >>> non_inferiority_sample_size(0.70, 0.03, alpha=0.05)
        2886
    """
    p1 = control_rate
    p2 = control_rate if expected_rate is None else expected_rate
    for name, value in (
        ("control_rate", p1),
        ("expected_rate", p2),
        ("margin", margin),
        ("alpha", alpha),
        ("power", power),
    ):
        _check_share(name, value)
    gap = p2 - p1 + margin
    if gap <= 0:
        raise ValueError(
            f"expected_rate={p2} is {p1 - p2:.3f} below control_rate={p1}, which is not less "
            f"than the margin {margin}: no number of tickets can show non-inferiority. Use a "
            "larger margin, or improve the bot before the pilot."
        )
    normal = NormalDist()
    z_sum = normal.inv_cdf(1 - alpha) + normal.inv_cdf(power)
    return math.ceil(z_sum**2 * (p1 * (1 - p1) + p2 * (1 - p2)) / gap**2)


@dataclass(frozen=True)
class NonInferiorityResult:
    """The go/no-go rule applied to the pilot's counts (see :func:`non_inferiority_test`).

    Attributes:
        bot_rate, human_rate: the measured rates.
        difference: ``bot_rate - human_rate`` (negative: the bot did worse).
        lower_bound: the one-sided ``1 - alpha`` lower confidence bound of the difference.
        margin: the accepted margin (a share, 0.03 = 3 points).
        non_inferior: ``True`` if ``lower_bound > -margin``: "not worse by more than the
            margin", with the stated confidence.
    """

    bot_rate: float
    human_rate: float
    difference: float
    lower_bound: float
    margin: float
    non_inferior: bool

    def __str__(self) -> str:
        verdict = "go: not worse by more than" if self.non_inferior else "no-go: cannot exclude"
        return (
            f"bot {self.bot_rate:.1%} vs people {self.human_rate:.1%}: difference "
            f"{100 * self.difference:+.1f} points, lower bound {100 * self.lower_bound:+.1f} "
            f"points; {verdict} {100 * self.margin:.0f} points"
            + ("" if self.non_inferior else " worse")
        )


def non_inferiority_test(
    bot_successes: int,
    bot_tickets: int,
    human_successes: int,
    human_tickets: int,
    *,
    margin: float = GO_NO_GO_MARGIN,
    alpha: float = 0.025,
) -> NonInferiorityResult:
    """Apply the go/no-go rule "not worse than people, within ``margin``" to pilot counts.

    The bot is non-inferior if the one-sided ``1 - alpha`` lower confidence bound of the
    difference ``p_bot - p_human`` (normal approximation) lies above ``-margin``::

        lower = (p_bot - p_human) - z_(1-alpha) · sqrt(p_bot (1-p_bot) / n_bot
                                                       + p_human (1-p_human) / n_human)

    A bot that did slightly better in the pilot but on too few tickets can still be a
    no-go: the bound, not the point estimate, decides.

    Args:
        bot_successes, bot_tickets: resolved tickets and all tickets in the bot group.
        human_successes, human_tickets: the same for the human group.
        margin: the accepted margin (default :data:`GO_NO_GO_MARGIN`, 3 points).
        alpha: the one-sided risk, as in :func:`non_inferiority_sample_size`.

    Raises:
        ValueError: counts that are negative, zero tickets, or more successes than tickets.

    Example:
        >>> result = non_inferiority_test(2_540, 3_663, 2_565, 3_663)
        >>> result.non_inferior, round(100 * result.lower_bound, 1)
        (True, -2.8)
    """
    for name, successes, tickets in (
        ("bot", bot_successes, bot_tickets),
        ("human", human_successes, human_tickets),
    ):
        if tickets <= 0 or not 0 <= successes <= tickets:
            raise ValueError(
                f"{name} group: {successes} successes of {tickets} tickets; tickets must be > 0 "
                "and successes between 0 and tickets."
            )
    _check_share("margin", margin)
    _check_share("alpha", alpha)
    p_bot, p_human = bot_successes / bot_tickets, human_successes / human_tickets
    spread = math.sqrt(p_bot * (1 - p_bot) / bot_tickets + p_human * (1 - p_human) / human_tickets)
    difference = p_bot - p_human
    lower = difference - NormalDist().inv_cdf(1 - alpha) * spread
    return NonInferiorityResult(p_bot, p_human, difference, lower, margin, lower > -margin)


def weeks_needed(per_group: int, *, tickets_per_week: float, groups: int = 2) -> int:
    """Whole weeks until every group of an A/B test has ``per_group`` tickets.

    Example:
        >>> weeks_needed(686, tickets_per_week=500)   # 1,372 tickets at 500 a week
        3
    """
    if tickets_per_week <= 0:
        raise ValueError(
            f"tickets_per_week={tickets_per_week}; count the in-scope tickets of one week "
            "(e.g. 30,000 a month × 0.5 in scope ÷ 4.3 ≈ 3,500)."
        )
    return math.ceil(per_group * groups / tickets_per_week)


# ---------------------------------------------------------------------------------------------
# KPIs
# ---------------------------------------------------------------------------------------------

#: (KPI, definition, data source, guardrail that stops the rollout).
_KPIS: tuple[tuple[str, str, str, str], ...] = (
    (
        "deflection rate",
        "in-scope tickets closed by the bot without a person, and not re-opened within 7 days",
        "ticket system: closed-by field, re-open events",
        "below 15 % after 8 weeks → the business case does not hold; re-plan",
    ),
    (
        "first-contact resolution",
        "tickets solved with the first answer (no re-contact on the same issue within 7 days)",
        "ticket system: customer and topic of later tickets",
        "bot group more than 3 points below the human group → pause",
    ),
    (
        "handle time",
        "minutes a person spends per ticket, bot-assisted vs not",
        "ticket system: time stamps of open/answer/close",
        "assisted tickets slower than before → the drafts cost time; switch drafts off",
    ),
    (
        "CSAT",
        "share of 'satisfied' or 'very satisfied' answers to the one-question survey",
        "survey after closing (same wording in both groups)",
        "bot group more than 5 points below the human group → pause",
    ),
    (
        "escalation rate",
        "bot conversations handed to a person (asked for, or the bot abstained)",
        "bot audit log (module 05): handoff events",
        "above 60 % → the bot adds a step without saving one",
    ),
    (
        "wrong-answer rate",
        "share of the bot's sent answers a reviewer marks wrong (sample of ≥ 100 a week)",
        "review queue: reviewer labels (module 04's rules + a person)",
        "above 5 %, or any wrong answer on battery safety → stop that category",
    ),
    (
        "cost per ticket",
        "all running costs of the month ÷ tickets, in EUR (roi.monthly_costs)",
        "invoices (API, hosting), time sheets, roi.monthly_costs",
        "above the human cost per ticket for 2 months → re-plan",
    ),
)


def kpis() -> pd.DataFrame:
    """The pilot's KPIs: definition, where the number comes from, and the guardrail.

    A KPI without a data source is a wish, and a KPI without a guardrail never stops anything.
    The guardrail thresholds are EXAMPLES for Isar Cycles; agree your own with the support lead
    and the works council before the pilot starts, not after the first results.

    Returns:
        Columns ``KPI``, ``definition``, ``data source``, ``guardrail``.
    """
    return pd.DataFrame(list(_KPIS), columns=["KPI", "definition", "data source", "guardrail"])


# ---------------------------------------------------------------------------------------------
# AI literacy (AI Act Art. 4)
# ---------------------------------------------------------------------------------------------

#: (role, people at Isar Cycles, hours each, content, course modules that cover it). EXAMPLES.
_LITERACY: tuple[tuple[str, int, float, str, str], ...] = (
    (
        "support agents",
        40,
        2.0,
        "what the bot can and cannot do; reading its drafts critically; when to escalate; "
        "no customer data in other AI tools; how to flag a wrong answer",
        "00, 03, 05",
    ),
    (
        "team leads",
        6,
        4.0,
        "the review queue and KPIs; reading evaluation results; handling complaints about "
        "the bot; the AI disclosure",
        "04, 08, 09",
    ),
    (
        "IT / engineering",
        4,
        6.0,
        "models, tokens and costs; retrieval; evaluations; guardrails against injection and "
        "PII leaks; logging; changing models safely",
        "01-07",
    ),
    (
        "data protection / compliance",
        2,
        5.0,
        "AI Act tiers, roles and dates; system card; GDPR Art. 22, 28, 35, 44-49; audit log",
        "05, 08, 09",
    ),
    (
        "management",
        8,
        1.5,
        "business case and its uncertainties; risks and duties; what the pilot decides",
        "01, 08, 09",
    ),
)


def literacy_plan() -> pd.DataFrame:
    """AI-literacy training per role: people, hours, content and the course modules for it.

    Art. 4 of the AI Act asks providers and deployers to take measures to ensure, to their best
    extent, a sufficient level of AI literacy of their staff, taking into account their
    knowledge, the context and the people affected. So the plan differs by role: agents need to
    read the bot critically, engineers need to change it safely. Keep a record of who was
    trained on what: it is the evidence that the measures were taken. EXAMPLE numbers; not legal
    advice.

    Returns:
        Columns ``role``, ``people``, ``hours each``, ``content``, ``course modules``,
        ``person-hours``.
    """
    columns = ["role", "people", "hours each", "content", "course modules"]
    table = pd.DataFrame(list(_LITERACY), columns=columns)
    table["person-hours"] = table["people"] * table["hours each"]
    return table


def literacy_status(*, as_of: date | None = None) -> str:
    """Since when Art. 4 applies and what it asks as the law stands, from the TIMELINE.

    Args:
        as_of: the day to judge "applies already?" against (default today; pass a fixed day
            in notebooks so the stored output stays reproducible).

    Example:
        >>> literacy_status(as_of=date(2026, 12, 4))[:44]
        'Art. 4 AI literacy applies since 2025-02-02 '
    """
    day = as_of or date.today()
    row = compliance.milestone("prohibitions")
    verb = "applies since" if row.applies_from <= day else "applies from"
    return (
        f"Art. 4 AI literacy {verb} {row.applies_from.isoformat()} ({row.articles}). As "
        "reworded by the Digital Omnibus (adopted June 2026, in force since summer 2026), it "
        "asks providers and deployers to promote the AI literacy of their staff and of others "
        "who use AI on their behalf, with proportionate measures. Not legal advice."
    )


# ---------------------------------------------------------------------------------------------
# Vendor choice: a decision matrix with gates
# ---------------------------------------------------------------------------------------------


def vendor_options() -> pd.DataFrame:
    """Isar Cycles' five options for where the model runs, scored 1 (poor) to 5 (good).

    EXAMPLE scores for discussion, not a test of any vendor: change them to your own view.
    The two gate columns are yes/no:

    * ``data_stays_in_eu``: Isar Cycles' own decision that prompts and answers are processed in
      the EU. The GDPR does not demand this: transfers to the US can rest on the EU-US Data
      Privacy Framework (adequacy decision 2023/1795, upheld by the General Court in T-553/23
      on 3 Sep 2025) or on standard contractual clauses (Art. 46). EU data residency is a
      design choice that simplifies Art. 44-49, not a GDPR requirement in itself.
    * ``processor_agreement``: a GDPR Art. 28 agreement with whoever processes the data is
      available (for a machine of your own there is no processor, so the gate holds).

    Returns:
        One row per option: ``option``, the gates, then the criteria ``answer quality``,
        ``cost``, ``effort to run``, ``exit and lock-in``, ``support and SLA``.
    """
    columns = [
        "option",
        "data_stays_in_eu",
        "processor_agreement",
        "answer quality",
        "cost",
        "effort to run",
        "exit and lock-in",
        "support and SLA",
    ]
    rows = [
        ("local SmolLM2 (own mini PC)", True, True, 1, 5, 3, 5, 1),
        ("larger open model, self-hosted (vLLM)", True, True, 3, 2, 1, 5, 2),
        ("OpenAI API (default region)", False, True, 5, 4, 5, 2, 3),
        ("Azure OpenAI (EU Data Zone)", True, True, 5, 4, 3, 2, 4),
        ("German/EU hoster (open models)", True, True, 3, 3, 4, 4, 4),
    ]
    return pd.DataFrame(rows, columns=columns)


#: EXAMPLE weights of :func:`vendor_options`' criteria (they need not sum to 1).
VENDOR_WEIGHTS: dict[str, float] = {
    "answer quality": 0.35,
    "cost": 0.2,
    "effort to run": 0.15,
    "exit and lock-in": 0.15,
    "support and SLA": 0.15,
}

#: EXAMPLE MUST criteria of Isar Cycles: an option that fails one is out, whatever its score.
VENDOR_GATES: tuple[str, ...] = ("data_stays_in_eu", "processor_agreement")


def decision_matrix(
    options: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    gates: Sequence[str] = (),
    name_column: str = "option",
) -> pd.DataFrame:
    """Weighted scores per option, with MUST criteria that knock an option out.

    A weighted score lets strengths make up for weaknesses; a legal or policy requirement must
    not be traded against a good price. So gates are checked first: an option that fails any
    gate is ranked after all others and marked, whatever its score.

    Args:
        options: one row per option: a name column, the criteria (numbers, e.g. 1-5) and the
            gate columns (True/False).
        weights: criterion → weight (>= 0, at least one > 0). The score is the weighted mean, so
            it stays on the scale of the criteria.
        gates: columns that must be True.
        name_column: the column that names the options.

    Returns:
        One row per option, best first: ``option``, ``score`` (weighted mean), ``passes_gates``,
        ``failed_gates`` (comma-separated, "" if none) and ``rank`` (1 = chosen; options that
        fail a gate are ranked after all others).

    Raises:
        ValueError: a weight or gate names a missing column, a weight is negative, or all
            weights are 0 (the message lists the columns there are).

    Example:
        >>> table = decision_matrix(vendor_options(), VENDOR_WEIGHTS, gates=VENDOR_GATES)
        >>> table.loc[0, "option"]
        'Azure OpenAI (EU Data Zone)'
    """
    missing = [c for c in [*weights, *gates, name_column] if c not in options.columns]
    if missing:
        raise ValueError(
            f"The options table has no column(s) {missing}. Its columns: {list(options.columns)}."
        )
    negative = {k: v for k, v in weights.items() if v < 0}
    if negative or not any(v > 0 for v in weights.values()):
        raise ValueError(
            f"weights {dict(weights)}: every weight must be >= 0 and at least one > 0 "
            "(weight 0 leaves a criterion out)."
        )
    total = sum(weights.values())
    rows = []
    for _, option in options.iterrows():
        score = sum(float(option[c]) * w for c, w in weights.items()) / total
        failed = [g for g in gates if not bool(option[g])]
        rows.append(
            {
                "option": option[name_column],
                "score": round(score, 3),
                "passes_gates": not failed,
                "failed_gates": ", ".join(failed),
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(["passes_gates", "score"], ascending=False, kind="stable")
    table = table.reset_index(drop=True)
    table["rank"] = range(1, len(table) + 1)
    return table
