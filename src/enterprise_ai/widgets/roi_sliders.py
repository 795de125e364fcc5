"""ROI sensitivity sliders: move the business case's assumptions and watch break-even move.

Introduced in notebooks/09_business_case.ipynb. The arithmetic lives in
:mod:`enterprise_ai.roi`; this widget only moves sliders and redraws two charts: the running
total over 24 months with its break-even month, and the tornado chart of which assumption
matters most (with the pre-pilot ranges of :data:`enterprise_ai.roi.PRE_PILOT_RANGES`).

A switch says what saved staff time is: freed capacity (the default, no cash) or cash (the
payroll changes). The verdict follows :func:`enterprise_ai.roi.verdict`: a cash case by its
break-even month, a capacity case by what one freed hour costs against the staff rate.
"""

from __future__ import annotations

import html
import io
from typing import Any

import ipywidgets as w
import pandas as pd

from enterprise_ai import charts, costs, roi
from enterprise_ai.roi import Assumptions
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["RoiSliders", "roi_sliders"]

_SLIDER = {"style": {"description_width": "190px"}, "layout": w.Layout(width="480px")}

#: Slider field → (label, min, max, step). The values start from the case (or the backend).
_CONTROLS: dict[str, tuple[str, float, float, float]] = {
    "tickets_per_month": ("Tickets per month", 1_000, 100_000, 1_000),
    "deflection_rate": ("Deflection rate (0-1)", 0.0, 0.8, 0.01),
    "error_rate": ("Wrong answers (0-1)", 0.0, 0.5, 0.01),
    "cost_per_wrong_answer_eur": ("€ per wrong answer", 0.0, 100.0, 1.0),
    "minutes_per_ticket": ("Minutes per ticket", 1.0, 20.0, 0.5),
    "minutes_saved_assisted": ("Minutes saved by a draft", 0.0, 5.0, 0.25),
    "staff_eur_per_hour": ("Staff € per hour", 20.0, 100.0, 1.0),
}


def _fmt(value: float) -> str:
    return f"{value:,.0f} €"


class RoiSliders(CourseWidget):
    """Sliders for the main assumptions, a backend picker, a cash-flow chart and a tornado chart.

    Choosing a backend loads its EXAMPLE quality numbers (deflection, wrong answers, minutes
    saved by a draft) into the sliders, and its model and machine costs into the case; moving a
    slider afterwards overrides them. "Saved time is" switches between freed capacity and cash
    (``Assumptions.time_savings_as``).

    Args:
        assumptions: the starting case (default: :class:`enterprise_ai.roi.Assumptions`).
        backend: a name of :data:`enterprise_ai.roi.DEPLOYMENT_OPTIONS` to start with (default: the
            backend whose model the case uses, else the first).
        months: the horizon of the chart and the break-even search.
        prices: a price table (default: :func:`enterprise_ai.costs.load_prices`).

    Attributes:
        case: the :class:`~enterprise_ai.roi.Assumptions` shown last, or ``None`` if the last
            update failed.
        table: the last :func:`~enterprise_ai.roi.cash_flow`, ``None`` after an error.
        tornado: the last :func:`~enterprise_ai.roi.sensitivity`, ``None`` after an error.
        break_even: the last break-even month (``None``: not within the horizon, or an error).
        verdict: the last :class:`~enterprise_ai.roi.GoNoGo` (``None`` after an error).
    """

    plain_text = (
        "ROI sensitivity sliders (interactive in JupyterLab; the charts and the scenario "
        "table below show the same case without a kernel)"
    )

    def __init__(
        self,
        *,
        assumptions: Assumptions | None = None,
        backend: str | None = None,
        months: int = 24,
        prices: pd.DataFrame | None = None,
    ) -> None:
        self.base = assumptions or Assumptions()
        self.months = months
        self.prices = costs.load_prices() if prices is None else prices
        self.case: Assumptions | None = None
        self.table: pd.DataFrame | None = None
        self.tornado: pd.DataFrame | None = None
        self.break_even: int | None = None
        self.verdict: roi.GoNoGo | None = None
        self._loading = False
        self.time_savings = w.ToggleButtons(
            options=["freed capacity", "cash"],
            value=self.base.time_savings_as,
            description="Saved time is",
            tooltips=[
                "hours go to other work; the payroll stays the same (no cash)",
                "hours leave the payroll: hires not needed, overtime or temps cut",
            ],
            style={"description_width": "190px"},
        )
        names = list(roi.DEPLOYMENT_OPTIONS)
        matching = [n for n in names if roi.DEPLOYMENT_OPTIONS[n].model == self.base.model]
        self.backend = w.Dropdown(
            options=names,
            value=backend or (matching[0] if matching else names[0]),
            description="Backend",
            **_SLIDER,
        )
        self.sliders: dict[str, w.FloatSlider | w.IntSlider] = {}
        for field, (label, low, high, step) in _CONTROLS.items():
            kind = w.IntSlider if field == "tickets_per_month" else w.FloatSlider
            self.sliders[field] = kind(
                value=getattr(self.base, field),
                min=low,
                max=high,
                step=step,
                description=label,
                **_SLIDER,
            )
        self.summary = w.HTML()
        self.cash_chart = w.Image(format="png", layout=w.Layout(max_width="800px"))
        self.tornado_chart = w.Image(format="png", layout=w.Layout(max_width="800px"))
        self.backend.observe(lambda _change: self._load_backend(), names="value")
        for slider in self.sliders.values():
            slider.observe(lambda _change: self.update(), names="value")
        self.time_savings.observe(lambda _change: self.update(), names="value")
        controls = list(self.sliders.values())
        self.widget = w.VBox(
            [
                self.backend,
                self.time_savings,
                w.HBox([w.VBox(controls[:4]), w.VBox(controls[4:])]),
                self.summary,
                self.cash_chart,
                self.tornado_chart,
            ]
        )
        if backend is not None or not matching:
            self._load_backend()
        else:
            self.update()

    def _load_backend(self) -> None:
        """Put the chosen backend's quality numbers into the sliders, then redraw once."""
        chosen = roi.DEPLOYMENT_OPTIONS[self.backend.value]
        self._loading = True
        try:
            for field in ("deflection_rate", "error_rate", "minutes_saved_assisted"):
                self.sliders[field].value = getattr(chosen, field)
        finally:
            self._loading = False
        self.update()

    def current_case(self) -> Assumptions:
        """The case the sliders describe: the backend applied to the base, then the sliders."""
        case = roi.DEPLOYMENT_OPTIONS[self.backend.value].apply(self.base)
        values = {field: slider.value for field, slider in self.sliders.items()}
        return roi.with_changes(case, **values, time_savings_as=self.time_savings.value)

    def update(self) -> Assumptions | None:
        """Recompute and redraw. Never raises: errors show in the widget."""
        if self._loading:
            return None
        try:
            case = self.current_case()
            cash = case.time_savings_as == "cash"
            table = roi.cash_flow(case, months=self.months, prices=self.prices)
            tornado = roi.sensitivity(
                case,
                vary=roi.PRE_PILOT_RANGES,
                months=self.months,
                prices=self.prices,
                measure="cash result" if cash else "cost per freed hour",
            )
            net = roi.net_monthly_benefit(case, prices=self.prices)
            months = roi.break_even_month(case, months=self.months, prices=self.prices)
            judged = roi.verdict(case, months=self.months, prices=self.prices)
            cash_png = _png(
                roi.plot_cash_flow(
                    {self.backend.value: table},
                    title=None if cash else "Cash flow while saved time is freed capacity",
                )
            )
            what = f"Result after {self.months} months" if cash else "Cost per freed hour"
            tornado_png = _png(roi.plot_tornado(tornado, title=f"{what} if one assumption moves"))
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            self.case = self.table = self.tornado = self.break_even = self.verdict = None
            self.summary.value = (
                "<div style='color:#b00020'><b>Could not compute.</b> "
                f"{html.escape(f'{type(err).__name__}: {err}')}</div>"
            )
            return None
        self.case, self.table, self.tornado, self.break_even = case, table, tornado, months
        self.verdict = judged
        self.cash_chart.value = cash_png
        self.tornado_chart.value = tornado_png
        go = (
            # Dark green: #13795b on white is 5.4:1, above WCAG AA's 4.5:1 (#1b9e77 was 3.4:1).
            "<b style='color:#13795b'>GO</b>" if judged.go else "<b style='color:#b00020'>NO-GO</b>"
        )
        if cash:
            result = (
                f"break-even in <b>month {months}</b>"
                if months is not None
                else f"<b style='color:#b00020'>no break-even within {self.months} months</b>"
            )
            headline = (
                f"Net <b>{_fmt(net)} per month</b> (cash benefits "
                f"{_fmt(roi.cash_benefits(case).sum())}, running costs "
                f"{_fmt(roi.monthly_costs(case, prices=self.prices).sum())}) · one-off "
                f"{_fmt(roi.one_off_costs(case).sum())} · {result} · {go}"
            )
            caveat = "Saved time counts as cash: write down the hires, overtime or temps it cuts."
        else:
            hours = roi.freed_hours(case)
            headline = (
                f"<b>{hours:,.1f} staff hours a month freed, not cash</b> "
                f"({hours / roi.HOURS_PER_FTE_MONTH:.1f} FTE) · one freed hour costs "
                f"<b>{judged.cost_per_freed_hour:,.2f} €</b> vs {case.staff_eur_per_hour:,.2f} € "
                f"for an hour of staff time · {go}"
            )
            caveat = (
                f"Cash: {_fmt(net)} per month and no break-even, because the payroll stays the "
                "same; switch to 'cash' only with a plan that changes it."
            )
        top = tornado.iloc[0]["assumption"].replace("_", " ")
        self.summary.value = (
            f"<span style='font-size:1.15em'>{headline}</span><br><small>{caveat} Matters most "
            f"before the pilot: <b>{html.escape(top)}</b>. All numbers are EXAMPLES; the "
            "deflection rate must come from your own evaluation.</small>"
        )
        return case


def _png(figure: charts.ChartFigure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def roi_sliders(**kwargs: Any) -> RoiSliders:
    """Create a :class:`RoiSliders` (it computes once, so a saved page shows the charts)."""
    return RoiSliders(**kwargs)
