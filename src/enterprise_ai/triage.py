"""Ticket triage: a schema, a model that fills it, a keyword baseline, and a fair comparison.

Isar Cycles wants every incoming ticket sorted before a person reads it: which topic, how
urgent, which language, does it contain personal data, and what should happen next. This
module holds the pieces lesson 02 builds:

* :class:`TicketTriage`, the pydantic schema a triage must fit (label sets as ``Literal``
  types, so a made-up category is a validation error, not a silent bug);
* :func:`parse_triage`, which turns a model's raw JSON text into a ``TicketTriage`` or ``None``;
* :func:`classify`, which asks a model for structured output, validates it, retries once with
  the validation error, and otherwise falls back to "no category, escalate to a human": it
  never raises because one ticket came back malformed;
* :func:`keyword_baseline`, an English and German keyword classifier: the yardstick any model
  has to beat before anyone trusts it;
* :func:`evaluate`, :func:`accuracy`, :func:`confusion` and :func:`plot_confusion` to measure
  a method against labelled tickets.

Example:
    >>> keyword_baseline("Mein Akku raucht!").category
    'battery_safety'

Introduced in notebooks/02_triage.ipynb.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import openai
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from enterprise_ai.errors import UnexpectedReplyError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "FEW_SHOT_EXAMPLES",
    "LANGUAGES",
    "METHODS",
    "SYSTEM_PROMPT",
    "URGENCIES",
    "Action",
    "Category",
    "Example",
    "TicketTriage",
    "TriageResult",
    "accuracy",
    "build_messages",
    "classify",
    "confusion",
    "evaluate",
    "keyword_baseline",
    "parse_triage",
    "plot_confusion",
    "response_format",
    "strip_code_fence",
    "ticket_text",
]

Category = Literal[
    "order_status",
    "returns",
    "warranty",
    "shipping",
    "battery_safety",
    "leasing",
    "repair_appointment",
    "payment",
    "privacy",
    "product_question",
]
Urgency = Literal["low", "normal", "high", "critical"]
Language = Literal["en", "de"]
Action = Literal["answer_from_kb", "look_up_order", "create_return", "escalate_human", "refuse"]
Method = Literal["zero_shot", "few_shot", "keywords"]

CATEGORIES: tuple[str, ...] = get_args(Category)
URGENCIES: tuple[str, ...] = get_args(Urgency)
LANGUAGES: tuple[str, ...] = get_args(Language)
ACTIONS: tuple[str, ...] = get_args(Action)
METHODS: tuple[str, ...] = get_args(Method)

#: The longest summary the schema accepts, in characters: one short line for a ticket list.
SUMMARY_MAX_CHARS = 40


class TicketTriage(BaseModel):
    """What the support team needs to know about a ticket before anyone reads it.

    Every label is a ``Literal``: the schema sent to the model lists the allowed values, and a
    value outside them fails validation instead of reaching a queue that does not exist.
    ``extra="forbid"`` rejects unknown keys (and makes the JSON schema strict enough for
    OpenAI's structured outputs).
    """

    model_config = ConfigDict(extra="forbid")

    category: Category
    urgency: Urgency
    language: Language
    contains_pii: bool
    expected_action: Action
    summary: str = Field(max_length=SUMMARY_MAX_CHARS)


def response_format() -> dict[str, Any]:
    """The ``response_format`` for ``chat.completions.create`` that asks for a TicketTriage.

    ``client.chat.completions.parse(response_format=TicketTriage)`` builds the same thing from
    the class; :func:`classify` uses ``create`` with this dict so it can validate the raw text
    itself, and retry, instead of getting an exception from the SDK.
    """
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "TicketTriage",
            "schema": TicketTriage.model_json_schema(),
            "strict": True,
        },
    }


def strip_code_fence(raw: str) -> str:
    """Remove a Markdown code fence (```json ... ```) that chat models like to wrap JSON in."""
    text = raw.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rstrip().removesuffix("```")
    return text.strip()


def parse_triage(raw: str | None) -> TicketTriage | None:
    """Turn a model's raw JSON text into a :class:`TicketTriage`, or ``None`` if it is not one.

    ``None`` (rather than an exception) because a malformed answer is an expected event with a
    small model: the caller decides whether to retry or fall back.

    Example:
        >>> parse_triage('{"category": "payment"}') is None   # fields missing
        True
    """
    if not raw:
        return None
    try:
        return TicketTriage.model_validate_json(strip_code_fence(raw))
    except ValidationError:
        return None


def _validation_problem(raw: str | None) -> str:
    """One line saying why ``raw`` is not a TicketTriage (fed back to the model on retry)."""
    if not raw:
        return "the answer was empty"
    try:
        TicketTriage.model_validate_json(strip_code_fence(raw))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "the answer"
        return f"{where}: {first.get('msg', 'invalid')}"
    return "no problem"


# --------------------------------------------------------------------------------------------
# Prompts
# --------------------------------------------------------------------------------------------

SYSTEM_PROMPT = (
    "You triage customer support tickets for Isar Cycles, a Munich e-bike maker.\n"
    "Reply with one JSON object on one line and nothing else, in this form:\n"
    '{"category":"...","urgency":"...","language":"..","contains_pii":false,'
    '"expected_action":"...","summary":"..."}\n'
    f"category: one of {', '.join(CATEGORIES)}.\n"
    f"urgency: one of {', '.join(URGENCIES)} (critical = danger to people, e.g. a battery "
    "that smokes).\n"
    "language: en or de.\n"
    "contains_pii: true if the ticket contains a name, email, phone number, address or IBAN.\n"
    f"expected_action: one of {', '.join(ACTIONS)}.\n"
    f"summary: at most 6 words, under {SUMMARY_MAX_CHARS} characters."
)


@dataclass(frozen=True)
class Example:
    """A worked example for a few-shot prompt: a ticket and its correct triage."""

    text: str
    triage: TicketTriage


def _example(text: str, **labels: Any) -> Example:
    return Example(text=text, triage=TicketTriage(**labels))


#: Hand-written tickets (not from the course data set, so they cannot leak into an evaluation):
#: one per category, English and German mixed.
FEW_SHOT_EXAMPLES: tuple[Example, ...] = (
    _example(
        "Where is my order IC-104512? It was supposed to arrive on Monday.",
        category="order_status",
        urgency="normal",
        language="en",
        contains_pii=False,
        expected_action="look_up_order",
        summary="Asks where order IC-104512 is",
    ),
    _example(
        "Ich möchte mein Rad zurückgeben, der Rahmen ist mir zu groß.",
        category="returns",
        urgency="normal",
        language="de",
        contains_pii=False,
        expected_action="create_return",
        summary="Möchte Rad zurückgeben, Rahmen zu groß",
    ),
    _example(
        "The motor stopped working after 8 months. Is that covered by the warranty?",
        category="warranty",
        urgency="normal",
        language="en",
        contains_pii=False,
        expected_action="answer_from_kb",
        summary="Motor failed after 8 months, warranty?",
    ),
    _example(
        "Liefern Sie auch in die Schweiz, und was kostet der Versand?",
        category="shipping",
        urgency="low",
        language="de",
        contains_pii=False,
        expected_action="answer_from_kb",
        summary="Fragt nach Versand in die Schweiz",
    ),
    _example(
        "My battery got very hot while charging and smells burnt. What should I do?",
        category="battery_safety",
        urgency="critical",
        language="en",
        contains_pii=False,
        expected_action="escalate_human",
        summary="Battery hot, smells burnt",
    ),
    _example(
        "Unser Arbeitgeber bietet Dienstrad-Leasing an. Wie funktioniert das mit Ihnen?",
        category="leasing",
        urgency="low",
        language="de",
        contains_pii=False,
        expected_action="answer_from_kb",
        summary="Fragt nach Dienstrad-Leasing",
    ),
    _example(
        "Can I book a service appointment in the Munich workshop next week? Call me on "
        "0171 2345678. Anna Weber",
        category="repair_appointment",
        urgency="normal",
        language="en",
        contains_pii=True,
        expected_action="escalate_human",
        summary="Wants a workshop appointment next week",
    ),
    _example(
        "Meine Zahlung wurde zweimal abgebucht, IBAN DE89 3704 0044 0532 0130 00.",
        category="payment",
        urgency="high",
        language="de",
        contains_pii=True,
        expected_action="escalate_human",
        summary="Zahlung doppelt abgebucht",
    ),
    _example(
        "Please delete all personal data you store about me (GDPR Art. 17).",
        category="privacy",
        urgency="high",
        language="en",
        contains_pii=False,
        expected_action="escalate_human",
        summary="Asks to delete personal data (GDPR)",
    ),
    _example(
        "Passt ein Kindersitz auf das Trekking-Modell?",
        category="product_question",
        urgency="low",
        language="de",
        contains_pii=False,
        expected_action="answer_from_kb",
        summary="Kindersitz auf Trekking-Modell?",
    ),
)


def _compact(triage: TicketTriage) -> str:
    """The JSON a model should write: one line, no spaces (fewer tokens, faster answers)."""
    return json.dumps(triage.model_dump(), ensure_ascii=False, separators=(",", ":"))


def build_messages(
    text: str, *, method: str = "zero_shot", few_shot: Sequence[Example] | None = None
) -> list[dict[str, str]]:
    """The chat messages for one ticket: system prompt, worked examples (few-shot), the ticket.

    The examples come *before* the ticket and never change, so a server with a prompt cache
    (llama.cpp, OpenAI) reuses them and only reads the new ticket.
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    if method == "few_shot":
        for example in FEW_SHOT_EXAMPLES if few_shot is None else few_shot:
            messages.append({"role": "user", "content": example.text})
            messages.append({"role": "assistant", "content": _compact(example.triage)})
    messages.append({"role": "user", "content": text})
    return messages


# --------------------------------------------------------------------------------------------
# The keyword baseline
# --------------------------------------------------------------------------------------------


def _words(spec: str) -> tuple[str, ...]:
    """``"a|b c|d"`` -> ``("a", "b c", "d")``: keyword lists stay readable, a line each."""
    return tuple(part.strip() for part in spec.split("|") if part.strip())


# Keywords are lower-case regular expressions matched at the start of a word ("liefer" finds
# "Lieferung"). Each hit scores 1, or 2 in the first line (the subject); the highest score wins,
# and a tie goes to the category listed first, so safety comes before everything else.
_CATEGORY_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "battery_safety",
        _words(
            r"smok|fire|burn|swollen|swell|overheat|explod|sparks|battery|charg|rauch|qualm|"
            r"brand|verbrannt|aufgebläht|gebläht|überhitz|heiß(?!t)|akku|laden\b|lädt"
        ),
    ),
    (
        "privacy",
        _words(
            r"gdpr|personal data|my data|delete my|erase|unsubscribe|newsletter|another customer|"
            r"store my|keep my|dsgvo|datenschutz|meine daten|löschen|auskunft|art\. 15|art\. 17|"
            r"anderen kunden|erstkäufer|speichern"
        ),
    ),
    (
        "leasing",
        _words(r"leas|employer|salary|arbeitgeber|dienstrad|jobrad|gehalt"),
    ),
    (
        "payment",
        _words(
            r"payment|invoice|charged|paypal|credit card|klarna|instalment|financ|bank account|"
            r"pay\b|zahlung|rechnung|abgebucht|abbuchung|belastet|kreditkarte|bezahl|finanzierung|"
            r"ratenzahlung|bankkonto"
        ),
    ),
    (
        "returns",
        _words(
            r"return|send back|sent back|withdraw|too big|too small|refund|zurückgeben|"
            r"zurückschicken|zurückgeschickt|rücksend|retoure|widerruf|umtausch|zu groß|zu klein|"
            r"erstattung|rückgabe"
        ),
    ),
    (
        "warranty",
        _words(
            r"warranty|guarantee|defect|broken|broke\b|crack|covered|range dropped|garantie|"
            r"gewährleistung|defekt|kaputt|gebrochen|riss\b|abgedeckt"
        ),
    ),
    (
        "repair_appointment",
        _words(
            r"appointment|repair|service|inspection|workshop|brake|squeak|pick up|termin|"
            r"reparatur|werkstatt|inspektion|wartung|bremse|quietsch|abhol"
        ),
    ),
    (
        "shipping",
        _words(
            r"shipping|ship\b|deliver to|courier|customs|parcel damaged|damaged|dented|"
            r"austria|switzerland|\buk\b|versand|liefern sie|österreich|schweiz|zoll|beschädigt|"
            r"spedition"
        ),
    ),
    (
        "order_status",
        _words(
            r"order|where is|tracking|processing|delivered|arrived|bestellung|wo ist|"
            r"sendungsverfolgung|zugestellt|angekommen|lieferstatus"
        ),
    ),
)
_PRIORITY = {name: rank for rank, (name, _) in enumerate(_CATEGORY_KEYWORDS)}
_DANGER = _words(
    r"smok|fire|burn|swollen|overheat|explod|sparks|rauch|qualm|brand|aufgebläht|überhitz|"
    r"heiß(?!t)"
)
_HIGH = _words(
    r"urgent|asap|immediately|lawyer|angry|twice|crack|nothing arrived|far too long|dringend|"
    r"sofort|anwalt|doppelt|riss\b|nicht angekommen|viel zu lange"
)
_QUESTION_START = re.compile(
    r"(?m)^(?:what|how|can|do|does|is|are|which|when|wie|was|welche|kann|können|gibt|bieten|"
    r"sind|ab wann|wann)\b"
)
_ORDER_ID = re.compile(r"\bIC-\d{6}\b", re.IGNORECASE)
_ESCALATE = _words(
    r"delete|löschen|art\. 15|auskunft|swollen|aufgebläht|smok|rauch|free repair|kostenlose "
    r"reparatur|crack|riss\b|appointment|termin vereinbaren|cancel the contract|vertrag kündigen|"
    r"leasing-angebot|leasing offer"
)
_REFUSE = _words(r"another customer|anderen kunden|erstkäufer|tuning|45 km/h|disable|entdrossel")
_CREATE_RETURN = _words(
    r"too big|too small|send it back|return it|zu groß|zu klein|zurückschicken|zurückgeben\?"
)
_GERMAN_WORDS = frozenset(
    _words(
        "der|die|das|und|ist|ich|nicht|mein|meine|mit|bitte|ein|eine|wir|sie|ihr|ihre|für|auf|"
        "wann|noch|mir|habe|hat|kann|wie|was|danke|grüße|gruß|sehr|geehrte|hallo"
    )
)
_ENGLISH_WORDS = frozenset(
    _words(
        "the|and|is|my|i|to|a|of|in|it|for|please|you|your|what|where|can|do|have|has|was|"
        "when|how|with|this|that|thanks|hello|dear|regards"
    )
)
_PII_PATTERNS = (
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # email
    re.compile(r"(?:\+|\b0|\(0)[\d()/ -]{7,}\d"),  # phone number
    re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b"),  # IBAN
    re.compile(r"\b\d{5} [A-ZÄÖÜ][a-zäöüß]+"),  # German postcode and city
    re.compile(r"(?i)\b(?:my name is|ich heiße|mein name ist|my address|meine adresse)\b"),
)


def _count(text: str, keywords: Sequence[str]) -> int:
    return sum(bool(re.search(r"(?<!\w)" + k, text)) for k in keywords)


def _has_keyword(text: str, keywords: Sequence[str]) -> bool:
    return _count(text, keywords) > 0


def _best_category(text: str) -> Category:
    subject, _, body = text.lower().partition("\n")
    scores = {
        name: 2 * _count(subject, keywords) + _count(body, keywords)
        for name, keywords in _CATEGORY_KEYWORDS
    }
    best = max(scores.values())
    if best == 0:
        return "product_question"
    return min((n for n, s in scores.items() if s == best), key=_PRIORITY.__getitem__)  # type: ignore[return-value]


def _action(category: str, lower: str, has_order: bool) -> Action:
    if _has_keyword(lower, _REFUSE):
        return "refuse"
    if _has_keyword(lower, _ESCALATE) or _has_keyword(lower, _DANGER):
        return "escalate_human"
    if category == "returns" and has_order and _has_keyword(lower, _CREATE_RETURN):
        return "create_return"
    if has_order and category in {"order_status", "returns", "shipping", "payment"}:
        return "look_up_order"
    if has_order and category == "warranty":
        return "escalate_human"
    return "answer_from_kb"


def keyword_baseline(text: str) -> TicketTriage:
    """Triage a ticket with English and German keyword lists: no model, instant, explainable.

    Every category scores its keyword hits (double in the first line, the subject); the best
    score wins, ties go to the more serious category, no hit means ``product_question``. It is
    the yardstick a model must beat: cheap, predictable, and often better than a small model.

    Example:
        >>> keyword_baseline("Wo ist meine Bestellung IC-100231?").expected_action
        'look_up_order'
    """
    lower = text.lower()
    category = _best_category(text)
    has_order = bool(_ORDER_ID.search(text))
    if _has_keyword(lower, _DANGER):
        urgency: Urgency = "critical"
    elif _has_keyword(lower, _HIGH):
        urgency = "high"
    elif not has_order and _QUESTION_START.search(lower):
        urgency = "low"
    else:
        urgency = "normal"
    words = re.findall(r"[a-zäöüß]+", lower)
    german = sum(w in _GERMAN_WORDS for w in words) + 2 * len(re.findall(r"[äöüß]", lower))
    english = sum(w in _ENGLISH_WORDS for w in words)
    language: Language = "de" if german > english else "en"
    first_line = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    return TicketTriage(
        category=category,
        urgency=urgency,
        language=language,
        contains_pii=any(p.search(text) for p in _PII_PATTERNS),
        expected_action=_action(category, lower, has_order),
        summary=first_line[:SUMMARY_MAX_CHARS],
    )


# --------------------------------------------------------------------------------------------
# Classifying with a model: validate, retry once, fall back
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageResult:
    """The outcome of :func:`classify`: the triage, or the safe fallback and the reason.

    Attributes:
        triage: the validated triage, or ``None`` when the fallback was used.
        method: ``"zero_shot"``, ``"few_shot"`` or ``"keywords"``.
        attempts: model calls made (0 for keywords, 1, or 2 after a retry).
        problems: why each failed attempt was rejected, in order.
        raw: the model's raw text of each attempt.
        seconds: wall-clock time of the whole classification.
        prompt_tokens: prompt tokens of all attempts, as the server counted them.
        cached_tokens: of those, the tokens the server's prompt cache already held (it did
            not have to read them again); 0 where a server does not report it.
    """

    triage: TicketTriage | None
    method: str
    attempts: int = 0
    problems: tuple[str, ...] = ()
    raw: tuple[str, ...] = ()
    seconds: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0

    @property
    def fallback(self) -> bool:
        """True when no valid triage came back and the ticket goes to a person."""
        return self.triage is None

    @property
    def category(self) -> str | None:
        """The category, or ``None`` for the fallback (no guess is better than a wrong one)."""
        return self.triage.category if self.triage else None

    @property
    def expected_action(self) -> str:
        """The next step; the fallback always escalates to a human."""
        return self.triage.expected_action if self.triage else "escalate_human"

    @property
    def urgency(self) -> str:
        """The urgency; the fallback says ``normal`` and leaves the judgement to a person."""
        return self.triage.urgency if self.triage else "normal"

    def as_dict(self) -> dict[str, Any]:
        """The triage fields plus method, attempts, fallback and the last problem, flat."""
        fields = (
            self.triage.model_dump()
            if self.triage
            else {
                "category": None,
                "urgency": "normal",
                "language": None,
                "contains_pii": None,
                "expected_action": "escalate_human",
                "summary": None,
            }
        )
        return {
            **fields,
            "method": self.method,
            "attempts": self.attempts,
            "fallback": self.fallback,
            "problem": self.problems[-1] if self.problems else None,
        }


def _ask_once(
    client: Any, model: str, messages: list[dict[str, str]], max_tokens: int
) -> tuple[str, int, int]:
    """One structured-output call: the raw text (possibly cut off or empty), prompt tokens and
    cached prompt tokens."""
    reply = client.chat.completions.create(
        model=model,
        messages=messages,
        response_format=response_format(),
        temperature=0,
        seed=42,
        max_tokens=max_tokens,
    )
    if not hasattr(reply, "choices"):  # the SDK hands back plain text for a non-JSON page
        raise UnexpectedReplyError(
            f"the endpoint answered with {str(reply)[:60]!r} instead of a chat completion. "
            "Check that OPENAI_BASE_URL is the API (it usually ends in /v1), not a web page."
        )
    usage = getattr(reply, "usage", None)
    prompt = getattr(usage, "prompt_tokens", 0) or 0
    details = getattr(usage, "prompt_tokens_details", None)
    cached = getattr(details, "cached_tokens", 0) or 0
    return reply.choices[0].message.content or "", prompt, cached


def classify(
    text: str,
    *,
    client: Any = None,
    model: str | None = None,
    few_shot: Sequence[Example] | None = None,
    method: str = "zero_shot",
    max_tokens: int = 80,
) -> TriageResult:
    """Triage one ticket with a model (zero- or few-shot) or with the keyword baseline.

    The model is asked for JSON matching :class:`TicketTriage`. Its answer is validated; if it
    is not valid, the model sees its answer and the validation error and gets one more try. If
    that fails too, the result is the safe fallback: no category, escalate to a human. A call
    that fails (refused, unreachable, timed out, not JSON) falls back at once: the SDK's own
    retries (``max_retries``) have already tried again. One bad ticket never stops a batch.

    Args:
        text: the ticket (subject and body).
        client: an ``openai.OpenAI``-like client; default: :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        few_shot: worked examples for ``method="few_shot"``; default: :data:`FEW_SHOT_EXAMPLES`.
        method: ``"zero_shot"``, ``"few_shot"`` or ``"keywords"`` (no model call).
        max_tokens: answer limit per attempt; the JSON needs 45-90 tokens.

    Raises:
        ValueError: an unknown ``method`` (a programming error, not a model error).

    Example:
        >>> from enterprise_ai.testing import ScriptedClient
        >>> classify("Where is my bike?", client=ScriptedClient(["not json"]), model="m").fallback
        True
    """
    if method not in METHODS:
        raise ValueError(f"method={method!r} is not one of {METHODS}; pick one of those.")
    started = time.perf_counter()
    if method == "keywords":
        return TriageResult(keyword_baseline(text), method, seconds=time.perf_counter() - started)
    if client is None or model is None:
        from enterprise_ai import llm  # imported here: the baseline needs no model at all

        client = client or llm.get_client()
        model = model or llm.default_model()
    messages = build_messages(text, method=method, few_shot=few_shot)
    problems: list[str] = []
    raws: list[str] = []
    tokens = [0, 0]  # prompt, cached

    def result(triage: TicketTriage | None, attempts: int) -> TriageResult:
        seconds = time.perf_counter() - started
        return TriageResult(
            triage, method, attempts, tuple(problems), tuple(raws), seconds, *tokens
        )

    for attempt in (1, 2):
        try:
            raw, prompt_tokens, cached_tokens = _ask_once(client, model, messages, max_tokens)
        except (openai.APIError, json.JSONDecodeError, UnexpectedReplyError) as err:
            # Refused, unreachable, timed out or a reply that is not even JSON. The SDK has
            # already retried what a retry can fix (max_retries), so fall back now and say why.
            problems.append(f"the call failed: {type(err).__name__}: {err}")
            return result(None, attempt)
        tokens[0] += prompt_tokens
        tokens[1] += cached_tokens
        raws.append(raw)
        triage = parse_triage(raw)
        if triage is not None:
            return result(triage, attempt)
        problem = _validation_problem(raw)
        problems.append(problem)
        messages = [
            *messages,
            {"role": "assistant", "content": raw},
            {
                "role": "user",
                "content": f"That is not valid ({problem}). Reply again with the JSON object "
                "only, on one line, with a summary of at most 6 words.",
            },
        ]
    return result(None, 2)


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def ticket_text(ticket: Any) -> str:
    """The text a classifier sees for one ticket row: subject, a blank line, the body."""
    subject = str(ticket.get("subject", "") or "").strip()
    body = str(ticket.get("text", "") or "").strip()
    return f"{subject}\n\n{body}" if subject else body


def evaluate(
    tickets: pd.DataFrame,
    *,
    method: str = "zero_shot",
    client: Any = None,
    model: str | None = None,
    few_shot: Sequence[Example] | None = None,
    progress: bool = True,
    workers: int | None = None,
    time_budget: float | None = None,
) -> pd.DataFrame:
    """Classify every ticket with one method; one row per ticket, predicted next to expected.

    Columns: ``ticket_id``, ``language``, ``expected`` / ``predicted`` (category),
    ``expected_urgency`` / ``predicted_urgency``, ``expected_action`` / ``predicted_action``,
    ``expected_pii`` / ``predicted_pii``, ``method``, ``attempts``, ``fallback``, ``seconds``,
    ``prompt_tokens`` and ``cached_tokens`` (how much of the prompt the server's cache held).
    A fallback's ``predicted`` is ``None`` and counts as wrong.

    Args:
        tickets: labelled tickets as from :func:`enterprise_ai.data.tickets` (needs
            ``ticket_id``, ``subject``, ``text``, ``category``, ``urgency``,
            ``expected_action``, ``contains_pii`` and ``language``).
        method, client, model, few_shot: as for :func:`classify`.
        progress: show a tqdm progress bar (on stderr).
        workers: tickets in flight at once; default: the local server's slots, else one
            (see :func:`enterprise_ai.batch.default_workers`). Rows keep the input order.
        time_budget: seconds after which no new ticket starts; the table then holds the
            tickets that finished, and a note on stderr says how many (Kernel → Interrupt
            does the same).
    """
    from enterprise_ai.batch import default_workers, run_batch

    missing = {"ticket_id", "text", "category"} - set(tickets.columns)
    if missing:
        raise ValueError(
            f"tickets lacks the columns {sorted(missing)}; pass enterprise_ai.data.tickets() "
            "or a DataFrame with the same columns."
        )
    if method != "keywords" and (client is None or model is None):
        from enterprise_ai import llm

        client = client or llm.get_client()
        model = model or llm.default_model()

    def one(ticket: dict[str, Any]) -> dict[str, Any]:
        result = classify(
            ticket_text(ticket), client=client, model=model, few_shot=few_shot, method=method
        )
        return {
            "ticket_id": ticket["ticket_id"],
            "language": ticket.get("language"),
            "expected": ticket["category"],
            "predicted": result.category,
            "expected_urgency": ticket.get("urgency"),
            "predicted_urgency": result.urgency,
            "expected_action": ticket.get("expected_action"),
            "predicted_action": result.expected_action,
            "expected_pii": ticket.get("contains_pii"),
            "predicted_pii": result.as_dict()["contains_pii"],
            "method": method,
            "attempts": result.attempts,
            "fallback": result.fallback,
            "seconds": round(result.seconds, 3),
            "prompt_tokens": result.prompt_tokens,
            "cached_tokens": result.cached_tokens,
        }

    if workers is None:
        workers = 1 if method == "keywords" else default_workers(client)
    run = run_batch(
        one,
        tickets.to_dict("records"),
        workers=workers,
        desc=method,
        progress=progress,
        time_budget=time_budget,
    )
    return pd.DataFrame(run.results, columns=_EVALUATION_COLUMNS)


_EVALUATION_COLUMNS = [
    "ticket_id",
    "language",
    "expected",
    "predicted",
    "expected_urgency",
    "predicted_urgency",
    "expected_action",
    "predicted_action",
    "expected_pii",
    "predicted_pii",
    "method",
    "attempts",
    "fallback",
    "seconds",
    "prompt_tokens",
    "cached_tokens",
]


def accuracy(
    results: pd.DataFrame, *, expected: str = "expected", predicted: str = "predicted"
) -> float:
    """The share of rows whose prediction equals the label (a missing prediction is wrong).

    Example:
        >>> accuracy(pd.DataFrame({"expected": ["a", "b"], "predicted": ["a", None]}))
        0.5
    """
    if len(results) == 0:
        raise ValueError("accuracy of no rows is undefined; evaluate at least one ticket.")
    for column in (expected, predicted):
        if column not in results.columns:
            raise ValueError(
                f"no column {column!r} in the results (columns: {list(results.columns)}); "
                "pass expected=/predicted= with the right names."
            )
    hits = results[predicted].astype(object).eq(results[expected].astype(object))
    return float(hits.mean())


NO_PREDICTION = "(none)"


def confusion(results: pd.DataFrame, *, labels: Sequence[str] = CATEGORIES) -> pd.DataFrame:
    """Counts of expected (rows) against predicted (columns) categories.

    A fallback (no prediction) gets its own column, ``(none)``, so it stays visible.
    """
    predicted = results["predicted"].astype(object).where(results["predicted"].notna())
    predicted = predicted.fillna(NO_PREDICTION)
    columns = [*labels, NO_PREDICTION]
    table = pd.crosstab(
        pd.Categorical(results["expected"], categories=list(labels)),
        pd.Categorical(predicted, categories=columns),
        rownames=["expected"],
        colnames=["predicted"],
        dropna=False,
    )
    return table.reindex(index=list(labels), columns=columns, fill_value=0)


def plot_confusion(results: pd.DataFrame, *, title: str = "") -> Figure:
    """A confusion-matrix heat map, readable on a projector: counts in every cell."""
    import matplotlib.pyplot as plt

    table = confusion(results)
    fig, ax = plt.subplots(figsize=(10, 8))
    ax.imshow(table.to_numpy(), cmap="Blues")
    ax.set_xticks(range(len(table.columns)), table.columns, rotation=45, ha="right", fontsize=12)
    ax.set_yticks(range(len(table.index)), table.index, fontsize=12)
    ax.set_xlabel("predicted category", fontsize=14)
    ax.set_ylabel("expected category (label)", fontsize=14)
    share = accuracy(results)
    ax.set_title(title or f"{results['method'].iloc[0]}: accuracy {share:.0%}", fontsize=16)
    peak = table.to_numpy().max() or 1
    for i, row in enumerate(table.to_numpy()):
        for j, count in enumerate(row):
            if count:
                colour = "white" if count > peak / 2 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=12, color=colour)
    fig.tight_layout()
    return fig
