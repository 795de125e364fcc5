"""Checks for exercises/00_setup.ipynb (lesson: notebooks/00_setup.ipynb)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed
from enterprise_ai.config import Settings
from enterprise_ai.testing import ScriptedClient

__all__ = ["EX00_3_CASES", "ex00_1", "ex00_2", "ex00_3"]


#: Roles that carry the system prompt. OpenAI's newer models call it "developer"; llama.cpp
#: and the other backends of the course treat a "developer" message as a system message.
_SYSTEM_ROLES = {"system", "developer"}


def _text_of(content: Any) -> str | None:
    """The text of a message's content: a string, or a list of text parts as the SDKs allow."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        if parts and all(isinstance(t, str) for t in parts):
            return "".join(parts)
    return None


def _is_message(message: Any, roles: set[str], text: str) -> bool:
    """True if ``message`` is a dict with one of ``roles`` whose content is exactly ``text``."""
    return (
        isinstance(message, dict)
        and message.get("role") in roles
        and _text_of(message.get("content")) == text
    )


def _check_text_and_tokens(label: str, result: Any, expected_text: str, tokens: int) -> bool:
    """Shared by ex00_1 and ex00_2: the function returns ``(text, total_tokens)``."""
    if result is None:
        return not_yet(
            label,
            "the function returned None",
            "end it with `return text, total_tokens`",
        )
    if not (isinstance(result, tuple) and len(result) == 2):
        return not_yet(
            label,
            f"expected a tuple (text, total_tokens), got {result!r:.80}",
            "return two values: `return text, total_tokens`",
        )
    text, total = result
    if text != expected_text:
        return not_yet(
            label,
            f"expected the model's text {expected_text!r}, got {text!r:.80}",
            "the text is in reply.choices[0].message.content (Chat) or response.output_text "
            "(Responses)",
        )
    if total != tokens:
        return not_yet(
            label,
            f"expected total_tokens={tokens}, got {total!r}",
            "read it from the usage object: reply.usage.total_tokens",
        )
    return True


def ex00_1(ask: Callable[..., Any]) -> bool:
    """Check ``ask(client, question, *, system, model) -> (text, total_tokens)`` (Chat API)."""
    label = "ex00_1"
    client = ScriptedClient(["Isar Cycles is based in Munich."])
    system = "You are the support assistant of Isar Cycles. Answer in one sentence."
    question = "Where is Isar Cycles based?"
    ok, result = call_learner_code(
        label, ask, client, question, system=system, model="course-model"
    )
    if not ok:
        return False
    if result is None and not client.requests:
        return not_yet(
            label,
            "ask() returned None without calling the model: it is not written yet",
            "call client.chat.completions.create(...) and `return text, total_tokens`",
        )
    if not client.requests:
        return not_yet(
            label,
            "ask() never called client.chat.completions.create",
            "call the client that is passed in; don't create a new one inside ask()",
        )
    request = client.requests[-1]
    messages = request.get("messages") or []
    first = messages[0] if messages else None
    if not _is_message(first, _SYSTEM_ROLES, system):
        return not_yet(
            label,
            f"the first message should be the system prompt, got {first!r:.100}",
            'start messages with {"role": "system", "content": system}',
        )
    if not any(_is_message(m, {"user"}, question) for m in messages):
        return not_yet(
            label,
            "the question is not among the messages as a user message",
            'add {"role": "user", "content": question} after the system message',
        )
    if request.get("model") != "course-model":
        return not_yet(
            label, f"model={request.get('model')!r} was sent", "pass model=model to create()"
        )
    expected_tokens = client.returned[-1].usage.total_tokens
    if not _check_text_and_tokens(
        label, result, "Isar Cycles is based in Munich.", expected_tokens
    ):
        return False
    return passed(label, f"ask() sent a system prompt and returned {result!r}.")


def ex00_2(ask_responses: Callable[..., Any]) -> bool:
    """Check ``ask_responses(client, question, *, instructions, model)`` (Responses API)."""
    label = "ex00_2"
    answer = "Orders ship within two working days."
    client = ScriptedClient([answer])
    instructions = "You are the support assistant of Isar Cycles."
    question = "How fast do you ship?"
    ok, result = call_learner_code(
        label, ask_responses, client, question, instructions=instructions, model="course-model"
    )
    if not ok:
        return False
    if result is None and not client.requests:
        return not_yet(
            label,
            "ask_responses() returned None without calling the model: it is not written yet",
            "call client.responses.create(...) and `return text, total_tokens`",
        )
    calls = [r for r in client.requests if r["api"] == "responses"]
    if not calls:
        used = "client.chat.completions.create" if client.requests else "no API at all"
        return not_yet(
            label, f"ask_responses() used {used}", "call client.responses.create(...) here"
        )
    request = calls[-1]
    given = request.get("input")
    # input= takes the question as a string or as a list of messages; both are right, and a
    # system or developer message at the start of that list does the job of instructions=.
    as_messages = given if isinstance(given, list) else []
    in_input = bool(as_messages) and _is_message(as_messages[0], _SYSTEM_ROLES, instructions)
    if request.get("instructions") != instructions and not in_input:
        return not_yet(
            label,
            f"instructions={request.get('instructions')!r:.80} was sent",
            "pass instructions=instructions: the Responses API's system prompt",
        )
    if given != question and not any(_is_message(m, {"user"}, question) for m in as_messages):
        return not_yet(
            label,
            f"the question did not reach the API: input={given!r:.80}",
            "pass input=question (or a list with one user message holding the question)",
        )
    if request.get("model") != "course-model":
        return not_yet(
            label, f"model={request.get('model')!r} was sent", "pass model=model to create()"
        )
    expected_tokens = client.returned[-1].usage.total_tokens
    if not _check_text_and_tokens(label, result, answer, expected_tokens):
        return False
    return passed(label, f"ask_responses() used the Responses API and returned {result!r}.")


#: ex00_3's situations: where does a prompt go? (base URLs as a learner would configure them)
EX00_3_CASES: dict[str, Settings] = {
    "local": Settings("local"),
    "openai": Settings("openai", base_url="https://api.openai.com/v1"),
    "azure": Settings("azure", base_url="https://isar-cycles.openai.azure.com"),
    "ollama on this laptop": Settings("compatible", base_url="http://localhost:11434/v1"),
    "trainer's class server": Settings("compatible", base_url="http://192.168.10.5:8080/v1"),
}


def ex00_3(answers: dict[str, Any]) -> bool:
    """Check a dict ``{situation: True/False}``: does the prompt leave this machine?"""
    label = "ex00_3"
    if not isinstance(answers, dict):
        return not_yet(
            label, f"expected a dict, got {type(answers).__name__}", "keep the dict from the cell"
        )
    for situation, settings in EX00_3_CASES.items():
        given = answers.get(situation)
        expected = not settings.is_loopback
        if given is None or given is ...:
            return not_yet(
                label,
                f"no answer yet for {situation!r}",
                "replace each `...` with True (leaves the machine) or False",
            )
        if given is not expected:
            why = (
                "its URL points to this machine (localhost / 127.0.0.1)"
                if not expected
                else f"its URL {settings.base_url} is another computer"
            )
            if settings.backend == "local":
                why = "llama.cpp runs inside this machine"
            return not_yet(
                label,
                f"{situation!r}: you said {given!r}, but {why}",
                "look at the host part of the URL; see lesson 00, 'What runs where'",
            )
    return passed(label, "you know where each backend sends a prompt.")
