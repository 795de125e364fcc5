"""The knowledge base: load Isar Cycles' articles, cut them into chunks, find the right ones.

A support bot can only be grounded if it is given the right passage. This module does the
three steps before any model is involved:

1. :func:`load` reads the Markdown articles (through :mod:`enterprise_ai.data`);
2. :func:`chunk` cuts an article into pieces of at most ``max_chars`` characters, first along its
   ``##`` sections, then by size, and every piece remembers its article and section heading;
3. :func:`search` ranks the pieces for a question with BM25 (keyword statistics, no model), via
   the ``bm25s`` library, and returns :class:`Hit` objects with scores.

:func:`hit_at_k` measures retrieval on an evaluation set: how often is a right article among the
first *k* results? :func:`coverage` asks the question a score cannot answer: how much of what the
customer asks about does a found chunk mention at all?

Example:
    >>> idx = Index(chunk("## Returns\\nReturn a bike within 30 days.", article_id="returns"))
    >>> idx.search("return my bike", k=1)[0].article_id
    'returns'

Introduced in notebooks/03_grounded_bot.ipynb.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import bm25s
import numpy as np

if TYPE_CHECKING:
    from enterprise_ai.data import Article

__all__ = [
    "DEFAULT_MAX_CHARS",
    "DEFAULT_OVERLAP",
    "ENGLISH_STOPWORDS",
    "GERMAN_STOPWORDS",
    "STOPWORDS",
    "QUESTION_WORDS",
    "Chunk",
    "Coverage",
    "Hit",
    "Index",
    "chunk",
    "chunk_all",
    "coverage",
    "default_index",
    "hit_at_k",
    "load",
    "search",
    "tokenize",
    "topic_words",
]

DEFAULT_MAX_CHARS = 800
DEFAULT_OVERLAP = 100

#: A short German list: the words that appear in almost every German question and say nothing
#: about its topic. bm25s ships a longer one; a list you can read in one glance is easier to
#: reason about when a search goes wrong.
_GERMAN_WORDS = """
    der die das den dem des ein eine einen einem einer und oder aber ist sind war bin hat habe
    haben wird werden kann können ich mein meine meinen mir mich wir uns unser du dein sie ihr
    ihre es man wie was wann wo warum welche welcher nicht kein keine mit für von zu zum zur im
    in an am auf aus bei nach über vor noch auch schon so bitte gibt ja nein dass wenn
"""
GERMAN_STOPWORDS = frozenset(_GERMAN_WORDS.split())

#: English: bm25s's list plus the question words customers start with ("how", "my", "can").
_ENGLISH_WORDS = """
    i me my mine you your we our us do does did can could would should what how when where which
    who why have has had am been get got please hi hello
"""
ENGLISH_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | frozenset(_ENGLISH_WORDS.split())

STOPWORDS = ENGLISH_STOPWORDS | GERMAN_STOPWORDS

#: Words that shape a question without saying what it is about ("how *much*", "how *long*",
#: "I *need*", "can you *tell* me"). Search keeps them (they rarely match an article anyway);
#: :func:`topic_words` drops them, so a question is not judged on its phrasing.
_QUESTION_WORDS = """
    much many long often soon quickly need want know tell say ask
"""
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())
#: Placeholders of redacted personal data (module 05: ``[EMAIL]``, ``<PHONE_1>``): they stand for
#: a value the customer gave, not for a topic the articles should cover.
_PLACEHOLDER = re.compile(r"[<\[][A-Z][A-Z_]*(?:_\d+)?[>\]]")
#: Two words count as the same word for :func:`coverage` if they are equal or share their first
#: five letters: "returning" and "return", "delivered" and "delivery", "removing" and "removed".
_SAME_WORD_PREFIX = 5

_WORD = re.compile(r"\w\w+", re.UNICODE)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n?", re.DOTALL)
# A unit ends at a line break or after . ! ? followed by a space: lines of a list stay whole.
_UNIT_END = re.compile(r"\n+|(?<=[.!?])[ \t]+")


class _ArticleLike(Protocol):
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Chunk:
    """A piece of one article, small enough to put several into a prompt.

    Attributes:
        id: ``"<article id>#<n>"``, counted from 1 within the article.
        article_id: the article it comes from, e.g. ``"returns"``; the bot cites this.
        title: the article's title.
        section: the heading of the section the text sits under ("" before any heading).
        text: the text itself, without the heading line (at most ``max_chars`` characters).
    """

    id: str
    article_id: str
    title: str
    section: str
    text: str

    @property
    def searchable_text(self) -> str:
        """What the index sees: title and heading count as words of the chunk too."""
        return f"{self.title}\n{self.section}\n{self.text}"


@dataclass(frozen=True)
class Hit:
    """One search result: a chunk, its BM25 score and its rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int

    @property
    def article_id(self) -> str:
        return self.chunk.article_id

    @property
    def chunk_id(self) -> str:
        return self.chunk.id

    def __repr__(self) -> str:
        return f"Hit(rank={self.rank}, score={self.score:.2f}, chunk={self.chunk.id!r})"


def load() -> list[Article]:
    """The knowledge-base articles of Isar Cycles, as ``enterprise_ai.data.Article`` objects.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    from enterprise_ai import data  # imported here: the data files are only needed on use

    return list(data.kb_articles())


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Read ``---``/``id: …``/``---`` front matter, if the text starts with it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields, text[match.end() :]


def _sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown into ``(heading, body)`` pairs; a heading line starts a new section."""
    sections: list[tuple[str, str]] = []
    heading, lines = "", []
    in_code = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            sections.append((heading, "\n".join(lines)))
            heading, lines = match.group(2), []
        else:
            lines.append(line)
    sections.append((heading, "\n".join(lines)))
    return [(h, body.strip()) for h, body in sections if body.strip()]


def _units(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of sentences and lines; any longer than ``max_chars`` are cut at
    spaces, and a single word longer than ``max_chars`` is cut hard."""
    spans, start = [], 0
    for match in _UNIT_END.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    units = []
    for begin, end in spans:
        while end - begin > max_chars:
            cut = text.rfind(" ", begin + 1, begin + max_chars + 1)
            cut = cut if cut > begin else begin + max_chars
            units.append((begin, cut))
            begin = cut + 1 if text[cut : cut + 1] == " " else cut
        if end > begin:
            units.append((begin, end))
    return units


def _pack(text: str, *, max_chars: int, overlap: int) -> list[str]:
    """Join consecutive units into pieces of at most ``max_chars`` characters.

    Each new piece starts with the last units of the previous one, as long as they make up at
    most ``overlap`` characters, so a fact cut at a piece boundary is still whole in one piece.
    """
    units = _units(text, max_chars)
    pieces: list[str] = []
    first = 0
    while first < len(units):
        last = first
        while last + 1 < len(units) and units[last + 1][1] - units[first][0] <= max_chars:
            last += 1
        pieces.append(text[units[first][0] : units[last][1]])
        if last + 1 >= len(units):
            break
        following = last + 1
        start = following
        # Step back over units that fit into the overlap and still leave room for the next unit.
        while (
            start - 1 > first
            and units[last][1] - units[start - 1][0] <= overlap
            and units[following][1] - units[start - 1][0] <= max_chars
        ):
            start -= 1
        first = start
    return pieces


def chunk(
    article: _ArticleLike | str,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
    article_id: str | None = None,
    title: str | None = None,
) -> list[Chunk]:
    """Cut an article into chunks: first along its Markdown sections, then by size.

    Sections first, because a section is about one thing ("Refund", "Exclusions"), so its words
    rank together. Only a section longer than ``max_chars`` is cut further, between sentences or
    list lines where possible, with ``overlap`` characters repeated so that no fact is only
    found half in one chunk.

    Args:
        article: an ``Article`` (``id``, ``title``, ``text``) or Markdown text, which may start
            with ``---`` front matter holding ``id`` and ``title``.
        max_chars: the longest chunk text, in characters (the heading is kept separately).
        overlap: how many characters at most a chunk repeats from the end of the one before.
        article_id: the id to store on each chunk; default: from the article or front matter.
        title: the title to store on each chunk; default: from the article or front matter.

    Returns:
        The chunks in reading order, each with ``text`` of at most ``max_chars`` characters.

    Raises:
        ValueError: ``max_chars`` is not positive, or ``overlap`` is not smaller than it.

    Example:
        >>> [c.section for c in chunk("## A\\nOne.\\n## B\\nTwo.", article_id="x")]
        ['A', 'B']

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    if max_chars <= 0 or not 0 <= overlap < max_chars:
        raise ValueError(
            f"chunk() got max_chars={max_chars}, overlap={overlap}; use a positive max_chars "
            "and 0 <= overlap < max_chars (the default is 800 and 100)."
        )
    if isinstance(article, str):
        fields, text = _split_front_matter(article)
        default_id, default_title = fields.get("id", ""), fields.get("title", "")
    else:
        _, text = _split_front_matter(article.text)
        default_id, default_title = article.id, article.title
    article_id = default_id if article_id is None else article_id
    title = default_title if title is None else title
    chunks: list[Chunk] = []
    for heading, body in _sections(text):
        for piece in _pack(body, max_chars=max_chars, overlap=overlap):
            n = len(chunks) + 1
            chunks.append(Chunk(f"{article_id}#{n}", article_id, title, heading, piece))
    return chunks


def chunk_all(
    articles: Iterable[_ArticleLike],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
) -> list[Chunk]:
    """:func:`chunk` every article and put the chunks in one list."""
    return [c for a in articles for c in chunk(a, max_chars=max_chars, overlap=overlap)]


def _singular(word: str) -> str:
    """A very small English stemmer: plural to singular, so "returns" finds "return".

    Real stemmers (Snowball, PyStemmer) do more; this one is enough for a knowledge base whose
    questions and articles mostly differ in plural endings, and every rule can be read here.
    """
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lowercase words of two letters or more, without English and German stopwords, in the
    singular.

    Example:
        >>> tokenize("How do I return my batteries? Wie lange dauert der Versand?")
        ['return', 'battery', 'lange', 'dauert', 'versand']
    """
    words = _WORD.findall(text.lower())
    return [_singular(word) for word in words if word not in STOPWORDS]


def topic_words(text: str) -> list[str]:
    """The words of a question that say what it is about: :func:`tokenize` without
    :data:`QUESTION_WORDS`, bare numbers ("180 cm" asks about a size, not about 180) and the
    placeholders of redacted personal data (``<EMAIL_1>``, ``[PHONE]``).

    Example:
        >>> topic_words("How much does it cost to ship 2 e-bikes to Norway? Mail <EMAIL_1>.")
        ['cost', 'ship', 'bike', 'norway', 'mail']
    """
    text = _PLACEHOLDER.sub(" ", text)
    words = [w for w in tokenize(text) if w not in QUESTION_WORDS and not w.isdigit()]
    return list(dict.fromkeys(words))


def _same_word(a: str, b: str) -> bool:
    return a == b or (
        len(a) >= _SAME_WORD_PREFIX
        and len(b) >= _SAME_WORD_PREFIX
        and a[:_SAME_WORD_PREFIX] == b[:_SAME_WORD_PREFIX]
    )


@dataclass(frozen=True)
class Coverage:
    """How much of a question a chunk mentions: see :func:`coverage`.

    Attributes:
        share: the weighted share of the question's topic words found in the chunk, 0 to 1.
        missing: the topic words the chunk does not mention, in question order.
        unknown: those of ``missing`` that no chunk of the index mentions.
    """

    share: float
    missing: list[str]
    unknown: list[str]


class Index:
    """A BM25 index over chunks: build it once, then search it as often as you like.

    Args:
        chunks: the chunks to index (for example ``chunk_all(load())``).
        k1: BM25's term-frequency saturation (how much the 5th "battery" adds over the 1st).
        b: BM25's length normalisation (0 = ignore chunk length, 1 = full).

    Example:
        >>> idx = Index(chunk("## Battery\\nCharge at room temperature.", article_id="battery"))
        >>> idx.search("charge battery")[0].chunk.id
        'battery#1'
    """

    def __init__(self, chunks: Sequence[Chunk], *, k1: float = 1.5, b: float = 0.75) -> None:
        if not chunks:
            raise ValueError(
                "Index() got no chunks to index. Pass chunk_all(load()) or your own list of "
                "Chunk objects."
            )
        self.chunks = list(chunks)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        tokens = [tokenize(c.searchable_text) for c in self.chunks]
        self._bm25.index(tokens, show_progress=False)
        self._words = [frozenset(t) for t in tokens]
        self._frequency: dict[str, int] = {}

    def search(self, query: str, *, k: int = 3) -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first; chunks sharing no word are left out.

        Scores are BM25 scores: 0 means no shared word, and higher is a better match. They are
        not probabilities and not comparable across indexes; compare them within one index.
        """
        tokens = tokenize(query)
        if not tokens or k <= 0:
            return []
        positions, scores = self._bm25.retrieve(
            [tokens], k=min(k, len(self.chunks)), show_progress=False, n_threads=1
        )
        hits = []
        for position, score in zip(positions[0], scores[0], strict=True):
            if score > 0:
                hits.append(Hit(self.chunks[int(position)], float(score), len(hits) + 1))
        return hits

    def document_frequency(self, word: str) -> int:
        """In how many chunks ``word`` occurs (counting words that share its first letters)."""
        if word not in self._frequency:
            self._frequency[word] = sum(
                any(_same_word(word, other) for other in words) for words in self._words
            )
        return self._frequency[word]

    def __len__(self) -> int:
        return len(self.chunks)

    def __repr__(self) -> str:
        articles = len({c.article_id for c in self.chunks})
        return f"Index({len(self.chunks)} chunks from {articles} articles)"


@functools.cache
def default_index() -> Index:
    """The index over all Isar Cycles articles, built on first use and then kept.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    return Index(chunk_all(load()))


def search(query: str, *, k: int = 3, index: Index | None = None) -> list[Hit]:
    """Find the ``k`` chunks of the knowledge base that best match ``query`` (BM25).

    Args:
        query: the customer's question, in English or German.
        k: how many hits to return at most.
        index: the index to search; default: :func:`default_index` (all articles).

    Returns:
        Up to ``k`` :class:`Hit` objects, best first, each with a score > 0.

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    return (index or default_index()).search(query, k=k)


def hit_at_k(
    retrieved: Sequence[Sequence[str]], expected: Sequence[Iterable[str]], *, k: int
) -> float:
    """The share of questions with at least one expected article among the first ``k`` results.

    Args:
        retrieved: per question, the article ids of the hits in rank order (ids may repeat when
            several chunks of one article were found).
        expected: per question, the article ids that hold the answer (``source_ids``).
        k: how many results count.

    Returns:
        A number between 0 and 1 (0.0 for no questions).

    Example:
        >>> hit_at_k([["returns", "warranty"], ["payment"]], [["warranty"], ["shipping"]], k=2)
        0.5

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    if len(retrieved) != len(expected):
        raise ValueError(
            f"hit_at_k() got {len(retrieved)} result lists but {len(expected)} expected lists; "
            "pass one of each per question, in the same order."
        )
    if not retrieved:
        return 0.0
    found = [
        bool(set(ids[:k]) & set(sources)) for ids, sources in zip(retrieved, expected, strict=True)
    ]
    return float(np.mean(found))


def coverage(question: str, chunk: Chunk, *, index: Index | None = None) -> Coverage:
    """How much of what ``question`` asks about does ``chunk`` mention at all?

    BM25 ranks chunks, but a high score only says that *some* words match: "Can I bring my dog
    into the Augsburg workshop?" scores well against a workshop chunk that never mentions dogs.
    Coverage weighs each topic word of the question (:func:`topic_words`) by how rare it is in
    the index (inverse document frequency, as BM25 does) and returns the weighted share that
    occurs in the chunk. A word no chunk of the index uses weighs most: the knowledge base has
    nothing to say about it. Words match when equal or when they share their first five letters
    ("returning" finds "return").

    Args:
        question: the customer's question.
        chunk: the chunk the bot would answer from (usually the best hit).
        index: the index whose statistics weigh the words; default: :func:`default_index`.

    Returns:
        A :class:`Coverage`; ``share`` is 0.0 for a question without topic words.

    Example:
        >>> idx = Index(chunk("## Pets\\nDogs welcome.\\n## Hours\\nOpen 9-18.", article_id="x"))
        >>> c = coverage("Can I bring my dog?", idx.chunks[0], index=idx)
        >>> round(c.share, 2), c.missing, c.unknown
        (0.28, ['bring'], ['bring'])

    Introduced in notebooks/03_grounded_bot.ipynb.
    """
    index = index or default_index()
    words = topic_words(question)
    if not words:
        return Coverage(0.0, [], [])
    in_chunk = set(tokenize(chunk.searchable_text))
    size = len(index)
    weights = {w: math.log((size + 1) / (index.document_frequency(w) + 0.5)) for w in words}
    missing = [w for w in words if not any(_same_word(w, other) for other in in_chunk)]
    share = 1 - sum(weights[w] for w in missing) / sum(weights.values())
    unknown = [w for w in missing if index.document_frequency(w) == 0]
    return Coverage(round(share, 3), missing, unknown)
