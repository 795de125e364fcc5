"""Checks for exercises/02_triage.ipynb (lesson: notebooks/02_triage.ipynb)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = [
    "EX02_1_INVALID",
    "EX02_1_VALID",
    "EX02_2_CASES",
    "EX02_3_RESULTS",
    "ex02_1",
    "ex02_2",
    "ex02_3",
]

_VALID = {
    "category": "battery_safety",
    "urgency": "critical",
    "language": "de",
    "contains_pii": False,
    "expected_action": "escalate_human",
    "summary": "Akku raucht beim Laden",
}

#: JSON a correct TicketTriage schema must accept.
EX02_1_VALID: dict[str, str] = {
    "battery ticket": json.dumps(_VALID),
    "return with PII": json.dumps(
        {
            "category": "returns",
            "urgency": "normal",
            "language": "en",
            "contains_pii": True,
            "expected_action": "create_return",
            "summary": "Anna Weber wants to return her bike",
        }
    ),
    # The limit is 40 characters: exactly 40 is allowed.
    "a 40-character summary": json.dumps(
        {**_VALID, "summary": "Akku raucht beim Laden und riecht stark!"}
    ),
}

#: JSON a correct TicketTriage schema must reject, with the reason.
EX02_1_INVALID: dict[str, str] = {
    "unknown category 'refund'": json.dumps({**_VALID, "category": "refund"}),
    "unknown urgency 'medium'": json.dumps({**_VALID, "urgency": "medium"}),
    "language 'fr' (only en and de)": json.dumps({**_VALID, "language": "fr"}),
    "unknown action 'call_customer'": json.dumps({**_VALID, "expected_action": "call_customer"}),
    "a 41-character summary": json.dumps({**_VALID, "summary": "x" * 41}),
    "no urgency at all": json.dumps({k: v for k, v in _VALID.items() if k != "urgency"}),
    # A name is not a yes/no flag. (pydantic's bool reads "yes"/"no" as True/False on purpose.)
    "contains_pii 'Anna Weber' (not a bool)": json.dumps({**_VALID, "contains_pii": "Anna Weber"}),
    "no contains_pii at all": json.dumps({k: v for k, v in _VALID.items() if k != "contains_pii"}),
    "an extra key 'confidence'": json.dumps({**_VALID, "confidence": 0.9}),
}

_VALID_JSON = json.dumps(_VALID)

#: ex02_2's raw model outputs and the category the parser must find (None = must return None).
EX02_2_CASES: dict[str, tuple[str | None, str | None]] = {
    "valid JSON": (_VALID_JSON, "battery_safety"),
    "valid JSON in a ```json fence": (f"```json\n{_VALID_JSON}\n```", "battery_safety"),
    "JSON cut off by max_tokens": (_VALID_JSON[:70], None),
    "prose instead of JSON": ("The category is battery_safety.", None),
    "a label outside the schema": (_VALID_JSON.replace("battery_safety", "fire"), None),
    "an empty answer": ("", None),
    "no answer at all (None)": (None, None),
}

#: ex02_3's fixed results: 3 of 5 right; the fallback (None) counts as wrong.
EX02_3_RESULTS = pd.DataFrame(
    {
        "ticket_id": ["T-0001", "T-0002", "T-0003", "T-0004", "T-0005"],
        "expected": ["returns", "payment", "shipping", "privacy", "warranty"],
        "predicted": ["returns", "returns", "shipping", None, "warranty"],
    }
)

#: A second table, so that a function that returns 0.6 without computing it does not pass:
#: 2 of 8 right; two fallbacks (None) count as wrong.
_EX02_3_SECOND = pd.DataFrame(
    {
        "ticket_id": [f"T-01{n:02d}" for n in range(1, 9)],
        "expected": [
            "leasing",
            "battery_safety",
            "returns",
            "order_status",
            "payment",
            "privacy",
            "shipping",
            "warranty",
        ],
        "predicted": [
            "leasing",
            "product_question",
            None,
            "order_status",
            "leasing",
            None,
            "returns",
            "repair_appointment",
        ],
    }
)


def _rejects(schema: Any, raw: str) -> bool | None:
    """True if the schema rejects ``raw``; False if it accepts; None if it crashed oddly."""
    from pydantic import ValidationError

    try:
        schema.model_validate_json(raw)
    except ValidationError:
        return True
    except Exception:  # noqa: BLE001 - a check reports, it never raises
        return None
    return False


def ex02_1(schema: Any) -> bool:
    """Check a pydantic ``TicketTriage`` class against fixed valid and invalid JSON."""
    label = "ex02_1"
    if schema is None or schema is ...:
        return not_yet(label, "TicketTriage is None: not written yet", "define the class")
    if not hasattr(schema, "model_validate_json"):
        return not_yet(
            label,
            f"expected a pydantic model class, got {schema!r:.60}",
            "write `class TicketTriage(BaseModel):` and pass the class itself (no brackets)",
        )
    for name, raw in EX02_1_VALID.items():
        if _rejects(schema, raw) is not False:
            fix = "check the field names and label spellings against the lesson's table"
            if "40-character" in name:
                fix = "40 characters are allowed: use Field(max_length=40), not a smaller limit"
            return not_yet(label, f"your schema rejected a valid triage ({name}): {raw}", fix)
    for name, raw in EX02_1_INVALID.items():
        if _rejects(schema, raw) is not True:
            fix = "use Literal[...] with the allowed values"
            if "summary" in name:
                fix = "use Field(max_length=40) for summary"
            elif "extra key" in name:
                fix = 'add model_config = ConfigDict(extra="forbid")'
            elif name.startswith("no "):
                fix = "don't give the field a default: every field is required"
            elif "not a bool" in name:
                fix = "contains_pii is a yes/no flag: type it `bool`, not `str` or `Any`"
            return not_yet(label, f"your schema accepted {name}", fix)
    return passed(
        label,
        f"TicketTriage accepts the valid triages and rejects all {len(EX02_1_INVALID)} bad ones.",
    )


def ex02_2(parse: Callable[[str | None], Any]) -> bool:
    """Check ``parse(raw) -> TicketTriage | None`` on fixed model outputs, broken JSON included."""
    label = "ex02_2"
    for name, (raw, category) in EX02_2_CASES.items():
        if not callable(parse):
            return call_learner_code(label, parse)[1]
        try:
            result = parse(raw)
        except NotImplementedError:
            return not_yet(label, "the function is not written yet", "replace the `...`")
        except Exception as err:  # noqa: BLE001 - a check reports, it never raises
            return not_yet(
                label,
                f"for {name} ({raw!r:.50}) it raised {type(err).__name__}",
                "catch pydantic's ValidationError (it also covers broken JSON) and return None",
            )
        if category is None and result is not None:
            return not_yet(
                label,
                f"for {name} ({raw!r:.50}) it returned {result!r:.60} instead of None",
                "return None whenever validation fails or there is no text",
            )
        if category is not None and getattr(result, "category", None) != category:
            hint = "validate with TicketTriage.model_validate_json(raw)"
            if "fence" in name:
                hint = "strip the ```json fence first (triage.strip_code_fence shows how)"
            return not_yet(
                label,
                f"for {name} expected a TicketTriage with category {category!r}, got "
                f"{result!r:.60}",
                hint,
            )
    return passed(label, f"your parser handled all {len(EX02_2_CASES)} raw outputs.")


def _accuracy_slip(value: float, results: pd.DataFrame) -> str | None:
    """Name the usual slip behind a wrong accuracy, if the number gives it away."""
    hits = int((results["predicted"] == results["expected"]).sum())
    rows = len(results)
    answered = int(results["predicted"].notna().sum())
    if math.isclose(value, hits):
        return f"got {value:g}: the number of hits; divide by the number of rows ({rows})"
    if math.isclose(value, 100 * hits / rows):
        return f"got {value:g}: a percentage; return a share between 0 and 1 ({hits / rows:g})"
    if answered < rows and math.isclose(value, hits / answered):
        return (
            f"got {value:g}: the rows without a prediction were left out; a missing "
            "prediction (None, a fallback) counts as wrong: keep it in the count"
        )
    return None


def ex02_3(accuracy: Callable[[pd.DataFrame], Any]) -> bool:
    """Check ``accuracy(results) -> float`` on two fixed DataFrames (3 of 5 right, one None;
    2 of 8 right, two None)."""
    label = "ex02_3"
    for results in (EX02_3_RESULTS, _EX02_3_SECOND):
        ok, result = call_learner_code(label, accuracy, results.copy())
        if not ok:
            return False
        if result is None:
            return not_yet(label, "accuracy() returned None", "end it with `return share`")
        try:
            value = float(result)
        except (TypeError, ValueError):
            return not_yet(label, f"expected a number, got {result!r:.60}", "return one float")
        hits = int((results["predicted"] == results["expected"]).sum())
        expected = hits / len(results)
        if math.isclose(value, expected):
            continue
        table = "the table shown above" if results is EX02_3_RESULTS else "a second table"
        slip = _accuracy_slip(value, results)
        return not_yet(
            label,
            f"on {table} ({hits} of {len(results)} predictions match) expected "
            f"{expected:g}, got {value!r}",
            slip
            or "compare results['predicted'] with results['expected'] row by row, then take "
            "the mean; don't type the number in",
        )
    return passed(
        label,
        "accuracy() is right on both tables (3 of 5 and 2 of 8; None counts as wrong).",
    )
