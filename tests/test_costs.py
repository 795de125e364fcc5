"""Module 01: cost arithmetic on known values, the chart, the local tokenizer and latency
(:mod:`enterprise_ai.llm`), the widget and the checks."""

from __future__ import annotations

import doctest
import math

import pandas as pd
import pytest

from enterprise_ai import charts, checks, costs, llm
from enterprise_ai.checks import module01
from enterprise_ai.errors import EndpointUnreachableError
from enterprise_ai.widgets import CostCalculator

PRICES = pd.DataFrame(
    {
        "provider": ["example", "example", "self-hosted"],
        "model": ["big", "cached", "mine"],
        "input_usd_per_1m": [2.0, 1.0, 0.0],
        "output_usd_per_1m": [8.0, 4.0, 0.0],
        "cached_input_usd_per_1m": [None, 0.25, None],
    }
)


# --- prices and arithmetic ------------------------------------------------------------------


def test_price_table_has_the_schema_dates_and_sources():
    table = costs.load_prices()
    assert list(table.columns) == [
        "provider",
        "model",
        "input_usd_per_1m",
        "output_usd_per_1m",
        "cached_input_usd_per_1m",
        "as_of",
        "source",
        "note",
    ]
    assert 5 <= len(table) <= 8 and table["model"].is_unique
    assert {"gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "gpt-4o-mini"} <= set(table["model"])
    assert set(table["provider"]) >= {"openai", "azure", "self-hosted"}
    assert table["source"].str.startswith("https://").all()
    assert table["note"].str.contains("EXAMPLE").all(), "every row must say it is an example"
    azure = table[table["provider"] == "azure"].iloc[0]
    assert "as OpenAI list price; check your agreement" in azure["note"]
    assert pd.to_datetime(table["as_of"]).notna().all()


def test_call_cost_known_values():
    assert costs.call_cost_eur(1_000, 500, model="big", prices=PRICES, usd_to_eur=1.0) == (
        pytest.approx(0.006)
    )
    assert costs.call_cost_eur(1_000_000, 0, model="big", prices=PRICES, usd_to_eur=0.5) == (
        pytest.approx(1.0)
    )
    assert costs.call_cost_eur(0, 1_000_000, model="big", prices=PRICES, usd_to_eur=1.0) == (
        pytest.approx(8.0)
    )
    assert costs.call_cost_eur(5_000, 5_000, model="mine", prices=PRICES) == 0.0


def test_call_cost_uses_the_default_rate_and_the_course_table():
    expected = (1_500 * 0.40 + 300 * 1.60) / 1e6 * costs.DEFAULT_USD_TO_EUR
    assert costs.call_cost_eur(1_500, 300, model="gpt-4.1-mini") == pytest.approx(expected)
    assert 0.5 < costs.DEFAULT_USD_TO_EUR < 1.5
    assert costs.USD_TO_EUR_AS_OF[:4].isdigit()


def test_cached_tokens_are_billed_at_the_cached_price_or_the_input_price():
    cached = costs.call_cost_eur(
        1_000_000, 0, model="cached", prices=PRICES, usd_to_eur=1.0, cached_prompt_tokens=400_000
    )
    assert cached == pytest.approx(0.6 * 1.0 + 0.4 * 0.25)
    no_cache_price = costs.call_cost_eur(
        1_000_000, 0, model="big", prices=PRICES, usd_to_eur=1.0, cached_prompt_tokens=400_000
    )
    assert no_cache_price == pytest.approx(2.0)


def test_bad_inputs_are_explained():
    with pytest.raises(costs.UnknownModelError, match="gpt-5-turbo-ultra.*Known models: big"):
        costs.call_cost_eur(1, 1, model="gpt-5-turbo-ultra", prices=PRICES)
    with pytest.raises(ValueError, match="negative"):
        costs.call_cost_eur(-1, 1, model="big", prices=PRICES)
    with pytest.raises(ValueError, match="cached_prompt_tokens=5 is more than"):
        costs.call_cost_eur(2, 1, model="big", prices=PRICES, cached_prompt_tokens=5)
    with pytest.raises(ValueError, match="output_usd_per_1m"):
        costs.call_cost_eur(1, 1, model="big", prices=PRICES.drop(columns="output_usd_per_1m"))


def test_monthly_cost_known_values():
    # 1,000 tickets × 30 days × (1,000 × 2 + 500 × 8) / 1e6 USD = 180 USD
    assert costs.monthly_cost_eur(
        1_000, 1_000, 500, model="big", prices=PRICES, usd_to_eur=1.0
    ) == pytest.approx(180.0)
    assert costs.monthly_cost_eur(
        1_000, 1_000, 500, model="big", prices=PRICES, usd_to_eur=1.0, days=20
    ) == pytest.approx(120.0)
    assert costs.monthly_cost_eur(
        1_000, 1_000, 500, model="mine", prices=PRICES, fixed_eur_per_month=42.0
    ) == pytest.approx(42.0)


def test_hardware_line_known_values():
    assert costs.hardware_eur_per_month(
        purchase_eur=360, lifetime_months=36, watts=100, eur_per_kwh=0.5, hours_per_day=10
    ) == pytest.approx(10 + 0.1 * 10 * 30 * 0.5)


def test_projection_sorts_and_adds_the_hardware_line_only_to_self_hosted_rows():
    table = costs.projection(
        tickets_per_day=1_000,
        tokens_in=1_000,
        tokens_out=500,
        prices=PRICES,
        usd_to_eur=1.0,
        self_hosted_eur_per_month=50.0,
    )
    assert list(table["model"]) == ["mine", "cached", "big"]
    by_model = table.set_index("model")
    assert by_model.loc["big", "total_eur_per_month"] == pytest.approx(180.0)
    assert by_model.loc["cached", "total_eur_per_month"] == pytest.approx(90.0)
    assert by_model.loc["mine", "api_eur_per_month"] == 0.0
    assert by_model.loc["mine", "fixed_eur_per_month"] == 50.0
    assert by_model.loc["big", "fixed_eur_per_month"] == 0.0


def test_projection_for_1000_tickets_on_the_course_table():
    table = costs.projection(self_hosted_eur_per_month=25.0)
    assert len(table) == len(costs.load_prices())
    by_model = table.set_index("model")["total_eur_per_month"]
    assert by_model["gpt-4.1"] == pytest.approx(139.32)
    assert by_model["SmolLM2-135M-Instruct"] == pytest.approx(25.0)
    assert table["as_of"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_doctests_in_costs_pass():
    result = doctest.testmod(costs, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_chart_is_a_png_with_one_bar_per_model():
    figure = charts.plot_monthly_costs(costs.projection(prices=PRICES), highlight="big")
    assert figure._repr_png_().startswith(b"\x89PNG")
    assert len(figure.axes[0].patches) == len(PRICES)
    assert figure.axes[0].get_xlabel() == "cost per month (EUR)"


# --- latency (with a scripted stream; real timings are not asserted) ------------------------


class _Chunk:
    def __init__(self, text: str | None, usage: int | None = None) -> None:
        delta = type("Delta", (), {"content": text})()
        self.choices = [type("Choice", (), {"delta": delta})()] if text is not None else []
        self.usage = type("Usage", (), {"completion_tokens": usage})() if usage else None


class _StreamingClient:
    def __init__(self, chunks: list[_Chunk]) -> None:
        self.requests: list[dict] = []
        self.chat = type("Chat", (), {})()
        self.chat.completions = type("Completions", (), {})()
        self.chat.completions.create = self._create
        self._chunks = chunks

    def _create(self, **request):
        self.requests.append(request)
        return iter(self._chunks)


def test_measure_latency_collects_text_and_usage_and_streams():
    client = _StreamingClient([_Chunk("Hel"), _Chunk("lo"), _Chunk(None, usage=2)])
    latency = llm.measure_latency(
        client, model="m", messages=[{"role": "user", "content": "Hi"}], max_tokens=5
    )
    assert latency.text == "Hello" and latency.completion_tokens == 2
    assert 0 <= latency.first_token_s <= latency.total_s
    assert client.requests[0]["stream"] is True and client.requests[0]["max_tokens"] == 5
    assert set(latency.as_dict()) == {
        "first_token_s",
        "total_s",
        "completion_tokens",
        "tokens_per_s",
    }


def test_latency_tokens_per_second_counts_after_the_first_token():
    latency = llm.Latency(first_token_s=1.0, total_s=3.0, completion_tokens=41, text="")
    assert latency.tokens_per_s == pytest.approx(20.0)
    assert llm.Latency(0.5, 0.5, 1, "x").tokens_per_s == 0.0


# --- the real local server ------------------------------------------------------------------

ENGLISH = "Where is my order? I ordered an e-bike two weeks ago and it has not arrived yet."
GERMAN = (
    "Wo ist meine Bestellung? Ich habe vor zwei Wochen ein E-Bike bestellt und es ist noch "
    "nicht angekommen."
)


def test_count_tokens_on_the_local_server_german_costs_more():
    english, german = llm.count_tokens(ENGLISH), llm.count_tokens(GERMAN)
    assert english > 0 and german > english
    assert llm.count_tokens("") == 0
    assert "".join(llm.token_pieces("Wo ist meine Bestellung?")) == "Wo ist meine Bestellung?"


def test_context_window_and_a_too_long_prompt_is_refused_with_the_servers_reason():
    import openai

    from enterprise_ai.llm import default_model, get_client

    n_ctx = llm.context_window()
    assert n_ctx >= 1_024
    too_long = "bike " * (n_ctx + 100)
    assert llm.count_tokens(too_long) > n_ctx
    with pytest.raises(openai.BadRequestError) as caught:
        get_client().chat.completions.create(
            model=default_model(), messages=[{"role": "user", "content": too_long}], max_tokens=5
        )
    assert "context size" in caught.value.body["message"]


def test_count_tokens_names_the_url_when_nothing_answers(closed_loopback_url):
    with pytest.raises(EndpointUnreachableError, match=closed_loopback_url):
        llm.count_tokens("hello", base_url=closed_loopback_url)


# --- the widget -----------------------------------------------------------------------------


def test_calculator_draws_once_and_follows_the_sliders():
    calculator = CostCalculator(prices=PRICES, usd_to_eur=1.0, self_hosted_eur_per_month=50.0)
    first_png = bytes(calculator.chart.value)
    assert first_png.startswith(b"\x89PNG")
    assert calculator.table.set_index("model").loc["big", "total_eur_per_month"] == (
        pytest.approx(1_000 * 30 * (1_500 * 2 + 300 * 8) / 1e6)
    )
    calculator.tickets_per_day.value = 2_000
    assert calculator.table.set_index("model").loc["big", "total_eur_per_month"] == (
        pytest.approx(2_000 * 30 * (1_500 * 2 + 300 * 8) / 1e6)
    )
    assert bytes(calculator.chart.value) != first_png
    calculator.hardware.value = 100.0
    assert calculator.table.set_index("model").loc["mine", "total_eur_per_month"] == 100.0
    calculator.model.value = "cached"
    assert "<b>cached</b>" in calculator.summary.value
    assert "€ per month" in calculator.summary.value


def test_calculator_shows_errors_inside_and_has_a_short_text_form():
    broken = PRICES.drop(columns="output_usd_per_1m")
    calculator = CostCalculator(prices=broken)
    assert calculator.table is None
    assert "Could not compute" in calculator.summary.value
    assert "output_usd_per_1m" in calculator.summary.value
    text = calculator._repr_mimebundle_()["text/plain"]
    assert text.startswith("Cost calculator") and "\n" not in text


# --- the exercise checks --------------------------------------------------------------------


def good_cost(prompt_tokens, completion_tokens, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur):
    return (
        (prompt_tokens * input_usd_per_1m + completion_tokens * output_usd_per_1m)
        / 1e6
        * (usd_to_eur)
    )


def good_projection(prices, *, tickets_per_day, tokens_in, tokens_out, days=30, usd_to_eur=0.86):
    table = prices[["model"]].copy()
    table["monthly_eur"] = (
        (tokens_in * prices["input_usd_per_1m"] + tokens_out * prices["output_usd_per_1m"])
        / 1e6
        * usd_to_eur
        * tickets_per_day
        * days
    )
    return table.sort_values("monthly_eur")


def good_budget(table, *, budget_eur):
    return table[table["monthly_eur"] <= budget_eur].sort_values("monthly_eur")["model"].tolist()


def stub(*args, **kwargs):
    return None


def test_checks_pass_correct_solutions(capsys):
    assert checks.ex01_1(good_cost) is True
    assert checks.ex01_2(good_projection) is True
    assert checks.ex01_3(good_budget) is True
    assert capsys.readouterr().out.count("✅") == 3


@pytest.mark.parametrize("check", [checks.ex01_1, checks.ex01_2, checks.ex01_3])
@pytest.mark.parametrize("learner", [stub, None, "not a function"])
def test_checks_say_not_yet_to_stubs_and_never_raise(check, learner, capsys):
    assert check(learner) is False
    assert "not yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("slip", "hint"),
    [
        (
            lambda p, c, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur: (
                p * input_usd_per_1m + c * output_usd_per_1m
            ),
            "divide by 1_000_000",
        ),
        (
            lambda p, c, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur: (
                (p * output_usd_per_1m + c * input_usd_per_1m) / 1e6 * usd_to_eur
            ),
            "swapped",
        ),
        (
            lambda p, c, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur: (
                (p * input_usd_per_1m + c * output_usd_per_1m) / 1e6 / usd_to_eur
            ),
            "don't divide",
        ),
    ],
)
def test_ex01_1_names_the_usual_slips(slip, hint, capsys):
    assert checks.ex01_1(slip) is False
    assert hint in capsys.readouterr().out


def test_ex01_2_wants_cheapest_first(capsys):
    def unsorted(prices, **workload):
        return good_projection(prices, **workload).sort_values("monthly_eur", ascending=False)

    assert checks.ex01_2(unsorted) is False
    assert "sort_values" in capsys.readouterr().out


def test_ex01_2_does_not_change_the_shared_table():
    before = module01.EX01_PRICES.copy()

    def scribbles(prices, **workload):
        prices["input_usd_per_1m"] = 0
        return good_projection(prices, **workload)

    checks.ex01_2(scribbles)
    pd.testing.assert_frame_equal(module01.EX01_PRICES, before)


def test_ex01_3_includes_a_model_that_costs_exactly_the_budget(capsys):
    def strict(table, *, budget_eur):
        return table[table["monthly_eur"] < budget_eur].sort_values("monthly_eur")["model"].tolist()

    assert checks.ex01_3(strict) is False
    assert "<=" in capsys.readouterr().out


def test_ex01_1_cases_are_consistent_with_the_library():
    for case in module01.EX01_1_CASES:
        table = pd.DataFrame(
            {
                "model": ["m"],
                "input_usd_per_1m": [case["input_usd_per_1m"]],
                "output_usd_per_1m": [case["output_usd_per_1m"]],
            }
        )
        expected = costs.call_cost_eur(
            int(case["prompt_tokens"]),
            int(case["completion_tokens"]),
            model="m",
            prices=table,
            usd_to_eur=case["usd_to_eur"],
        )
        assert math.isclose(module01._expected_cost(case), expected)
