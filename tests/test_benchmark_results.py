"""RESULTS.md has several authors; each script must replace only its own sections."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from results_file import other_sections, replace_section  # noqa: E402

RESULTS = """# Benchmark results

## Machine

| cores | 2 |

## (a) First answer

old a

## (f) Classroom load

old classroom
"""


def test_replace_section_changes_only_its_own_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(RESULTS)
    replace_section(path, "## (f) Classroom load", ["## (f) Classroom load", "", "new classroom"])
    text = path.read_text()
    assert "old a" in text and "new classroom" in text and "old classroom" not in text
    replace_section(path, "## (e) Agents", ["## (e) Agents", "", "agents"])
    assert path.read_text().endswith("## (e) Agents\n\nagents\n")


def test_run_all_keeps_the_sections_it_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(RESULTS)
    kept = "\n".join(other_sections(path, {"## (a) First answer"}))
    assert "old classroom" in kept
    assert "old a" not in kept and "## Machine" not in kept
    assert other_sections(tmp_path / "missing.md", set()) == []


def test_markdown_table_has_a_header_a_separator_and_one_line_per_row() -> None:
    from results_file import markdown_table

    assert markdown_table(["a", "b"], [[1, "x"], [2.5, None]]) == [
        "| a | b |",
        "|---|---|",
        "| 1 | x |",
        "| 2.5 | None |",
    ]
