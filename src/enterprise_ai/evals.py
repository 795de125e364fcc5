"""Measure the support bot on the evaluation set, find why it fails, and limit the damage.

A statistical system makes mistakes at some rate; one good demo says nothing about that rate.
This module turns the labelled evaluation set into numbers a team can act on:

* :func:`run` asks the bot every question and grades each reply with rules: **correct**,
  **grounded**, **abstained**, **retrieval_hit**, plus latency and tokens;
* :func:`summary` reduces the grades to a few rates, including the dangerous one: unanswerable
  questions that the bot answered anyway;
* :func:`error_analysis` gives every wrong reply *one* cause (retrieval missed, should have
  abstained, ...), so the team knows which part to fix first;
* :func:`threshold_sweep` shows, without any model call, what each abstention threshold
  catches and costs;
* :class:`ReviewQueue` collects the replies a person must look at;
* :func:`judge` asks a model whether an answer is supported by its sources ("LLM-as-judge"),
  to compare with the rules, not to replace them.

The rules, and what they cannot see:

* *correct*: an answerable question is answered correctly when every key fact of the label
  appears in the reply, after :func:`normalise_answer` (case, spaces, "€"/"EUR", decimal comma,
  thousands separators, dashes). An unanswerable one is handled correctly when the bot
  abstained or escalated. A reply can contain the facts and still say something false next
  to them; a correct reply in other words ("four weeks" for "30 days") counts as wrong.
* *grounded*: the reply cites at least one retrieved article, and every number in it appears in
  the retrieved text of a cited article (:func:`unsupported_numbers`). Numbers are what the
  tiny model invents most (module 03's "3 years" for a 10-year guarantee); a claim made in
  words only is not checked. A reply that abstains claims nothing and counts as grounded.

Example:
    >>> contains_key_facts("Returns are free within 30 Days.", ["30 days"])
    True
    >>> contains_key_facts("It costs 4,95 €.", ["4.95 EUR"])
    True
    >>> unsupported_numbers("It costs 5 EUR and takes 3 days.", ["Shipping: 5 EUR."])
    ['3']

Introduced in notebooks/04_evals.ipynb.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from enterprise_ai import kb, metering, support
from enterprise_ai.data import EvalQuestion

__all__ = [
    "CAUSES",
    "COLUMNS",
    "JUDGE_PROMPT",
    "JudgeVerdict",
    "ReviewItem",
    "ReviewQueue",
    "contains_key_facts",
    "error_analysis",
    "failure_cause",
    "is_grounded",
    "judge",
    "missing_facts",
    "normalise_answer",
    "review_reason",
    "run",
    "summary",
    "threshold_sweep",
    "unsupported_numbers",
]

#: The columns of :func:`run`'s table, in order.
COLUMNS = (
    "id",
    "question",
    "language",
    "answerable",
    "category",
    "key_facts",
    "source_ids",
    "text",
    "citations",
    "source",
    "abstained",
    "escalated",
    "correct",
    "grounded",
    "retrieval_hit",
    "best_score",
    "model_text",
    "model_correct",
    "retrieved",
    "context",
    "error",
    "cause",
    "latency_s",
    "prompt_tokens",
    "completion_tokens",
)

#: The causes :func:`failure_cause` can give a wrong reply, most urgent first.
CAUSES = (
    "call failed",
    "should have abstained",
    "retrieval missed",
    "abstained needlessly",
    "ungrounded",
    "fact missing",
)

_BOLD = re.compile(r"\*\*|__")
_DASHES = re.compile(r"\s*[\u2012\u2013\u2014\u2212]\s*")
_THOUSANDS = re.compile(r"(?<=\d)[.,\u202f\u00a0](?=\d{3}(?!\d))")
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
_EURO = re.compile(r"\s*(?:€|\beuros?\b)", re.IGNORECASE)
_PERCENT = re.compile(r"\s+%")
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def normalise_answer(text: str) -> str:
    """Lowercase a reply (or a key fact) and write numbers, money and dashes one way.

    Grading compares the bot's answer with the label's key facts; both pass through here first,
    so harmless differences in writing do not count as errors. (Not to be confused with
    :func:`enterprise_ai.injection.normalise`, which undoes attackers' obfuscation.)

    "4,95 €" and "4.95 EUR" both become ``"4.95 eur"``; "1.500" and "1,500" become ``"1500"``;
    "5 – 10" becomes ``"5-10"``; ``**bold**`` markers and repeated spaces go.

    Example:
        >>> normalise_answer("Up to **1.500 €**, 8,1 % VAT, 5 – 10 days")
        'up to 1500 eur, 8.1% vat, 5-10 days'

    Introduced in notebooks/04_evals.ipynb.
    """
    text = _BOLD.sub("", text)
    text = _THOUSANDS.sub("", text)
    text = _SPACES.sub(" ", text)  # also turns non-breaking spaces into plain ones
    text = _DASHES.sub("-", text)
    text = _DECIMAL_COMMA.sub(".", text)
    text = _EURO.sub(" eur", text)
    text = _PERCENT.sub("%", text)
    return _SPACES.sub(" ", text).strip().lower()


def missing_facts(text: str, key_facts: Iterable[str]) -> list[str]:
    """The key facts that do not appear in ``text`` (after :func:`normalise_answer` on both sides).

    Example:
        >>> missing_facts("Free returns within 30 days.", ["30 days", "free label"])
        ['free label']
        >>> missing_facts("Delivery takes 13 days.", ["3 days"])
        ['3 days']

    Introduced in notebooks/04_evals.ipynb.
    """
    found = normalise_answer(text)
    return [fact for fact in key_facts if not _fact_pattern(fact).search(found)]


def _fact_pattern(fact: str) -> re.Pattern[str]:
    """The normalised fact as a whole "word": "3 days" must not match inside "13 days"."""
    return re.compile(rf"(?<![\w.]){re.escape(normalise_answer(fact))}(?!\w|\.\d)")


def contains_key_facts(text: str, key_facts: Iterable[str]) -> bool:
    """``True`` if every key fact appears in ``text`` (after :func:`normalise_answer`).

    Introduced in notebooks/04_evals.ipynb.
    """
    return not missing_facts(text, key_facts)


def unsupported_numbers(text: str, sources: Sequence[str]) -> list[str]:
    """The numbers in ``text`` that appear in none of the ``sources`` (after normalising).

    Article ids in square brackets (``[returns]``) are ignored; so are numbers inside words.

    Introduced in notebooks/04_evals.ipynb.
    """
    claims = normalise_answer(re.sub(r"\[[^\]]*\]", " ", text))
    source_numbers = {n for s in sources for n in _NUMBER.findall(normalise_answer(s))}
    numbers = [m.group() for m in _NUMBER.finditer(claims) if _stands_alone(claims, m)]
    return [n for n in dict.fromkeys(numbers) if n not in source_numbers]


def _stands_alone(text: str, match: re.Match[str]) -> bool:
    """A number, not part of a word or an id like ``IC-100001`` or ``Q001``."""
    before = text[match.start() - 1] if match.start() else " "
    return not before.isalpha() and before not in "-_#"


def is_grounded(answer: support.Answer) -> bool:
    """Cites a retrieved article, and every number of the reply is in a cited chunk's text.

    A reply that abstained claims nothing and counts as grounded. See the module docstring
    for what this rule cannot see.

    Introduced in notebooks/04_evals.ipynb.
    """
    if answer.abstained:
        return True
    retrieved = {h.article_id for h in answer.hits}
    if not answer.citations or not set(answer.citations) <= retrieved:
        return False
    cited_texts = [h.chunk.text for h in answer.hits if h.article_id in answer.citations]
    return not unsupported_numbers(answer.text, cited_texts)


def failure_cause(row: pd.Series | dict[str, Any]) -> str | None:
    """The one main reason a graded reply is wrong (one of :data:`CAUSES`), ``None`` if right.

    The order matters: a retrieval miss explains a missing fact, so it is named first.

    Introduced in notebooks/04_evals.ipynb.
    """
    if row["error"]:
        return "call failed"
    if row["correct"]:
        return None
    if not row["answerable"]:
        return "should have abstained"
    if not row["retrieval_hit"]:
        return "retrieval missed"
    if row["abstained"] or row["escalated"]:
        return "abstained needlessly"
    if not row["grounded"]:
        return "ungrounded"
    return "fact missing"


def _grade(question: EvalQuestion, answer: support.Answer) -> dict[str, Any]:
    retrieved_articles = [h.article_id for h in answer.hits]
    if question.answerable:
        retrieval_hit: bool | None = bool(set(retrieved_articles) & set(question.source_ids))
        correct = not answer.escalate and contains_key_facts(answer.text, question.key_facts)
    else:
        retrieval_hit = None
        correct = answer.abstained or answer.escalate
    model_correct = None
    if answer.model_text is not None and question.answerable:
        model_correct = contains_key_facts(answer.model_text, question.key_facts)
    return {
        "text": answer.text,
        "citations": list(answer.citations),
        "source": answer.source,
        "abstained": answer.abstained,
        "escalated": answer.escalate,
        "correct": bool(correct),
        "grounded": is_grounded(answer),
        "retrieval_hit": retrieval_hit,
        "best_score": round(answer.hits[0].score, 3) if answer.hits else 0.0,
        "model_text": answer.model_text,
        "model_correct": model_correct,
        "retrieved": [h.chunk_id for h in answer.hits],
        "context": "\n\n".join(f"[{h.article_id}] {h.chunk.text}" for h in answer.hits),
        "error": "",
    }


def _error_row(error: Exception) -> dict[str, Any]:
    return {
        "text": "",
        "citations": [],
        "source": "error",
        "abstained": False,
        "escalated": True,  # nobody answered the customer: a person must
        "correct": False,
        "grounded": None,
        "retrieval_hit": None,
        "best_score": None,
        "model_text": None,
        "model_correct": None,
        "retrieved": [],
        "context": "",
        "error": f"{type(error).__name__}: {error}",
    }


#: What :func:`run` records as a failed call instead of stopping: the provider's errors
#: (timeouts, connection, rate limits, server errors). Bugs in the code still stop the run.
_RECORDED_ERRORS = (openai.APIError, TimeoutError, ConnectionError)


def run(
    questions: Sequence[EvalQuestion] | None = None,
    *,
    client: Any = None,
    model: str | None = None,
    answer_fn: Callable[..., support.Answer] | None = None,
    progress: bool = True,
    workers: int | None = None,
    time_budget: float | None = None,
    **answer_options: Any,
) -> pd.DataFrame:
    """Ask the bot every question and grade each reply; one row per question.

    Args:
        questions: the questions to ask; default: the whole evaluation set
            (:func:`enterprise_ai.data.eval_set`).
        client: an ``openai.OpenAI`` client or a
            :class:`~enterprise_ai.testing.ScriptedClient`; default:
            :func:`enterprise_ai.llm.get_client`.
        model: the model ID; default: :func:`enterprise_ai.llm.default_model`.
        answer_fn: the bot to evaluate; default: :func:`enterprise_ai.support.answer`. It is
            called as ``answer_fn(question, client=…, model=…, **answer_options)`` and must
            return a :class:`~enterprise_ai.support.Answer`.
        progress: show a tqdm progress bar on stderr (so stored notebook outputs stay stable).
        workers: questions in flight at once; default: the local server's slots, else one
            (:func:`enterprise_ai.batch.default_workers`). Rows keep the order of
            ``questions``.
        time_budget: seconds after which no new question starts; the table then holds the
            questions that finished and a note on stderr says how many (Kernel → Interrupt
            does the same).
        **answer_options: passed on to ``answer_fn``, e.g. ``min_score=3.0`` or
            ``max_tokens=100``.

    Returns:
        A DataFrame with the columns :data:`COLUMNS`. ``latency_s`` and the token columns
        differ from run to run; everything else is reproducible at temperature 0. A call that
        fails with a provider error (timeout, connection, rate limit) becomes a row with
        ``error`` set and ``cause == "call failed"``: the run goes on and nothing is lost.

    Introduced in notebooks/04_evals.ipynb.
    """
    from enterprise_ai.batch import default_workers, run_batch

    if questions is None:
        from enterprise_ai import data

        questions = data.eval_set()
    if client is None or model is None:
        from enterprise_ai import llm

        client = client or llm.get_client()
        model = model or llm.default_model()
    answer_fn = answer_fn or support.answer

    def one(question: EvalQuestion) -> dict[str, Any]:
        meter = metering.UsageMeter(client)  # counts below the SDK; with_options keeps it
        started = time.perf_counter()
        try:
            reply = answer_fn(question.question, client=meter.client, model=model, **answer_options)
            graded = _grade(question, reply)
        except _RECORDED_ERRORS as err:
            graded = _error_row(err)
        row = {
            "id": question.id,
            "question": question.question,
            "language": question.language,
            "answerable": question.answerable,
            "category": question.category,
            "key_facts": list(question.key_facts),
            "source_ids": list(question.source_ids),
            **graded,
            "latency_s": round(time.perf_counter() - started, 3),
            "prompt_tokens": meter.prompt_tokens,
            "completion_tokens": meter.completion_tokens,
        }
        row["cause"] = failure_cause(row)
        return row

    batch = run_batch(
        one,
        list(questions),
        workers=workers if workers is not None else default_workers(client),
        desc="evaluating",
        progress=progress,
        time_budget=time_budget,
    )
    return pd.DataFrame(batch.results, columns=list(COLUMNS))


def _rate(flags: pd.Series) -> float:
    return round(float(flags.mean()), 3) if len(flags) else float("nan")


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """A few rates from :func:`run`'s table, each with the number of questions it counts.

    Rows: ``correct`` (all questions), ``answered correctly`` (answerable ones),
    ``abstained when it should`` and ``answered when it should not`` (unanswerable ones; the
    second is the dangerous rate), ``grounded`` (replies that were not abstentions),
    ``retrieval hit`` (answerable), ``escalated`` and ``call failed`` (all).

    Introduced in notebooks/04_evals.ipynb.
    """
    ok = results[results["error"] == ""]
    answerable = ok[ok["answerable"]]
    unanswerable = ok[~ok["answerable"]]
    replied = ok[~ok["abstained"]]
    handled = unanswerable["abstained"] | unanswerable["escalated"]
    rows = [
        ("correct", _rate(results["correct"]), len(results)),
        ("answered correctly", _rate(answerable["correct"]), len(answerable)),
        ("abstained when it should", _rate(handled), len(unanswerable)),
        ("answered when it should not", _rate(~handled), len(unanswerable)),
        ("grounded", _rate(replied["grounded"].astype(bool)), len(replied)),
        ("retrieval hit", _rate(answerable["retrieval_hit"].astype(bool)), len(answerable)),
        ("escalated", _rate(results["escalated"]), len(results)),
        ("call failed", _rate(results["error"] != ""), len(results)),
    ]
    return pd.DataFrame(rows, columns=["rate", "value", "questions"]).set_index("rate")


def error_analysis(results: pd.DataFrame) -> pd.DataFrame:
    """How many wrong replies each cause explains, most urgent cause first.

    Columns: ``cause``, ``replies`` (count), ``share`` (of all wrong replies) and
    ``example`` (the id of one such question, to read first).

    Introduced in notebooks/04_evals.ipynb.
    """
    wrong = results[results["cause"].notna()]
    rows = []
    for cause in CAUSES:
        matching = wrong[wrong["cause"] == cause]
        if len(matching):
            share = round(len(matching) / len(wrong), 2)
            rows.append((cause, len(matching), share, matching["id"].iloc[0]))
    return pd.DataFrame(rows, columns=["cause", "replies", "share", "example"])


def threshold_sweep(
    questions: Sequence[EvalQuestion] | None = None,
    thresholds: Iterable[float] = (0, 1, 1.5, 2, 2.5, 2.75, 3, 3.5, 4, 5),
    *,
    index: kb.Index | None = None,
) -> pd.DataFrame:
    """What each abstention threshold catches and costs, from retrieval scores alone.

    No model is called, so this runs in a second on the whole evaluation set and gives the
    same numbers every time. The bot abstains when the best BM25 score is below the threshold
    (:func:`enterprise_ai.support.should_abstain`).

    Returns:
        One row per threshold: ``answered`` / ``lost`` (answerable questions the bot still
        tries / now passes to a person), ``caught`` / ``missed`` (unanswerable questions it
        passes on / still tries to answer), and the shares ``answered_share`` and
        ``caught_share``.

    Introduced in notebooks/04_evals.ipynb.
    """
    if questions is None:
        from enterprise_ai import data

        questions = data.eval_set()
    best = [(q.answerable, _best_score(q.question, index)) for q in questions]
    n_answerable = sum(a for a, _ in best)
    n_unanswerable = len(best) - n_answerable
    rows = []
    for threshold in thresholds:
        answered = sum(a and s >= threshold for a, s in best)
        caught = sum(not a and s < threshold for a, s in best)
        rows.append(
            {
                "threshold": float(threshold),
                "answered": answered,
                "lost": n_answerable - answered,
                "caught": caught,
                "missed": n_unanswerable - caught,
                "answered_share": round(answered / n_answerable, 3) if n_answerable else 0.0,
                "caught_share": round(caught / n_unanswerable, 3) if n_unanswerable else 0.0,
            }
        )
    return pd.DataFrame(rows)


def _best_score(question: str, index: kb.Index | None) -> float:
    hits = kb.search(question, k=1, index=index)
    return hits[0].score if hits else 0.0


def review_reason(
    *, abstained: bool, escalated: bool, source: str, grounded: bool | None
) -> str | None:
    """Why a person should look at a reply, or ``None`` if it can go out as it is.

    A reply goes out unreviewed only if the model wrote it, it cites retrieved articles only,
    and every number in it was found in them (``grounded``). Everything else reaches a person:
    the abstentions and escalations (to answer the customer), the extractive quotes (to check
    they answer the question), the ungrounded replies and failed calls.

    Example:
        >>> review_reason(abstained=False, escalated=False, source="model", grounded=True)
        >>> review_reason(abstained=False, escalated=False, source="extractive", grounded=True)
        'model reply rejected, a quote was sent: check it answers the question'

    Introduced in notebooks/04_evals.ipynb.
    """
    if source == "error":
        return "the model call failed: answer the customer"
    if abstained:
        return "no article matched well enough: answer the customer"
    if escalated:
        return "the bot escalated: answer the customer"
    if source == "extractive":
        return "model reply rejected, a quote was sent: check it answers the question"
    if not grounded:
        return "a number in the reply is not in the cited article: check before sending"
    return None


@dataclass(frozen=True)
class ReviewItem:
    """One reply waiting for a person."""

    question: str
    reason: str
    reply: str = ""
    citations: tuple[str, ...] = ()


@dataclass
class ReviewQueue:
    """The human review queue: replies a colleague must answer or check, with the reason.

    Example:
        >>> queue = ReviewQueue()
        >>> queue.add("Do you sell used bikes?", reason="no article matched")
        >>> len(queue), queue.to_frame()["reason"].tolist()
        (1, ['no article matched'])

    Introduced in notebooks/04_evals.ipynb.
    """

    items: list[ReviewItem] = field(default_factory=list)

    def add(
        self, question: str, *, reason: str, reply: str = "", citations: Sequence[str] = ()
    ) -> None:
        """Put one question on the queue."""
        self.items.append(ReviewItem(question, reason, reply, tuple(citations)))

    def add_if_needed(self, answer: support.Answer) -> bool:
        """Queue ``answer`` if :func:`review_reason` names a reason; ``True`` if it was queued."""
        reason = review_reason(
            abstained=answer.abstained,
            escalated=answer.escalate,
            source=answer.source,
            grounded=is_grounded(answer),
        )
        if reason is not None:
            self.add(answer.question, reason=reason, reply=answer.text, citations=answer.citations)
        return reason is not None

    @classmethod
    def from_results(cls, results: pd.DataFrame) -> ReviewQueue:
        """The queue an evaluation run would have filled (rows of :func:`run`'s table)."""
        queue = cls()
        for row in results.itertuples():
            reason = review_reason(
                abstained=row.abstained,
                escalated=row.escalated,
                source=row.source,
                grounded=row.grounded,
            )
            if reason is not None:
                queue.add(row.question, reason=reason, reply=row.text, citations=row.citations)
        return queue

    def to_frame(self) -> pd.DataFrame:
        """The queue as a table: question, reason, reply, citations."""
        return pd.DataFrame(
            [(i.question, i.reason, i.reply, ", ".join(i.citations)) for i in self.items],
            columns=["question", "reason", "reply", "citations"],
        )

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"ReviewQueue({len(self.items)} waiting)"


class JudgeVerdict(BaseModel):
    """A judge's verdict: is the answer supported by the sources, and why (one sentence)."""

    supported: bool
    reason: str = Field(max_length=100)


JUDGE_PROMPT = (
    "You check a customer-support answer against the help-article text it was based on. "
    "Reply with JSON. supported is true only if every fact in the answer is stated in the "
    "article text; otherwise false. reason: one short sentence."
)


def judge(
    question: str,
    answer_text: str,
    context: str,
    *,
    client: Any,
    model: str,
    max_tokens: int = 120,
) -> JudgeVerdict:
    """Ask a model whether ``answer_text`` is supported by ``context`` (LLM-as-judge).

    The reply is forced into the :class:`JudgeVerdict` JSON schema (constrained decoding), so it
    always parses on servers that support ``response_format``. A reply that still does not
    parse (cut off by ``max_tokens``) counts as *not supported*, with the reason saying so.

    A judge is a model with the same weaknesses as the one it grades: compare its verdicts with
    rules and with human labels before trusting it (notebooks/04_evals.ipynb, section 9).

    Introduced in notebooks/04_evals.ipynb.
    """
    schema = {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True}}
    schema["json_schema"]["schema"] = JudgeVerdict.model_json_schema()
    reply = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "system", "content": JUDGE_PROMPT},
            {
                "role": "user",
                "content": f"Article text:\n{context}\n\nQuestion: {question}\n\n"
                f"Answer to check: {answer_text}",
            },
        ],
        response_format=schema,
        temperature=0,
        seed=42,
        max_tokens=max_tokens,
    )
    content = reply.choices[0].message.content or ""
    try:
        return JudgeVerdict.model_validate_json(content)
    except ValidationError:
        # The reason must fit JudgeVerdict's 100 characters, whatever the model wrote.
        return JudgeVerdict(supported=False, reason=f"unreadable verdict: {content[:70]!r}"[:100])
