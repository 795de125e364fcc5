"""Trace viewer with approve / reject buttons: the widget of lesson 07.

Type a task, pick the logged-in customer and run the agent. The viewer lists every step of the
run (model calls with tokens and seconds, tool calls with their results, blocked calls,
approvals) and says why the run stopped. When the agent wants a privileged action (a refund, a
return label) it stops and waits: the request appears with **Approve** and **Reject** buttons,
and a click lets the same run continue. This is human-in-the-loop in its plainest form: the
person sees what the model asked for, and why, before anything happens.

Introduced in notebooks/07_agents.ipynb.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from enterprise_ai import agents, tools
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["TraceViewer", "trace_html", "trace_viewer"]

_WIDE = w.Layout(width="100%")
_CELL = "style='text-align:left;vertical-align:top;padding:2px 6px;border-bottom:1px solid #ddd'"
_COLOURS = {"blocked": "#b00020", "approval": "#8a5a00", "stop": "#2a7ae2"}


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Not run.</b> {html.escape(message)}</div>"


def trace_html(run: agents.AgentRun) -> str:
    """The steps of a run as an HTML table; failed, blocked and declined steps in colour."""
    header = "".join(
        f"<th {_CELL}>{name}</th>"
        for name in ("#", "kind", "name", "content", "tokens", "EUR", "s")
    )
    rows = []
    for step in run.trace.steps:
        row = step.as_row()
        colour = _COLOURS.get(step.kind, "") if step.ok else "#b00020"
        style = f" style='color:{colour}'" if colour else ""
        cells = [
            str(row["step"]),
            row["kind"],
            row["name"],
            row["content"],
            str(row["tokens"] or ""),
            f"{row['eur']:.5f}" if row["eur"] else "",
            f"{row['seconds']:.2f}" if row["seconds"] else "",
        ]
        rows.append(
            f"<tr{style}>"
            + "".join(f"<td {_CELL}><code>{html.escape(c)}</code></td>" for c in cells)
            + "</tr>"
        )
    return f"<table style='font-size:90%'><tr>{header}</tr>{''.join(rows)}</table>"


def _wait_for_a_person(request: agents.ApprovalRequest) -> None:
    """The widget's approver: decide later, with the buttons."""
    return None


class TraceViewer(CourseWidget):
    """Run :func:`enterprise_ai.agents.run` from a text box; show the trace; approve or reject.

    Args:
        client: an ``openai.OpenAI`` client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        task: the customer's message in the box when the widget opens.
        customers: the customer ids to choose from (the first is selected).
        today: the date return windows are counted to; default: today.
        db_path: the orders database; default: :func:`enterprise_ai.data.orders_db`.
        budget: the caps of each run; default: ``Budget(max_steps=4)``.
        approve: who decides privileged calls; default: a person, with the buttons. Pass a
            policy such as :func:`enterprise_ai.agents.approve_below` to run without clicks.
        reviewer: the name recorded for decisions made with the buttons.

    Attributes:
        last_run: the last :class:`~enterprise_ai.agents.AgentRun` (``None`` if it failed).
    """

    plain_text = (
        "Agent trace viewer (interactive in JupyterLab; the table below shows a stored run)"
    )

    def __init__(
        self,
        client: Any = None,
        *,
        model: str | None = None,
        task: str = "Please refund 20 EUR on IC-100146, the phone mount arrived scratched.",
        customers: Sequence[str] = ("C-0010", "C-0105", "C-0260"),
        today: dt.date | None = None,
        db_path: Path | str | None = None,
        budget: agents.Budget | None = None,
        approve: agents.Approver | None = None,
        reviewer: str = "course participant",
    ) -> None:
        self._client = client
        self._model = model
        self._today = today
        self._db_path = db_path
        self._budget = budget or agents.Budget(max_steps=4)
        self._approve = approve or _wait_for_a_person
        self.last_run: agents.AgentRun | None = None
        self.task = w.Text(value=task, description="Customer", layout=_WIDE)
        self.customer = w.Dropdown(
            options=list(customers),
            description="Logged in as",
            style={"description_width": "initial"},
        )
        self.reviewer = w.Text(value=reviewer, description="Reviewer")
        self.run_button = w.Button(description="Run agent", button_style="primary", icon="play")
        self.approve_button = w.Button(
            description="Approve", button_style="success", icon="check", disabled=True
        )
        self.reject_button = w.Button(
            description="Reject", button_style="danger", icon="times", disabled=True
        )
        self.status = w.HTML(layout=_WIDE)
        self.steps = w.HTML(layout=_WIDE)
        self.run_button.on_click(lambda _: self.run())
        self.approve_button.on_click(lambda _: self.decide(True))
        self.reject_button.on_click(lambda _: self.decide(False))
        self.widget = w.VBox(
            [
                self.task,
                w.HBox([self.customer, self.run_button]),
                self.status,
                w.HBox([self.reviewer, self.approve_button, self.reject_button]),
                self.steps,
            ]
        )

    def run(self, task: str | None = None) -> agents.AgentRun | None:
        """Run the agent on the task in the box (or ``task``) and show it. Never raises."""
        if task is not None:
            self.task.value = task
        self.run_button.disabled = True
        self.status.value = "<i>…the agent is working…</i>"
        try:
            if self._client is None or self._model is None:
                from enterprise_ai import llm

                self._client = self._client or llm.get_client()
                self._model = self._model or llm.default_model()
            session = tools.Session(self.customer.value, today=self._today or dt.date.today())
            desk = tools.OrderDesk(session, db_path=self._db_path)
            result = agents.run(
                self.task.value,
                desk=desk,
                client=self._client,
                model=self._model,
                budget=self._budget,
                approve=self._approve,
                max_tokens_per_call=120,
            )
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            return self._failed(err)
        finally:
            self.run_button.disabled = False
        self.show(result)
        return result

    def decide(self, approved: bool) -> agents.AgentRun | None:
        """Approve or reject the waiting call (the buttons call this). Never raises."""
        current = self.last_run
        if current is None or current.pending is None:
            self.status.value = _error_html("Nothing is waiting for approval; run the agent.")
            return None
        self.approve_button.disabled = self.reject_button.disabled = True
        try:
            current.decide(approved, by=self.reviewer.value or "reviewer")
        except Exception as err:  # noqa: BLE001 - show it in the widget
            return self._failed(err)
        self.show(current)
        return current

    def show(self, result: agents.AgentRun) -> None:
        """Show any run: its answer, its summary, the waiting request and every step."""
        self.last_run = result
        waiting = result.pending is not None
        self.approve_button.disabled = self.reject_button.disabled = not waiting
        question = (
            "<div style='border:2px solid #8a5a00;padding:4px 8px;margin:4px 0'>"
            f"<b>Approve?</b> <code>{html.escape(result.pending.describe())}</code><br>"
            f"<small>The customer wrote: {html.escape(result.task)}</small></div>"
            if result.pending is not None
            else ""
        )
        self.status.value = (
            "<div style='border-left:4px solid #2a7ae2;padding:4px 8px;white-space:pre-wrap'>"
            f"<b>Agent:</b> {html.escape(result.answer)}</div>"
            f"<pre style='font-size:85%;white-space:pre-wrap'>{html.escape(result.summary())}</pre>"
            f"{question}"
        )
        self.steps.value = trace_html(result)

    def _failed(self, err: Exception) -> None:
        cause = err.__cause__ or err
        self.status.value = _error_html(f"{type(err).__name__}: {cause}")
        self.steps.value = ""
        self.last_run = None
        self.approve_button.disabled = self.reject_button.disabled = True
        return None


def trace_viewer(**kwargs: Any) -> TraceViewer:
    """Create a :class:`TraceViewer` and run once, so the saved page shows a trace."""
    viewer = TraceViewer(**kwargs)
    viewer.run()
    return viewer
