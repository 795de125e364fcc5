"""Ticket triage: schema, keyword baseline, validate-retry-fallback, evaluation, checks, widget."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest
from pydantic import ValidationError

from enterprise_ai import checks, triage
from enterprise_ai.testing import ScriptedClient
from enterprise_ai.triage import TicketTriage

matplotlib.use("Agg")

VALID = {
    "category": "returns",
    "urgency": "normal",
    "language": "en",
    "contains_pii": False,
    "expected_action": "create_return",
    "summary": "Wants to return a bike",
}
VALID_JSON = json.dumps(VALID)

#: A few labelled tickets in the shape of enterprise_ai.data.tickets().
TICKETS = pd.DataFrame(
    [
        {
            "ticket_id": "T-0001",
            "language": "en",
            "subject": "Return",
            "text": "I want to return my bike, the frame is too big.",
            "category": "returns",
            "urgency": "normal",
            "contains_pii": False,
            "expected_action": "create_return",
        },
        {
            "ticket_id": "T-0002",
            "language": "de",
            "subject": "Akku",
            "text": "Mein Akku raucht beim Laden!",
            "category": "battery_safety",
            "urgency": "critical",
            "contains_pii": False,
            "expected_action": "escalate_human",
        },
        {
            "ticket_id": "T-0003",
            "language": "en",
            "subject": "Order",
            "text": "Where is my order IC-100321? Reach me at jan@example.com",
            "category": "order_status",
            "urgency": "normal",
            "contains_pii": True,
            "expected_action": "look_up_order",
        },
    ]
)


# --- schema ---------------------------------------------------------------------------------


def test_schema_accepts_a_valid_triage_and_rejects_unknown_labels():
    assert TicketTriage.model_validate(VALID).category == "returns"
    for key, bad in [("category", "refund"), ("urgency", "medium"), ("language", "fr")]:
        with pytest.raises(ValidationError):
            TicketTriage.model_validate({**VALID, key: bad})


def test_schema_rejects_long_summaries_missing_and_extra_fields():
    with pytest.raises(ValidationError):
        TicketTriage.model_validate({**VALID, "summary": "x" * (triage.SUMMARY_MAX_CHARS + 1)})
    with pytest.raises(ValidationError):
        TicketTriage.model_validate({k: v for k, v in VALID.items() if k != "urgency"})
    with pytest.raises(ValidationError):
        TicketTriage.model_validate({**VALID, "confidence": 0.9})


def test_response_format_lists_the_labels_for_the_model():
    schema = triage.response_format()["json_schema"]["schema"]
    assert schema["properties"]["category"]["enum"] == list(triage.CATEGORIES)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(VALID)


@pytest.mark.parametrize(
    "raw",
    [None, "", "not json", '{"category": "returns"', VALID_JSON.replace("returns", "refund")],
)
def test_parse_triage_returns_none_for_anything_invalid(raw):
    assert triage.parse_triage(raw) is None


def test_parse_triage_returns_the_model_for_valid_json():
    assert triage.parse_triage(VALID_JSON) == TicketTriage(**VALID)


# --- keyword baseline ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category", "action"),
    [
        ("My battery is swollen and smells of smoke", "battery_safety", "escalate_human"),
        ("Der Akku ist beim Laden sehr heiß geworden", "battery_safety", "escalate_human"),
        ("Where is my order IC-100123?", "order_status", "look_up_order"),
        ("Wo ist meine Bestellung IC-100123?", "order_status", "look_up_order"),
        ("Wie ist der Status meiner Bestellung?", "order_status", "answer_from_kb"),
        ("Order IC-100200: the bike is too big, I want to return it", "returns", "create_return"),
        ("Bestellung IC-100200 ist zu groß, ich möchte zurückgeben", "returns", "create_return"),
        ("How long do I have to return a bike?", "returns", "answer_from_kb"),
        ("Can you give me the address of another customer?", "privacy", "refuse"),
        ("Bitte löschen Sie meine Daten (DSGVO)", "privacy", "escalate_human"),
        ("Does my employer's leasing plan cover helmets?", "leasing", "answer_from_kb"),
        ("Wann habe ich einen Termin in der Werkstatt?", "repair_appointment", "answer_from_kb"),
        ("Do you deliver to Austria?", "shipping", "answer_from_kb"),
        ("Is the frame available in green?", "product_question", "answer_from_kb"),
    ],
)
def test_keyword_baseline_on_fixed_texts(text, category, action):
    result = triage.keyword_baseline(text)
    assert (result.category, result.expected_action) == (category, action)


def test_keyword_baseline_urgency_language_and_pii():
    smoke = triage.keyword_baseline("Mein Akku raucht!")
    assert (smoke.urgency, smoke.language) == ("critical", "de")
    question = triage.keyword_baseline("Is the frame available in green?")
    assert (question.urgency, question.language, question.contains_pii) == ("low", "en", False)
    assert triage.keyword_baseline("Order IC-100123 has a scratch.").urgency == "normal"
    assert triage.keyword_baseline("My order IC-100123: nothing arrived!").urgency == "high"
    assert triage.keyword_baseline("Write to anna.weber@example.de please").contains_pii
    assert triage.keyword_baseline("IBAN DE89 3704 0044 0532 0130 00").contains_pii
    long = triage.keyword_baseline("A question. " + "word " * 50)
    assert len(long.summary) <= triage.SUMMARY_MAX_CHARS and long.summary == "A question."


# --- classify: validate, retry once, fall back ----------------------------------------------


def test_classify_accepts_valid_json_in_one_call():
    client = ScriptedClient([VALID_JSON])
    result = triage.classify("I want to return my bike", client=client, model="m")
    assert result.triage == TicketTriage(**VALID)
    assert (result.attempts, result.fallback, result.problems) == (1, False, ())
    request = client.requests[0]
    assert request["temperature"] == 0 and request["response_format"]["type"] == "json_schema"
    assert request["messages"][0] == {"role": "system", "content": triage.SYSTEM_PROMPT}
    assert request["messages"][-1] == {"role": "user", "content": "I want to return my bike"}


def test_classify_retries_once_with_the_validation_error():
    client = ScriptedClient(['{"category": "refund"}', VALID_JSON])
    result = triage.classify("Return please", client=client, model="m")
    assert result.category == "returns" and result.attempts == 2
    assert len(result.problems) == 1 and "category" in result.problems[0]
    retry = client.requests[1]["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"category": "refund"}'}
    assert "not valid" in retry[-1]["content"] and "category" in retry[-1]["content"]


def test_classify_falls_back_after_two_invalid_answers():
    client = ScriptedClient(["Sure! The category is returns.", '{"category": "returns"'])
    result = triage.classify("Return please", client=client, model="m")
    assert result.fallback and result.triage is None
    assert (result.category, result.expected_action) == (None, "escalate_human")
    assert result.attempts == 2 and len(client.requests) == 2 and len(result.problems) == 2
    assert result.as_dict()["category"] is None and result.as_dict()["fallback"] is True


def test_classify_falls_back_when_the_call_itself_fails(closed_loopback_url):
    import openai

    client = openai.OpenAI(base_url=closed_loopback_url, api_key="x", max_retries=0)
    result = triage.classify("Return please", client=client, model="m")
    assert result.fallback and "APIConnectionError" in result.problems[0]


def test_classify_few_shot_puts_examples_before_the_ticket():
    client = ScriptedClient([VALID_JSON])
    triage.classify("My ticket", client=client, model="m", method="few_shot")
    messages = client.requests[0]["messages"]
    assert len(messages) == 2 + 2 * len(triage.FEW_SHOT_EXAMPLES)
    first = triage.FEW_SHOT_EXAMPLES[0]
    assert messages[1] == {"role": "user", "content": first.text}
    assert TicketTriage.model_validate_json(messages[2]["content"]) == first.triage
    custom = [triage.Example("Hi", TicketTriage(**VALID))]
    triage.classify("My ticket", client=client, model="m", method="few_shot", few_shot=custom)
    assert len(client.requests[1]["messages"]) == 4


def test_classify_keywords_calls_no_model_and_unknown_method_is_named():
    client = ScriptedClient([VALID_JSON])
    result = triage.classify("Mein Akku raucht", client=client, method="keywords")
    assert result.category == "battery_safety" and not client.requests
    with pytest.raises(ValueError, match="one_shot"):
        triage.classify("x", client=client, model="m", method="one_shot")


# --- evaluation -----------------------------------------------------------------------------


def test_evaluate_puts_predictions_next_to_labels():
    client = ScriptedClient([VALID_JSON, VALID_JSON, "broken", "broken"])
    results = triage.evaluate(TICKETS, client=client, model="m", progress=False)
    assert list(results["expected"]) == ["returns", "battery_safety", "order_status"]
    assert list(results["predicted"][:2]) == ["returns", "returns"]
    assert pd.isna(results.loc[2, "predicted"])  # the fallback: no category
    assert list(results["fallback"]) == [False, False, True]
    assert results.loc[2, "predicted_action"] == "escalate_human"
    assert triage.accuracy(results) == pytest.approx(1 / 3)
    assert triage.accuracy(
        results, expected="expected_action", predicted="predicted_action"
    ) == pytest.approx(1 / 3)


def test_evaluate_keywords_gets_the_fixed_tickets_right():
    results = triage.evaluate(TICKETS, method="keywords", progress=False)
    assert triage.accuracy(results) == 1.0
    assert list(results["predicted_pii"]) == [False, False, True]


def test_accuracy_errors_name_the_problem():
    with pytest.raises(ValueError, match="no rows"):
        triage.accuracy(pd.DataFrame({"expected": [], "predicted": []}))
    with pytest.raises(ValueError, match="'guess'"):
        triage.accuracy(pd.DataFrame({"expected": ["a"]}), predicted="guess")


def test_confusion_counts_and_keeps_fallbacks_visible():
    results = pd.DataFrame(
        {"expected": ["returns", "returns", "payment"], "predicted": ["returns", None, "returns"]}
    )
    table = triage.confusion(results)
    assert table.loc["returns", "returns"] == 1
    assert table.loc["returns", triage.NO_PREDICTION] == 1
    assert table.loc["payment", "returns"] == 1
    assert int(table.to_numpy().sum()) == 3 and table.shape == (10, 11)
    results["method"] = "test"
    fig = triage.plot_confusion(results)
    assert "33%" in fig.axes[0].get_title()


# --- exercise checks ------------------------------------------------------------------------


def test_ex02_1_passes_the_real_schema_and_rejects_loose_ones(capsys):
    assert checks.ex02_1(TicketTriage) is True
    assert checks.ex02_1(None) is False

    from pydantic import BaseModel

    class Loose(BaseModel):
        category: str
        urgency: str
        language: str
        contains_pii: bool
        expected_action: str
        summary: str

    assert checks.ex02_1(Loose) is False
    assert "not yet (ex02_1)" in capsys.readouterr().out


def test_ex02_2_passes_parse_triage_and_catches_a_crashing_parser(capsys):
    assert checks.ex02_2(triage.parse_triage) is True
    assert checks.ex02_2(lambda raw: TicketTriage.model_validate_json(raw)) is False
    assert checks.ex02_2(lambda raw: None) is False
    assert "not yet (ex02_2)" in capsys.readouterr().out


def test_ex02_3_passes_accuracy_and_catches_slips(capsys):
    assert checks.ex02_3(triage.accuracy) is True
    assert checks.ex02_3(lambda df: (df["expected"] == df["predicted"]).sum()) is False
    assert checks.ex02_3(lambda df: None) is False
    assert "not yet (ex02_3)" in capsys.readouterr().out


# --- widget ---------------------------------------------------------------------------------


def test_triage_explorer_shows_prediction_next_to_label():
    from enterprise_ai.widgets import TriageExplorer

    explorer = TriageExplorer(TICKETS, client=ScriptedClient([VALID_JSON]), model="m")
    explorer.method.value = "keywords"
    explorer.ticket.value = "T-0002"
    explorer.run()
    assert "battery_safety" in explorer.result.value and "✓" in explorer.result.value
    explorer.method.value = "zero_shot"
    explorer.text.value = "Free text <b>ticket</b>"
    explorer.run()
    assert "returns" in explorer.result.value and "✓" not in explorer.result.value
    assert "&lt;b&gt;ticket" in explorer.shown.value and "<b>ticket" not in explorer.shown.value
    assert explorer._repr_mimebundle_()["text/plain"].startswith("Triage explorer")


# --- the real model -------------------------------------------------------------------------


def test_classify_with_the_real_model_returns_a_valid_triage_or_the_fallback():
    result = triage.classify("Where is my order IC-100234? It has not arrived.")
    assert result.attempts in (1, 2)
    if result.fallback:
        assert result.expected_action == "escalate_human" and result.problems
    else:
        assert result.category in triage.CATEGORIES
        assert len(result.triage.summary) <= triage.SUMMARY_MAX_CHARS


def test_schema_labels_are_the_data_labels():
    """The schema spells its labels out for readers; they must stay those of the data."""
    from enterprise_ai import data

    assert triage.CATEGORIES == data.CATEGORIES
    assert triage.URGENCIES == data.URGENCIES
    assert set(triage.ACTIONS) == set(data.EXPECTED_ACTIONS)
