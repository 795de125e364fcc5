"""Exercise checks pass the worked solution, say "not yet" to stubs and mistakes, never raise."""

from __future__ import annotations

import pytest

from enterprise_ai import checks
from enterprise_ai.testing import ScriptedClient


def good_ask(client, question, *, system, model):
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": question}],
    )
    return reply.choices[0].message.content, reply.usage.total_tokens


def good_ask_responses(client, question, *, instructions, model):
    response = client.responses.create(model=model, instructions=instructions, input=question)
    return response.output_text, response.usage.total_tokens


def stub(*args, **kwargs): ...


def test_ex00_1_passes_a_correct_function(capsys):
    assert checks.ex00_1(good_ask) is True
    assert "✅ ex00_1" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("func", "expected"),
    [
        (stub, "not written yet"),
        (lambda *a, **k: 1 / 0, "ZeroDivisionError"),
        (42, "expected a function"),
    ],
)
def test_ex00_1_says_not_yet_without_raising(capsys, func, expected):
    assert checks.ex00_1(func) is False
    out = capsys.readouterr().out
    assert "not yet (ex00_1)" in out and expected in out and "hint:" in out


def test_ex00_1_notices_a_missing_system_prompt(capsys):
    def no_system(client, question, *, system, model):
        reply = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": question}]
        )
        return reply.choices[0].message.content, reply.usage.total_tokens

    assert checks.ex00_1(no_system) is False
    assert "system prompt" in capsys.readouterr().out


def test_ex00_1_notices_wrong_token_count(capsys):
    def wrong_tokens(client, question, *, system, model):
        text, total = good_ask(client, question, system=system, model=model)
        return text, total + 1

    assert checks.ex00_1(wrong_tokens) is False
    assert "total_tokens" in capsys.readouterr().out


def test_ex00_2_passes_and_rejects_chat_api(capsys):
    assert checks.ex00_2(good_ask_responses) is True

    def uses_chat(client, question, *, instructions, model):
        return good_ask(client, question, system=instructions, model=model)

    assert checks.ex00_2(uses_chat) is False
    assert "client.responses.create" in capsys.readouterr().out


def test_ex00_3_right_wrong_and_unfinished(capsys):
    right = {
        "local": False,
        "openai": True,
        "azure": True,
        "ollama on this laptop": False,
        "trainer's class server": True,
    }
    assert checks.ex00_3(right) is True
    assert checks.ex00_3({**right, "trainer's class server": False}) is False
    assert "192.168.10.5" in capsys.readouterr().out
    assert checks.ex00_3({situation: ... for situation in checks.EX00_3_CASES}) is False
    assert "no answer yet" in capsys.readouterr().out
    assert checks.ex00_3({1, 2}) is False


def test_scripted_client_records_and_repeats_last_reply():
    client = ScriptedClient(["one", "two"])
    texts = [
        client.chat.completions.create(model="m", messages=[]).choices[0].message.content
        for _ in range(3)
    ]
    assert texts == ["one", "two", "two"]
    assert len(client.requests) == 3 and client.requests[0]["api"] == "chat.completions"
    response = client.responses.create(model="m", input="hi")
    assert response.output_text == "two"
    assert response.usage.total_tokens == response.usage.input_tokens + 1
