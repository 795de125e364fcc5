"""Business case (roi), rollout planning (pilot), the ROI widget and the checks of module 09.

The central numbers are computed by hand in the comments, so a change in the arithmetic fails
here with a number a reader can verify on paper.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from pydantic import ValidationError

from enterprise_ai import compliance, pilot, roi
from enterprise_ai.roi import Assumptions

#: A case small enough to compute on paper (see test_hand_computed_case).
PAPER = Assumptions(
    tickets_per_month=1_000,
    share_in_scope=0.5,  # 500 bot tickets
    deflection_rate=0.2,  # 100 deflected, 400 assisted
    error_rate=0.1,  # 10 wrong answers
    cost_per_wrong_answer_eur=30,
    minutes_per_ticket=6,
    minutes_saved_assisted=1.5,
    staff_eur_per_hour=60,
    model="SmolLM2-135M-Instruct",  # 0 EUR per token
    infrastructure_eur_per_month=100,
    engineer_hours_per_month=5,
    engineer_eur_per_hour=80,
    reviewer_hours_per_month=2,
    build_cost_eur=500,
    compliance_one_off_eur=200,
    compliance_eur_per_year=1_200,
    employees_trained=2,
    training_hours_per_employee=1,
    time_savings_as="cash",  # the paper case counts saved time as cash (hires not needed)
)


def test_hand_computed_case() -> None:
    # benefits: 100 × 6 min = 10 h × 60 € = 600 €; 400 × 1.5 min = 10 h × 60 € = 600 €
    assert roi.monthly_benefits(PAPER).to_dict() == {
        "deflected tickets": 600.0,
        "assisted tickets": 600.0,
    }
    # costs: 0 tokens + 100 infra + 5 h × 80 + 2 h × 60 + 1,200 / 12 + 10 wrong × 30
    assert roi.monthly_costs(PAPER).to_dict() == {
        "model tokens": 0.0,
        "infrastructure": 100.0,
        "engineer": 400.0,
        "review queue": 120.0,
        "compliance (yearly / 12)": 100.0,
        "wrong answers": 300.0,
    }
    assert roi.net_monthly_benefit(PAPER) == pytest.approx(180.0)
    # one-off: 500 + 200 + 2 people × 1 h × 60 € = 820
    assert roi.one_off_costs(PAPER).sum() == pytest.approx(820.0)


def test_cash_flow_and_break_even_on_paper() -> None:
    table = roi.cash_flow(PAPER, months=6)
    assert list(table.columns) == [
        "month",
        "costs_eur",
        "benefits_eur",
        "net_eur",
        "cumulative_eur",
    ]
    assert len(table) == 7
    # -820, then +180 a month: -640, -460, -280, -100, +80 → break-even in month 5
    assert table["cumulative_eur"].round(6).tolist() == [-820, -640, -460, -280, -100, 80, 260]
    assert roi.break_even_month(PAPER) == 5
    assert roi.break_even_month(PAPER, months=4) is None  # not within the horizon


def test_token_line_uses_the_price_table() -> None:
    case = roi.with_changes(PAPER, model="gpt-4.1-mini", usd_to_eur=1.0)
    # (1,500 × 0.40 + 300 × 1.60) USD / 1M = 0.00108 per ticket × 500 bot tickets = 0.54
    assert roi.monthly_costs(case)["model tokens"] == pytest.approx(0.54)


def test_freed_capacity_is_not_cash() -> None:
    capacity = roi.with_changes(PAPER, time_savings_as="freed capacity")
    # the value of the saved time stays visible, but none of it reaches the cash flow
    assert roi.monthly_benefits(capacity).sum() == pytest.approx(1_200.0)
    assert roi.cash_benefits(capacity).sum() == 0.0
    assert roi.net_monthly_benefit(capacity) == pytest.approx(-1_020.0)  # minus the costs
    assert roi.break_even_month(capacity, months=120) is None
    assert (roi.cash_flow(capacity)["benefits_eur"] == 0).all()
    # 100 × 6 min + 400 × 1.5 min = 1,200 min = 20 hours a month, in either view
    assert roi.freed_hours(capacity) == roi.freed_hours(PAPER) == pytest.approx(20.0)


def test_cost_per_freed_hour_on_paper() -> None:
    # 12 months: (820 + 12 × 1,020) / (12 × 20) = 13,060 / 240 = 54.42 EUR per hour
    assert roi.cost_per_freed_hour(PAPER, months=12) == pytest.approx(13_060 / 240)
    nothing_freed = roi.with_changes(PAPER, deflection_rate=0.0, minutes_saved_assisted=0.0)
    assert roi.cost_per_freed_hour(nothing_freed) == float("inf")
    with pytest.raises(ValueError, match="at least 1 month"):
        roi.cost_per_freed_hour(PAPER, months=0)


def test_verdict_uses_the_rule_that_fits_what_saved_time_is() -> None:
    cash = roi.verdict(PAPER, months=12)
    assert cash.go and cash.break_even_month == 5
    assert cash.rule == "break-even within 12 months" and "month 5" in cash.reason
    # the same case as freed capacity: 54.42 EUR per freed hour vs 60 EUR staff → go,
    # with no cash break-even; at 50 EUR staff (and the same costs) it is a no-go
    capacity = roi.verdict(roi.with_changes(PAPER, time_savings_as="freed capacity"), months=12)
    assert capacity.go and capacity.break_even_month is None
    assert capacity.rule == "cost per freed hour below the staff rate"
    assert "54.42 EUR" in capacity.reason and "freed, not saved" in capacity.reason
    assert str(capacity).startswith("GO (cost per freed hour")
    losing = roi.with_changes(PAPER, time_savings_as="cash", error_rate=0.5)
    assert not roi.verdict(losing).go and str(roi.verdict(losing)).startswith("NO-GO")


def test_the_default_case_is_honest_freed_capacity() -> None:
    case = Assumptions()
    assert case.time_savings_as == "freed capacity"
    assert roi.break_even_month(case) is None
    # 3,750 deflected × 6 min + 11,250 drafts × 1 min = 33,750 min = 562.5 h a month;
    # (81,000 + 24 × 13,013.93) / (24 × 562.5) = 393,334.3 / 13,500 = 29.14 EUR per hour
    assert roi.freed_hours(case) == pytest.approx(562.5)
    assert roi.cost_per_freed_hour(case) == pytest.approx(29.136, abs=1e-3)
    assert roi.verdict(case).go  # below the 40 EUR staff rate
    assert roi.break_even_month(roi.with_changes(case, time_savings_as="cash")) == 9
    with pytest.raises(ValidationError, match="time_savings_as"):
        roi.with_changes(case, time_savings_as="savings")


def test_a_losing_case_never_breaks_even() -> None:
    losing = roi.with_changes(PAPER, error_rate=0.5)  # 50 wrong × 30 € = 1,500 € a month
    assert roi.net_monthly_benefit(losing) < 0
    assert roi.break_even_month(losing, months=120) is None


def test_nothing_invested_and_nothing_lost_breaks_even_at_month_0() -> None:
    free = roi.with_changes(PAPER, build_cost_eur=0, compliance_one_off_eur=0, employees_trained=0)
    assert roi.break_even_month(free) == 0


def test_assumptions_are_validated_and_frozen() -> None:
    with pytest.raises(ValidationError, match="deflection_rate"):
        Assumptions(deflection_rate=1.5)
    with pytest.raises(ValidationError, match="extra"):
        Assumptions(deflection=0.3)  # a typo must not be silently ignored
    with pytest.raises(ValidationError):
        PAPER.deflection_rate = 0.9  # type: ignore[misc]
    assert all(info.description for info in Assumptions.model_fields.values())


def test_unknown_model_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="gpt-4.1-mini"):
        roi.monthly_costs(roi.with_changes(PAPER, model="gpt-99"))


def test_cash_flow_rejects_an_empty_horizon() -> None:
    with pytest.raises(ValueError, match="at least 1 month"):
        roi.cash_flow(PAPER, months=0)


def test_sensitivity_orders_by_swing_and_moves_one_thing_at_a_time() -> None:
    table = roi.sensitivity(PAPER, vary=["staff_eur_per_hour", "build_cost_eur"], months=12)
    assert table["assumption"].tolist() == ["staff_eur_per_hour", "build_cost_eur"]
    staff = table.iloc[0]
    assert (staff["low"], staff["high"]) == pytest.approx((48.0, 72.0))
    # base after 12 months: -820 + 12 × 180 = 1,340. Staff at 72 €/h: benefits 1,440, review
    # queue 144, training 144 → -844 + 12 × (1,440 - 1,044) = 3,908
    assert staff["base_result_eur"] == pytest.approx(1_340.0)
    assert staff["result_high_eur"] == pytest.approx(3_908.0)
    build = table.iloc[1]
    # build ±20 % = ±100 € once: 1,440 and 1,240; a cost: the higher value gives less
    assert (build["result_low_eur"], build["result_high_eur"]) == pytest.approx((1_440, 1_240))
    assert build["swing_eur"] == pytest.approx(200.0)


def test_sensitivity_with_own_ranges_and_capped_rates() -> None:
    table = roi.sensitivity(PAPER, vary={"deflection_rate": 0.6, "tokens_in": 0.5})
    assert table["assumption"].tolist() == ["deflection_rate", "tokens_in"]
    assert table["spread"].tolist() == [0.6, 0.5]
    assert table.loc[1, "swing_eur"] == 0  # SmolLM2 has no token price
    high = roi.sensitivity(roi.with_changes(PAPER, deflection_rate=0.9), vary=["deflection_rate"])
    assert high.loc[0, "high"] == 1.0  # a rate never exceeds 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vary": ["model"]}, "not a numeric field"),
        ({"vary": ["deflection"]}, "Choose from"),
        ({"spread": 1.5}, "between 0 and 1"),
    ],
)
def test_sensitivity_explains_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        roi.sensitivity(PAPER, **kwargs)


def test_scenarios_and_backends() -> None:
    cash = Assumptions(time_savings_as="cash")
    scenarios = roi.scenario_table(cash)
    assert scenarios["scenario"].tolist() == ["pessimistic", "expected", "optimistic"]
    months = scenarios["break_even_month"]
    assert str(months.dtype) == "Int64" and pd.isna(months.iloc[0])
    assert months.iloc[1] > months.iloc[2]
    assert scenarios["go"].tolist() == [False, True, True]
    capacity = roi.scenario_table(Assumptions())
    assert capacity["benefits_eur_per_month"].tolist() == [0.0, 0.0, 0.0]
    assert capacity["break_even_month"].isna().all()
    assert capacity["cost_per_freed_hour_eur"].is_monotonic_decreasing
    backends = roi.compare_backends(cash).set_index("backend")
    local = backends.loc["local SmolLM2 (own mini PC)"]
    # the cheapest model per token loses money: 30 % wrong answers cost more than it saves
    assert local["model_tokens_eur_per_month"] == 0 and local["net_eur_per_month"] < 0
    assert pd.isna(local["break_even_month"])
    assert (backends["net_eur_per_month"].drop(local.name) > 0).all()
    with pytest.raises(KeyError, match="Known"):
        roi.compare_backends(cash, ["Claude on a toaster"])


def test_plots_have_labelled_axes() -> None:
    figure = roi.plot_cash_flow({"a": roi.cash_flow(PAPER), "b": roi.cash_flow(PAPER)})
    ax = figure.axes[0]
    assert "EUR" in ax.get_ylabel() and "month" in ax.get_xlabel()
    assert len(ax.get_lines()) >= 2
    assert figure._repr_png_().startswith(b"\x89PNG")
    tornado = roi.plot_tornado(roi.sensitivity(PAPER, vary=["staff_eur_per_hour"]))
    assert tornado.axes[0].get_xlabel() == "result after the horizon (thousand EUR)"
    assert "20 %" in tornado.axes[0].get_title()
    per_hour = roi.sensitivity(PAPER, vary=["error_rate"], measure="cost per freed hour")
    assert per_hour.loc[0, "measure"] == "cost per freed hour"
    assert per_hour.loc[0, "base_result_eur"] == pytest.approx(roi.cost_per_freed_hour(PAPER))
    axis = roi.plot_tornado(per_hour).axes[0]
    assert axis.get_xlabel() == "cost per freed staff hour (EUR)"
    with pytest.raises(ValueError, match="measure"):
        roi.sensitivity(PAPER, measure="vibes")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# pilot
# ---------------------------------------------------------------------------------------------


def test_sample_size_matches_the_textbook_value() -> None:
    # pooled formula, alpha 0.05 two-sided, power 0.8: 0.10 vs 0.15 → 685.6 → 686 per group
    assert pilot.sample_size(0.10, 0.15) == 686
    assert pilot.sample_size(0.15, 0.10) == 686  # symmetric
    assert pilot.sample_size(0.10, 0.15, power=0.9) > 686
    assert pilot.sample_size(0.10, 0.20) < 686


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0.0, 0.1), {}, "baseline_rate=0.0"),
        ((0.1, 0.1), {}, "no difference"),
        ((0.1, 0.2), {"alpha": 0}, "alpha=0"),
    ],
)
def test_sample_size_explains_bad_input(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pilot.sample_size(*args, **kwargs)


def test_weeks_needed() -> None:
    assert pilot.weeks_needed(686, tickets_per_week=500) == 3
    assert pilot.weeks_needed(500, tickets_per_week=1_000) == 1
    with pytest.raises(ValueError, match="tickets_per_week"):
        pilot.weeks_needed(686, tickets_per_week=0)


def test_kpis_have_source_and_guardrail() -> None:
    table = pilot.kpis()
    assert {"deflection rate", "CSAT", "wrong-answer rate", "cost per ticket"} <= set(table["KPI"])
    assert table[["definition", "data source", "guardrail"]].map(bool).all().all()


def test_literacy_plan_and_status_come_from_the_timeline() -> None:
    plan = pilot.literacy_plan()
    assert (plan["person-hours"] == plan["people"] * plan["hours each"]).all()
    assert "support agents" in set(plan["role"])
    row = compliance.milestone("prohibitions")
    status = pilot.literacy_status(as_of=date(2026, 12, 4))
    assert f"applies since {row.applies_from.isoformat()}" in status
    assert "promote" in status and "proportionate" in status and "Not legal advice" in status
    assert "verify" not in status and "softens" not in status
    assert "applies from" in pilot.literacy_status(as_of=date(2025, 1, 1))


# ---------------------------------------------------------------------------------------------
# Non-inferiority: the go/no-go rule "not worse, within 3 points"
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alpha", "expected"),
    [
        # (1.959964 + 0.841621)² × (0.21 + 0.21) / 0.03² = 7.848879 × 0.42 / 0.0009 = 3,662.8
        (0.025, 3_663),
        # (1.644854 + 0.841621)² × 0.42 / 0.0009 = 6.182557 × 0.42 / 0.0009 = 2,885.2
        (0.05, 2_886),
    ],
)
def test_non_inferiority_sample_size_matches_the_formula_by_hand(
    alpha: float, expected: int
) -> None:
    assert pilot.non_inferiority_sample_size(0.70, 0.03, alpha=alpha, power=0.8) == expected


def test_non_inferiority_second_case_by_hand() -> None:
    # p = 0.80 in both groups, margin 0.10, one-sided alpha 0.025 (z = 1.9600), power 0.90
    # (z = 1.2816): (1.9600 + 1.2816)² × (0.16 + 0.16) / 0.10² = 10.5077 × 0.32 / 0.01 = 336.2
    assert pilot.non_inferiority_sample_size(0.80, 0.10, alpha=0.025, power=0.9) == 337


def test_non_inferiority_needs_more_tickets_than_the_superiority_test() -> None:
    superiority = pilot.sample_size(0.70, 0.75)
    for alpha in (0.05, 0.025):
        ratio = pilot.non_inferiority_sample_size(0.70, 0.03, alpha=alpha) / superiority
        assert 2 < ratio < 3
    # a bot expected to be a bit better needs fewer; one expected a bit worse needs more
    better = pilot.non_inferiority_sample_size(0.70, 0.03, expected_rate=0.72)
    worse = pilot.non_inferiority_sample_size(0.70, 0.03, expected_rate=0.69)
    assert better < pilot.non_inferiority_sample_size(0.70, 0.03) < worse


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"control_rate": 0.7, "margin": 0.03, "expected_rate": 0.66}, "no number of tickets"),
        ({"control_rate": 0.7, "margin": 0.0}, "margin"),
        ({"control_rate": 1.0, "margin": 0.03}, "control_rate"),
        ({"control_rate": 0.7, "margin": 0.03, "alpha": 1.0}, "alpha"),
    ],
)
def test_non_inferiority_sample_size_explains_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pilot.non_inferiority_sample_size(**kwargs)


def test_non_inferiority_test_on_paper() -> None:
    # bot 2,540 / 3,663 = 0.6934, people 2,565 / 3,663 = 0.7002: difference -0.68 points;
    # SE = sqrt(0.6934×0.3066/3663 + 0.7002×0.2998/3663) = 0.010738; lower = -0.0068 - 1.96 ×
    # 0.010738 = -0.0279 > -0.03 → go
    go = pilot.non_inferiority_test(2_540, 3_663, 2_565, 3_663)
    assert go.non_inferior and go.lower_bound == pytest.approx(-0.0279, abs=1e-4)
    assert str(go).endswith("go: not worse by more than 3 points")
    # 2 points worse on the same numbers: the bound falls below -3 points → no-go
    no_go = pilot.non_inferiority_test(2_490, 3_663, 2_565, 3_663)
    assert not no_go.non_inferior and "no-go" in str(no_go)
    # slightly better, but on 300 tickets a group: too uncertain → no-go
    small = pilot.non_inferiority_test(213, 300, 210, 300)
    assert small.difference > 0 and not small.non_inferior
    with pytest.raises(ValueError, match="successes"):
        pilot.non_inferiority_test(10, 5, 1, 5)


def test_pilot_exit_rule_names_the_non_inferiority_test() -> None:
    ab_test = dict((row[0], row[4]) for row in pilot.PILOT_PHASES)["2 A/B test"]
    assert "non_inferiority_sample_size()" in ab_test and "3 points" in ab_test
    assert pilot.GO_NO_GO_MARGIN == 0.03


def test_a_gate_knocks_out_the_best_score() -> None:
    options = pilot.vendor_options()
    ungated = pilot.decision_matrix(options, pilot.VENDOR_WEIGHTS)
    assert ungated.loc[0, "option"] == "OpenAI API (default region)"
    gated = pilot.decision_matrix(options, pilot.VENDOR_WEIGHTS, gates=pilot.VENDOR_GATES)
    assert gated.loc[0, "option"] == "Azure OpenAI (EU Data Zone)"
    last = gated.iloc[-1]
    assert last["option"] == "OpenAI API (default region)" and not last["passes_gates"]
    assert last["failed_gates"] == "data_stays_in_eu" and last["rank"] == len(options)
    assert last["score"] == ungated.loc[0, "score"]  # the score stays visible


def test_decision_matrix_weighted_mean_on_paper() -> None:
    options = pd.DataFrame(
        {"option": ["A", "B"], "quality": [5, 1], "price": [1, 5], "eu": [True, True]}
    )
    table = pilot.decision_matrix(options, {"quality": 3, "price": 1}, gates=["eu"])
    # A: (5×3 + 1×1) / 4 = 4.0; B: (1×3 + 5×1) / 4 = 2.0
    assert table[["option", "score", "rank"]].values.tolist() == [["A", 4.0, 1], ["B", 2.0, 2]]


@pytest.mark.parametrize(
    ("weights", "gates", "message"),
    [
        ({"speed": 1}, (), "no column"),
        ({"quality": 1}, ("in_eu",), "no column"),
        ({"quality": -1}, (), ">= 0"),
        ({"quality": 0}, (), "at least one"),
    ],
)
def test_decision_matrix_explains_bad_input(weights: dict, gates: tuple, message: str) -> None:
    options = pd.DataFrame({"option": ["A"], "quality": [3]})
    with pytest.raises(ValueError, match=message):
        pilot.decision_matrix(options, weights, gates=gates)


# ---------------------------------------------------------------------------------------------
# the widget
# ---------------------------------------------------------------------------------------------


def test_widget_builds_and_updates_without_a_display() -> None:
    from enterprise_ai.widgets import RoiSliders, roi_sliders

    sliders = roi_sliders()
    assert isinstance(sliders, RoiSliders)
    assert sliders.backend.value == "gpt-4.1-mini (OpenAI API)"  # the case's model
    assert sliders.case is not None and sliders.case.model == "gpt-4.1-mini"
    # the default is honest: saved time is freed capacity, judged per freed hour
    assert sliders.time_savings.value == "freed capacity"
    assert sliders.break_even is None and sliders.verdict is not None and sliders.verdict.go
    assert "562.5 staff hours a month freed, not cash" in sliders.summary.value
    assert "29.14 €" in sliders.summary.value and "no break-even" in sliders.summary.value
    assert sliders.tornado is not None
    assert set(sliders.tornado["measure"]) == {"cost per freed hour"}
    sliders.time_savings.value = "cash"  # what a click on "cash" does
    assert sliders.break_even == roi.break_even_month(Assumptions(time_savings_as="cash")) == 9
    assert bytes(sliders.cash_chart.value).startswith(b"\x89PNG")
    assert sliders.tornado.loc[0, "assumption"] == "deflection_rate"
    assert "month 9" in sliders.summary.value and "GO" in sliders.summary.value
    bundle = sliders._repr_mimebundle_()
    assert bundle["text/plain"].startswith("ROI sensitivity sliders")

    sliders.sliders["deflection_rate"].value = 0.05  # what dragging the slider does
    sliders.sliders["minutes_saved_assisted"].value = 0.0
    assert sliders.case is not None and sliders.case.deflection_rate == 0.05
    assert sliders.break_even is None
    assert "no break-even within 24 months" in sliders.summary.value


def test_widget_backend_loads_its_quality_numbers() -> None:
    from enterprise_ai.widgets import RoiSliders

    sliders = RoiSliders(months=12, assumptions=Assumptions(time_savings_as="cash"))
    assert sliders.time_savings.value == "cash"
    sliders.backend.value = "local SmolLM2 (own mini PC)"
    local = roi.DEPLOYMENT_OPTIONS["local SmolLM2 (own mini PC)"]
    assert sliders.sliders["deflection_rate"].value == local.deflection_rate
    assert sliders.sliders["error_rate"].value == local.error_rate
    assert sliders.case is not None and sliders.case.model == "SmolLM2-135M-Instruct"
    assert sliders.case.infrastructure_eur_per_month == local.infrastructure_eur_per_month
    assert sliders.table is not None and len(sliders.table) == 13
    assert sliders.break_even is None  # the tiny model loses money
    assert sliders.verdict is not None and not sliders.verdict.go
    assert "NO-GO" in sliders.summary.value


def test_widget_shows_errors_inside() -> None:
    from enterprise_ai.widgets import RoiSliders

    prices = roi.costs.load_prices()
    only_local = prices[prices["model"] == "SmolLM2-135M-Instruct"]
    sliders = RoiSliders(prices=only_local)  # gpt-4.1-mini is missing from this table
    assert sliders.case is None and sliders.table is None
    assert "Could not compute" in sliders.summary.value
    assert "gpt-4.1-mini" in sliders.summary.value
    sliders.backend.value = "local SmolLM2 (own mini PC)"  # a model the table has: recovers
    assert sliders.case is not None and "Could not compute" not in sliders.summary.value


def test_the_default_case_trains_the_people_of_the_literacy_plan() -> None:
    plan = pilot.literacy_plan()
    case = Assumptions()
    assert case.employees_trained == plan["people"].sum() == 60
    person_hours = case.employees_trained * case.training_hours_per_employee
    assert person_hours == plan["person-hours"].sum() == 150


# ---------------------------------------------------------------------------------------------
# the checks of exercises/09_business_case.ipynb
# ---------------------------------------------------------------------------------------------


def _net(
    *,
    tickets: float,
    deflection_rate: float,
    minutes_per_ticket: float,
    staff_eur_per_hour: float,
    error_rate: float,
    cost_per_wrong_answer_eur: float,
    running_costs_eur: float,
) -> float:
    deflected = tickets * deflection_rate
    saved = deflected * minutes_per_ticket / 60 * staff_eur_per_hour
    return saved - deflected * error_rate * cost_per_wrong_answer_eur - running_costs_eur


def _net_without_wrong_answers(**kwargs: float) -> float:
    return _net(**{**kwargs, "error_rate": 0.0})


def _score(scores: dict, weights: dict, gates: dict) -> float | None:
    if not all(gates.values()):
        return None
    return sum(scores[c] * w for c, w in weights.items()) / sum(weights.values())


def test_ex09_checks_pass_right_answers(capsys: pytest.CaptureFixture[str]) -> None:
    from enterprise_ai import checks

    assert checks.ex09_1(_net)
    assert checks.ex09_2(pilot.sample_size)
    assert checks.ex09_3(_score)
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize(
    ("check", "func", "hint"),
    [
        ("ex09_1", lambda **kwargs: None, "return"),
        ("ex09_1", _net_without_wrong_answers, "wrong answers"),
        ("ex09_1", lambda **kwargs: _net(**kwargs) * 60, "divide the minutes by 60"),
        ("ex09_1", lambda **kwargs: 1 / 0, "ZeroDivisionError"),
        ("ex09_2", lambda *a, **k: None, "return"),
        ("ex09_2", lambda *a, **k: pilot.sample_size(*a, **k) - 1, "round UP"),
        ("ex09_2", lambda *a, **k: "686", "not a number"),
        ("ex09_3", lambda s, w, g: None, "every gate holds"),
        ("ex09_3", lambda s, w, g: sum(s[c] * w[c] for c in w), "sum of the weights"),
        ("ex09_3", lambda s, w, g: _score(s, w, {}), "knocks the option out"),
        ("ex09_3", None, "expected a function"),
    ],
)
def test_ex09_checks_say_not_yet_without_raising(
    capsys: pytest.CaptureFixture[str], check: str, func: object, hint: str
) -> None:
    from enterprise_ai import checks

    assert getattr(checks, check)(func) is False
    out = capsys.readouterr().out
    assert out.startswith(f"not yet ({check})") and hint in out
