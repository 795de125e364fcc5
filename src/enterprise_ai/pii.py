"""Personal data in text: find it, replace it with placeholders, and put it back.

* :func:`redact_pii` replaces personal data (GDPR Art. 4(1)) with typed placeholders such as
  ``[EMAIL]`` or ``[IBAN]`` before text goes to a model, a log or a dashboard (data
  minimisation, GDPR Art. 5(1)(c)).
* :func:`pseudonymise` does the same with numbered placeholders and a mapping, so
  :func:`restore` can put the real values back into the reply the customer sees.
* :func:`is_company_contact` tells Isar Cycles' own address, phone and e-mail (fine in a
  reply) from a customer's.

A module of its own because three others need it and none of them should need the others: the
audit log (:mod:`enterprise_ai.audit`) redacts what it writes, the reply check
(:mod:`enterprise_ai.reply_check`) looks for personal data the customer did not give, and the
guardrails (:mod:`enterprise_ai.guardrails`, where lesson 05 meets these functions) wrap the
whole bot. All rules are regular expressions and checksums you can read in this file; they
miss things (measured in notebooks/05_guardrails.ipynb), and nothing here is legal advice.

Example:
    >>> redact_pii("Write to anna.berger@example.de or call 089 12345678.").text
    'Write to [EMAIL] or call [PHONE].'

Introduced in notebooks/05_guardrails.ipynb.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.de import idnr

__all__ = [
    "COMPANY_ADDRESS",
    "COMPANY_EMAIL_DOMAIN",
    "COMPANY_PHONE_PREFIX",
    "PII_KINDS",
    "Finding",
    "Pseudonyms",
    "Redaction",
    "is_company_contact",
    "pseudonymise",
    "redact_pii",
    "restore",
]

#: The kinds of personal data :func:`redact_pii` finds, in the order they win when two overlap.
PII_KINDS: tuple[str, ...] = (
    "IBAN",
    "CARD",
    "EMAIL",
    "TAX_ID",
    "PHONE",
    "ADDRESS",
    "DATE_OF_BIRTH",
    "NAME",
)

_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# Country code, two check digits, then groups of up to four letters/digits, spaced or not.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b\d(?:[ -]?\d){12,18}\b")
_TAX_ID = re.compile(r"\b[1-9]\d(?: ?\d{3}){3}\b")
# German-style area codes in brackets, which phonenumbers reads as international prefixes.
_PHONE_BRACKETS = re.compile(r"\(0\d{2,5}\)\s?\d{3,9}")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_STREET_SUFFIX = (
    # "-ring", but not English words such as spring, string, during, ordering
    r"(?i:straße|strasse|str\.|weg|platz|allee|gasse|(?<![aeioupbt])ring|damm|ufer|chaussee|"
    r"pfad|steig|markt)"
)
_ADDRESS = re.compile(
    r"\b(?:[A-ZÄÖÜ][\w'-]*\s)?[A-ZÄÖÜ][\w'-]+?"
    + _STREET_SUFFIX
    + r"\s?\d{1,4}[a-z]?(?:\s?[-/]\s?\d{1,4}[a-z]?)?"
    + r"(?:,?\s+\d{5}\s+[A-ZÄÖÜ][\w-]+(?:\s(?:am|an|im|in|ob|bei|der|[A-ZÄÖÜ][\w.-]+))*)?"
)
# Any address after a cue such as "my address is", up to the end of the sentence: this finds
# addresses abroad ("35 MacBride Street, D60 K7C9 Dublin") that the street rule cannot.
_ADDRESS_CUE = re.compile(
    r"(?i:my (?:new |home )?address is|i live at|meine (?:neue )?adresse (?:lautet|ist)|"
    r"ich wohne in der)\s*:?\s*([^\n.!?]{5,80})"
)
_DATE_OF_BIRTH = re.compile(
    r"(?i:born(?: on)?|date of birth|d\.o\.b\.|geboren(?: am)?|geburtsdatum)"
    r"[:\s]+(\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}-\d{2}-\d{2})"
)
_SIGN_OFF = re.compile(
    r"(?im)^(?:kind regards|best regards|regards|best wishes|best|thanks!?|thank you[^\n]*|"
    r"cheers|mit freundlichen grüßen|viele grüße|lg|danke!?|vielen dank[^\n]*)[,.!]?\s*\n"
    r"((?:[A-ZÄÖÜ][\w'-]+\s){1,2}[A-ZÄÖÜ][\w'-]+)\s*$"
)
_BRACKETED_NAME = re.compile(r"\(((?:[A-ZÄÖÜ][\w'-]+\s){1,2}[A-ZÄÖÜ][\w'-]+)\)\s*$")
# Ids the bot needs to do its job; they point to a person only through Isar Cycles' own
# database, which the bot is allowed to use. Findings inside them are dropped.
_BUSINESS_IDS = re.compile(r"\b(?:IC-\d{6}|C-\d{4}|T-\d{4})\b")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found in a text.

    Attributes:
        kind: one of :data:`PII_KINDS`.
        start: where it starts in the original text (character index).
        end: where it ends (exclusive).
        masked: a masked preview (first and last character, the rest as ``*``), so a list of
            findings can be shown or logged without the value itself.
    """

    kind: str
    start: int
    end: int
    masked: str

    @property
    def type(self) -> str:
        """The same as :attr:`kind` (the name the course's published contract uses)."""
        return self.kind


@dataclass(frozen=True)
class Redaction:
    """The result of :func:`redact_pii`: the cleaned text and what was taken out.

    The original text is not kept, so printing or logging a ``Redaction`` shows no raw values.

    Attributes:
        text: the text with each finding replaced by ``[KIND]``.
        findings: what was replaced, in text order (positions refer to the original text).
    """

    text: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        """The kinds found, in text order, each once."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def __repr__(self) -> str:
        return f"Redaction(text={self.text!r}, kinds={self.kinds})"


def _mask(value: str) -> str:
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


def _find_phones(text: str) -> list[tuple[int, int]]:
    """Phone numbers in DE/AT/CH national formats or international (+49, 0049, …) formats.

    ``phonenumbers`` with leniency POSSIBLE finds number-shaped strings; keeping only those that
    start like a dialled number (``+``, ``(`` or ``0``), have at least 7 digits and are not dates
    drops prices, years, dates and order numbers.
    """
    spans = []
    matcher = phonenumbers.PhoneNumberMatcher(text, "DE", leniency=phonenumbers.Leniency.POSSIBLE)
    for match in matcher:
        raw = match.raw_string
        digits = sum(ch.isdigit() for ch in raw)
        if raw[0] in "+(0" and digits >= 7 and not _DATE_LIKE.match(raw):
            spans.append((match.start, match.end))
    spans += [(m.start(), m.end()) for m in _PHONE_BRACKETS.finditer(text)]
    return spans


def _find_names(text: str, names: Iterable[str]) -> list[tuple[int, int]]:
    """Names after a sign-off line or in brackets at the end, plus any ``names`` given."""
    spans = [m.span(1) for m in _SIGN_OFF.finditer(text)]
    spans += [m.span(1) for m in _BRACKETED_NAME.finditer(text)]
    for name in names:
        if len(name) >= 3:
            spans += [m.span() for m in re.finditer(rf"\b{re.escape(name)}\b", text)]
    return spans


def _overlaps(span: tuple[int, int], others: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in others)


def _candidates(text: str, names: Iterable[str]) -> dict[str, list[tuple[int, int]]]:
    # The digits of an IBAN whose checksum failed are not a card or phone number either.
    iban_shaped = [m.span() for m in _IBAN.finditer(text)]
    return {
        "IBAN": [m.span() for m in _IBAN.finditer(text) if stdnum_iban.is_valid(m.group())],
        "CARD": [
            m.span()
            for m in _CARD.finditer(text)
            if luhn.is_valid(re.sub(r"\D", "", m.group()))
            and m.group()[0] != "0"
            and not _overlaps(m.span(), iban_shaped)
        ],
        "EMAIL": [m.span() for m in _EMAIL.finditer(text)],
        "TAX_ID": [
            m.span() for m in _TAX_ID.finditer(text) if idnr.is_valid(m.group().replace(" ", ""))
        ],
        "PHONE": [span for span in _find_phones(text) if not _overlaps(span, iban_shaped)],
        "ADDRESS": [m.span() for m in _ADDRESS.finditer(text)]
        + [m.span(1) for m in _ADDRESS_CUE.finditer(text)],
        "DATE_OF_BIRTH": [m.span(1) for m in _DATE_OF_BIRTH.finditer(text)],
        "NAME": _find_names(text, names),
    }


def redact_pii(
    text: str, *, kinds: Iterable[str] | None = None, names: Iterable[str] = ()
) -> Redaction:
    """Replace personal data in ``text`` with typed placeholders such as ``[EMAIL]``.

    Found: e-mail addresses; phone numbers (German, Austrian, Swiss and international formats,
    via ``phonenumbers``); IBANs (spaced or not, only if the checksum holds, via
    ``python-stdnum``); card numbers (Luhn checksum); German tax ids (Steuer-IdNr., checksum);
    German street addresses ("…straße/weg/platz/allee/gasse/ring 12", optionally with postcode
    and city) and any address after "my address is" / "meine Adresse lautet"; dates of birth
    after "born"/"geboren"; names after a sign-off line ("Kind regards\\nAnna Berger") or in
    ``names``.

    Kept on purpose: order ids (``IC-100042``), customer ids (``C-0042``) and ticket ids. The bot
    needs them to help, and they identify a person only through Isar Cycles' own database.

    Missed (measured in the lesson): names in running text ("my neighbour Anna Schmidt"),
    addresses without a street suffix ("Am Anger 3", "221B Baker Street"), numbers split in odd
    ways. A named-entity model or a stronger LLM finds more; no rule set finds everything.

    Args:
        text: any text: a ticket, a prompt, a model answer, a log field.
        kinds: only these kinds (see :data:`PII_KINDS`); default: all.
        names: known names to redact wherever they appear, e.g. from ``data.customers()``.

    Returns:
        A :class:`Redaction` with the new text and the findings (masked, with positions).

    Raises:
        ValueError: ``kinds`` holds an unknown kind.

    Example:
        >>> r = redact_pii("IBAN DE89 3704 0044 0532 0130 00, order IC-100042")
        >>> r.text, r.kinds
        ('IBAN [IBAN], order IC-100042', ['IBAN'])

    Introduced in notebooks/05_guardrails.ipynb.
    """
    wanted = set(PII_KINDS if kinds is None else kinds)
    unknown = wanted - set(PII_KINDS)
    if unknown:
        raise ValueError(
            f"Unknown PII kind(s) {sorted(unknown)}. Use any of {list(PII_KINDS)}, "
            "or kinds=None for all."
        )
    protected = [m.span() for m in _BUSINESS_IDS.finditer(text)]
    chosen: list[tuple[int, int, str]] = []
    for kind, spans in _candidates(text, names).items():
        if kind not in wanted:
            continue
        for start, end in sorted(spans, key=lambda s: s[0] - s[1]):  # longest first
            if any(start < p_end and p_start < end for p_start, p_end in protected):
                continue
            if any(start < c_end and c_start < end for c_start, c_end, _ in chosen):
                continue
            chosen.append((start, end, kind))
    chosen.sort()
    findings = [Finding(kind, start, end, _mask(text[start:end])) for start, end, kind in chosen]
    pieces, last = [], 0
    for finding in findings:
        pieces += [text[last : finding.start], f"[{finding.kind}]"]
        last = finding.end
    pieces.append(text[last:])
    return Redaction("".join(pieces), findings)


class Pseudonyms(dict[str, str]):
    """Placeholder → original value, as made by :func:`pseudonymise`.

    It holds the raw personal data, so it stays in memory for one conversation: never log it,
    never send it to the model. Its repr shows only the placeholders.
    """

    def __repr__(self) -> str:
        return f"Pseudonyms({sorted(self)})"


_PLACEHOLDER = re.compile(r"[<\[]\s*([A-Z]+(?:_OF_[A-Z]+|_ID)?)[ _-]?(\d+)\s*[>\]]")


def pseudonymise(
    text: str, *, kinds: Iterable[str] | None = None, names: Iterable[str] = ()
) -> tuple[str, Pseudonyms]:
    """Replace personal data with numbered placeholders (``<EMAIL_1>``) and return the mapping.

    Angle brackets, not square ones: the support bot cites articles as ``[returns]``, and a
    ``[EMAIL_1]`` in its answer would be read as a citation of an unknown article and rejected.
    The same value gets the same placeholder every time it occurs, so the model can still tell
    "the address you gave" from "another address". GDPR Art. 4(5): this is pseudonymisation,
    not anonymisation, because the mapping can reverse it; keep the mapping away from the model
    and the logs.

    Args:
        text: the text to send onwards.
        kinds: only these kinds (see :data:`PII_KINDS`); default: all.
        names: known names to replace as well.

    Returns:
        ``(text with placeholders, mapping)`` for :func:`restore`.

    Example:
        >>> masked, mapping = pseudonymise("Mail a@b.de, again: a@b.de; or c@d.de")
        >>> masked
        'Mail <EMAIL_1>, again: <EMAIL_1>; or <EMAIL_2>'
        >>> restore("We wrote to <EMAIL_2>.", mapping)
        'We wrote to c@d.de.'

    Introduced in notebooks/05_guardrails.ipynb.
    """
    redaction = redact_pii(text, kinds=kinds, names=names)
    mapping = Pseudonyms()
    by_value: dict[tuple[str, str], str] = {}
    counters: dict[str, int] = {}
    pieces, last = [], 0
    for finding in redaction.findings:
        value = text[finding.start : finding.end]
        key = (finding.kind, value)
        if key not in by_value:
            counters[finding.kind] = counters.get(finding.kind, 0) + 1
            by_value[key] = f"<{finding.kind}_{counters[finding.kind]}>"
            mapping[by_value[key]] = value
        pieces += [text[last : finding.start], by_value[key]]
        last = finding.end
    pieces.append(text[last:])
    return "".join(pieces), mapping


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put the original values back where the reply has placeholders from :func:`pseudonymise`.

    Tolerates the small changes models make to placeholders (``<EMAIL 1>``, ``[EMAIL_1]``);
    a placeholder that is not in ``mapping`` stays as it is.

    Introduced in notebooks/05_guardrails.ipynb.
    """

    def put_back(match: re.Match[str]) -> str:
        return mapping.get(f"<{match.group(1)}_{match.group(2)}>", match.group(0))

    return _PLACEHOLDER.sub(put_back, text)


#: The company's own contact details may appear in answers; they are not a leak.
COMPANY_EMAIL_DOMAIN = "isar-cycles.example"
COMPANY_PHONE_PREFIX = "4989200047"  # +49 89 2000 47xx, digits only
COMPANY_ADDRESS = "Leopoldstraße 112"


def is_company_contact(value: str) -> bool:
    """``True`` if ``value`` is Isar Cycles' own e-mail, phone number or street address.

    A reply may give the customer the shop's contact details; only other people's data is a
    leak. Used on the text of a :class:`Finding` by the output checks of module 05.

    Example:
        >>> is_company_contact("service@isar-cycles.example"), is_company_contact("a@b.de")
        (True, False)
    """
    digits = re.sub(r"\D", "", value).removeprefix("00")
    if value.lower().endswith("@" + COMPANY_EMAIL_DOMAIN) or value.startswith(COMPANY_ADDRESS):
        return True
    return digits.startswith(COMPANY_PHONE_PREFIX) or digits.startswith("089200047")
