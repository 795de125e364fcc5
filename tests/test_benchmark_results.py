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


def _run(cpus: str, lesson_s: float, cell_s: float) -> dict:
    cells = [{"index": 3, "seconds": cell_s, "first_line": "zero_shot = evaluate(...)"}]
    return {
        "date": "2026-12-04 10:00 UTC",
        "commit": "abc1234",
        "cpus": cpus,
        "load_start": "0.1",
        "load_end": "0.2",
        "notebooks": [
            {
                "path": "notebooks/02_triage.ipynb",
                "seconds": lesson_s,
                "status": "ok",
                "cells": cells,
            },
            {"path": "solutions/02_triage.ipynb", "seconds": 4.0, "status": "ok", "cells": []},
        ],
    }


def test_notebook_timings_show_runs_side_by_side_and_judge_each_goal() -> None:
    import notebooks_time

    store = {
        "before": _run("2", 366.0, 355.0),
        "2 cores": _run("2", 41.0, 12.0),
        "1 core": _run("1", 130.0, 40.0),
    }
    text = "\n".join(notebooks_time.section_lines(store))
    assert "| `notebooks/02_triage.ipynb` | 366.0 | 41.0 | 130.0 |" in text
    assert "- before: no cell over 30 s: no — notebooks/02_triage.ipynb cell 3 (355 s)" in text
    assert "- 2 cores: every lesson and solution under 60 s: yes" in text
    assert "- 1 core: every lesson under 120 s: no — notebooks/02_triage.ipynb (130 s)" in text


def test_the_trainer_guide_table_comes_from_the_latest_runs(tmp_path, monkeypatch) -> None:
    import notebooks_time

    guide = tmp_path / "guide.md"
    guide.write_text(f"intro\n{notebooks_time.GUIDE_START}\nold\n{notebooks_time.GUIDE_END}\nend\n")
    monkeypatch.setattr(notebooks_time, "GUIDE", guide)
    store = {
        "before": _run("2", 366.0, 355.0),
        "2 cores": _run("2", 41.0, 12.0),
        "1 core": _run("1", 90.0, 30.0),
    }
    assert notebooks_time.write_guide(store)
    text = guide.read_text()
    assert "| `02_triage` | 41 | 12 | 90 | 4 |" in text
    assert "old" not in text and text.startswith("intro\n") and text.endswith("end\n")
    assert "366" not in text  # the "before" run never reaches the guide
