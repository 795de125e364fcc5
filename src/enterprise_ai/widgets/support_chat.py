"""Support chat with sources: the widget of lesson 03.

Ask the grounded bot a question; see its reply, the articles it cites, the retrieved chunks
(click to read them) and a red "escalated to a human" badge when it passes the question on.

Introduced in notebooks/03_grounded_bot.ipynb.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as w

from enterprise_ai import kb, support
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["SupportChat", "support_chat"]

_WIDE = w.Layout(width="100%")
_BADGE = (
    "<span style='background:#b00020;color:white;padding:1px 8px;border-radius:9px;"
    "font-size:90%'>escalated to a human</span>"
)
_HOW = {
    "model": "written by the model, citations checked",
    "extractive": "quoted from the best article: the model's citations could not be trusted",
    "abstained": "no article covers the question well enough: passed to a colleague",
}


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Not answered.</b> {html.escape(message)}</div>"


class SupportChat(CourseWidget):
    """A chat box over :func:`enterprise_ai.support.answer`, with sources and escalation badge.

    Args:
        client: an ``openai.OpenAI`` client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        question: the question in the box when the widget opens.
        min_score: the starting abstention threshold (a slider in the widget).
        k: how many chunks to retrieve.
        index: the search index; default: all Isar Cycles articles.

    Attributes:
        last_answer: the last :class:`~enterprise_ai.support.Answer` (``None`` if it failed).
        history: every ``Answer`` of this chat, oldest first.
    """

    plain_text = (
        "Support chat with sources (interactive in JupyterLab; the table below shows "
        "stored examples)"
    )

    def __init__(
        self,
        client: Any = None,
        *,
        model: str | None = None,
        question: str = "Can I take my e-bike battery on a plane?",
        min_score: float = support.DEFAULT_MIN_SCORE,
        k: int = 3,
        index: kb.Index | None = None,
    ) -> None:
        self._client = client
        self._model = model
        self._k = k
        self._index = index
        self.last_answer: support.Answer | None = None
        self.history: list[support.Answer] = []
        self.question = w.Text(value=question, description="Customer", layout=_WIDE)
        self.min_score = w.FloatSlider(
            value=min_score,
            min=0.0,
            max=8.0,
            step=0.25,
            description="Abstain below",
            style={"description_width": "initial"},
        )
        self.button = w.Button(description="Ask", button_style="primary", icon="paper-plane")
        self.reply = w.HTML(layout=_WIDE)
        self.sources = w.Accordion(layout=_WIDE)
        self.button.on_click(lambda _: self.ask())
        self.widget = w.VBox(
            [
                self.question,
                w.HBox([self.min_score, self.button]),
                self.reply,
                self.sources,
            ]
        )

    def ask(self, question: str | None = None) -> support.Answer | None:
        """Answer the question in the box (or ``question``); show it. Never raises."""
        if question is not None:
            self.question.value = question
        self.button.disabled = True
        self.reply.value = "<i>…searching the help articles…</i>"
        try:
            result = support.answer(
                self.question.value,
                client=self._client,
                model=self._model,
                k=self._k,
                min_score=self.min_score.value,
                index=self._index,
            )
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            cause = err.__cause__ or err
            self.reply.value = _error_html(f"{type(err).__name__}: {cause}")
            self.sources.children = ()
            self.last_answer = None
            return None
        finally:
            self.button.disabled = False
        self.last_answer = result
        self.history.append(result)
        self._show(result)
        return result

    def _show(self, result: support.Answer) -> None:
        best = f"{result.hits[0].score:.2f}" if result.hits else "no match"
        cited = ", ".join(f"<code>{html.escape(c)}</code>" for c in result.citations) or "none"
        self.reply.value = (
            f"<div style='margin:4px 0'><b>Customer:</b> {html.escape(result.question)}</div>"
            "<div style='border-left:4px solid #2a7ae2;padding:4px 8px;white-space:pre-wrap'>"
            f"<b>Bot:</b> {html.escape(result.text)}</div>"
            f"<div style='margin-top:4px'>{_BADGE if result.escalate else ''} "
            f"<small>sources: {cited} · best search score {best} · "
            f"{_HOW[result.source]}</small></div>"
        )
        panels, titles = [], []
        for hit in result.hits:
            mark = "cited · " if hit.article_id in result.citations else ""
            titles.append(f"{mark}{hit.chunk_id} · {hit.chunk.section} · score {hit.score:.2f}")
            panels.append(
                w.HTML(f"<div style='white-space:pre-wrap'>{html.escape(hit.chunk.text)}</div>")
            )
        self.sources.children = tuple(panels)
        self.sources.titles = tuple(titles)
        self.sources.selected_index = None


def support_chat(**kwargs: Any) -> SupportChat:
    """Create a :class:`SupportChat` and ask once, so the saved page shows an answer."""
    chat = SupportChat(**kwargs)
    chat.ask()
    return chat
