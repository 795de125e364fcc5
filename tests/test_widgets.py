"""The prompt playground: shows answers and usage, explains errors inside the widget."""

from __future__ import annotations

import pytest

from enterprise_ai.testing import ScriptedClient
from enterprise_ai.widgets import PromptPlayground, prompt_playground


@pytest.fixture(autouse=True)
def _local_backend(monkeypatch):
    monkeypatch.setenv("COURSE_DOTENV", "0")
    monkeypatch.setenv("COURSE_BACKEND", "local")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_playground_asks_once_and_shows_answer_and_usage():
    client = ScriptedClient(["Charge it indoors & keep it warm."])
    playground = prompt_playground(client=client, model="m", temperature=0.3, max_tokens=32)
    request = client.requests[0]
    assert request["temperature"] == 0.3 and request["max_tokens"] == 32
    assert request["messages"][0]["role"] == "system"
    assert "Charge it indoors &amp; keep it warm." in playground.answer.value  # escaped HTML
    assert "tokens" in playground.usage.value
    assert playground.last_reply is not None


def test_playground_sends_edited_prompts():
    client = ScriptedClient(["ok"])
    playground = PromptPlayground(client=client, model="m")
    playground.system.value = "You are a grumpy pirate."
    playground.user.value = "Hello?"
    playground.button.click()
    assert client.requests[-1]["messages"] == [
        {"role": "system", "content": "You are a grumpy pirate."},
        {"role": "user", "content": "Hello?"},
    ]


def test_unconfigured_backend_is_explained_and_not_selected():
    playground = PromptPlayground(client=ScriptedClient(["ok"]), model="m")
    playground.backend.value = "openai"
    assert playground.backend.value == "local"
    assert "OPENAI_API_KEY" in playground.answer.value


def test_a_failing_call_is_shown_not_raised():
    class Broken(ScriptedClient):
        def __init__(self):
            super().__init__(["x"])
            self.chat.completions.create = self._fail

        @staticmethod
        def _fail(**kwargs):
            raise RuntimeError("server on fire")

    playground = PromptPlayground(client=Broken(), model="m")
    assert playground.ask() is None
    assert "server on fire" in playground.answer.value
    assert playground.button.disabled is False


def test_plain_text_form_is_one_readable_line():
    playground = PromptPlayground(client=ScriptedClient(["ok"]), model="m")
    bundle = playground._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("Prompt playground")
    assert "VBox" not in bundle["text/plain"]
