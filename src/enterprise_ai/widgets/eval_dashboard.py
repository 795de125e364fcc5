"""Evaluation dashboard: the widget of lesson 04.

Summary bars on top; below, a filter (all, wrong, abstained, ungrounded, unanswerable) and a
list of the matching questions; pick one to read the question, the reply, its citations, the
expected facts and, for a wrong reply, the cause that :func:`enterprise_ai.evals.run` found.

Introduced in notebooks/04_evals.ipynb.
"""

from __future__ import annotations

import html

import ipywidgets as w
import pandas as pd

from enterprise_ai import evals
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["FILTERS", "EvalDashboard", "eval_dashboard"]

_WIDE = w.Layout(width="100%")

#: The outcome filters, and which rows each one keeps.
FILTERS = {
    "all": lambda df: df["id"].notna(),
    "wrong": lambda df: ~df["correct"].astype(bool),
    "abstained": lambda df: df["abstained"].astype(bool),
    "ungrounded": lambda df: df["grounded"].eq(False),
    "unanswerable": lambda df: ~df["answerable"].astype(bool),
}


def _bar(label: str, value: float, questions: int) -> str:
    if pd.isna(value):
        return f"<div>{html.escape(label)}: no questions</div>"
    colour = "#b00020" if label == "answered when it should not" else "#2a7ae2"
    width = int(round(value * 100))
    return (
        "<div style='display:flex;align-items:center;margin:2px 0'>"
        f"<div style='width:230px'>{html.escape(label)}</div>"
        "<div style='width:240px;background:#eee;height:14px'>"
        f"<div style='width:{width}%;background:{colour};height:14px'></div></div>"
        f"<div style='margin-left:8px'>{value:.0%} of {questions}</div></div>"
    )


class EvalDashboard(CourseWidget):
    """Browse a graded evaluation run: summary bars, an outcome filter, one reply in detail.

    Args:
        results: the table from :func:`enterprise_ai.evals.run`.
        outcome: the filter selected when the dashboard opens (a key of :data:`FILTERS`).

    Attributes:
        shown: the rows the current filter keeps.
    """

    plain_text = (
        "Evaluation dashboard (interactive in JupyterLab; the chart and table below show "
        "the stored run)"
    )

    def __init__(self, results: pd.DataFrame, *, outcome: str = "wrong") -> None:
        missing = set(evals.COLUMNS) - set(results.columns)
        if missing:
            raise ValueError(
                f"EvalDashboard needs the table from evals.run(); this one lacks "
                f"{sorted(missing)[:5]}. Pass the DataFrame that evals.run() returned."
            )
        if outcome not in FILTERS:
            raise ValueError(f"outcome={outcome!r} is not one of {list(FILTERS)}.")
        self.results = results.reset_index(drop=True)
        self.shown = self.results
        table = evals.summary(self.results)
        self.bars = w.HTML(
            "".join(
                _bar(str(r), row["value"], int(row["questions"])) for r, row in table.iterrows()
            )
        )
        self.outcome = w.ToggleButtons(options=list(FILTERS), value=outcome, description="Show")
        self.rows = w.Select(rows=8, layout=_WIDE)
        self.detail = w.HTML(layout=_WIDE)
        self.outcome.observe(lambda _: self._filter(), names="value")
        self.rows.observe(lambda _: self._show(), names="value")
        self.widget = w.VBox([self.bars, self.outcome, self.rows, self.detail])
        self._filter()

    def select(self, outcome: str) -> pd.DataFrame:
        """Switch the filter from code (as a click would); returns the rows it keeps."""
        self.outcome.value = outcome
        return self.shown

    def _filter(self) -> None:
        keep = FILTERS[self.outcome.value](self.results)
        self.shown = self.results[keep]
        self.rows.options = [
            (f"{r.id} · {'✓' if r.correct else '✗'} · {r.question[:70]}", i)
            for i, r in self.shown.iterrows()
        ]
        self.rows.value = self.rows.options[0][1] if self.rows.options else None
        self._show()

    def _show(self) -> None:
        if self.rows.value is None:
            self.detail.value = "<i>No question matches this filter.</i>"
            return
        r = self.results.loc[self.rows.value]
        verdict = (
            "<b style='color:#1b7d3a'>correct</b>"
            if r["correct"]
            else f"<b style='color:#b00020'>wrong: {html.escape(str(r['cause']))}</b>"
        )
        facts = ", ".join(r["key_facts"]) or "none: the bot should pass this to a person"
        rejected = ""
        if r["source"] == "extractive" and r["model_text"]:
            rejected = (
                f"<div><small>model wrote (rejected): {html.escape(r['model_text'])}</small></div>"
            )
        error = f"<div style='color:#b00020'>{html.escape(r['error'])}</div>" if r["error"] else ""
        self.detail.value = (
            f"<div><b>{html.escape(r['id'])}</b> ({r['language']}, {r['category']}) · "
            f"{verdict}</div>"
            f"<div><b>Customer:</b> {html.escape(r['question'])}</div>"
            "<div style='border-left:4px solid #2a7ae2;padding:4px 8px;white-space:pre-wrap'>"
            f"{html.escape(r['text'] or '(no reply)')}</div>{rejected}{error}"
            f"<div><small>made by: {r['source']} · cites: "
            f"{html.escape(', '.join(r['citations']) or 'nothing')} · should cite: "
            f"{html.escape(', '.join(r['source_ids']) or 'nothing')} · expected facts: "
            f"{html.escape(facts)}</small></div>"
        )


def eval_dashboard(results: pd.DataFrame, *, outcome: str = "wrong") -> EvalDashboard:
    """Create an :class:`EvalDashboard` over a graded run (it opens on the wrong replies)."""
    return EvalDashboard(results, outcome=outcome)
