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


# --- ex00: other right ways to write the call are accepted --------------------------------


def test_ex00_1_accepts_the_developer_role_and_text_parts(capsys):
    """OpenAI's newer name for the system message is "developer"; content may be a part list."""

    def developer(client, question, *, system, model):
        reply = client.chat.completions.create(
            model=model,
            messages=[
                {"role": "developer", "content": [{"type": "text", "text": system}]},
                {"role": "user", "content": [{"type": "text", "text": question}]},
            ],
        )
        return reply.choices[0].message.content, reply.usage.total_tokens

    def system_as_assistant(client, question, *, system, model):
        reply = client.chat.completions.create(
            model=model,
            messages=[
                {"role": "assistant", "content": system},
                {"role": "user", "content": question},
            ],
        )
        return reply.choices[0].message.content, reply.usage.total_tokens

    assert checks.ex00_1(developer) is True
    assert checks.ex00_1(system_as_assistant) is False
    assert "first message should be the system prompt" in capsys.readouterr().out


def test_ex00_2_accepts_a_message_list_as_input(capsys):
    def as_list(client, question, *, instructions, model):
        response = client.responses.create(
            model=model, instructions=instructions, input=[{"role": "user", "content": question}]
        )
        return response.output_text, response.usage.total_tokens

    def instructions_in_input(client, question, *, instructions, model):
        messages = [
            {"role": "developer", "content": instructions},
            {"role": "user", "content": [{"type": "input_text", "text": question}]},
        ]
        response = client.responses.create(model=model, input=messages)
        return response.output_text, response.usage.total_tokens

    def other_question(client, question, *, instructions, model):
        response = client.responses.create(model=model, instructions=instructions, input="Hi")
        return response.output_text, response.usage.total_tokens

    assert checks.ex00_2(as_list) is True
    assert checks.ex00_2(instructions_in_input) is True
    assert checks.ex00_2(other_question) is False
    assert "input='Hi'" in capsys.readouterr().out


# --- ex01: rounding, typed-in workloads ------------------------------------------------------


def _cost(prompt_tokens, completion_tokens, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur):
    usd = (prompt_tokens * input_usd_per_1m + completion_tokens * output_usd_per_1m) / 1e6
    return usd * usd_to_eur


@pytest.mark.parametrize("digits", [2, 6])
def test_ex01_1_says_dont_round_inside_the_function(capsys, digits):
    assert checks.ex01_1(lambda *a, **k: round(_cost(*a, **k), digits)) is False
    assert "don't round inside the function" in capsys.readouterr().out


def _projection(prices, *, tickets_per_day, tokens_in, tokens_out, days=30, usd_to_eur=0.86):
    table = prices[["model"]].copy()
    per_ticket = tokens_in * prices["input_usd_per_1m"] + tokens_out * prices["output_usd_per_1m"]
    table["monthly_eur"] = per_ticket / 1e6 * usd_to_eur * tickets_per_day * days
    return table.sort_values("monthly_eur").reset_index(drop=True)


def test_ex01_2_rejects_tickets_and_days_written_into_the_function(capsys):
    def typed_in(prices, *, tickets_per_day, tokens_in, tokens_out, days=30, usd_to_eur=0.86):
        return _projection(
            prices, tickets_per_day=1_000, tokens_in=tokens_in, tokens_out=tokens_out,
            days=30, usd_to_eur=usd_to_eur,
        )  # fmt: skip

    assert checks.ex01_2(_projection) is True
    assert checks.ex01_2(typed_in) is False
    out = capsys.readouterr().out
    assert "250 tickets/day" in out and "use the arguments tickets_per_day and days" in out


# --- ex02: the schema's edges, a typed-in accuracy --------------------------------------------


def test_ex02_1_rejects_a_shorter_summary_limit_and_a_loose_contains_pii(capsys):
    from typing import Any

    from pydantic import Field

    from enterprise_ai.triage import TicketTriage

    class ShortSummary(TicketTriage):
        summary: str = Field(max_length=35)

    class AnyPii(TicketTriage):
        contains_pii: Any

    class PiiWithDefault(TicketTriage):
        contains_pii: bool = False

    assert checks.ex02_1(TicketTriage) is True
    capsys.readouterr()
    assert checks.ex02_1(ShortSummary) is False
    assert "40 characters are allowed" in capsys.readouterr().out
    assert checks.ex02_1(AnyPii) is False
    assert "yes/no flag" in capsys.readouterr().out
    assert checks.ex02_1(PiiWithDefault) is False
    assert "no contains_pii at all" in capsys.readouterr().out


def test_ex02_1_valid_summary_is_exactly_at_the_limit():
    import json

    from enterprise_ai.checks import module02

    summary = json.loads(module02.EX02_1_VALID["a 40-character summary"])["summary"]
    assert len(summary) == 40


def test_ex02_3_rejects_a_typed_in_number_and_names_the_slips(capsys):
    def accuracy(results):
        return float((results["predicted"] == results["expected"]).mean())

    def answered_only(results):
        answered = results.dropna(subset=["predicted"])
        return float((answered["predicted"] == answered["expected"]).mean())

    assert checks.ex02_3(accuracy) is True
    capsys.readouterr()
    assert checks.ex02_3(lambda results: 0.6) is False
    assert "second table" in capsys.readouterr().out
    assert checks.ex02_3(answered_only) is False
    assert "without a prediction were left out" in capsys.readouterr().out


# --- ex05: hints chosen from the result; precision is not the block rate ---------------------


def _tax_ids(pattern: str, *, checksum: bool = True):
    import re

    from stdnum.de import idnr

    compiled = re.compile(pattern)

    def redact(text):
        def replace(match):
            digits = match.group().replace(" ", "")
            return "[TAX_ID]" if not checksum or idnr.is_valid(digits) else match.group()

        return compiled.sub(replace, text)

    return redact


def test_ex05_1_hint_fits_what_the_function_did(capsys):
    grouped = r"\b[1-9]\d(?: ?\d{3}){3}\b"
    assert checks.ex05_1(_tax_ids(grouped)) is True
    capsys.readouterr()
    assert checks.ex05_1(lambda text: text) is False  # a stub that returns the text
    out = capsys.readouterr().out
    assert "nothing was replaced" in out and "space between" not in out
    assert checks.ex05_1(_tax_ids(r"\b[1-9]\d{10}\b")) is False  # no spaces between groups
    assert "allow a space between the groups" in capsys.readouterr().out
    assert checks.ex05_1(_tax_ids(grouped, checksum=False)) is False
    assert "37267057919" in capsys.readouterr().out  # the bad-checksum case comes first


def test_ex05_1_cases_are_what_their_descriptions_say():
    from stdnum import exceptions
    from stdnum.de import idnr

    with pytest.raises(exceptions.InvalidChecksum):
        idnr.validate("37267057919")
    with pytest.raises(exceptions.InvalidFormat):
        idnr.validate("12345678901")


def test_ex05_3_rejects_precision_and_typed_in_rates(capsys):
    from enterprise_ai.checks import module05

    def right(expected, blocked):
        attacks = [b for e, b in zip(expected, blocked, strict=True) if e == "block"]
        harmless = [b for e, b in zip(expected, blocked, strict=True) if e == "allow"]
        return sum(attacks) / len(attacks), sum(harmless) / len(harmless)

    def precision(expected, blocked):
        flagged = [e for e, b in zip(expected, blocked, strict=True) if b]
        return flagged.count("block") / len(flagged), right(expected, blocked)[1]

    assert checks.ex05_3(right) is True
    capsys.readouterr()
    # The fixed table makes precision and the block rate differ (4/5 against 4/6).
    assert precision(module05.EX05_3_EXPECTED, module05.EX05_3_BLOCKED)[0] != pytest.approx(
        right(module05.EX05_3_EXPECTED, module05.EX05_3_BLOCKED)[0]
    )
    assert checks.ex05_3(precision) is False
    assert "precision" in capsys.readouterr().out
    assert checks.ex05_3(lambda e, b: right(e, b)[::-1]) is False
    assert "swap the two" in capsys.readouterr().out
    typed_in = right(module05.EX05_3_EXPECTED, module05.EX05_3_BLOCKED)
    assert checks.ex05_3(lambda e, b: typed_in) is False
    assert "second table" in capsys.readouterr().out


def test_ex05_4_rejects_a_suffix_test_without_the_dot(capsys):
    import re
    from urllib.parse import urlsplit

    def no_dot(reply):
        urls = re.findall(r"!\[[^\]]*\]\(\s*([^\s)]+)", reply) + re.findall(
            r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\s\"'>]+)", reply
        )
        hosts = [urlsplit(u).hostname or "" for u in urls]
        return [h for h in hosts if not h.endswith("isar-cycles.example")]

    assert checks.ex05_4(no_dot) is False
    out = capsys.readouterr().out
    assert "evilisar-cycles.example" in out and "compare with the dot" in out


def test_the_trainer_guide_quotes_real_check_messages(capsys):
    """The guide's "what they see" column quotes what the checks print for the usual slips."""
    import re
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[1] / "book" / "trainer-guide.md").read_text()

    def per_thousand_tokens(p, c, *, input_usd_per_1m, output_usd_per_1m, usd_to_eur):
        return (p * input_usd_per_1m + c * output_usd_per_1m) * usd_to_eur

    def one_denominator(expected, blocked):
        attacks = sum(b for e, b in zip(expected, blocked, strict=True) if e == "block")
        harmless = sum(b for e, b in zip(expected, blocked, strict=True) if e == "allow")
        return attacks / len(expected), harmless / len(expected)

    pattern_only = re.compile(r"\b[1-9]\d(?: ?\d{3}){3}\b")
    checks.ex01_1(per_thousand_tokens)
    checks.ex01_1(lambda *a, **k: _cost(*a, **k) / k["usd_to_eur"])  # forgot the currency
    checks.ex05_1(lambda text: pattern_only.sub("[TAX_ID]", text))
    checks.ex05_3(one_denominator)
    lines = capsys.readouterr().out.splitlines()
    quoted = [line for line in lines if line.startswith("not yet")]
    assert len(quoted) == 4
    for line in (quoted[0], quoted[2], quoted[3]):
        assert f"`{line}`" in guide, f"the trainer guide should quote: {line}"
    assert "returned 0.00108000, expected 0.00092880 EUR" in quoted[1] and quoted[1][-40:] in guide
    assert "the result is in dollars: multiply by usd_to_eur" in guide
