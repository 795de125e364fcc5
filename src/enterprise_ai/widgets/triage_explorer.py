"""Triage explorer: pick a ticket (or type one), choose a method, compare with the label.

Introduced in notebooks/02_triage.ipynb.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w
import pandas as pd

from enterprise_ai import triage
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["TriageExplorer", "triage_explorer"]

_WIDE = w.Layout(width="100%")
_FIELDS = ("category", "urgency", "language", "contains_pii", "expected_action", "summary")


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Not classified.</b> {html.escape(message)}</div>"


class TriageExplorer(CourseWidget):
    """Run one triage method on one ticket and show the result next to the ticket's label.

    Args:
        tickets: labelled tickets (``enterprise_ai.data.tickets()`` when ``None``).
        client: an ``openai.OpenAI`` client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        max_choices: how many tickets the picker offers (the first ones by ticket ID).

    Attributes:
        last_result: the last :class:`~enterprise_ai.triage.TriageResult`, or ``None``.
    """

    plain_text = (
        "Triage explorer (interactive in JupyterLab; the table below shows stored examples)"
    )

    def __init__(
        self,
        tickets: pd.DataFrame | None = None,
        *,
        client: Any = None,
        model: str | None = None,
        max_choices: int = 40,
    ) -> None:
        self._client = client
        self._model = model
        self.last_result: triage.TriageResult | None = None
        problem = ""
        if tickets is None:
            try:
                from enterprise_ai import data

                tickets = data.tickets()
            except Exception as err:  # noqa: BLE001 - the explorer still works on typed text
                problem = f"Could not load the tickets ({type(err).__name__}: {err})."
                tickets = pd.DataFrame(columns=["ticket_id", "subject", "text", "category"])
        self._tickets = tickets.sort_values("ticket_id").head(max_choices).set_index("ticket_id")
        options = [
            (f"{tid} · {str(row.get('subject', ''))[:50]}", tid)
            for tid, row in self._tickets.iterrows()
        ]
        self.ticket = w.Dropdown(options=options, description="Ticket", layout=_WIDE)
        self.text = w.Textarea(
            value="",
            placeholder="…or type a ticket here (it replaces the picked one; no label then)",
            layout=_WIDE,
            rows=2,
        )
        self.method = w.ToggleButtons(options=list(triage.METHODS), description="Method")
        self.button = w.Button(description="Triage", button_style="primary", icon="tags")
        self.shown = w.HTML(layout=_WIDE)
        self.result = w.HTML(layout=_WIDE, value=_error_html(problem) if problem else "")
        self.button.on_click(lambda _: self.run())
        self.widget = w.VBox(
            [self.ticket, self.text, w.HBox([self.method, self.button]), self.shown, self.result]
        )

    def _current(self) -> tuple[str, dict[str, Any] | None]:
        """The text to classify and its label row (``None`` for typed text)."""
        typed = self.text.value.strip()
        if typed or self.ticket.value is None:
            return typed, None
        row = self._tickets.loc[self.ticket.value]
        return triage.ticket_text(row), row.to_dict()

    def run(self) -> triage.TriageResult | None:
        """Classify the current ticket and show prediction vs label. Never raises."""
        text, label = self._current()
        if not text:
            self.result.value = _error_html("Pick a ticket or type one.")
            return None
        self.button.disabled = True
        self.shown.value = (
            "<div style='border-left:4px solid #888;padding:4px 8px;white-space:pre-wrap'>"
            f"{html.escape(text)}</div>"
        )
        self.result.value = "<i>…classifying…</i>"
        try:
            method = self.method.value
            if method != "keywords" and (self._client is None or self._model is None):
                from enterprise_ai import llm

                self._client = self._client or llm.get_client()
                self._model = self._model or llm.default_model()
            found = triage.classify(text, client=self._client, model=self._model, method=method)
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            cause = err.__cause__ or err
            self.result.value = _error_html(f"{type(err).__name__}: {cause}")
            self.last_result = None
            return None
        finally:
            self.button.disabled = False
        self.result.value = self._table(found, label)
        self.last_result = found
        return found

    @staticmethod
    def _table(found: triage.TriageResult, label: dict[str, Any] | None) -> str:
        predicted = found.as_dict()
        rows = []
        for name in _FIELDS:
            mine = predicted.get(name)
            expected = label.get(name) if label and name != "summary" else None
            mark = "" if expected is None else ("✓" if mine == expected else "✗")
            shown = "" if expected is None else str(expected)
            rows.append(
                f"<tr><th style='text-align:left'>{name}</th>"
                f"<td style='text-align:left'>{html.escape(str(mine))}</td>"
                f"<td style='text-align:left'>{html.escape(shown)}</td><td>{mark}</td></tr>"
            )
        status = (
            f"fallback after {found.attempts} attempts: {found.problems[-1]}"
            if found.fallback
            else f"{found.attempts} model call(s)"
            if found.attempts
            else "no model call"
        )
        return (
            "<table><tr><th>field</th><th>prediction</th><th>label</th><th></th></tr>"
            f"{''.join(rows)}</table><small>{html.escape(found.method)} · "
            f"{html.escape(status)} · {found.seconds:.1f} s</small>"
        )


def triage_explorer(tickets: pd.DataFrame | None = None, **kwargs: Any) -> TriageExplorer:
    """Create a :class:`TriageExplorer` and classify once, so the saved page shows a result."""
    explorer = TriageExplorer(tickets, **kwargs)
    explorer.run()
    return explorer
