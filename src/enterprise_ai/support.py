"""The grounded support bot: answer from Isar Cycles' articles, cite them, or pass to a human.

:func:`answer` is *the* bot: the one entry point every other part of the course builds on
instead of writing its own retrieval, prompt or citation check. Each adds one layer around it:

* :func:`enterprise_ai.guardrails.guarded_answer` (module 05): injection check and
  pseudonymisation before, moderation and restoring after, an audit record;
* :class:`enterprise_ai.compliance_bot.SupportBot` (module 08): AI disclosure and hand-over
  rules before, PII redaction, an audit log, the facts for the system card;
* :func:`enterprise_ai.evals.run` (module 04) grades it (``answer_fn`` defaults to it), and
  :func:`enterprise_ai.evals.judge` asks a model about its replies;
* :mod:`enterprise_ai.capstone` (module 10) grades an agent whose answer path calls it;
* the support chat widget (:mod:`enterprise_ai.widgets.support_chat`) shows it.

The agents of module 07 (:mod:`enterprise_ai.agents`) are a different bot, one that calls tools;
they reuse :func:`parse_citations` from here. A change to how the bot answers belongs here, so
every layer above gets it.

:func:`answer` runs the whole pipeline for one customer question:

1. **retrieve** the best chunks with :func:`enterprise_ai.kb.search`;
2. **abstain** when even the best chunk scores below ``min_score``: the bot sends a fixed, polite
   "I don't know, a colleague will answer" text and marks the question for a human. No model is
   called, so nothing can be invented;
3. **generate** an answer with the chunks in the prompt, each labelled with its article id, and
   ask the model to cite ``[article-id]``;
4. **check the citations**: an answer that cites nothing, or cites an article that was not
   retrieved, is not trusted. The bot falls back to an *extractive* answer: the first sentences
   of the best chunk, quoted, with its citation.
5. **check the reply** (:func:`enterprise_ai.reply_check.check_reply`, module 05): a model
   answer that repeats the instructions, shows an outside image or link, or holds personal data
   the customer did not give is replaced by the extractive answer too.
6. **check that the quote answers the question**: a quote is only an answer if the chunk
   mentions what the question is about (:func:`enterprise_ai.kb.coverage` at least
   ``min_coverage``). "Can I bring my dog into the workshop?" finds a workshop chunk with a good
   score, but the chunk says nothing about dogs: the bot hands over instead of quoting it.

Step 4 is the safeguard the tiny local model needs most; a stronger model trips it less often,
but the check stays, because a stronger model's wrong citation is harder to spot.

Example:
    >>> from enterprise_ai.testing import ScriptedClient
    >>> from enterprise_ai.kb import Index, chunk
    >>> idx = Index(chunk("## Window\\nReturn within 30 days.", article_id="returns"))
    >>> reply = answer("Can I return my bike?", client=ScriptedClient(["Yes [returns]."]),
    ...                model="m", index=idx, min_score=0.1)
    >>> reply.text, reply.citations, reply.escalate
    ('Yes [returns].', ['returns'], False)

Introduced in notebooks/03_grounded_bot.ipynb.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from enterprise_ai import kb

__all__ = [
    "ABSTAIN_TEXT",
    "DEFAULT_MIN_COVERAGE",
    "DEFAULT_MIN_SCORE",
    "SYSTEM_PROMPT",
    "Answer",
    "answer",
    "build_messages",
    "chat_request",
    "extractive_answer",
    "parse_citations",
    "should_abstain",
]

#: The retrieval score below which the bot does not try to answer. Chosen from the evaluation
#: set in notebooks/03_grounded_bot.ipynb (section "How sure is the search?").
DEFAULT_MIN_SCORE = 2.75
#: The least :func:`enterprise_ai.kb.coverage` a chunk needs before the bot quotes it: the chunk
#: must mention more than half of what the question is about (weighted by how specific each word
#: is). Chosen on development data only: the development half of the evaluation set
#: (``benchmarks/support_quality.py``) plus 19 unanswerable questions written for this choice
#: (``benchmarks/data/unanswerable_dev_extra.jsonl``). Among those that pass the score gate, the
#: best-covered unanswerable question reaches 0.506 and the worst-covered answerable one 0.62;
#: the line sits between them. 0.5 was the first choice, before the extra questions showed an
#: unanswerable one above it.
DEFAULT_MIN_COVERAGE = 0.56

ABSTAIN_TEXT = (
    "I'm sorry, I don't know the answer to that from our help articles. "
    "I'll pass your question to a colleague, who will get back to you."
)

SYSTEM_PROMPT = (
    "You are the customer support assistant of Isar Cycles GmbH, an e-bike maker in Munich. "
    "Answer the customer's question using ONLY the help articles below. Keep it short: two or "
    "three sentences. After each fact, write the id of the article it comes from in square "
    "brackets, for example [returns]. If the articles do not answer the question, say that "
    "you don't know."
)

_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_-]*)(?:#\d+)?\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+", re.MULTILINE)

Source = Literal["model", "extractive", "abstained"]


@dataclass(frozen=True)
class Answer:
    """What the bot replies, and why.

    Attributes:
        question: the customer's question.
        text: the reply the customer sees.
        citations: the article ids the reply cites (every one of them was retrieved).
        escalate: ``True`` if a human colleague must take over.
        abstained: ``True`` if the bot sent the hand-over text instead of an answer: retrieval
            was too weak (the model was not asked), or the model's answer failed the checks and
            the best chunk does not cover the question (see ``coverage``).
        hits: the retrieved chunks the reply was based on, best first.
        source: how ``text`` was made: ``"model"``, ``"extractive"`` (the safeguard quoted the
            best chunk because the model's citations could not be trusted) or ``"abstained"``.
        model_text: what the model wrote, also when it was rejected (``None`` if not called).
        output_flags: what the output check (:func:`~enterprise_ai.reply_check.check_reply`)
            found in the model's answer; non-empty means the answer was replaced.
        coverage: how much of the question the best chunk mentions
            (:func:`enterprise_ai.kb.coverage`), measured when a quote was considered.
    """

    question: str
    text: str
    citations: list[str]
    escalate: bool
    abstained: bool
    hits: list[kb.Hit] = field(default_factory=list)
    source: Source = "model"
    model_text: str | None = None
    output_flags: list[str] = field(default_factory=list)
    coverage: kb.Coverage | None = None

    @property
    def chunk_ids(self) -> list[str]:
        """The ids of the retrieved chunks that belong to a cited article."""
        return [h.chunk_id for h in self.hits if h.article_id in self.citations]

    def _repr_html_(self) -> str:
        badge = (
            "<span style='background:#b00020;color:white;padding:1px 6px;border-radius:8px'>"
            "escalated to a human</span> "
            if self.escalate
            else ""
        )
        cited = ", ".join(f"<code>{html.escape(c)}</code>" for c in self.citations) or "none"
        return (
            f"<div>{badge}<b>{html.escape(self.text)}</b><br>"
            f"<small>sources: {cited} · made by: {self.source}</small></div>"
        )


def should_abstain(hits: Sequence[kb.Hit], *, min_score: float = DEFAULT_MIN_SCORE) -> bool:
    """Abstain when nothing was found or the best hit scores below ``min_score``.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    return not hits or hits[0].score < min_score


def build_messages(
    question: str, hits: Sequence[kb.Hit], *, mark_data: bool = False
) -> list[dict[str, str]]:
    """The chat messages: instructions plus the retrieved chunks, each headed by its id.

    With ``mark_data=True`` each chunk is wrapped by
    :func:`enterprise_ai.injection.mark_untrusted` and the instructions say that marked text
    is data, never instructions (spotlighting, module 05): a help article that somebody
    slipped an instruction into is then shown to the model as material to read.

    Example:
        >>> idx = kb.Index(kb.chunk("## Window\\nReturn within 30 days.", article_id="returns"))
        >>> print(build_messages("Return?", idx.search("return"))[0]["content"].split("\\n\\n")[1])
        [returns] Window
        Return within 30 days.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    chunks = [f"[{h.article_id}] {h.chunk.section or h.chunk.title}\n{h.chunk.text}" for h in hits]
    instructions = SYSTEM_PROMPT
    if mark_data:
        from enterprise_ai.injection import DATA_RULE, mark_untrusted

        chunks = [
            mark_untrusted(c, source=f"help article {h.article_id}")
            for c, h in zip(chunks, hits, strict=True)
        ]
        instructions = f"{SYSTEM_PROMPT} {DATA_RULE}"
    context = "\n\n".join(chunks)
    return [
        {"role": "system", "content": f"{instructions}\n\n{context}"},
        {"role": "user", "content": question},
    ]


def parse_citations(text: str) -> list[str]:
    """The article ids cited as ``[article-id]`` (or ``[article-id#2]``), in order, once each.

    Example:
        >>> parse_citations("30 days [returns], 2 years [warranty] and [returns#2].")
        ['returns', 'warranty']
    """
    return list(dict.fromkeys(m.group(1).lower() for m in _CITATION.finditer(text)))


def extractive_answer(hit: kb.Hit, *, sentences: int = 2) -> str:
    """The first ``sentences`` sentences of a chunk, with its citation: a safe fallback.

    Example:
        >>> idx = kb.Index(kb.chunk("## W\\nReturn in 30 days. Free label. Refund in 14 days.",
        ...                         article_id="returns"))
        >>> extractive_answer(idx.search("return")[0])
        'From our help article: Return in 30 days. Free label. [returns]'

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    plain = _LIST_MARKER.sub("", hit.chunk.text.replace("**", ""))
    flat = " ".join(plain.split())
    quoted = " ".join(_SENTENCE_END.split(flat)[:sentences])
    return f"From our help article: {quoted} [{hit.article_id}]"


def chat_request(
    question: str,
    hits: Sequence[kb.Hit],
    *,
    model: str,
    max_tokens: int = 160,
    structured: bool = False,
    mark_data: bool = False,
) -> dict[str, Any]:
    """The keyword arguments :func:`answer` passes to ``client.chat.completions.create``.

    One place builds the request, so a test bot (module 04's exercise) can send exactly what
    the real bot sends: temperature 0 and a fixed seed, for answers that repeat on the same
    machine. See :func:`answer` for the arguments.

    Example:
        >>> idx = kb.Index(kb.chunk("## Window\\nReturn within 30 days.", article_id="returns"))
        >>> request = chat_request("Return?", idx.search("return"), model="m")
        >>> sorted(request)
        ['max_tokens', 'messages', 'model', 'seed', 'temperature']
    """
    request: dict[str, Any] = {
        "model": model,
        "messages": build_messages(question, hits, mark_data=mark_data),
        "temperature": 0,
        "seed": 42,
        "max_tokens": max_tokens,
    }
    if structured:
        retrieved = list(dict.fromkeys(h.article_id for h in hits))
        request["response_format"] = _structured_format(retrieved)
    return request


def _structured_format(allowed_ids: Sequence[str]) -> dict[str, Any]:
    """A JSON schema whose ``cited_ids`` may only hold retrieved ids: the server's grammar then
    cannot write any other id."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "grounded_answer",
            "strict": True,
            "schema": {
                "type": "object",
                "properties": {
                    "answer": {"type": "string", "maxLength": 400},
                    "cited_ids": {
                        "type": "array",
                        "items": {"type": "string", "enum": list(allowed_ids)},
                        "minItems": 1,
                        "maxItems": 2,
                    },
                },
                "required": ["answer", "cited_ids"],
                "additionalProperties": False,
            },
        },
    }


def _read_structured(content: str) -> tuple[str, list[str]]:
    """``(answer, cited ids)`` from the JSON reply; ``("", [])`` if it is not that JSON."""
    try:
        data = json.loads(content)
        text, cited = str(data["answer"]).strip(), data["cited_ids"]
    except (ValueError, KeyError, TypeError):
        return "", []
    ids = [str(c).lower() for c in cited] if isinstance(cited, list) else []
    ids = list(dict.fromkeys(ids))
    if text and ids:
        text = f"{text} " + " ".join(f"[{i}]" for i in ids)
    return text, ids


def answer(
    question: str,
    *,
    client: Any = None,
    model: str | None = None,
    k: int = 3,
    min_score: float = DEFAULT_MIN_SCORE,
    index: kb.Index | None = None,
    structured: bool = False,
    max_tokens: int = 160,
    mark_data: bool = False,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> Answer:
    """Answer a customer question from the knowledge base, with citations, or escalate.

    Args:
        question: the customer's question.
        client: an ``openai.OpenAI`` client (or :class:`~enterprise_ai.testing.ScriptedClient`);
            default: :func:`enterprise_ai.llm.get_client`, created only if the model is needed.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        k: how many chunks to retrieve and put into the prompt.
        min_score: abstain (no model call) when the best chunk scores below this.
        index: the search index; default: all Isar Cycles articles.
        structured: ask for JSON ``{"answer", "cited_ids"}`` with the ids restricted to the
            retrieved articles (constrained decoding) instead of free text with ``[id]`` tags.
        max_tokens: the answer length limit, in tokens.
        mark_data: mark the retrieved articles as data in the prompt (spotlighting; see
            :func:`build_messages`).
        min_coverage: when the model's answer is rejected, quote the best chunk only if it
            covers at least this much of the question (:func:`enterprise_ai.kb.coverage`);
            otherwise hand over. ``0`` always quotes.

    Returns:
        An :class:`Answer`. Its ``citations`` only ever hold retrieved article ids.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    hits = kb.search(question, k=k, index=index)
    if should_abstain(hits, min_score=min_score):
        return Answer(question, ABSTAIN_TEXT, [], True, True, hits, "abstained")

    if client is None or model is None:
        from enterprise_ai import llm

        client = client or llm.get_client()
        model = model or llm.default_model()
    retrieved = list(dict.fromkeys(h.article_id for h in hits))
    request = chat_request(
        question,
        hits,
        model=model,
        max_tokens=max_tokens,
        structured=structured,
        mark_data=mark_data,
    )
    reply = client.chat.completions.create(**request)
    model_text = reply.choices[0].message.content or ""
    if structured:
        text, cited = _read_structured(model_text)
    else:
        text, cited = model_text.strip(), parse_citations(model_text)

    flags: list[str] = []
    if text and cited and set(cited) <= set(retrieved):
        from enterprise_ai.reply_check import check_reply

        flags = check_reply(text, system_prompt=SYSTEM_PROMPT, customer_text=question).categories
        if not flags:
            return Answer(question, text, cited, False, False, hits, "model", model_text)
    covered = kb.coverage(question, hits[0].chunk, index=index)
    if covered.share < min_coverage:
        return Answer(
            question, ABSTAIN_TEXT, [], True, True, hits, "abstained", model_text, flags, covered
        )
    fallback = extractive_answer(hits[0])
    return Answer(
        question,
        fallback,
        [hits[0].article_id],
        False,
        False,
        hits,
        "extractive",
        model_text,
        flags,
        covered,
    )
