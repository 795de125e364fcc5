"""``course progress``: which exercise checks pass in a learner's notebooks.

A trainer walking through the room wants to know who is stuck where, without opening thirty
notebooks. This runs each exercise notebook top to bottom in a fresh kernel (on a copy, in
memory; the learner's file is never changed), reads what the check cells printed, and reports
one line per check: ✅, "not yet", or "not run" when the notebook stopped before reaching it.

Introduced in book/trainer-guide.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["CheckResult", "collect_results", "format_progress", "run_progress"]

_PASSED = re.compile(r"✅ (ex\d\d_\d+):")
_NOT_YET = re.compile(r"not yet \((ex\d\d_\d+)\): (.*)")
_CALLED = re.compile(r"checks\.(ex\d\d_\d+)\(")


@dataclass(frozen=True)
class CheckResult:
    """One exercise check in one notebook."""

    notebook: str
    check: str
    status: str  # "passed", "not yet" or "not run"
    detail: str = ""


def collect_results(nb: nbformat.NotebookNode, *, name: str) -> list[CheckResult]:
    """Read an executed notebook: every ``checks.exNN_K(...)`` call and what it printed."""
    results: list[CheckResult] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        called = _CALLED.findall(cell.source)
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if "text" in o)
        for check in called:
            if any(m == check for m in _PASSED.findall(text)):
                results.append(CheckResult(name, check, "passed"))
            elif match := next((m for m in _NOT_YET.finditer(text) if m[1] == check), None):
                results.append(CheckResult(name, check, "not yet", match[2].strip()))
            else:
                results.append(CheckResult(name, check, "not run", "the cell did not run"))
    return results


def run_progress(paths: list[Path], *, timeout: int = 300) -> list[CheckResult]:
    """Execute each notebook (errors allowed) and collect its check results."""
    from nbclient import NotebookClient

    from enterprise_ai.notebooks import NOTEBOOK_ENVIRONMENT

    results: list[CheckResult] = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(path.parent.resolve())}},
        )
        client.execute(env={**os.environ, **NOTEBOOK_ENVIRONMENT})
        results += collect_results(nb, name=str(path))
    return results


def format_progress(results: list[CheckResult]) -> str:
    """One line per check, then a count: readable on a projector."""
    if not results:
        return "No exercise checks found."
    mark = {"passed": "✅", "not yet": "… ", "not run": "⏸ "}
    width = max(len(r.notebook) for r in results)
    lines = [
        f"{mark[r.status]} {r.notebook:<{width}}  {r.check}  {r.status}"
        + (f": {r.detail[:70]}" if r.detail else "")
        for r in results
    ]
    done = sum(r.status == "passed" for r in results)
    return "\n".join([*lines, "", f"{done} of {len(results)} checks pass."])
