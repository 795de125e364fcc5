"""course progress: reads which checks passed, did not pass, or never ran."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from enterprise_ai.progress import collect_results, format_progress

ROOT = Path(__file__).resolve().parents[1]


def _cell(source: str, text: str | None) -> nbformat.NotebookNode:
    cell = new_code_cell(source)
    if text is not None:
        cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def test_collect_results_reads_passed_not_yet_and_not_run():
    nb = new_notebook(
        cells=[
            _cell("checks.ex00_1(ask)", "✅ ex00_1: fine.\n"),
            _cell("checks.ex00_2(f)", "not yet (ex00_2): returned None\n   hint: write it\n"),
            _cell("checks.ex00_3(d)", None),
            _cell("print('no check here')", "no check here\n"),
        ]
    )
    results = collect_results(nb, name="alice.ipynb")
    assert [(r.check, r.status) for r in results] == [
        ("ex00_1", "passed"),
        ("ex00_2", "not yet"),
        ("ex00_3", "not run"),
    ]
    assert results[1].detail == "returned None"
    report = format_progress(results)
    assert "1 of 3 checks pass." in report and "alice.ipynb" in report


def test_course_progress_on_the_exercise_and_solution_of_module_00(tmp_path):
    exercise = tmp_path / "exercise.ipynb"
    solution = tmp_path / "solution.ipynb"
    shutil.copy(ROOT / "exercises" / "00_setup.ipynb", exercise)
    shutil.copy(ROOT / "solutions" / "00_setup.ipynb", solution)
    course = Path(sys.executable).with_name("course")
    result = subprocess.run(
        [str(course), "progress", str(exercise), str(solution)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("exercise.ipynb" in line and "not yet" in line for line in lines) == 3
    assert sum("solution.ipynb" in line and "passed" in line for line in lines) == 3
    assert "3 of 6 checks pass." in result.stdout
    assert exercise.read_bytes() == (ROOT / "exercises" / "00_setup.ipynb").read_bytes()
