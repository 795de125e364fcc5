"""The capstone report viewer: the widget of lesson 10.

A head of support reads the graded report as a go-live checklist. The viewer lists every
criterion with ✅ or ❌ and its points; "show only not yet" narrows the list to what is left to
fix; selecting a criterion shows its evidence, the hint and the conversations behind the
verdict (the customer's message, the tools that ran, the reply).

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
    colour, word = ("#1b7f3b", "pass") if criterion.passed else ("#b00020", "not yet")
    parts = [
        f"<b style='color:{colour}'>{word}</b> · <b>{html.escape(criterion.name)}</b> "
        f"({criterion.earned}/{criterion.points} points, {html.escape(criterion.source)})",
        f"<p><b>evidence:</b> {html.escape(criterion.evidence)}</p>",
    ]
    if criterion.hint:
        parts.append(f"<p><b>hint:</b> {html.escape(criterion.hint)}</p>")
    for transcript in criterion.transcripts:
        parts.append(f"<pre style='white-space:pre-wrap'>{html.escape(transcript)}</pre>")
    return "".join(parts)


def _label(criterion: Criterion) -> str:
    mark = "✅" if criterion.passed else "❌"
    return f"{mark} {criterion.name} ({criterion.earned}/{criterion.points})"


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
        self.summary.value = (
            f"<b>{report.score}/{report.max_score} points</b> · "
            f"{len(report.criteria) - len(report.failed())} of {len(report.criteria)} criteria "
            "pass"
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
