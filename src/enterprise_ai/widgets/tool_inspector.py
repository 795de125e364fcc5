"""Tool-call inspector: the widget of lesson 06.

Type a customer message, pick the logged-in customer, and see every tool call of the bot's
turn: who chose it (the rule or the model), what the model sent, what survived validation, what
came back (or the error the model got instead), and how long the tool took.

Introduced in notebooks/06_tools.ipynb.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w

from enterprise_ai import tools
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["ToolInspector", "tool_inspector"]

_WIDE = w.Layout(width="100%")
_BADGE = (
    "<span style='background:#b00020;color:white;padding:1px 8px;border-radius:9px;"
    "font-size:90%'>escalated to a human</span>"
)
_CELL = "style='text-align:left;vertical-align:top;padding:2px 6px;border-bottom:1px solid #ddd'"


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Not answered.</b> {html.escape(message)}</div>"


def calls_html(results: Sequence[tools.ToolResult]) -> str:
    """The calls of one turn as an HTML table (rejected calls in red)."""
    if not results:
        return "<i>No tool was called.</i>"
    header = "".join(
        f"<th {_CELL}>{name}</th>"
        for name in ("#", "chosen by", "tool", "model's call", "validated", "result", "ms")
    )
    rows = []
    for number, result in enumerate(results, 1):
        row = result.as_row()
        colour = "" if result.ok else " style='color:#b00020'"
        cells = [
            str(number),
            row["chosen by"],
            row["tool"],
            row["model's arguments"],
            row["validated"],
            row["result"],
            f"{row['ms']:.1f}",
        ]
        rows.append(
            f"<tr{colour}>"
            + "".join(f"<td {_CELL}><code>{html.escape(c)}</code></td>" for c in cells)
            + "</tr>"
        )
    return f"<table style='font-size:90%'><tr>{header}</tr>{''.join(rows)}</table>"


class ToolInspector(CourseWidget):
    """A message box over :func:`enterprise_ai.tools.respond`, with a table of every tool call.

    Args:
        client: an ``openai.OpenAI`` client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        message: the message in the box when the widget opens.
        customers: the customer ids to choose from (the first is selected).
        today: the date return windows are counted to; default: today.
        db_path: the orders database; default: :func:`enterprise_ai.data.orders_db`.
        audit: where every tool call is recorded (e.g. an ``AuditLog``); default: nowhere.

    Attributes:
        last_reply: the last :class:`~enterprise_ai.tools.Reply` (``None`` if it failed).
        history: every ``Reply`` of this widget, oldest first.
    """

    plain_text = (
        "Tool-call inspector (interactive in JupyterLab; the table below shows stored calls)"
    )

    def __init__(
        self,
        client: Any = None,
        *,
        model: str | None = None,
        message: str = "Where is my order IC-100001?",
        customers: Sequence[str] = ("C-0228", "C-0105"),
        today: dt.date | None = None,
        db_path: Path | str | None = None,
        audit: tools.AuditSink | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._today = today
        self._db_path = db_path
        self._audit = audit
        self.last_reply: tools.Reply | None = None
        self.history: list[tools.Reply] = []
        self.message = w.Text(value=message, description="Customer", layout=_WIDE)
        self.customer = w.Dropdown(
            options=list(customers),
            description="Logged in as",
            style={"description_width": "initial"},
        )
        self.use_router = w.Checkbox(value=True, description="order ids routed by rule")
        self.button = w.Button(description="Send", button_style="primary", icon="paper-plane")
        self.reply = w.HTML(layout=_WIDE)
        self.calls = w.HTML(layout=_WIDE)
        self.button.on_click(lambda _: self.send())
        self.widget = w.VBox(
            [
                self.message,
                w.HBox([self.customer, self.use_router, self.button]),
                self.reply,
                self.calls,
            ]
        )

    def send(self, message: str | None = None) -> tools.Reply | None:
        """Run one bot turn for the message in the box (or ``message``); show it. Never raises."""
        if message is not None:
            self.message.value = message
        self.button.disabled = True
        self.reply.value = "<i>…the bot is working…</i>"
        try:
            if self._client is None or self._model is None:
                from enterprise_ai import llm

                self._client = self._client or llm.get_client()
                self._model = self._model or llm.default_model()
            session = tools.Session(self.customer.value, today=self._today or dt.date.today())
            desk = tools.OrderDesk(session, db_path=self._db_path, audit=self._audit)
            result = tools.respond(
                self.message.value,
                client=self._client,
                model=self._model,
                desk=desk,
                use_router=self.use_router.value,
            )
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            cause = err.__cause__ or err
            self.reply.value = _error_html(f"{type(err).__name__}: {cause}")
            self.calls.value = ""
            self.last_reply = None
            return None
        finally:
            self.button.disabled = False
        self.last_reply = result
        self.history.append(result)
        self._show(result)
        return result

    def _show(self, result: tools.Reply) -> None:
        self.reply.value = (
            f"<div style='margin:4px 0'><b>Customer:</b> {html.escape(result.message)}</div>"
            "<div style='border-left:4px solid #2a7ae2;padding:4px 8px;white-space:pre-wrap'>"
            f"<b>Bot:</b> {html.escape(result.text)}</div>"
            f"<div style='margin-top:4px'>{_BADGE if result.escalated else ''} "
            f"<small>{len(result.results)} tool calls · {result.failures} failed · "
            f"{result.seconds:.1f} s for the whole turn</small></div>"
        )
        self.calls.value = calls_html(result.results)


def tool_inspector(**kwargs: Any) -> ToolInspector:
    """Create a :class:`ToolInspector` and send once, so the saved page shows a turn."""
    inspector = ToolInspector(**kwargs)
    inspector.send()
    return inspector
