"""The capstone report viewer: the widget of lesson 10.

A head of support reads the graded report as a go-live checklist. The viewer lists every
criterion with ✅, ❌ or ➖ (N/A: it does not apply to this agent and is not counted) and its
points, and says how many of the grader's unseen cases passed; "show only not yet" narrows the
list to what is left to fix; selecting a criterion shows its evidence, the hint and the
conversations behind the verdict (the customer's message, the tools that ran, the reply).

Introduced in notebooks/10_capstone.ipynb.
"""

from __future__ import annotations

import html

import ipywidgets as w

from enterprise_ai.capstone import CapstoneReport, Criterion
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["CapstoneReportView", "capstone_report_view", "criterion_html"]

_WIDE = w.Layout(width="100%")


def criterion_html(criterion: Criterion) -> str:
    """One criterion as HTML: verdict, source, evidence, hint and transcripts."""
    colour = {"pass": "#1b7f3b", "not yet": "#b00020", "N/A": "#555555"}[criterion.result]
    points = f"{criterion.score_text} points" if criterion.applies else "N/A, not counted"
    parts = [
        f"<b style='color:{colour}'>{criterion.result}</b> · <b>{html.escape(criterion.name)}</b> "
        f"({points}, {html.escape(criterion.source)})",
        f"<p><b>evidence:</b> {html.escape(criterion.evidence)}</p>",
    ]
    if criterion.hint:
        parts.append(f"<p><b>hint:</b> {html.escape(criterion.hint)}</p>")
    for transcript in criterion.transcripts:
        parts.append(f"<pre style='white-space:pre-wrap'>{html.escape(transcript)}</pre>")
    return "".join(parts)


def _label(criterion: Criterion) -> str:
    return f"{criterion.mark} {criterion.name} ({criterion.score_text})"


class CapstoneReportView(CourseWidget):
    """Browse a :class:`~enterprise_ai.capstone.CapstoneReport`: criteria, filter, details.

    Args:
        report: a report from :func:`enterprise_ai.capstone.grade` (``None`` shows a note).

    Attributes:
        only_not_yet: the "show only not yet" checkbox.
        criteria: the list of criteria (its value is the selected criterion's name).
        details: the evidence, hint and transcripts of the selected criterion.
    """

    def __init__(self, report: CapstoneReport | None) -> None:
        self.report = report
        if report is None:
            self.plain_text = "Capstone report (no report yet: run capstone.grade(agent))"
        else:
            self.plain_text = (
                f"Capstone report {report.score}/{report.max_score} points (interactive in "
                "JupyterLab; the table below shows the same report)"
            )
        self.summary = w.HTML(layout=_WIDE)
        self.only_not_yet = w.Checkbox(value=False, description="show only not yet")
        self.criteria = w.Select(options=[], rows=8, layout=_WIDE)
        self.details = w.HTML(layout=_WIDE)
        self.only_not_yet.observe(lambda _: self._fill(), names="value")
        self.criteria.observe(lambda _: self._show(), names="value")
        self.widget = w.VBox([self.summary, self.only_not_yet, self.criteria, self.details])
        self._fill()

    def _shown(self) -> list[Criterion]:
        if self.report is None:
            return []
        if self.only_not_yet.value:
            return self.report.failed()
        return list(self.report.criteria)

    def _fill(self) -> None:
        """Refill the list after the filter changed; select the first criterion."""
        if self.report is None:
            self.summary.value = "<i>No report yet: run capstone.grade(agent).</i>"
            return
        report = self.report
        applying = [c for c in report.criteria if c.applies]
        na = len(report.criteria) - len(applying)
        self.summary.value = (
            f"<b>{report.score}/{report.max_score} points</b> · "
            f"{len(applying) - len(report.failed())} of {len(applying)} criteria pass"
            + (f" · {na} N/A (not counted)" if na else "")
            + (f"<br>{html.escape(report.unseen_line())}" if report.unseen_line() else "")
        )
        shown = self._shown()
        self.criteria.options = [(_label(c), c.name) for c in shown]
        self.criteria.value = shown[0].name if shown else None
        self._show()

    def _show(self) -> None:
        """Show the selected criterion's details (or a note when nothing is selected)."""
        if self.report is None or self.criteria.value is None:
            self.details.value = "<i>Nothing left to fix.</i>" if self.report else ""
            return
        self.details.value = criterion_html(self.report[self.criteria.value])


def capstone_report_view(report: CapstoneReport | None) -> CapstoneReportView:
    """Create a :class:`CapstoneReportView` (the lesson's one-liner)."""
    return CapstoneReportView(report)
