"""How long every lesson and solution notebook takes to run top to bottom on the local model.

A trainer plans a workshop agenda around these numbers, and CI's time budget depends on them.
The notebooks are copied to a temporary folder first: executing stores outputs in the file, and
the repository's notebooks must only change through ``make execute``.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

FOLDERS = ("notebooks", "solutions")


@dataclass(frozen=True)
class NotebookTiming:
    """One notebook's run: its path in the repository, wall time and outcome."""

    path: str
    seconds: float
    status: str  # "ok", or "failed: <first line of the error>"


def notebooks_module_available() -> bool:
    """True when ``enterprise_ai.notebooks`` (execute_notebook) is installed."""
    return importlib.util.find_spec("enterprise_ai.notebooks") is not None


def time_notebooks(root: Path, workdir: Path, *, timeout: int = 600) -> list[NotebookTiming]:
    """Copy notebooks/ and solutions/ into ``workdir`` and execute every copy, one at a time.

    Args:
        root: the repository.
        workdir: an empty scratch folder (the copies land in it).
        timeout: seconds one cell may take.
    """
    from enterprise_ai.notebooks import NotebookExecutionError, execute_notebook

    timings = []
    for folder in FOLDERS:
        source = root / folder
        if not source.is_dir():
            continue
        copy = workdir / folder
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for notebook in sorted(copy.glob("*.ipynb")):
            started = time.perf_counter()
            try:
                execute_notebook(notebook, timeout=timeout)
                status = "ok"
            except NotebookExecutionError as err:
                status = "failed: " + (str(err).strip().splitlines() or ["?"])[0][:120]
            seconds = time.perf_counter() - started
            timings.append(NotebookTiming(f"{folder}/{notebook.name}", seconds, status))
    return timings
