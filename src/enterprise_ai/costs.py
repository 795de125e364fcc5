"""Money: what a support bot costs in euros per call and per month, before anyone builds it.

Providers bill per token, in US dollars per million tokens, with different prices for the
tokens that go in (the prompt) and the tokens that come out (the answer). This module turns
token counts into euros per call, per month and per model, and prices the hardware of a
self-hosted model. It is plain arithmetic on a price table: no model, no server, no chart.

The other limits a budget meets are measured on the model itself and live with it in
:mod:`enterprise_ai.llm`: :func:`~enterprise_ai.llm.count_tokens`,
:func:`~enterprise_ai.llm.context_window` and :func:`~enterprise_ai.llm.measure_latency`.
The cost chart is :func:`enterprise_ai.charts.plot_monthly_costs`.

The prices live in ``enterprise_ai/data/prices.csv``. They are EXAMPLES with an ``as_of`` date
and a ``source`` URL: check the source and update the file (or pass your own table as
``prices=``) before you put a number in a budget.

Introduced in notebooks/01_costs.ipynb.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from enterprise_ai import data
from enterprise_ai.errors import CourseError

__all__ = [
    "DEFAULT_USD_TO_EUR",
    "USD_TO_EUR_AS_OF",
    "UnknownModelError",
    "call_cost_eur",
    "hardware_eur_per_month",
    "load_prices",
    "monthly_cost_eur",
    "projection",
]

#: Euros per US dollar used when no rate is passed: a rounded EXAMPLE close to the ECB
#: reference rate in November 2025 (1 EUR ≈ 1.16 USD). It is not live: pass
#: ``usd_to_eur=`` with today's rate from https://www.ecb.europa.eu (Statistics → Euro
#: foreign exchange reference rates) or your finance team's planning rate.
DEFAULT_USD_TO_EUR = 0.86
#: When :data:`DEFAULT_USD_TO_EUR` was close to the ECB reference rate (ISO year-month).
USD_TO_EUR_AS_OF = "2025-11"

_PRICE_COLUMNS = (
    "provider",
    "model",
    "input_usd_per_1m",
    "output_usd_per_1m",
    "cached_input_usd_per_1m",
    "as_of",
    "source",
    "note",
)
_MILLION = 1_000_000


class UnknownModelError(CourseError, KeyError):
    """A model name is not in the price table (the message lists the names that are)."""

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------------------------
# Prices
# ---------------------------------------------------------------------------------------------


def load_prices() -> pd.DataFrame:
    """The course's example price table, one row per model (USD per 1M tokens).

    Read through :func:`enterprise_ai.data.prices`, like all company data in the course; the
    file is ``enterprise_ai/data/prices.csv``. Pass your own table as ``prices=`` to any
    function here to use your negotiated prices instead.

    Example:
        >>> table = load_prices()
        >>> table.loc[table["model"] == "gpt-4.1-mini", "input_usd_per_1m"].item()
        0.4
    """
    return data.prices()


def _price_row(model: str, prices: pd.DataFrame | None) -> pd.Series:
    table = load_prices() if prices is None else prices
    missing = [c for c in ("model", "input_usd_per_1m", "output_usd_per_1m") if c not in table]
    if missing:
        raise ValueError(
            f"The price table has no column(s) {missing}; it needs at least model, "
            "input_usd_per_1m and output_usd_per_1m (see enterprise_ai/data/prices.csv)."
        )
    rows = table[table["model"] == model]
    if rows.empty:
        known = ", ".join(map(str, table["model"]))
        raise UnknownModelError(
            f"model={model!r} is not in the price table. Known models: {known}. "
            "Add a row to your table (or to data/prices.csv) with its prices per 1M tokens."
        )
    return rows.iloc[0]


def call_cost_eur(
    prompt_tokens: int,
    completion_tokens: int,
    *,
    model: str,
    prices: pd.DataFrame | None = None,
    usd_to_eur: float = DEFAULT_USD_TO_EUR,
    cached_prompt_tokens: int = 0,
) -> float:
    """What one model call costs in euros: tokens × price per token × exchange rate.

    Input and output tokens are priced separately because they cost the provider different
    work: the prompt is read in one parallel pass, every answer token needs a pass of its own.
    So output is 4-8× dearer, and a bot that answers at length costs more than one that reads
    a lot.

    Args:
        prompt_tokens: tokens sent (``usage.prompt_tokens``), system prompt included.
        completion_tokens: tokens written (``usage.completion_tokens``).
        model: a name from the ``model`` column of the price table.
        prices: a price table like :func:`load_prices` (default: the course's examples).
        usd_to_eur: euros per dollar (default :data:`DEFAULT_USD_TO_EUR`, dated
            :data:`USD_TO_EUR_AS_OF`).
        cached_prompt_tokens: how many of the prompt tokens the provider served from its
            prompt cache (``usage.prompt_tokens_details.cached_tokens``); billed at the cached
            price where the table has one.

    Returns:
        The cost in EUR, unrounded (round only for display).

    Raises:
        UnknownModelError: the model is not in the table (the message lists those that are).
        ValueError: a token count is negative.

    Example:
        >>> round(call_cost_eur(1_000, 500, model="gpt-4.1", usd_to_eur=1.0), 6)
        0.006
        >>> round(call_cost_eur(1_500, 300, model="gpt-4.1-mini", usd_to_eur=0.86), 6)
        0.000929
        >>> call_cost_eur(1_500, 300, model="SmolLM2-135M-Instruct")
        0.0
    """
    if min(prompt_tokens, completion_tokens, cached_prompt_tokens) < 0:
        raise ValueError(
            f"Token counts cannot be negative (prompt_tokens={prompt_tokens}, "
            f"completion_tokens={completion_tokens}, cached_prompt_tokens={cached_prompt_tokens})."
        )
    if cached_prompt_tokens > prompt_tokens:
        raise ValueError(
            f"cached_prompt_tokens={cached_prompt_tokens} is more than "
            f"prompt_tokens={prompt_tokens}; cached tokens are part of the prompt."
        )
    row = _price_row(model, prices)
    input_price = float(row["input_usd_per_1m"])
    cached_price = row.get("cached_input_usd_per_1m")
    cached_price = input_price if cached_price is None or pd.isna(cached_price) else cached_price
    usd = (
        (prompt_tokens - cached_prompt_tokens) * input_price
        + cached_prompt_tokens * float(cached_price)
        + completion_tokens * float(row["output_usd_per_1m"])
    ) / _MILLION
    return usd * usd_to_eur


def monthly_cost_eur(
    tickets_per_day: float,
    tokens_in: int,
    tokens_out: int,
    *,
    model: str,
    days: int = 30,
    prices: pd.DataFrame | None = None,
    usd_to_eur: float = DEFAULT_USD_TO_EUR,
    fixed_eur_per_month: float = 0.0,
) -> float:
    """Monthly cost in euros of answering ``tickets_per_day`` tickets with one call each.

    The API part grows with the number of tickets; ``fixed_eur_per_month`` (hardware,
    electricity, a support contract) does not. A self-hosted model has no API part, so its cost
    is all in that fixed line: see :func:`hardware_eur_per_month`.

    Args:
        tickets_per_day: tickets answered per day.
        tokens_in: prompt tokens per ticket (system prompt + retrieved articles + ticket).
        tokens_out: answer tokens per ticket.
        model: a name from the price table.
        days: days per month the bot runs (30: it answers at weekends too).
        prices: a price table like :func:`load_prices` (default: the course's examples).
        usd_to_eur: euros per dollar (default :data:`DEFAULT_USD_TO_EUR`).
        fixed_eur_per_month: costs that do not depend on the number of tickets.

    Example:
        >>> round(monthly_cost_eur(1_000, 1_500, 300, model="gpt-4.1-mini"), 2)
        27.86
        >>> monthly_cost_eur(1_000, 1_500, 300, model="SmolLM2-135M-Instruct",
        ...                  fixed_eur_per_month=25.0)
        25.0
    """
    per_call = call_cost_eur(
        tokens_in, tokens_out, model=model, prices=prices, usd_to_eur=usd_to_eur
    )
    return per_call * tickets_per_day * days + fixed_eur_per_month


def hardware_eur_per_month(
    *,
    purchase_eur: float = 600.0,
    lifetime_months: int = 36,
    watts: float = 30.0,
    eur_per_kwh: float = 0.30,
    hours_per_day: float = 24.0,
) -> float:
    """The monthly fixed cost of running a model on your own machine.

    The purchase price is spread over the machine's life, and electricity is billed by the
    kilowatt-hour. The defaults describe a small always-on mini PC that runs SmolLM2 easily;
    a GPU server for a model that can really answer customers costs far more (set your own).
    Staff time for updates and monitoring is not included: add it.

    Args:
        purchase_eur: what the machine costs to buy.
        lifetime_months: how long you use it before replacing it.
        watts: average power draw while it runs.
        eur_per_kwh: your electricity price (German business tariffs: roughly 0.20-0.35).
        hours_per_day: how long it runs each day.

    Example:
        >>> round(hardware_eur_per_month(), 2)        # 600/36 + 30 W × 24 h × 30 days
        23.15
        >>> hardware_eur_per_month(purchase_eur=0, watts=0)
        0.0
    """
    kwh_per_month = watts / 1000 * hours_per_day * 30
    return purchase_eur / lifetime_months + kwh_per_month * eur_per_kwh


def projection(
    *,
    tickets_per_day: float = 1_000,
    tokens_in: int = 1_500,
    tokens_out: int = 300,
    days: int = 30,
    prices: pd.DataFrame | None = None,
    usd_to_eur: float = DEFAULT_USD_TO_EUR,
    self_hosted_eur_per_month: float | None = None,
) -> pd.DataFrame:
    """Monthly cost of every model in the price table for one workload, cheapest first.

    Self-hosted rows (provider ``self-hosted``) cost 0 EUR per token, but their
    ``fixed_eur_per_month`` holds hardware and electricity, so the comparison is fair.

    Args:
        tickets_per_day: tickets answered per day (default: Isar Cycles' 1,000).
        tokens_in: prompt tokens per ticket (default 1,500: a 300-token system prompt, three
            retrieved articles of 300 tokens and a 300-token ticket).
        tokens_out: answer tokens per ticket (default 300: a few short paragraphs).
        days: days per month the bot runs.
        prices: a price table like :func:`load_prices` (default: the course's examples).
        usd_to_eur: euros per dollar (default :data:`DEFAULT_USD_TO_EUR`).
        self_hosted_eur_per_month: the hardware/electricity line for self-hosted rows
            (default: :func:`hardware_eur_per_month` with its defaults).

    Returns:
        One row per model: provider, model, eur_per_ticket, api_eur_per_month,
        fixed_eur_per_month, total_eur_per_month, as_of; sorted by total, cheapest first.

    Example:
        >>> table = projection(tickets_per_day=1_000, self_hosted_eur_per_month=25.0)
        >>> by_model = table.set_index("model")["total_eur_per_month"]
        >>> round(float(by_model["gpt-4.1"]), 2), float(by_model["SmolLM2-135M-Instruct"])
        (139.32, 25.0)
    """
    table = load_prices() if prices is None else prices
    hardware = (
        hardware_eur_per_month()
        if self_hosted_eur_per_month is None
        else (self_hosted_eur_per_month)
    )
    rows = []
    for _, row in table.iterrows():
        model = str(row["model"])
        per_ticket = call_cost_eur(
            tokens_in, tokens_out, model=model, prices=table, usd_to_eur=usd_to_eur
        )
        fixed = hardware if row.get("provider") == "self-hosted" else 0.0
        api = per_ticket * tickets_per_day * days
        rows.append(
            {
                "provider": row.get("provider", ""),
                "model": model,
                "eur_per_ticket": per_ticket,
                "api_eur_per_month": api,
                "fixed_eur_per_month": fixed,
                "total_eur_per_month": api + fixed,
                "as_of": _iso_date(row.get("as_of")),
            }
        )
    result = pd.DataFrame(rows)
    return result.sort_values("total_eur_per_month", kind="stable").reset_index(drop=True)


def _iso_date(value: Any) -> str:
    """'2025-04-14' whether the table holds a string or a timestamp (data.prices() parses it)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return pd.Timestamp(value).date().isoformat()
