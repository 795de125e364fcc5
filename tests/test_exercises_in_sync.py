"""exercises/ must be exactly what solutions/ generates, one exercise per solution.

Exercises are generated (``make exercises``); an exercise edited by hand, a solution changed
without regenerating, or a file on one side only would let the learner's version drift from
the worked one. One test per notebook name, so a failure names the file.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from enterprise_ai.notebooks import exercise_sync_problems

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO_ROOT / "solutions"
EXERCISES = REPO_ROOT / "exercises"

NAMES = sorted({path.name for folder in (SOLUTIONS, EXERCISES) for path in folder.glob("*.ipynb")})


@functools.cache
def sync_problems() -> dict[str, str]:
    """``{notebook name: reason}`` for the real folders, paths shown relative to the repo."""
    if not SOLUTIONS.is_dir():
        return {
            path.name: f"exercises/{path.name} has no solutions/{path.name} (no solutions/ "
            "folder at all); exercises are generated: add the solution or delete the exercise."
            for path in EXERCISES.glob("*.ipynb")
        }
    problems = exercise_sync_problems(SOLUTIONS, EXERCISES)
    return {
        Path(path).name: reason.replace(f"{REPO_ROOT}/", "") for path, reason in problems.items()
    }


@pytest.mark.parametrize("name", NAMES)
def test_exercise_matches_its_solution(name: str) -> None:
    problem = sync_problems().get(name)
    assert problem is None, problem
