"""RESULTS.md is written by several scripts; each owns its ``## (x) …`` sections.

``run_all.py`` writes the machine description and parts (a)–(d); ``classroom_load.py`` and
``agent_scenarios.py`` write one section each and take minutes, so they run on their own. These
two helpers let every script replace only what it measured and keep the rest.
"""

from __future__ import annotations

from pathlib import Path


def markdown_table(header: list[str], rows: list[list[object]]) -> list[str]:
    """The lines of a Markdown table: a header row, the separator, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def split_sections(text: str) -> list[tuple[str, list[str]]]:
    """``(title, lines)`` for every ``## `` section of ``text``; the preamble has title ``""``."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line.strip(), [line]))
        else:
            sections[-1][1].append(line)
    return sections


def other_sections(path: Path, own_titles: set[str]) -> list[str]:
    """The lines of every section in ``path`` whose title a script does not own."""
    if not path.exists():
        return []
    kept: list[str] = []
    for title, lines in split_sections(path.read_text(encoding="utf-8")):
        if title and title not in own_titles and not title.startswith("## Machine"):
            while lines and not lines[-1].strip():
                lines = lines[:-1]
            kept += [*lines, ""]
    return kept


def replace_section(path: Path, title: str, lines: list[str]) -> None:
    """Put ``lines`` into the Markdown file at ``path`` in place of the section ``title``.

    Other sections (written by ``run_all.py``) stay as they are; a missing section is appended.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    level = title.split(" ", 1)[0] + " "
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.strip() == title:
            skipping = True
            continue
        if skipping and line.startswith(level):
            skipping = False
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    path.write_text("\n".join([*kept, "", *lines]).rstrip() + "\n", encoding="utf-8")
