"""Backend picker and prompt playground: the widget of lesson 00.

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import html
import time
from typing import Any

import ipywidgets as w

from enterprise_ai import config, llm
from enterprise_ai.errors import CourseError
from enterprise_ai.widgets.base import CourseWidget

__all__ = ["PromptPlayground", "prompt_playground"]

_WIDE = w.Layout(width="100%")


def _error_html(message: str) -> str:
    return f"<div style='color:#b00020'><b>Not sent.</b> {html.escape(message)}</div>"


class PromptPlayground(CourseWidget):
    """Backend picker + prompt playground: system prompt, user prompt, temperature, max tokens.

    Args:
        client: an ``openai.OpenAI`` client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        system: the starting system prompt.
        user: the starting user prompt.
        temperature: the starting temperature (0 = always the most likely next token).
        max_tokens: the starting answer length limit, in tokens.

    Attributes:
        last_reply: the last ``ChatCompletion`` (or ``None`` if the last call failed).
    """

    plain_text = (
        "Prompt playground (interactive in JupyterLab; the table below shows a stored example)"
    )

    def __init__(
        self,
        client: Any = None,
        *,
        model: str | None = None,
        system: str = "You are the friendly support assistant of Isar Cycles, an e-bike maker.",
        user: str = "My e-bike battery drains fast in winter. What can I do?",
        temperature: float = 0.0,
        max_tokens: int = 60,
    ) -> None:
        self._client = client
        self._model = model
        self.last_reply: Any = None
        self.backend = w.Dropdown(
            options=list(config.BACKENDS), description="Backend", value=self._active_backend()
        )
        self.info = w.HTML(layout=_WIDE)
        self.system = w.Textarea(value=system, description="System", layout=_WIDE, rows=2)
        self.user = w.Textarea(value=user, description="User", layout=_WIDE, rows=2)
        self.temperature = w.FloatSlider(
            value=temperature, min=0.0, max=1.5, step=0.1, description="Temperature"
        )
        self.max_tokens = w.IntSlider(
            value=max_tokens, min=8, max=256, step=8, description="Max tokens"
        )
        self.button = w.Button(description="Ask", button_style="primary", icon="paper-plane")
        self.answer = w.HTML(layout=_WIDE)
        self.usage = w.HTML()
        self.button.on_click(lambda _: self.ask())
        self.backend.observe(self._on_backend, names="value")
        self.widget = w.VBox(
            [
                w.HBox([self.backend]),
                self.info,
                self.system,
                self.user,
                w.HBox([self.temperature, self.max_tokens, self.button]),
                self.answer,
                self.usage,
            ]
        )
        self._show_info(self.backend.value)

    @staticmethod
    def _active_backend() -> str:
        try:
            return config.load_settings().backend
        except CourseError:
            return "local"

    def _show_info(self, backend: str) -> None:
        try:
            info = llm.backend_info(backend)
        except CourseError as err:
            self.info.value = _error_html(str(err))
            return
        leaves = "leaves this machine" if info.data_leaves_machine else "stays on this machine"
        self.info.value = (
            f"<b>{html.escape(info.model)}</b> via <code>{info.backend}</code> — your prompt "
            f"<b>{leaves}</b> (goes to {html.escape(info.data_goes_to)})."
        )

    def _on_backend(self, change: dict[str, Any]) -> None:
        """Switch backend only when it is fully configured; otherwise explain and stay."""
        name = change["new"]
        try:
            self._client = llm.get_client(name)
            self._model = llm.default_model(name)
        except CourseError as err:
            self.answer.value = _error_html(str(err))
            self.backend.unobserve(self._on_backend, names="value")
            self.backend.value = change["old"]
            self.backend.observe(self._on_backend, names="value")
            return
        self._show_info(name)

    def ask(self) -> Any:
        """Send the current prompts; show the answer and the token usage. Never raises."""
        self.button.disabled = True
        self.answer.value = "<i>…thinking…</i>"
        started = time.perf_counter()
        try:
            client = self._client or llm.get_client(self.backend.value)
            model = self._model or llm.default_model(self.backend.value)
            self._client, self._model = client, model
            reply = client.chat.completions.create(
                model=model,
                messages=[
                    {"role": "system", "content": self.system.value},
                    {"role": "user", "content": self.user.value},
                ],
                temperature=self.temperature.value,
                max_tokens=self.max_tokens.value,
                seed=42,
            )
        except Exception as err:  # noqa: BLE001 - show it in the widget, keep the notebook alive
            cause = err.__cause__ or err
            self.answer.value = _error_html(f"{type(err).__name__}: {cause}")
            self.last_reply = None
            return None
        finally:
            self.button.disabled = False
        seconds = time.perf_counter() - started
        text = reply.choices[0].message.content or ""
        self.answer.value = (
            "<div style='border-left:4px solid #2a7ae2;padding:4px 8px;white-space:pre-wrap'>"
            f"{html.escape(text)}</div>"
        )
        u = reply.usage
        self.usage.value = (
            f"<small>{u.prompt_tokens} prompt + {u.completion_tokens} completion = "
            f"{u.total_tokens} tokens · {seconds:.1f} s · finish: "
            f"{reply.choices[0].finish_reason}</small>"
            if u
            else ""
        )
        self.last_reply = reply
        return reply


def prompt_playground(**kwargs: Any) -> PromptPlayground:
    """Create a :class:`PromptPlayground` and ask once, so the saved page shows an answer."""
    playground = PromptPlayground(**kwargs)
    playground.ask()
    return playground
