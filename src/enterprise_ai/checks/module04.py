"""Checks for exercises/04_evals.ipynb (lesson: notebooks/04_evals.ipynb)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from enterprise_ai import kb, support
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = [
    "EX04_1_CASES",
    "EX04_2_CASES",
    "EX04_3_SWEEP",
    "ex04_1",
    "ex04_2",
    "ex04_3",
    "ex04_4",
]

#: ex04_1: (reply, key facts, expected result of contains_key_facts).
EX04_1_CASES: list[tuple[str, list[str], bool]] = [
    ("You can return it within 30 days.", ["30 days"], True),
    ("You can return it within 30 Days.", ["30 days"], True),
    ("Returns:  30\n days from delivery.", ["30 days"], True),
    ("Standard shipping costs 4,95 €.", ["4.95 EUR"], True),
    ("Standard shipping costs 4.95 EUR and takes 2-3 days.", ["4.95 EUR", "2-3 days"], True),
    ("Standard shipping costs 4.95 EUR.", ["4.95 EUR", "2-3 days"], False),
    ("Delivery takes 13 days.", ["3 days"], False),
    ("The guarantee is 2 years.", ["10-year"], False),
    ("Call +49 89 2000 4711.", ["+49 89 2000 4711"], True),
]

#: ex04_2: (reply, texts of the cited chunks, expected result of is_grounded).
EX04_2_CASES: list[tuple[str, list[str], bool]] = [
    ("Returns are free within 30 days [returns].", ["You can return within 30 days."], True),
    (
        "The frame guarantee is 3 years [warranty].",
        ["Frames carry a 10-year guarantee against breakage."],
        False,
    ),
    ("Returns are free within 30 days.", [], False),
    (
        "Shipping costs 4.95 EUR and takes 2 days [shipping-germany].",
        ["Standard shipping: 4.95 EUR, 2-3 working days."],
        True,
    ),
    ("Shipping costs 5 EUR [shipping-germany].", ["Standard shipping: 4.95 EUR."], False),
    ("Our workshop team is happy to help [repairs-service].", ["Book online."], True),
    (
        "The battery costs 749 EUR [accessories].",
        ["Frames: 10 years.", "Spare battery 625 Wh: 749 EUR."],
        True,
    ),
]

#: ex04_3: what each abstention threshold does on 73 answerable and 14 unanswerable questions
#: (``evals.threshold_sweep()`` on the evaluation set; tests/test_evals.py keeps them in step).
EX04_3_SWEEP = pd.DataFrame(
    {
        "threshold": [0.0, 1.0, 1.5, 2.0, 2.5, 2.75, 3.0, 3.5, 4.0, 5.0],
        "answered": [73, 64, 63, 61, 51, 49, 43, 35, 31, 19],
        "missed": [14, 10, 9, 7, 3, 2, 2, 1, 1, 0],
    }
)
#: max_missed → the right threshold. 4, 5 and 8 occur in no row of the table, so a rule that
#: looks for ``missed == max_missed`` finds no row there.
_EX04_3_EXPECTED = {0: 5.0, 1: 3.5, 2: 2.75, 3: 2.5, 4: 2.5, 5: 2.5, 8: 2.0, 14: 0.0}


def _bool_cases(
    label: str,
    func: Callable[..., Any],
    cases: list[tuple[str, list[str], bool]],
    *,
    name: str,
    hint: str,
) -> bool | None:
    """Run a learner function on (text, list, expected) cases; ``None`` if all passed."""
    for text, items, expected in cases:
        ok, got = call_learner_code(label, func, text, list(items))
        if not ok:
            return False
        call = f"{name}({text!r}, {items!r})"
        if got is None:
            return not_yet(label, f"{call} returned None", "end the function with `return ...`")
        if not isinstance(got, bool):
            return not_yet(
                label, f"{call} returned {got!r:.60}, not True or False", "return a bool"
            )
        if got != expected:
            return not_yet(label, f"{call} returned {got}, expected {expected}", hint)
    return None


def ex04_1(contains_key_facts: Callable[[str, list[str]], bool]) -> bool:
    """Check ``contains_key_facts(text, key_facts)`` on nine fixed replies."""
    label = "ex04_1"
    failed = _bool_cases(
        label,
        contains_key_facts,
        EX04_1_CASES,
        name="contains_key_facts",
        hint="normalise both sides (lowercase, one space, '€' → 'EUR', decimal comma → point) "
        "and match whole numbers: '3 days' must not be found inside '13 days'. See lesson 04, "
        "section 2.",
    )
    if failed is not None:
        return failed
    return passed(label, f"all {len(EX04_1_CASES)} replies graded right.")


def ex04_2(is_grounded: Callable[[str, list[str]], bool]) -> bool:
    """Check ``is_grounded(answer_text, cited_texts)`` on seven fixed replies."""
    label = "ex04_2"
    failed = _bool_cases(
        label,
        is_grounded,
        EX04_2_CASES,
        name="is_grounded",
        hint="no cited text means not grounded; otherwise find the numbers with "
        r"re.findall(r'\d+(?:[.,]\d+)?', text) and compare whole numbers, so '5' is not "
        "found in '4.95'. See lesson 04, section 3.",
    )
    if failed is not None:
        return failed
    return passed(label, f"all {len(EX04_2_CASES)} replies graded right.")


def ex04_3(choose_threshold: Callable[..., float]) -> bool:
    """Check ``choose_threshold(sweep, max_missed=…)`` on the fixed sweep table."""
    label = "ex04_3"
    for max_missed, expected in _EX04_3_EXPECTED.items():
        table = EX04_3_SWEEP.copy()
        ok, got = call_learner_code(label, choose_threshold, table, max_missed=max_missed)
        if not ok:
            return False
        call = f"choose_threshold(EX04_3_SWEEP, max_missed={max_missed})"
        if got is None:
            return not_yet(label, f"{call} returned None", "return the threshold (a number)")
        if not isinstance(got, int | float) or isinstance(got, bool):
            return not_yet(label, f"{call} returned {got!r:.60}, not a number", "return a float")
        if not math.isclose(float(got), expected, abs_tol=1e-9):  # also catches NaN
            exact_rows = EX04_3_SWEEP[EX04_3_SWEEP["missed"] == max_missed]
            if exact_rows.empty and got != got:  # NaN: the min of no rows
                hint = (
                    f"no row has missed == {max_missed} exactly; the limit says AT MOST "
                    f"{max_missed}: keep the rows with missed <= max_missed"
                )
            else:
                hint = (
                    "keep the rows with missed <= max_missed, then take the LOWEST threshold "
                    "among them: it loses the fewest answerable questions"
                )
            return not_yet(
                label,
                f"{call} returned {got}, expected {expected}",
                f"{hint}. See lesson 04, section 6.",
            )
    return passed(
        label,
        f"the lowest threshold that meets each limit, for all {len(_EX04_3_EXPECTED)} limits.",
    )


def _correct_bot(question: str, **options: Any) -> support.Answer:
    return support.answer(question, **options)


def _trusting_bot(question: str, *, client: Any, model: str, **options: Any) -> support.Answer:
    """A bot without the citation check: it sends whatever the model wrote.

    It retrieves and asks the model exactly as :func:`support.answer` does (same chunks, same
    request), so a learner's test can only tell the two apart by what reaches the customer.
    """
    hits = kb.search(question, k=options.get("k", 3))
    request = support.chat_request(
        question, hits, model=model, max_tokens=options.get("max_tokens", 160)
    )
    reply = client.chat.completions.create(**request)
    text = reply.choices[0].message.content or ""
    return support.Answer(
        question, text, support.parse_citations(text), False, False, hits, "model", text
    )


def ex04_4(test_function: Callable[[Callable[..., support.Answer]], Any]) -> bool:
    """Run the learner's test against the real bot (must pass) and a broken one (must fail)."""
    label = "ex04_4"
    if not callable(test_function):
        return not_yet(
            label,
            f"expected your test function, got {type(test_function).__name__}",
            "pass the function itself: checks.ex04_4(test_uncited_reply_is_not_sent)",
        )
    calls: list[str] = []

    def counting_bot(question: str, **options: Any) -> support.Answer:
        calls.append(question)
        return _correct_bot(question, **options)

    try:
        test_function(counting_bot)
    except NotImplementedError:
        return not_yet(label, "the test is not written yet", "replace the `...`")
    except AssertionError as err:
        return not_yet(
            label,
            f"your test FAILED on the real support.answer, which is right: {err}",
            "script a reply without a citation and assert what the safeguard does: the "
            "customer gets a quote (source 'extractive'), not the model's text.",
        )
    except Exception as err:  # noqa: BLE001 - a check reports, it never raises
        return not_yet(
            label,
            f"your test raised {type(err).__name__}: {err}",
            "call answer_fn(question, client=ScriptedClient([...]), model='scripted')",
        )
    if not calls:
        return not_yet(
            label,
            "your test never called answer_fn, so it tests nothing yet",
            "call answer_fn(question, client=client, model='scripted') and assert on the reply",
        )
    try:
        test_function(_trusting_bot)
    except AssertionError:
        return passed(
            label, "your test passes on the real bot and catches a bot without the check."
        )
    except Exception as err:  # noqa: BLE001
        return not_yet(
            label,
            f"on a bot without the citation check your test raised {type(err).__name__}: {err}",
            "only `assert` should fail; use only what every Answer has (text, source, citations)",
        )
    return not_yet(
        label,
        "your test also passes on a bot that sends the model's uncited text unchecked",
        "assert that the reply is not the scripted model text, e.g. "
        "`assert reply.source == 'extractive'` or `assert reply.text != scripted_text`",
    )
