"""Tests for enterprise_ai.kb: chunking, BM25 search and hit@k (lesson 03)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from enterprise_ai import kb

RETURNS = """---
id: returns
title: Returns and refunds
updated: 2026-01-10
---
# Returns and refunds

## Return window
You can return a bike within **30 days** of delivery. It must have less than 50 km on the
motor. We refund within 14 days to the original payment method.

## How to return
- Log in to your account and open the order.
- Print the prepaid return label.
- Hand the box to the carrier.
"""

WARRANTY = SimpleNamespace(
    id="warranty",
    title="Warranty",
    text="# Warranty\n\n## Frame\nThe frame has a 10-year warranty.\n\n"
    "## Battery\nThe battery has a 2-year warranty or 500 charge cycles.\n",
)

SHIPPING = SimpleNamespace(
    id="shipping-germany",
    title="Shipping in Germany",
    text="## Delivery time\nBikes arrive in 3 to 5 working days by freight carrier. "
    "Accessories ship by DHL in 1 to 2 days.\n",
)


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


@pytest.fixture(scope="module")
def index() -> kb.Index:
    return kb.Index(kb.chunk(RETURNS) + kb.chunk(WARRANTY) + kb.chunk(SHIPPING))


def test_chunk_splits_on_sections_and_keeps_ids_titles_headings() -> None:
    chunks = kb.chunk(RETURNS)
    assert [(c.id, c.article_id, c.title, c.section) for c in chunks] == [
        ("returns#1", "returns", "Returns and refunds", "Return window"),
        ("returns#2", "returns", "Returns and refunds", "How to return"),
    ]
    assert chunks[1].text.startswith("- Log in")
    assert "##" not in chunks[0].text and "updated:" not in chunks[0].text


def test_chunk_by_size_keeps_every_word_under_the_limit() -> None:
    body = " ".join(f"Sentence number {i} says something about bikes." for i in range(40))
    text = f"## Long section\n{body}\n## Short\nOne line."
    chunks = kb.chunk(text, max_chars=200, overlap=0, article_id="long")
    assert all(len(c.text) <= 200 for c in chunks)
    long_chunks = [c for c in chunks if c.section == "Long section"]
    assert len(long_chunks) > 5
    assert words(" ".join(c.text for c in long_chunks)) == words(body)  # nothing lost or doubled
    assert chunks[-1].section == "Short" and chunks[-1].text == "One line."


def test_chunk_overlap_repeats_the_end_of_the_previous_chunk() -> None:
    body = " ".join(f"Fact {i} is here." for i in range(60))
    chunks = kb.chunk(f"## S\n{body}", max_chars=150, overlap=40, article_id="x")
    assert all(len(c.text) <= 150 for c in chunks)
    for before, after in zip(chunks, chunks[1:], strict=False):
        first_sentence = after.text.split(". ")[0] + "."
        assert first_sentence in before.text  # the next chunk starts inside the previous one
    joined = " ".join(c.text for c in chunks)
    assert all(f"Fact {i} is here." in joined for i in range(60))


def test_chunk_cuts_a_sentence_longer_than_the_limit() -> None:
    text = "## S\n" + "word " * 100 + "supercalifragilistic" * 10
    chunks = kb.chunk(text, max_chars=50, overlap=0, article_id="x")
    assert all(0 < len(c.text) <= 50 for c in chunks)
    assert "".join(c.text.replace(" ", "") for c in chunks) == text[5:].replace(" ", "")


def test_chunk_rejects_an_overlap_as_big_as_the_chunk() -> None:
    with pytest.raises(ValueError, match="overlap=800"):
        kb.chunk(RETURNS, overlap=800)


def test_tokenize_drops_english_and_german_stopwords_and_plurals() -> None:
    assert kb.tokenize("How do I return my bikes?") == ["return", "bike"]
    assert kb.tokenize("Wie lange dauert der Versand nach Österreich?") == [
        "lange",
        "dauert",
        "versand",
        "österreich",
    ]


def test_search_ranks_the_article_that_answers_first(index: kb.Index) -> None:
    hits = index.search("How many days do I have to return my bike?", k=3)
    assert hits[0].article_id == "returns"
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(a.score >= b.score > 0 for a, b in zip(hits, hits[1:], strict=False))
    assert index.search("battery warranty", k=1)[0].chunk_id == "warranty#2"


def test_search_leaves_out_chunks_without_a_shared_word(index: kb.Index) -> None:
    assert index.search("quantum chromodynamics") == []
    assert index.search("Wie ist das?") == []  # only stopwords
    assert len(index.search("delivery", k=10)) < len(index)


def test_default_index_covers_the_shipped_articles_and_is_built_once() -> None:
    first = kb.default_index()
    assert first is kb.default_index()
    assert {c.article_id for c in first.chunks} >= {"returns", "warranty", "battery-safety"}
    assert kb.search("Can I take my e-bike battery on a plane?", k=1)[0].article_id == (
        "battery-transport"
    )


def test_hit_at_k_counts_questions_with_a_source_in_the_top_k() -> None:
    retrieved = [["returns", "warranty"], ["payment", "payment", "shipping"], []]
    expected = [["warranty"], ["shipping"], ["returns"]]
    assert kb.hit_at_k(retrieved, expected, k=1) == 0.0
    assert kb.hit_at_k(retrieved, expected, k=2) == pytest.approx(1 / 3)
    assert kb.hit_at_k(retrieved, expected, k=3) == pytest.approx(2 / 3)
    assert kb.hit_at_k([], [], k=3) == 0.0
    with pytest.raises(ValueError, match="2 result lists but 1"):
        kb.hit_at_k(retrieved[:2], expected[:1], k=1)


def test_checks_ex03_1_and_ex03_2_accept_the_library_and_reject_slips(capsys) -> None:
    from enterprise_ai import checks

    def chunk_markdown(text: str, *, max_chars: int) -> list[tuple[str, str]]:
        return [(c.section, c.text) for c in kb.chunk(text, max_chars=max_chars, overlap=0)]

    def drops_last_word(text: str, *, max_chars: int) -> list[tuple[str, str]]:
        return [(h, t.rsplit(" ", 1)[0]) for h, t in chunk_markdown(text, max_chars=max_chars)]

    def fixed_slices(text: str, *, max_chars: int) -> list[tuple[str, str]]:
        return [("", text[i : i + max_chars]) for i in range(0, len(text), max_chars)]

    assert checks.ex03_1(chunk_markdown)
    assert not checks.ex03_1(drops_last_word)
    assert "is missing from the chunks" in capsys.readouterr().out
    assert not checks.ex03_1(fixed_slices)
    assert not checks.ex03_1(lambda text, *, max_chars: None)

    capsys.readouterr()

    def words(text: str, *, max_chars: int) -> list[tuple[str, str]]:  # one word per chunk
        return [(h, w) for h, t in chunk_markdown(text, max_chars=max_chars) for w in t.split()]

    def sentences(text: str, *, max_chars: int) -> list[tuple[str, str]]:
        found = chunk_markdown(text, max_chars=10_000)
        return [(h, s) for h, t in found for s in re.split(r"(?<=[.!?])\s+", t)]

    def word_packer(text: str, *, max_chars: int) -> list[tuple[str, str]]:
        chunks = []
        for heading, body in chunk_markdown(text, max_chars=10_000):
            current = ""
            for word in body.split():
                if current and len(current) + 1 + len(word) > max_chars:
                    chunks.append((heading, current))
                    current = ""
                current = f"{current} {word}".strip()
            chunks.append((heading, current))
        return chunks

    assert not checks.ex03_1(words)
    assert "fits into 200 characters, but it became" in capsys.readouterr().out
    assert not checks.ex03_1(sentences)
    assert "would fit into one chunk of 200" in capsys.readouterr().out
    assert not checks.ex03_1(word_packer)
    out = capsys.readouterr().out
    assert "ends in the middle of a sentence" in out and "cut between sentences" in out

    def counts(retrieved, expected, *, k):  # noqa: ANN001, ANN202
        return sum(bool(set(r[:k]) & set(e)) for r, e in zip(retrieved, expected, strict=True))

    assert checks.ex03_2(kb.hit_at_k)
    capsys.readouterr()
    assert not checks.ex03_2(counts)
    assert "divide by the number of questions" in capsys.readouterr().out
    assert not checks.ex03_2(lambda retrieved, expected, *, k: None)


def test_ex03_1_article_states_the_warranty_article_facts_and_has_one_long_sentence() -> None:
    from enterprise_ai import checks, data

    warranty = " ".join(data.kb_article("warranty").text.replace("**", "").split())
    for fact in (
        "10-year guarantee",
        "3 years",
        "800 full charge cycles",
        "70 %",
        "3 working days",
    ):
        assert fact in checks.EX03_1_TEXT and fact in warranty, fact
    lengths = [
        len(sentence)
        for _, body in kb._sections(checks.EX03_1_TEXT)
        for sentence in re.split(r"(?<=[.!?])\s+", " ".join(body.split()))
    ]
    # The check asks for cuts between sentences at 200 (all fit) and allows word cuts at 120.
    assert max(lengths) <= 200 and any(n > 120 for n in lengths)


def test_topic_words_drop_question_words_and_numbers() -> None:
    assert kb.topic_words("How much does it cost to ship 2 e-bikes? How long?") == [
        "cost",
        "ship",
        "bike",
    ]
    assert kb.topic_words("How long?") == []
    # Redacted personal data (module 05) stands for a value, not for a topic.
    redacted = "Send the label to <EMAIL_1> or [EMAIL], or call <PHONE_1> / [TAX_ID]."
    assert kb.topic_words(redacted) == ["send", "label", "call"]


def test_coverage_weighs_words_the_index_never_uses_most() -> None:
    idx = kb.Index(
        kb.chunk_all(
            [
                SimpleNamespace(
                    id="shop", title="Shop", text="## Workshop\nOur workshop repairs bikes."
                ),
                SimpleNamespace(id="pets", title="Pets", text="## Cats\nCats are welcome."),
                SimpleNamespace(
                    id="hours", title="Hours", text="## Open\nThe workshop opens at 9."
                ),
            ]
        )
    )
    workshop = idx.chunks[0]
    full = kb.coverage("Does the workshop repair bikes?", workshop, index=idx)
    assert (full.share, full.missing, full.unknown) == (1.0, [], [])  # "repair" finds "repairs"
    dog = kb.coverage("Can I bring my dog into the workshop?", workshop, index=idx)
    assert dog.missing == ["bring", "dog"] and dog.unknown == ["bring", "dog"]
    cat = kb.coverage("Can I bring my cat into the workshop?", workshop, index=idx)
    assert cat.missing == ["bring", "cat"] and cat.unknown == ["bring"]
    # A word of another chunk weighs less than a word no chunk has: the cat question is covered
    # a little better than the dog question, though both miss two words.
    assert 0 < dog.share < cat.share < 0.5
    assert kb.coverage("How long?", workshop, index=idx).share == 0.0
