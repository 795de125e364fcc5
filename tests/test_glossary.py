"""The glossary: enough terms, in order, each linked where a reader meets it first.

The linking itself is done by ``scripts/link_glossary.py``; these tests run it in ``--check``
mode (which changes nothing) and check the assumptions it relies on. ``tests/test_book.py``
then proves that every link lands on an existing anchor of the built site.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from myst_parser.mdit_to_docutils.base import default_slugify

REPO = Path(__file__).resolve().parents[1]
GLOSSARY = REPO / "book" / "glossary.md"


def _script():
    spec = importlib.util.spec_from_file_location(
        "link_glossary", REPO / "scripts/link_glossary.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["link_glossary"] = module
    spec.loader.exec_module(module)
    return module


link_glossary = _script()


def test_the_glossary_has_at_least_40_terms_in_alphabetical_order() -> None:
    names = re.findall(r"^### (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(names) >= 40
    assert names == sorted(names, key=str.lower)


def test_each_term_sits_under_its_letter_and_has_a_definition() -> None:
    letter = None
    lines = GLOSSARY.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("## "):
            letter = line[3:].strip()
        elif line.startswith("### "):
            assert line[4].upper() == letter, f"{line!r} is under ## {letter}"
            definition = next((x for x in lines[number + 1 :] if x.strip()), "")
            assert definition and not definition.startswith("#"), f"{line!r} has no definition"


def test_anchors_are_the_ones_myst_gives_the_headings() -> None:
    for term in link_glossary.load_terms():
        assert term.anchor == default_slugify(term.name)


def test_every_first_use_is_linked(capsys: pytest.CaptureFixture[str]) -> None:
    status = link_glossary.main(["--check"])
    report = capsys.readouterr().out
    assert status == 0, f"run `python scripts/link_glossary.py` to add these links:\n{report}"


def test_the_check_notices_an_unlinked_first_use(tmp_path: Path) -> None:
    terms = link_glossary.load_terms()
    page = tmp_path / "page.md"
    page.write_text("# Page\n\nEvery `token` in code is skipped, but this token counts.\n")
    document = link_glossary.Document(page, [page.read_text()])
    changes = link_glossary.link_first_uses([document], terms)
    assert any(change.endswith(": token") for change in changes)
    assert "`token` in code" in document.texts[0]
    assert "this [token](" in document.texts[0] and "glossary.md#token)" in document.texts[0]
