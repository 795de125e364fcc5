"""The Isar Cycles data: shape, labels, internal consistency, reproducibility, the SQLite build.

Every module reads this data, and its lessons print numbers computed from it; a silent change
(a ticket relabelled, a key fact edited out of an article) would break lessons far away. So the
labels are checked against the text they describe, and the generator must reproduce the
committed files byte for byte.
"""

from __future__ import annotations

import importlib.util
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from enterprise_ai import data

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "src" / "enterprise_ai" / "data"
GENERATED = ("customers.csv", "orders.csv", "tickets.csv", "eval_set.jsonl", "redteam.jsonl")

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){3,7}(?: ?[A-Z0-9]{1,3})?\b")
PHONE = re.compile(r"(?<![\w-])(?:\+\d{2,3}|0)[\d ()/.-]{6,}\d")


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "course-work"
    monkeypatch.setenv("COURSE_WORKDIR", str(folder))
    return folder


# --- knowledge base ---------------------------------------------------------------------------


def test_kb_has_the_fixed_articles_with_front_matter_and_concrete_numbers() -> None:
    articles = data.kb_articles()
    assert [a.id for a in articles] == sorted(data.ARTICLE_IDS)
    for article in articles:
        assert article.title and re.fullmatch(r"\d{4}-\d{2}-\d{2}", article.updated), article
        assert article.text.startswith(f"# {article.title}\n"), article.id
        assert article.text.count("\n## ") >= 3, f"{article.id} needs ## sections"
        assert re.search(r"\d", article.text), f"{article.id} has no concrete numbers"
        assert article.path == f"data/kb/{article.id}.md"
        assert "---" not in article.text.splitlines()[0]


def test_kb_article_by_id_and_a_helpful_error_for_unknown_ids() -> None:
    assert data.kb_article("returns").title == "Returns and right of withdrawal"
    assert "30 days" in data.kb_article("returns").text
    with pytest.raises(KeyError, match="warranty"):
        data.kb_article("refunds")


def test_kb_articles_returns_a_fresh_list() -> None:
    first = data.kb_articles()
    first.clear()
    assert len(data.kb_articles()) == len(data.ARTICLE_IDS)


# --- customers and orders ---------------------------------------------------------------------


def test_customers_schema_and_ids() -> None:
    customers = data.customers()
    assert list(customers.columns) == [
        "customer_id",
        *("name", "email", "phone", "street", "postcode", "city", "country", "language"),
    ]
    assert len(customers) == 300
    assert customers["customer_id"].is_unique
    assert customers["customer_id"].str.fullmatch(r"C-\d{4}").all()
    assert customers["email"].str.fullmatch(EMAIL.pattern).all()
    assert set(customers["language"]) == {"en", "de"}
    assert set(customers["country"]) <= {"DE", "AT", "CH", "IE", "NL"}
    assert (customers == "").sum().sum() == 0, "customers have empty cells"


def test_orders_schema_statuses_and_dates() -> None:
    orders = data.orders()
    assert list(orders.columns) == [
        *("order_id", "customer_id", "order_date", "product", "sku", "price_eur", "status"),
        *("shipping_country", "delivered_date", "note"),
    ]
    assert len(orders) == 600
    assert orders["order_id"].is_unique
    assert orders["order_id"].str.fullmatch(r"IC-1\d{5}").all()
    assert pd.api.types.is_datetime64_any_dtype(orders["order_date"])
    assert pd.api.types.is_datetime64_any_dtype(orders["delivered_date"])
    assert pd.api.types.is_float_dtype(orders["price_eur"])
    assert (orders["price_eur"] > 0).all()
    assert set(orders["status"]) == {"processing", "shipped", "delivered", "returned", "cancelled"}
    assert set(orders["customer_id"]) <= set(data.customers()["customer_id"])
    has_delivery = orders["status"].isin(["delivered", "returned"])
    assert orders.loc[has_delivery, "delivered_date"].notna().all()
    assert orders.loc[~has_delivery, "delivered_date"].isna().all()
    delivered = orders[has_delivery]
    assert (delivered["delivered_date"] >= delivered["order_date"]).all()
    assert (orders["order_date"] <= pd.Timestamp("2026-10-01")).all()
    countries = data.customers().set_index("customer_id")["country"]
    assert (orders["shipping_country"] == orders["customer_id"].map(countries)).all()


def test_a_few_order_notes_carry_indirect_prompt_injections() -> None:
    notes = data.orders()["note"].dropna()
    injected = notes[notes.str.contains(r"instruction|assistant|\bKI\b|\bAI\b", case=False)]
    assert 3 <= len(injected) <= 12, injected.tolist()
    assert len(notes) > len(injected) + 30, "most notes must be ordinary delivery notes"


def test_loaders_return_copies() -> None:
    tickets = data.tickets()
    tickets.loc[0, "category"] = "changed"
    assert data.tickets().loc[0, "category"] != "changed"


# --- tickets ----------------------------------------------------------------------------------


def test_tickets_schema_and_label_sets() -> None:
    tickets = data.tickets()
    assert list(tickets.columns) == [
        *("ticket_id", "created_at", "channel", "language", "customer_id", "order_id"),
        *("subject", "text", "category", "urgency", "contains_pii", "expected_action"),
    ]
    assert len(tickets) >= 520
    assert tickets["ticket_id"].is_unique
    assert tickets["ticket_id"].str.fullmatch(r"T-\d{4}").all()
    assert pd.api.types.is_datetime64_any_dtype(tickets["created_at"])
    assert tickets["contains_pii"].dtype == bool
    assert set(tickets["channel"]) == {"email", "web_form", "chat", "phone_note"}
    assert set(tickets["category"]) == set(data.CATEGORIES)
    assert set(tickets["urgency"]) == set(data.URGENCIES)
    assert set(tickets["expected_action"]) == set(data.EXPECTED_ACTIONS)
    german = (tickets["language"] == "de").mean()
    assert set(tickets["language"]) == {"en", "de"} and 0.3 <= german <= 0.5, german
    assert tickets["text"].str.len().min() > 30


def test_ticket_customers_orders_and_times_fit_together() -> None:
    tickets = data.tickets()
    customers = data.customers().set_index("customer_id")
    orders = data.orders().set_index("order_id")
    assert tickets["customer_id"].isin(customers.index).all()
    with_order = tickets.dropna(subset=["order_id"])
    assert len(with_order) > 100
    assert with_order["order_id"].isin(orders.index).all()
    owners = with_order["order_id"].map(orders["customer_id"])
    assert (owners == with_order["customer_id"]).all(), "a ticket asks about someone else's order"
    ordered = with_order["order_id"].map(orders["order_date"])
    assert (with_order["created_at"] >= ordered).all(), "a ticket predates its order"
    assert (tickets["created_at"] <= pd.Timestamp("2026-10-01T09:00")).all()
    assert with_order["text"].combine(with_order["order_id"], lambda t, o: o in t).all()
    languages = tickets["customer_id"].map(customers["language"])
    assert (languages == tickets["language"]).mean() > 0.9


def test_labels_are_consistent_with_the_text() -> None:
    tickets = data.tickets()
    critical = tickets[tickets["urgency"] == "critical"]
    assert len(critical) >= 5
    assert (critical["category"] == "battery_safety").all()
    assert (critical["expected_action"] == "escalate_human").all()
    assert critical["text"].str.contains("smoke|swollen|Rauch|aufgebläht", case=False).all()
    returns = tickets[tickets["expected_action"] == "create_return"]
    assert (returns["category"] == "returns").all() and returns["order_id"].notna().all()
    lookups = tickets[tickets["expected_action"] == "look_up_order"]
    assert lookups["order_id"].notna().all()
    refusals = tickets[tickets["expected_action"] == "refuse"]
    assert set(refusals["category"]) <= {"privacy", "product_question"}


def test_tickets_marked_as_pii_contain_personal_data_and_the_others_do_not() -> None:
    tickets = data.tickets()
    customers = data.customers().set_index("customer_id")
    for _, ticket in tickets.iterrows():
        text = ticket["text"]
        customer = customers.loc[ticket["customer_id"]]
        found = {
            "email": bool(EMAIL.search(text)),
            "iban": bool(IBAN.search(text)),
            "phone": bool(PHONE.search(text)),
            "name": customer["name"] in text,
            "address": customer["street"] in text,
        }
        if ticket["contains_pii"]:
            assert any(found.values()), (ticket["ticket_id"], text)
        else:
            assert not any(found.values()), (ticket["ticket_id"], found, text)
    marked = tickets["contains_pii"].mean()
    assert 0.3 <= marked <= 0.6, marked
    assert tickets["text"].str.contains(IBAN.pattern).sum() >= 20, "module 05 needs IBANs"


# --- eval set and red-team set ----------------------------------------------------------------


def test_eval_set_schema_and_sizes() -> None:
    questions = data.eval_set()
    assert [q.id for q in questions] == [f"Q{n:03d}" for n in range(1, len(questions) + 1)]
    answerable = [q for q in questions if q.answerable]
    unanswerable = [q for q in questions if not q.answerable]
    assert len(answerable) >= 60 and len(unanswerable) >= 12
    assert {q.language for q in questions} == {"en", "de"}
    assert sum(q.language == "de" for q in answerable) >= 8
    assert {q.category for q in questions} <= set(data.CATEGORIES)
    for question in unanswerable:
        assert question.key_facts == () and question.source_ids == (), question.id


def test_every_key_fact_appears_in_a_source_article() -> None:
    # Markdown line wraps and bold markers are layout, not content.
    articles = {
        a.id: " ".join(a.text.replace("**", "").lower().split()) for a in data.kb_articles()
    }
    covered = set()
    for question in data.eval_set():
        if not question.answerable:
            continue
        assert question.key_facts and question.source_ids, question.id
        assert set(question.source_ids) <= set(articles), (question.id, question.source_ids)
        covered.update(question.source_ids)
        for fact in question.key_facts:
            assert any(fact.lower() in articles[s] for s in question.source_ids), (
                question.id,
                fact,
            )
    assert covered == set(data.ARTICLE_IDS), "every article should be asked about"


def test_redteam_kinds_contexts_and_benign_lookalikes() -> None:
    redteam = data.redteam()
    assert list(redteam.columns) == ["id", "text", "language", "kind", "context", "expected"]
    assert len(redteam) >= 40 and redteam["id"].is_unique
    assert set(redteam["kind"]) == set(data.REDTEAM_KINDS)
    assert set(redteam["context"]) == {"user_message", "order_note", "kb_document", "email"}
    assert set(redteam["language"]) == {"en", "de"}
    benign = redteam[redteam["kind"] == "benign_lookalike"]
    assert len(benign) >= 12
    assert (benign["expected"] == "allow").all()
    assert (redteam.loc[redteam["kind"] != "benign_lookalike", "expected"] == "block").all()
    assert redteam["kind"].value_counts().min() >= 5
    obfuscated = " ".join(redteam.loc[redteam["kind"] == "obfuscated", "text"])
    assert re.search(r"[\u0400-\u04ff]", obfuscated), "needs a homoglyph example"
    assert "base64" in obfuscated.lower()


# --- prices (file written by module 01) --------------------------------------------------------


def test_prices_are_parsed() -> None:
    prices = data.prices()
    assert {"provider", "model", "input_usd_per_1m", "output_usd_per_1m", "as_of"} <= set(prices)
    assert pd.api.types.is_float_dtype(prices["input_usd_per_1m"])
    assert pd.api.types.is_datetime64_any_dtype(prices["as_of"])


# --- working folder and SQLite ----------------------------------------------------------------


def test_working_dir_follows_the_environment_and_is_created(workdir: Path) -> None:
    assert not workdir.exists()
    assert data.working_dir() == workdir
    assert workdir.is_dir()


def test_working_dir_default_is_a_per_user_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COURSE_WORKDIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("os.name", "posix")
    assert data.working_dir() == tmp_path / "cache" / "enterprise-ai-course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.working_dir() == tmp_path / "home" / ".cache" / "enterprise-ai-course"


def _tables(path: Path) -> dict[str, list[tuple[str, int]]]:
    """Table name → [(column, primary-key position)] read from SQLite's own catalogue."""
    with sqlite3.connect(path) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        tables = {
            name: [(r[1], r[5]) for r in connection.execute(f"PRAGMA table_info({name})")]
            for name in names
        }
    connection.close()
    return tables


def test_orders_db_is_built_in_the_working_dir_with_primary_keys(workdir: Path) -> None:
    path = data.orders_db()
    assert path.parent == workdir and path.is_file()
    assert not list(DATA_DIR.glob("*.sqlite")), "never write inside the package"
    tables = _tables(path)
    assert ("customer_id", 1) in tables["customers"]
    assert ("order_id", 1) in tables["orders"]
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("SELECT count(*) FROM customers").fetchone() == (300,)
        assert connection.execute("SELECT count(*) FROM orders").fetchone() == (600,)
        row = connection.execute(
            "SELECT status, price_eur, note FROM orders WHERE order_id = ?", ("IC-100002",)
        ).fetchone()
        orders = data.orders().set_index("order_id")
        assert row[:2] == (orders.loc["IC-100002", "status"], orders.loc["IC-100002", "price_eur"])
        assert row[2] is None  # empty notes are NULL, not ''
        joined = connection.execute(
            "SELECT count(*) FROM orders JOIN customers USING (customer_id)"
        ).fetchone()
        assert joined == (600,)
    finally:
        connection.close()


def test_orders_db_is_reused_when_current(workdir: Path) -> None:
    path = data.orders_db()
    before = path.stat().st_mtime_ns, path.stat().st_ino
    assert data.orders_db() == path
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == before


def test_orders_db_rebuilds_a_corrupt_or_outdated_file(workdir: Path) -> None:
    path = data.orders_db()
    path.write_bytes(b"this is not a database")
    assert _tables(data.orders_db())["orders"]
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = 'built from older CSVs'")
    connection.close()
    data.orders_db()
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT value FROM meta").fetchone()[0] != "built from older CSVs"
    connection.close()
    assert not list(workdir.glob("*.tmp-*")), "temporary build files must be cleaned up"


# --- the generator ----------------------------------------------------------------------------


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    if importlib.util.find_spec("faker") is None:
        pytest.skip("faker is a test dependency: pip install -e '.[test]'")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_data.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in GENERATED:
        fresh = (tmp_path / name).read_bytes()
        assert fresh == (DATA_DIR / name).read_bytes(), (
            f"{name} differs from a fresh run of scripts/generate_data.py; "
            "run the script and commit the result, or undo the hand edit"
        )
