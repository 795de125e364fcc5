"""Cost calculator: tickets per day and tokens per ticket in, euros per month per model out.

Introduced in notebooks/01_costs.ipynb. The arithmetic lives in :mod:`enterprise_ai.costs`,
the chart in :mod:`enterprise_ai.charts`; this widget only moves sliders and redraws it.
"""

from __future__ import annotations

import html
import io
from typing import Any

import ipywidgets as w
import pandas as pd

from enterprise_ai import charts, costs
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["CostCalculator", "cost_calculator"]

_SLIDER = {"style": {"description_width": "150px"}, "layout": w.Layout(width="520px")}


class CostCalculator(CourseWidget):
    """Sliders for the workload, a model picker, and a bar chart of monthly cost per model.

    Args:
        tickets_per_day: the starting number of tickets per day.
        tokens_in: the starting prompt tokens per ticket.
        tokens_out: the starting answer tokens per ticket.
        self_hosted_eur_per_month: the starting hardware/electricity line for self-hosted rows
            (default: :func:`enterprise_ai.costs.hardware_eur_per_month`).
        model: the model to highlight (default: the first in the price table).
        prices: a price table (default: :func:`enterprise_ai.costs.load_prices`).
        usd_to_eur: euros per dollar (default: :data:`enterprise_ai.costs.DEFAULT_USD_TO_EUR`).

    Attributes:
        table: the last projection (a ``DataFrame``), or ``None`` if the last update failed.
    """

    plain_text = (
        "Cost calculator (interactive in JupyterLab; the table and chart below show 1,000 "
        "tickets/day)"
    )

    def __init__(
        self,
        *,
        tickets_per_day: int = 1_000,
        tokens_in: int = 1_500,
        tokens_out: int = 300,
        self_hosted_eur_per_month: float | None = None,
        model: str | None = None,
        prices: pd.DataFrame | None = None,
        usd_to_eur: float = costs.DEFAULT_USD_TO_EUR,
    ) -> None:
        self.prices = costs.load_prices() if prices is None else prices
        self.usd_to_eur = usd_to_eur
        self.table: pd.DataFrame | None = None
        hardware = (
            costs.hardware_eur_per_month()
            if self_hosted_eur_per_month is None
            else self_hosted_eur_per_month
        )
        models = [str(m) for m in self.prices["model"]]
        self.tickets_per_day = w.IntSlider(
            value=tickets_per_day,
            min=100,
            max=20_000,
            step=100,
            description="Tickets per day",
            **_SLIDER,
        )
        self.tokens_in = w.IntSlider(
            value=tokens_in,
            min=100,
            max=20_000,
            step=100,
            description="Tokens in / ticket",
            **_SLIDER,
        )
        self.tokens_out = w.IntSlider(
            value=tokens_out,
            min=20,
            max=2_000,
            step=20,
            description="Tokens out / ticket",
            **_SLIDER,
        )
        self.hardware = w.FloatSlider(
            value=round(hardware, 2),
            min=0,
            max=2_000,
            step=5,
            description="Self-hosted €/month",
            **_SLIDER,
        )
        self.model = w.Dropdown(
            options=models, value=model or models[0], description="Model", **_SLIDER
        )
        self.summary = w.HTML()
        self.chart = w.Image(format="png", layout=w.Layout(max_width="820px"))
        for control in (
            self.tickets_per_day,
            self.tokens_in,
            self.tokens_out,
            self.hardware,
            self.model,
        ):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.VBox(
            [
                w.HBox(
                    [
                        w.VBox([self.tickets_per_day, self.tokens_in, self.tokens_out]),
                        w.VBox([self.hardware, self.model]),
                    ]
                ),
                self.summary,
                self.chart,
            ]
        )
        self.update()

    def update(self) -> pd.DataFrame | None:
        """Recompute the projection and redraw. Never raises: errors show in the widget."""
        try:
            table = costs.projection(
                tickets_per_day=self.tickets_per_day.value,
                tokens_in=self.tokens_in.value,
                tokens_out=self.tokens_out.value,
                prices=self.prices,
                usd_to_eur=self.usd_to_eur,
                self_hosted_eur_per_month=self.hardware.value,
            )
            figure = charts.plot_monthly_costs(
                table,
                highlight=self.model.value,
                title=f"{self.tickets_per_day.value:,} tickets/day × 30 days (example prices)",
            )
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            self.table = None
            self.summary.value = (
                f"<div style='color:#b00020'><b>Could not compute.</b> "
                f"{html.escape(f'{type(err).__name__}: {err}')}</div>"
            )
            return None
        self.table = table
        self.chart.value = buffer.getvalue()
        row = table.set_index("model").loc[self.model.value]
        self.summary.value = (
            f"<span style='font-size:1.2em'><b>{html.escape(self.model.value)}</b>: "
            f"{row['eur_per_ticket']:.5f} € per ticket · "
            f"<b>{row['total_eur_per_month']:,.2f} € per month</b>"
            f" (API {row['api_eur_per_month']:,.2f} € + fixed "
            f"{row['fixed_eur_per_month']:,.2f} €)</span><br><small>Example prices as of "
            f"{html.escape(str(row['as_of']))}, 1 USD = {self.usd_to_eur} EUR; check the sources "
            "in prices.csv before budgeting.</small>"
        )
        return table


def cost_calculator(**kwargs: Any) -> CostCalculator:
    """Create a :class:`CostCalculator` (it computes once, so a saved page shows a chart)."""
    return CostCalculator(**kwargs)
