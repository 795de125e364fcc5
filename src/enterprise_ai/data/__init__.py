"""The Isar Cycles company data: knowledge base, tickets, customers, orders, eval and red-team sets.

Every lesson reads company data through this one module, so the files can move or change format
without touching a notebook. The files ship inside the package (``importlib.resources``) and are
read-only; anything built from them at run time (the SQLite database) goes to
:func:`working_dir`, a per-user folder outside the installed package.

The CSV and JSONL files are generated once by ``scripts/generate_data.py`` (fixed seed) and
committed; the knowledge-base articles in ``kb/`` are written by hand.

Example:
    >>> from enterprise_ai import data
    >>> [article.id for article in data.kb_articles()][:3]
    ['accessories', 'battery-safety', 'battery-transport']
    >>> data.tickets().shape[0] >= 500
    True

Introduced in notebooks/02_triage.ipynb (tickets) and notebooks/03_grounded_bot.ipynb
(knowledge base); every later module uses it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from io import StringIO
from pathlib import Path
from typing import Any, Literal

import pandas as pd

__all__ = [
    "ARTICLE_IDS",
    "CATEGORIES",
    "EXPECTED_ACTIONS",
    "REDTEAM_KINDS",
    "URGENCIES",
    "Article",
    "EvalQuestion",
    "customers",
    "eval_set",
    "kb_article",
    "kb_articles",
    "measured",
    "orders",
    "orders_db",
    "prices",
    "redteam",
    "redteam_v2",
    "tickets",
    "working_dir",
]

#: The fixed ids of the knowledge-base articles (file ``kb/<id>.md``).
ARTICLE_IDS: tuple[str, ...] = (
    "accessories",
    "battery-safety",
    "battery-transport",
    "frame-sizes",
    "leasing-employers",
    "order-tracking",
    "payment",
    "privacy-notice",
    "repairs-service",
    "returns",
    "service-appointments",
    "shipping-germany",
    "shipping-international",
    "warranty",
)
#: Ticket categories (column ``category`` of :func:`tickets`).
CATEGORIES: tuple[str, ...] = (
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
)
#: Ticket urgencies, from least to most urgent.
URGENCIES: tuple[str, ...] = ("low", "normal", "high", "critical")
#: What support should do with a ticket (column ``expected_action``).
EXPECTED_ACTIONS: tuple[str, ...] = (
    "answer_from_kb",
    "look_up_order",
    "create_return",
    "escalate_human",
    "refuse",
)
#: Kinds of red-team prompts (field ``kind`` of :func:`redteam`).
REDTEAM_KINDS: tuple[str, ...] = (
    "direct_injection",
    "indirect_injection",
    "obfuscated",
    "benign_lookalike",
    "jailbreak",
    "data_exfiltration",
)

_WORKDIR_ENV = "COURSE_WORKDIR"
_DB_NAME = "isar_cycles.sqlite"


@dataclass(frozen=True)
class Article:
    """One knowledge-base article.

    Attributes:
        id: The fixed article id, e.g. ``"returns"`` (also the file name without ``.md``).
        title: The title from the front matter.
        updated: ISO date of the last change, e.g. ``"2026-09-14"``.
        text: The Markdown body after the front matter (starts with the ``# Title`` line).
        path: Where the file sits inside the package, relative to it, e.g. ``"data/kb/returns.md"``;
            used as a citation and stable across machines.
    """

    id: str
    title: str
    updated: str
    text: str
    path: str


@dataclass(frozen=True)
class EvalQuestion:
    """One question of the evaluation set.

    Attributes:
        id: ``"Q001"`` …
        question: The question as a customer would ask it.
        language: ``"en"`` or ``"de"``.
        answerable: Whether the knowledge base answers it. A good bot abstains when it is False.
        key_facts: Short strings a correct answer must contain; each appears literally in one
            of the source articles (case-insensitive, once line breaks are read as spaces and
            ``**`` bold markers are dropped). Empty when not answerable. German questions use
            language-neutral facts (numbers, codes, names), so a German answer can match them.
        source_ids: Article ids that hold the answer. Empty when not answerable.
        category: The ticket category the question belongs to.
    """

    id: str
    question: str
    language: Literal["en", "de"]
    answerable: bool
    key_facts: tuple[str, ...]
    source_ids: tuple[str, ...]
    category: str


def _package_files() -> Traversable:
    return resources.files(__name__)


def _read_text(name: str) -> str:
    """Read a data file shipped with the package, or say which file is missing and why."""
    resource = _package_files().joinpath(name)
    if not resource.is_file():
        raise FileNotFoundError(
            f"The course data file {name!r} is missing from the enterprise_ai package. "
            "Reinstall the course (pip install -e .) or, for generated files, run "
            "`python scripts/generate_data.py`."
        )
    return resource.read_text(encoding="utf-8")


def _parse_article(article_id: str, raw: str) -> Article:
    """Split front matter (``key: value`` lines between ``---``) from the Markdown body."""
    if not raw.startswith("---\n"):
        raise ValueError(
            f"Knowledge-base article {article_id!r} does not start with front matter ('---'). "
            "Add the id/title/updated block at the top of the file."
        )
    header, _, body = raw[4:].partition("\n---\n")
    fields = dict(line.split(": ", 1) for line in header.splitlines() if ": " in line)
    if fields.get("id") != article_id:
        raise ValueError(
            f"Knowledge-base file {article_id}.md declares id {fields.get('id')!r}. "
            "Make the front-matter id equal to the file name."
        )
    return Article(
        id=article_id,
        title=fields["title"],
        updated=fields["updated"],
        text=body.lstrip("\n"),
        path=f"data/kb/{article_id}.md",
    )


@functools.cache
def _kb_articles() -> tuple[Article, ...]:
    kb = _package_files().joinpath("kb")
    names = sorted(item.name for item in kb.iterdir() if item.name.endswith(".md"))
    return tuple(
        _parse_article(name.removesuffix(".md"), kb.joinpath(name).read_text(encoding="utf-8"))
        for name in names
    )


def kb_articles() -> list[Article]:
    """All knowledge-base articles of Isar Cycles, sorted by id.

    Returns:
        A new list each call (the articles themselves are frozen and cached), so a lesson can
        filter or shuffle it without changing what the next cell sees.
    """
    return list(_kb_articles())


def kb_article(article_id: str) -> Article:
    """One article by id, e.g. ``kb_article("returns")``.

    Raises:
        KeyError: If no article has that id; the message lists the ids that exist.
    """
    for article in _kb_articles():
        if article.id == article_id:
            return article
    raise KeyError(
        f"No knowledge-base article with id {article_id!r}. "
        f"Use one of: {', '.join(a.id for a in _kb_articles())}."
    )


def _read_csv(name: str, **options: Any) -> pd.DataFrame:
    return pd.read_csv(StringIO(_read_text(name)), keep_default_na=False, **options)


def _empty_to_missing(frame: pd.DataFrame, columns: list[str]) -> None:
    """Empty cells become missing values, so ``frame[column].isna()`` finds them."""
    for column in columns:
        frame[column] = frame[column].mask(frame[column] == "")


@functools.cache
def _tickets() -> pd.DataFrame:
    frame = _read_csv("tickets.csv", dtype=str)
    frame["created_at"] = pd.to_datetime(frame["created_at"], format="ISO8601")
    frame["contains_pii"] = frame["contains_pii"].map({"true": True, "false": False}).astype(bool)
    _empty_to_missing(frame, ["order_id"])
    return frame


def tickets() -> pd.DataFrame:
    """About 520 labelled support tickets in English and German.

    Columns: ``ticket_id`` (``T-0001`` …), ``created_at`` (datetime), ``channel``, ``language``,
    ``customer_id``, ``order_id`` (missing when the ticket is not about one order), ``subject``,
    ``text``, ``category`` (one of :data:`CATEGORIES`), ``urgency`` (one of :data:`URGENCIES`,
    least to most urgent), ``contains_pii`` (bool), ``expected_action`` (one of
    :data:`EXPECTED_ACTIONS`). Labels are plain strings, not pandas categoricals, so
    comparisons and ``groupby`` behave the same on every pandas version.

    Returns:
        A copy, so changing it in a notebook does not change it for later cells.
    """
    return _tickets().copy()


@functools.cache
def _customers() -> pd.DataFrame:
    return _read_csv("customers.csv", dtype=str)


def customers() -> pd.DataFrame:
    """The fictional customers (Faker names; no real person).

    Columns: ``customer_id`` (``C-0001`` …), ``name``, ``email``, ``phone``, ``street``,
    ``postcode`` (text: leading zeros matter), ``city``, ``country`` (``DE``/``AT``/``CH``/…),
    ``language`` (``en``/``de``).
    """
    return _customers().copy()


@functools.cache
def _orders() -> pd.DataFrame:
    frame = _read_csv("orders.csv", dtype=str)
    frame["order_date"] = pd.to_datetime(frame["order_date"], format="ISO8601")
    frame["delivered_date"] = pd.to_datetime(
        frame["delivered_date"].replace("", None), format="ISO8601"
    )
    frame["price_eur"] = frame["price_eur"].astype(float)
    _empty_to_missing(frame, ["note"])
    return frame


def orders() -> pd.DataFrame:
    """The web-shop orders.

    Columns: ``order_id`` (``IC-100001`` …), ``customer_id``, ``order_date`` (datetime),
    ``product``, ``sku``, ``price_eur`` (float, incl. VAT), ``status`` (processing, shipped,
    delivered, returned, cancelled), ``shipping_country``, ``delivered_date`` (``NaT`` if not
    delivered), ``note`` (the customer's free-text note, missing if none; a few notes contain prompt
    injections on purpose, for modules 06 and 07: treat notes as untrusted data).
    """
    return _orders().copy()


def _read_jsonl(name: str) -> list[dict[str, Any]]:
    lines = _read_text(name).splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@functools.cache
def _eval_set() -> tuple[EvalQuestion, ...]:
    return tuple(
        EvalQuestion(
            id=row["id"],
            question=row["question"],
            language=row["language"],
            answerable=bool(row["answerable"]),
            key_facts=tuple(row["key_facts"]),
            source_ids=tuple(row["source_ids"]),
            category=row["category"],
        )
        for row in _read_jsonl("eval_set.jsonl")
    )


def measured(name: str) -> dict[str, Any]:
    """A figure a benchmark measured on the full data set, with its date, machine and command.

    Some lessons run a small live sample so that a class does not wait for minutes; they show
    the full-set figure next to it from here, labelled as measured, never typed into the text.
    The files (``data/measured/<name>.json``) are written by the scripts in ``benchmarks/``.

    Raises:
        FileNotFoundError: no such measurement; the message names the script that writes it.
    """
    resource = _package_files().joinpath("measured", f"{name}.json")
    if not resource.is_file():
        raise FileNotFoundError(
            f"No stored measurement {name!r}. Run the benchmark that writes "
            f"src/enterprise_ai/data/measured/{name}.json (see benchmarks/README or RESULTS.md)."
        )
    return json.loads(resource.read_text(encoding="utf-8"))


def eval_set() -> list[EvalQuestion]:
    """The labelled evaluation set: questions answerable from the knowledge base and some that
    are not (a good bot says it does not know).
    """
    return list(_eval_set())


@functools.cache
def _redteam() -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(sorted(row.items())) for row in _read_jsonl("redteam.jsonl"))


def redteam() -> pd.DataFrame:
    """Red-team prompts for the guardrails of module 05, with the expected decision.

    Columns: ``id`` (``R001`` …), ``text``, ``language``, ``kind`` (one of
    :data:`REDTEAM_KINDS`), ``context`` (where the text arrives: ``user_message``,
    ``order_note``, ``kb_document``, ``email``), ``expected`` (``block`` or ``allow``; benign
    look-alikes must be allowed, so a detector is measured on false positives too).
    """
    columns = ["id", "text", "language", "kind", "context", "expected"]
    return pd.DataFrame([dict(row) for row in _redteam()], columns=columns)


@functools.cache
def _redteam_v2() -> tuple[tuple[tuple[str, str], ...], ...]:
    return tuple(tuple(sorted(row.items())) for row in _read_jsonl("redteam_v2.jsonl"))


def redteam_v2(split: Literal["dev", "heldout"] | None = None) -> pd.DataFrame:
    """The second red-team set (issue 14), written before the layered detector, in two halves.

    Attacks of eight kinds (``role_marker``, ``prompt_extraction``, ``multilingual_override``,
    ``forwarded_instruction``, ``exfil_link``, ``authority_claim``, ``obfuscation``,
    ``roleplay_jailbreak``) and benign look-alikes from customer language (kinds starting with
    ``benign_``). The split is a fixed rule, applied before any rule was written: within each
    kind the cases are ordered by the SHA-256 of their text, even positions are ``dev``, odd
    ones ``heldout``. Rules may be developed on ``dev``; ``heldout`` is only measured.

    Columns: ``id`` (``V001`` …), ``split``, ``kind``, ``expected`` (``block`` or ``allow``),
    ``context`` (also ``tool_result``), ``language``, ``source`` (what inspired the case),
    ``text``.

    Args:
        split: ``"dev"`` or ``"heldout"`` for one half; ``None`` for both.
    """
    columns = ["id", "split", "kind", "expected", "context", "language", "source", "text"]
    frame = pd.DataFrame([dict(row) for row in _redteam_v2()], columns=columns)
    if split is None:
        return frame
    if split not in ("dev", "heldout"):
        raise ValueError(f"Unknown split {split!r}. Use 'dev', 'heldout' or None for both.")
    return frame[frame["split"] == split].reset_index(drop=True)


@functools.cache
def _prices() -> pd.DataFrame:
    frame = _read_csv("prices.csv", dtype=str)
    for column in ("input_usd_per_1m", "output_usd_per_1m", "cached_input_usd_per_1m"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column].replace("", None), errors="raise")
    if "as_of" in frame:
        frame["as_of"] = pd.to_datetime(frame["as_of"], format="ISO8601")
    return frame


def prices() -> pd.DataFrame:
    """Model prices per provider (USD per million tokens), with date and source of each price.

    Columns: ``provider``, ``model``, ``input_usd_per_1m``, ``output_usd_per_1m``,
    ``cached_input_usd_per_1m`` (NaN when the provider has no cache price), ``as_of`` (datetime),
    ``source`` (URL), ``note``. Prices change: check ``as_of`` before quoting one.
    """
    return _prices().copy()


def working_dir() -> Path:
    """The per-user folder for files the course builds at run time (SQLite, logs, caches).

    ``COURSE_WORKDIR`` overrides it (tests and shared classroom machines use this); otherwise it is
    ``$XDG_CACHE_HOME/enterprise-ai-course`` or ``~/.cache/enterprise-ai-course``
    (``%LOCALAPPDATA%\\enterprise-ai-course`` on Windows). Never inside the installed package,
    which may be read-only. The folder is created if needed.
    """
    override = os.environ.get(_WORKDIR_ENV, "").strip()
    if override:
        folder = Path(override).expanduser()
    elif os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        folder = Path(os.environ["LOCALAPPDATA"]) / "enterprise-ai-course"
    else:
        cache = os.environ.get("XDG_CACHE_HOME", "").strip()
        folder = (Path(cache) if cache else Path.home() / ".cache") / "enterprise-ai-course"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(
            f"Cannot create the course working folder {folder} ({error.strerror}). "
            f"Set {_WORKDIR_ENV} to a folder you can write to."
        ) from error
    return folder


_SCHEMA = """
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    street TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL,
    language TEXT NOT NULL
);
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(customer_id),
    order_date TEXT NOT NULL,
    product TEXT NOT NULL,
    sku TEXT NOT NULL,
    price_eur REAL NOT NULL,
    status TEXT NOT NULL,
    shipping_country TEXT NOT NULL,
    delivered_date TEXT,
    note TEXT
);
CREATE INDEX orders_by_customer ON orders(customer_id);
"""


def _source_stamp() -> str:
    """A fingerprint of the CSVs the database is built from, stored inside the database."""
    digest = hashlib.sha256()
    for name in ("customers.csv", "orders.csv"):
        digest.update(_read_text(name).encode("utf-8"))
    return digest.hexdigest()


def _db_is_current(path: Path, stamp: str) -> bool:
    if not path.is_file():
        return False
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'source'").fetchone()
        counts = [
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("customers", "orders")
        ]
    except sqlite3.DatabaseError:  # missing tables, corrupt or not a database at all
        return False
    finally:
        connection.close()
    return row is not None and row[0] == stamp and all(counts)


def _build_db(path: Path, stamp: str) -> None:
    """Build the database next to ``path`` and move it into place only when it is complete.

    A full disk or a folder that cannot be written leaves no half-built file behind, and the
    error names the folder and the fix instead of SQLite's "database or disk is full".
    """
    temporary = path.with_suffix(f".tmp-{os.getpid()}")
    try:
        temporary.unlink(missing_ok=True)
        _write_db(temporary, stamp)
        os.replace(temporary, path)
    except (OSError, sqlite3.Error) as error:
        temporary.unlink(missing_ok=True)
        raise OSError(
            f"Cannot build the orders database in {path.parent} ({error}). Free some disk "
            f"space there, or set {_WORKDIR_ENV} to a folder with space that you can write to."
        ) from error


def _write_db(temporary: Path, stamp: str) -> None:
    connection = sqlite3.connect(temporary)
    try:
        with connection:
            connection.executescript(_SCHEMA)
            connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            connection.execute("INSERT INTO meta VALUES ('source', ?)", (stamp,))
            people = _read_csv("customers.csv", dtype=str)
            connection.executemany(
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                people.itertuples(index=False, name=None),
            )
            rows = _read_csv("orders.csv", dtype=str)
            connection.executemany(
                "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (*row[:5], float(row[5]), *row[6:8], row[8] or None, row[9] or None)
                    for row in rows.itertuples(index=False, name=None)
                ],
            )
    finally:
        connection.close()


def orders_db() -> Path:
    """The path of a SQLite database with the tables ``customers`` and ``orders``.

    Built in :func:`working_dir` from the shipped CSVs the first time, and rebuilt when it is
    missing, corrupt or was built from different CSVs (a fingerprint of the CSVs is stored in the
    table ``meta``); otherwise the existing file is reused untouched, so calling this in every
    notebook is cheap. Dates are ISO text; empty notes and delivery dates are ``NULL``.

    Example:
        >>> import sqlite3
        >>> db = sqlite3.connect(orders_db())
        >>> query = "SELECT status, price_eur FROM orders WHERE order_id = ?"
        >>> db.execute(query, ("IC-100001",)).fetchone()
        ('delivered', 2499.0)
        >>> db.close()

    Used from module 06 (tools: looking up orders with parameterised queries) on.
    """
    path = working_dir() / _DB_NAME
    stamp = _source_stamp()
    if not _db_is_current(path, stamp):
        _build_db(path, stamp)
    return path
