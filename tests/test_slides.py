"""``make slides``: each lesson becomes reveal.js slides, one slide per ``##`` section."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat

REPO = Path(__file__).resolve().parents[1]
LESSON = REPO / "notebooks" / "00_setup.ipynb"


def _load_slides_script() -> ModuleType:
    """scripts/ is not a package; load scripts/slides.py from its path."""
    spec = importlib.util.spec_from_file_location("course_slides", REPO / "scripts" / "slides.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


slides = _load_slides_script()


def _notebook(*cells: nbformat.NotebookNode) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


def _slide_types(notebook: nbformat.NotebookNode) -> list[str | None]:
    return [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]


def test_headings_start_slides_and_everything_else_continues() -> None:
    notebook = _notebook(
        nbformat.v4.new_markdown_cell("# 00 · Setup"),
        nbformat.v4.new_markdown_cell("Intro text with a ## inside"),
        nbformat.v4.new_markdown_cell("\n## 1 · What runs where"),
        nbformat.v4.new_code_cell("client = get_client()"),
        nbformat.v4.new_markdown_cell("### A detail"),
        nbformat.v4.new_code_cell("## not a heading, a Python comment"),
    )
    slides.add_slide_breaks(notebook)
    assert _slide_types(notebook) == ["slide", "-", "slide", "-", "subslide", "-"]


def test_a_lesson_with_its_own_slide_metadata_is_left_as_it_is() -> None:
    own = nbformat.v4.new_markdown_cell("## Section", metadata={"slideshow": {"slide_type": "-"}})
    notebook = _notebook(nbformat.v4.new_markdown_cell("# Title"), own)
    slides.add_slide_breaks(notebook)
    assert _slide_types(notebook) == [None, "-"]


def test_lesson_00_exports_one_slide_per_section(tmp_path: Path) -> None:
    before = LESSON.read_bytes()
    lesson = nbformat.read(LESSON, as_version=4)
    headings = sum(
        1 for cell in lesson.cells if slides.slide_type_for(cell) == "slide"
    )  # the title and every ## heading

    target = slides.export_slides(LESSON, out_dir=tmp_path)

    html = target.read_text(encoding="utf-8")
    assert target == tmp_path / "00_setup.slides.html"
    assert "reveal" in html.lower(), "the export is not a reveal.js deck"
    # Each slide is a <section> holding its sub-slides' <section>s; count the top-level ones.
    top_level = len(re.findall(r"<section>\s*<section>", html))
    assert headings >= 5, f"lesson 00 should have several ## sections, found {headings}"
    assert top_level == headings, (
        f"expected {headings} slides (title + one per ## heading), found {top_level}"
    )
    assert LESSON.read_bytes() == before, "exporting slides must not write to the lesson"
