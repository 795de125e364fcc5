"""Charts that show themselves in a notebook and redraw inside widgets, without pyplot.

:class:`ChartFigure` is the figure every chart of the course is drawn on (the cost chart here,
the cash flow and tornado of :mod:`enterprise_ai.roi`, the AI Act timeline and inventory of
:mod:`enterprise_ai.compliance`). Keeping matplotlib in this one module means the arithmetic
modules can be used, and tested, without it.

Introduced in notebooks/01_costs.ipynb.
"""

from __future__ import annotations

import io

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["ChartFigure", "plot_monthly_costs"]


class ChartFigure(Figure):
    """A matplotlib ``Figure`` that shows itself as a PNG in any notebook, without pyplot.

    Notebooks draw pyplot figures through the inline backend; a figure built directly (as
    widgets must, to redraw without pyplot's global state) needs its own ``_repr_png_``.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def plot_monthly_costs(
    table: pd.DataFrame, *, highlight: str | None = None, title: str | None = None
) -> ChartFigure:
    """A horizontal bar chart of ``total_eur_per_month`` per model, readable on a projector.

    Args:
        table: a :func:`enterprise_ai.costs.projection` result.
        highlight: a model to draw in a strong colour (the one the reader picked).
        title: the chart title (default: says what was projected).

    Returns:
        A :class:`ChartFigure` (a matplotlib ``Figure`` not attached to pyplot, so widgets can
        redraw it freely; ``.savefig("costs.png")`` saves it).
    """
    figure = ChartFigure(figsize=(10, 0.7 * len(table) + 1.8), dpi=80)
    ax = figure.add_subplot()
    ordered = table.iloc[::-1]  # cheapest at the top
    colours = ["#d95f02" if m == highlight else "#7570b3" for m in ordered["model"]]
    bars = ax.barh(ordered["model"], ordered["total_eur_per_month"], color=colours)
    largest = float(table["total_eur_per_month"].max() or 1.0)
    for bar, value in zip(bars, ordered["total_eur_per_month"], strict=True):
        ax.text(
            bar.get_width() + largest * 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{value:,.2f} €",
            va="center",
            fontsize=14,
        )
    ax.set_xlim(0, largest * 1.25)
    ax.set_xlabel("cost per month (EUR)", fontsize=15)
    ax.tick_params(labelsize=14)
    ax.set_title(title or "Monthly cost per model (example prices)", fontsize=16)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.tight_layout()
    return figure
