"""Checks for exercises/03_grounded_bot.ipynb (lesson: notebooks/03_grounded_bot.ipynb)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from enterprise_ai import kb
from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = [
    "EX03_1_TEXT",
    "EX03_2_EXPECTED",
    "EX03_2_RETRIEVED",
    "EX03_3_CASES",
    "ex03_1",
    "ex03_2",
    "ex03_3",
]

#: ex03_1's article: three sections, the second much longer than one chunk. Its facts are the
#: ones of Isar Cycles' warranty article (data/kb/warranty.md), in fewer words.
EX03_1_TEXT = """## Frame
The frame of every Isar Cycles e-bike carries a 10-year guarantee against breakage.

## Battery guarantee
The battery has a guarantee of 3 years from delivery or 800 full charge cycles, whichever comes \
first. Within that period we replace a battery free of charge, including shipping, if it holds \
less than 70 % of its original capacity. A battery that was charged with a non-original charger \
is not covered. Neither is damage from an accident or from a tuning kit. Wear parts such as \
brake pads, tyres, chains and sprockets are not covered by the warranty at all. To make a claim, \
write to warranty@isar-cycles.example or book a workshop appointment. We answer warranty claims \
within 3 working days.

## Statutory rights
Your statutory rights under German law (2 years' Gewährleistung) stay untouched.
"""
#: At this ``max_chars`` every sentence of :data:`EX03_1_TEXT` fits into a chunk, so every chunk
#: must end at a sentence end (at 120 one sentence is longer and must be cut between words).
_SENTENCE_CHECK_AT = 200

_WORD = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _contains_in_order(haystack: list[str], needle: list[str]) -> int:
    """How many words of ``needle`` are found in ``haystack`` in order (all = nothing lost)."""
    position = 0
    for found, word in enumerate(needle):
        try:
            position = haystack.index(word, position) + 1
        except ValueError:
            return found
    return len(needle)


def _check_chunks(label: str, result: Any, max_chars: int) -> bool:
    call = f"chunk_markdown(EX03_1_TEXT, max_chars={max_chars})"
    if result is None:
        return not_yet(label, f"{call} returned None", "end the function with `return chunks`")
    if not isinstance(result, list) or not result:
        return not_yet(
            label,
            f"{call} should return a non-empty list, got {result!r:.80}",
            "collect (heading, text) tuples in a list and return it",
        )
    for number, item in enumerate(result, 1):
        if not (
            isinstance(item, tuple) and len(item) == 2 and all(isinstance(x, str) for x in item)
        ):
            return not_yet(
                label,
                f"item {number} of {len(result)} is {item!r:.80}, not a (heading, text) tuple",
                'append tuples like ("Battery guarantee", "The battery has a guarantee …")',
            )
    for number, (heading, text) in enumerate(result, 1):
        if len(text) > max_chars:
            return not_yet(
                label,
                f"{call} returned a {len(text)}-character chunk ({number} of {len(result)}); "
                f"every chunk must be ≤ {max_chars}",
                "check where your slice ends: stop before a sentence that would not fit; "
                "see lesson 03, 'Cutting articles into chunks'",
            )
        if not text.strip():
            return not_yet(
                label,
                f"chunk {number} of {len(result)} (under {heading!r}) is empty",
                "skip empty pieces: `if piece.strip(): ...`",
            )
        if text.lstrip().startswith("#"):
            return not_yet(
                label,
                f"chunk {number} starts with the heading line {text.splitlines()[0]!r}",
                "put the heading into the first element of the tuple, not into the text",
            )
    sections = kb._sections(EX03_1_TEXT)
    headings = [heading for heading, _ in sections]
    for heading, _ in result:
        if heading not in headings:
            return not_yet(
                label,
                f"a chunk has the heading {heading!r}; the article's headings are {headings}",
                "store the heading text without the '## ' in front, as it stands in the article",
            )
    for heading, body in sections:
        chunk_words = [w for h, text in result if h == heading for w in _words(text)]
        body_words = _words(body)
        found = _contains_in_order(chunk_words, body_words)
        if found < len(body_words):
            missing = " ".join(body_words[found : found + 6])
            return not_yet(
                label,
                f"in section {heading!r} the text from “{missing} …” is missing from the chunks "
                "under that heading",
                "every word of a section must land in a chunk with that section's heading; "
                "check the last piece of a long section",
            )
    return _check_cuts(label, result, sections, max_chars)


def _check_cuts(
    label: str, result: list[tuple[str, str]], sections: list[tuple[str, str]], max_chars: int
) -> bool:
    """Chunks are cut only where they must be: a section that fits stays whole, neighbours that
    would fit together are one chunk, and (where every sentence fits) cuts fall between
    sentences."""
    for heading, body in sections:
        pieces = [text for h, text in result if h == heading]
        if len(" ".join(body.split())) <= max_chars and len(pieces) > 1:
            return not_yet(
                label,
                f"section {heading!r} fits into {max_chars} characters, but it became "
                f"{len(pieces)} chunks",
                "only cut a section that is longer than max_chars; a short one stays one chunk",
            )
        for first, second in zip(pieces, pieces[1:], strict=False):
            if len(first) + 1 + len(second) <= max_chars:
                return not_yet(
                    label,
                    f"in section {heading!r} two neighbouring chunks of {len(first)} and "
                    f"{len(second)} characters would fit into one chunk of {max_chars}",
                    "fill a chunk with whole sentences while they fit; start a new chunk only "
                    "when the next sentence would not",
                )
    if max_chars == _SENTENCE_CHECK_AT:
        for number, (heading, text) in enumerate(result, 1):
            if not text.rstrip().endswith((".", "!", "?")):
                return not_yet(
                    label,
                    f"chunk {number} of {len(result)} (under {heading!r}) ends in the middle of "
                    f"a sentence: “… {text.rstrip()[-30:]}”; at max_chars={max_chars} every "
                    "sentence fits into a chunk",
                    "cut between sentences (SENTENCE_END.split(body)), not between words; cut a "
                    "sentence into words only when it alone is longer than max_chars",
                )
    return True


def ex03_1(chunk_markdown: Callable[..., Any]) -> bool:
    """Check ``chunk_markdown(text, *, max_chars) -> list[(heading, text)]`` on a fixed article.

    Every chunk must be at most ``max_chars`` long, no word may be lost, and each chunk must
    carry the heading of the section it comes from.
    """
    label = "ex03_1"
    counts = []
    for max_chars in (200, 120):
        ok, result = call_learner_code(label, chunk_markdown, EX03_1_TEXT, max_chars=max_chars)
        if not ok or not _check_chunks(label, result, max_chars):
            return False
        counts.append(len(result))
    return passed(
        label,
        f"{counts[0]} chunks at max_chars=200 and {counts[1]} at 120: all short enough, "
        "nothing lost, headings kept.",
    )


#: ex03_2's fixed retrieval results: per question, the article ids of the top-5 hits in order.
EX03_2_RETRIEVED: list[list[str]] = [
    ["returns", "returns", "repairs-service", "warranty", "payment"],
    ["repairs-service", "returns", "leasing-employers", "returns", "warranty"],
    ["battery-transport", "battery-safety", "battery-safety", "accessories", "warranty"],
    ["accessories", "battery-transport", "warranty", "battery-safety", "payment"],
    ["payment", "payment", "order-tracking", "returns", "privacy-notice"],
    ["order-tracking", "shipping-germany", "shipping-international", "returns", "payment"],
    ["frame-sizes", "accessories", "warranty", "repairs-service", "leasing-employers"],
    ["leasing-employers", "payment", "returns", "frame-sizes", "service-appointments"],
]
#: ex03_2's right answers: the article ids that hold each question's answer (``source_ids``).
EX03_2_EXPECTED: list[list[str]] = [
    ["returns"],
    ["returns"],
    ["battery-safety", "battery-transport"],
    ["battery-safety"],
    ["privacy-notice"],
    ["shipping-international"],
    ["warranty"],
    ["service-appointments", "repairs-service"],
]


def ex03_2(hit_at_k: Callable[..., Any]) -> bool:
    """Check ``hit_at_k(retrieved, expected, *, k) -> float`` on fixed retrieval results."""
    label = "ex03_2"
    for k in (1, 3, 5):
        ok, result = call_learner_code(label, hit_at_k, EX03_2_RETRIEVED, EX03_2_EXPECTED, k=k)
        if not ok:
            return False
        expected = kb.hit_at_k(EX03_2_RETRIEVED, EX03_2_EXPECTED, k=k)
        if result is None:
            return not_yet(
                label, f"hit_at_k(..., k={k}) returned None", "end it with `return hits / total`"
            )
        if not isinstance(result, int | float) or isinstance(result, bool):
            return not_yet(
                label,
                f"hit_at_k(..., k={k}) returned {result!r:.60}, not a number",
                "return the share of questions as a float between 0 and 1",
            )
        if math.isclose(result, expected):
            continue
        count = round(expected * len(EX03_2_RETRIEVED))
        if math.isclose(result, count):
            hint = f"you returned the count; divide by the number of questions ({count}/8)"
        elif math.isclose(result, kb.hit_at_k(EX03_2_RETRIEVED, EX03_2_EXPECTED, k=5)):
            hint = "look only at the first k ids of each list: `ids[:k]`"
        elif math.isclose(result, kb.hit_at_k(EX03_2_RETRIEVED, EX03_2_EXPECTED, k=k + 1)):
            hint = "`ids[:k]` already holds k ids; `ids[: k + 1]` holds one too many"
        else:
            hint = (
                "a question counts as a hit if ANY of its expected ids is among the first k "
                "retrieved ids; questions 3 and 8 have two expected ids"
            )
        return not_yet(label, f"hit@{k} should be {expected:.3f}, got {result!r:.60}", hint)
    values = ", ".join(
        f"hit@{k} = {kb.hit_at_k(EX03_2_RETRIEVED, EX03_2_EXPECTED, k=k):.3f}" for k in (1, 3, 5)
    )
    return passed(label, f"{values}.")


#: ex03_3's cases from the course's evaluation set: (question, BM25 scores of the top-3 hits
#: measured with kb.search, does the knowledge base answer it?).
EX03_3_CASES: list[tuple[str, list[float], bool]] = [
    ("How long is the statutory right of withdrawal?", [3.79, 2.25, 2.15], True),
    ("Is returning an e-bike from Germany free?", [2.79, 2.24, 1.78], True),
    ("How long is the frame guarantee?", [3.25, 1.55, 1.31], True),
    ("How much does it cost to ship an e-bike to Switzerland?", [3.3, 2.6, 2.11], True),
    ("What is the no-show fee?", [2.78, 1.57, 1.45], True),
    ("How much weight can the rear rack carry?", [3.64, 2.56, 2.42], True),
    ("What is the CEO's mobile phone number?", [2.6, 1.35, 1.35], False),
    ("What torque does the motor of the Compact Fold deliver in Nm?", [2.4, 2.34, 1.85], False),
    ("Do you have the Isar Cargo L in stock in red?", [2.22, 2.02, 1.97], False),
    ("When will the Isar Urban 3 be released?", [1.71, 1.47, 1.19], False),
    ("Do you accept payment in Bitcoin?", [1.49, 1.37, 1.23], False),
    ("Gibt es einen Studentenrabatt?", [], False),
]


def ex03_3(should_abstain: Callable[..., Any]) -> bool:
    """Check ``should_abstain(scores) -> bool`` on the fixed cases of :data:`EX03_3_CASES`."""
    label = "ex03_3"
    for question, scores, answerable in EX03_3_CASES:
        ok, result = call_learner_code(label, should_abstain, list(scores))
        if not ok:
            return False
        if result is None:
            return not_yet(
                label,
                "should_abstain() returned None",
                "return True (pass to a human) or False (let the bot answer)",
            )
        if not isinstance(result, bool):
            return not_yet(
                label,
                f"should_abstain({scores}) returned {result!r:.60}, not True or False",
                "return a comparison such as `best < 2.0`, which is a bool",
            )
        if result == answerable:
            what = "abstained on" if result else "answered"
            why = (
                "the knowledge base answers it"
                if answerable
                else "the knowledge base does not answer it"
            )
            hint = (
                "an empty list means nothing matched: abstain"
                if not scores
                else "look at the best (first) score of the answerable and unanswerable cases, "
                "and put your threshold between them"
            )
            return not_yet(label, f"it {what} {question!r} (scores {scores}), but {why}", hint)
    answered = sum(1 for _, _, a in EX03_3_CASES if a)
    return passed(
        label,
        f"your rule answers all {answered} answerable questions and passes the other "
        f"{len(EX03_3_CASES) - answered} to a colleague.",
    )
