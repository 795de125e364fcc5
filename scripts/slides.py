"""Export each lesson to reveal.js slides for trainers: ``make slides``.

    python scripts/slides.py                          # notebooks/*.ipynb -> _build/slides/
    python scripts/slides.py notebooks/00_setup.ipynb --out /tmp/slides

nbconvert's slide exporter puts every cell without slide metadata on the slide before it, so a
lesson without metadata would become one endless slide. Where a lesson sets no slide metadata
at all, this script adds it in memory before converting: the title and every ``##`` heading
start a new slide, every ``###`` heading a sub-slide (reveal.js: down arrow), and everything
else continues the slide above. A lesson that sets ``slideshow`` metadata on any cell is
converted exactly as its author arranged it. The notebooks on disk are never changed, and
nothing is executed: the slides show the outputs stored in the lessons.

The slides load reveal.js from a CDN (unpkg.com) when opened, so showing them needs internet
access; the notebooks themselves work offline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbconvert import SlidesExporter

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "_build" / "slides"

#: Markdown that starts with one of these begins a new slide (first match wins).
SLIDE_STARTS = (("# ", "slide"), ("## ", "slide"), ("### ", "subslide"))


def sets_own_slides(notebook: nbformat.NotebookNode) -> bool:
    """True when the lesson's author already put slide metadata on at least one cell."""
    return any("slideshow" in cell.get("metadata", {}) for cell in notebook.cells)


def slide_type_for(cell: nbformat.NotebookNode) -> str:
    """``slide``/``subslide`` for a cell that opens with a heading, ``-`` (continue) otherwise."""
    if cell.cell_type != "markdown":
        return "-"
    first_line = cell.source.lstrip().split("\n", 1)[0]
    return next((kind for start, kind in SLIDE_STARTS if first_line.startswith(start)), "-")


def add_slide_breaks(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Set slide metadata from the headings, unless the lesson sets its own (in place)."""
    if sets_own_slides(notebook):
        return notebook
    for cell in notebook.cells:
        cell.setdefault("metadata", {})["slideshow"] = {"slide_type": slide_type_for(cell)}
    return notebook


def export_slides(notebook_path: Path, *, out_dir: Path) -> Path:
    """Write ``<out_dir>/<name>.slides.html`` for one notebook and return its path.

    Args:
        notebook_path: the lesson (``.ipynb``); it is read, never written.
        out_dir: folder for the HTML file; created when missing.
    """
    notebook = add_slide_breaks(nbformat.read(notebook_path, as_version=4))
    exporter = SlidesExporter(reveal_scroll=True)  # long slides scroll instead of overflowing
    body, _ = exporter.from_notebook_node(
        notebook, resources={"metadata": {"name": notebook_path.stem}}
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{notebook_path.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebooks",
        nargs="*",
        type=Path,
        help="lessons to export (default: notebooks/*.ipynb)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        print(f"No notebooks found in {ROOT / 'notebooks'}; nothing to export.", file=sys.stderr)
        return 1
    for path in notebooks:
        target = export_slides(path, out_dir=args.out)
        print(f"{path.name} -> {target}")
    print("Open a file in a browser (needs internet for reveal.js); press ? for keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
