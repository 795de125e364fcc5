"""How long every lesson and solution takes to run top to bottom, and which cell is slowest.

A trainer plans a workshop around these numbers: a cell that runs for minutes while a room
watches is a cell the trainer skips. The goals (issue 13) are on the local model, fresh kernel:
no cell over 30 s, every notebook under 60 s, all of them under 4 minutes, and on one core (the
Binder case) every lesson under 2 minutes.

    python benchmarks/notebooks_time.py                      # every notebook, all cores
    python benchmarks/notebooks_time.py --cpus 0             # pinned to one core (Binder)
    python benchmarks/notebooks_time.py notebooks/02_triage.ipynb   # one notebook, print only

Each run is stored under its label in ``benchmarks/notebooks_time.json``; section (c) of
RESULTS.md shows every stored label side by side (the "before" row comes from the same script
run on the commit before the speed work). The notebooks run on copies in a temporary folder:
the repository's files only change through ``make execute``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from machine import ROOT, git_commit, load_average
from results_file import markdown_table, replace_section

FOLDERS = ("notebooks", "solutions")
STORE = ROOT / "benchmarks" / "notebooks_time.json"
GUIDE = ROOT / "book" / "trainer-guide.md"
GUIDE_START = "<!-- notebook-timings:start (written by benchmarks/notebooks_time.py) -->"
GUIDE_END = "<!-- notebook-timings:end -->"
SECTION = "## (c) Notebook run times (local model, fresh kernel, copies in a temp folder)"
CELL_GOAL, NOTEBOOK_GOAL, TOTAL_GOAL, ONE_CORE_LESSON_GOAL = 30.0, 60.0, 240.0, 120.0


@dataclass(frozen=True)
class CellTiming:
    """One code cell: its index in the notebook, seconds, and its first line."""

    index: int
    seconds: float
    first_line: str


@dataclass(frozen=True)
class NotebookTiming:
    """One notebook's run: its path in the repository, wall time, outcome and cell times."""

    path: str
    seconds: float
    status: str  # "ok", or "failed: <first line of the error>"
    cells: list[CellTiming] = field(default_factory=list)

    @property
    def slowest(self) -> CellTiming | None:
        return max(self.cells, key=lambda cell: cell.seconds) if self.cells else None


def notebooks_module_available() -> bool:
    """True when ``enterprise_ai.notebooks`` is installed (it holds the kernel environment)."""
    import importlib.util

    return importlib.util.find_spec("enterprise_ai.notebooks") is not None


def _seconds(start: str, end: str) -> float:
    parse = dt.datetime.fromisoformat
    return max(
        (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds(),
        0.0,
    )


def _cell_timings(nb) -> list[CellTiming]:  # noqa: ANN001 - an nbformat NotebookNode
    """Seconds per code cell from nbclient's timing metadata (input received → reply sent)."""
    timings = []
    for index, cell in enumerate(nb.cells):
        stamps = cell.metadata.get("execution", {}) if cell.cell_type == "code" else {}
        start, end = stamps.get("iopub.execute_input"), stamps.get("shell.execute_reply")
        if start and end:
            lines = [line for line in cell.source.splitlines() if line.strip()]
            timings.append(CellTiming(index, _seconds(start, end), lines[0][:60] if lines else ""))
    return timings


def run_notebook(path: Path, *, timeout: int = 600) -> NotebookTiming:
    """Execute one notebook copy the way ``make execute`` does and time each cell.

    The kernel gets the course's notebook environment (local backend, no .env), like nbval and
    ``make execute``; ``record_timing`` gives each cell's start and end.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    from enterprise_ai.notebooks import NOTEBOOK_ENVIRONMENT

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=True,
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    started = time.perf_counter()
    status = "ok"
    try:
        client.execute(env={**os.environ, **NOTEBOOK_ENVIRONMENT})
    except (CellExecutionError, CellTimeoutError) as err:
        status = "failed: " + (str(err).strip().splitlines() or ["?"])[0][:120]
    seconds = time.perf_counter() - started
    return NotebookTiming(path.name, seconds, status, _cell_timings(nb))


def time_notebooks(
    root: Path, workdir: Path, *, only: list[str] | None = None, timeout: int = 600
) -> list[NotebookTiming]:
    """Copy notebooks/ and solutions/ into ``workdir`` and execute the copies one at a time.

    Args:
        root: the repository.
        workdir: an empty scratch folder (the copies land in it).
        only: repository paths to run (default: every lesson and solution).
        timeout: seconds one cell may take.
    """
    timings = []
    for folder in FOLDERS:
        source = root / folder
        if not source.is_dir():
            continue
        copy = workdir / folder
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for notebook in sorted(copy.glob("*.ipynb")):
            name = f"{folder}/{notebook.name}"
            if only and name not in only:
                continue
            print(f"  {name} …", end=" ", flush=True)
            result = run_notebook(notebook, timeout=timeout)
            print(f"{result.seconds:.1f} s {result.status}", flush=True)
            timings.append(NotebookTiming(name, result.seconds, result.status, result.cells))
    return timings


def _load_store() -> dict:
    return json.loads(STORE.read_text(encoding="utf-8")) if STORE.exists() else {}


def _save_run(label: str, timings: list[NotebookTiming], meta: dict) -> None:
    store = _load_store()
    store[label] = {**meta, "notebooks": [asdict(t) for t in timings]}
    STORE.write_text(json.dumps(store, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _from_store(run: dict) -> dict[str, NotebookTiming]:
    return {
        n["path"]: NotebookTiming(
            n["path"], n["seconds"], n["status"], [CellTiming(**c) for c in n["cells"]]
        )
        for n in run["notebooks"]
    }


def _slowest_text(timing: NotebookTiming | None) -> str:
    if timing is None or timing.slowest is None:
        return "–"
    cell = timing.slowest
    return f"{cell.seconds:.1f} (cell {cell.index}: `{cell.first_line.replace('|', '/')}`)"


def _verdicts(label: str, timings: dict[str, NotebookTiming], one_core: bool) -> list[str]:
    """One line per goal: met or not, with the numbers that decide it."""
    total = sum(t.seconds for t in timings.values())
    slow_cells = [
        f"{path} cell {c.index} ({c.seconds:.0f} s)"
        for path, t in timings.items()
        for c in t.cells
        if c.seconds > CELL_GOAL
    ]
    limit = ONE_CORE_LESSON_GOAL if one_core else NOTEBOOK_GOAL
    scope = [t for p, t in timings.items() if p.startswith("notebooks/") or not one_core]
    slow_books = [f"{t.path} ({t.seconds:.0f} s)" for t in scope if t.seconds > limit]
    failed = [t.path for t in timings.values() if t.status != "ok"]
    what = "every lesson" if one_core else "every lesson and solution"
    lines = [
        f"- {label}: {what} under {limit:.0f} s: "
        + ("yes" if not slow_books else "no — " + ", ".join(slow_books))
    ]
    if not one_core:
        measured_cells = any(t.cells for t in timings.values())
        if slow_cells:
            cells_verdict = "no — " + ", ".join(slow_cells)
        elif measured_cells:
            cells_verdict = "yes"
        else:
            cells_verdict = "not measured (this run stored per-notebook times only)"
        lines.append(f"- {label}: no cell over {CELL_GOAL:.0f} s: {cells_verdict}")
        lines.append(
            f"- {label}: all {len(timings)} together under {TOTAL_GOAL:.0f} s: "
            + ("yes" if total <= TOTAL_GOAL else "no")
            + f" ({total:.0f} s)"
        )
    if failed:
        lines.append(f"- {label}: FAILED: " + ", ".join(failed))
    return lines


def section_lines(store: dict) -> list[str]:
    """Section (c) of RESULTS.md: every stored run side by side, then each run's goals."""
    labels = list(store)
    runs = {label: _from_store(store[label]) for label in labels}
    paths = sorted({p for run in runs.values() for p in run})
    header = ["notebook", *[f"{label}: s" for label in labels], f"{labels[-1]}: slowest cell s"]
    rows = []
    for path in paths:
        cells = [f"{runs[lab][path].seconds:.1f}" if path in runs[lab] else "–" for lab in labels]
        rows.append([f"`{path}`", *cells, _slowest_text(runs[labels[-1]].get(path))])
    totals = [f"**{sum(t.seconds for t in runs[lab].values()):.0f}**" for lab in labels]
    rows.append(["**total**", *totals, ""])
    lines = [
        SECTION,
        "",
        "Measured with `python benchmarks/notebooks_time.py` (per-cell times from "
        "nbclient's timing metadata). Each kernel starts its own server as a learner's does: "
        "llama.cpp on every core when the cores are quiet at start-up, one core less when they "
        "are busy (section (l)); `COURSE_THREADS` is not set. One row per notebook, one column "
        "per stored run:",
        "",
    ]
    for label in labels:
        run = store[label]
        lines.append(
            f"- **{label}**: {run['date']}, commit {run['commit']}, CPUs {run['cpus']}, "
            f"load average at start {run['load_start']}, at end {run['load_end']}"
        )
    lines += ["", *markdown_table(header, rows), ""]
    for label in labels:
        lines += _verdicts(label, runs[label], one_core=store[label]["cpus"] == "1")
    return [*lines, ""]


def guide_lines(store: dict, two_cores: str, one_core: str | None) -> list[str]:
    """The trainer guide's table: how long each lesson and solution runs, from stored runs."""
    runs = _from_store(store[two_cores])
    single = _from_store(store[one_core]) if one_core else {}
    rows = []
    for path in sorted(p for p in runs if p.startswith("notebooks/")):
        lesson = runs[path]
        solution = runs.get(path.replace("notebooks/", "solutions/"))
        slowest = lesson.slowest
        rows.append(
            [
                f"`{path.removeprefix('notebooks/').removesuffix('.ipynb')}`",
                f"{lesson.seconds:.0f}",
                f"{slowest.seconds:.0f}" if slowest else "–",
                f"{single[path].seconds:.0f}" if path in single else "–",
                f"{solution.seconds:.0f}" if solution else "–",
            ]
        )
    run = store[two_cores]
    note = (
        f"Measured {run['date']} (commit {run['commit']}) with "
        "`python benchmarks/notebooks_time.py` on a 2-core machine, local model, fresh kernel"
    )
    if one_core:
        note += "; the one-core column with `--cpus 0` (Binder gives about one core)"
    return [
        GUIDE_START,
        "",
        *markdown_table(
            ["lesson", "Run all, s", "slowest cell, s", "Run all on one core, s", "solution, s"],
            rows,
        ),
        "",
        note + ". A laptop with more cores is faster; a shared class server is slower per "
        "request when the whole room sends at once (see the section above).",
        "",
        GUIDE_END,
    ]


def write_guide(store: dict) -> bool:
    """Replace the timing block of the trainer guide; False when the guide has no block."""
    latest = [label for label in reversed(list(store)) if label != "before"]
    two = next((label for label in latest if store[label]["cpus"] != "1"), None)
    one = next((label for label in latest if store[label]["cpus"] == "1"), None)
    text = GUIDE.read_text(encoding="utf-8") if GUIDE.exists() else ""
    if two is None or GUIDE_START not in text or GUIDE_END not in text:
        return False
    before, rest = text.split(GUIDE_START, 1)
    after = rest.split(GUIDE_END, 1)[1]
    GUIDE.write_text(before + "\n".join(guide_lines(store, two, one)) + after, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths",
        nargs="*",
        help="repository paths to run (default: all); "
        "a partial run prints its table and stores nothing",
    )
    parser.add_argument("--cpus", help="pin to these CPUs, e.g. 0 (one core, the Binder case)")
    parser.add_argument("--label", help="name of this run in the table (default: N cores)")
    parser.add_argument("--timeout", type=int, default=600, help="seconds one cell may take")
    args = parser.parse_args(argv)
    os.environ["COURSE_BACKEND"] = "local"
    os.environ["COURSE_DOTENV"] = "0"
    os.environ.pop("COURSE_THREADS", None)  # threads chosen as on a learner's laptop
    if args.cpus:
        cpus = {int(c) for c in args.cpus.split(",")}
        os.sched_setaffinity(0, cpus)  # the kernels and their llama.cpp inherit it
    cpus = len(os.sched_getaffinity(0))
    label = args.label or f"{cpus} core{'s' if cpus > 1 else ''}"
    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "cpus": str(cpus),
        "load_start": load_average(),
    }
    with tempfile.TemporaryDirectory(prefix="course-notebooks-") as scratch:
        timings = time_notebooks(ROOT, Path(scratch), only=args.paths, timeout=args.timeout)
    meta["load_end"] = load_average()
    rows = [[t.path, f"{t.seconds:.1f}", _slowest_text(t), t.status] for t in timings]
    print("\n".join(markdown_table(["notebook", "seconds", "slowest cell s", "status"], rows)))
    print(f"total {sum(t.seconds for t in timings):.0f} s; load average {meta['load_end']}")
    if args.paths:
        return 0 if all(t.status == "ok" for t in timings) else 1
    _save_run(label, timings, meta)
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, section_lines(_load_store()))
    print(f"Stored run {label!r} in {STORE.name}; wrote section (c) of RESULTS.md")
    if args.label != "before" and write_guide(_load_store()):
        print(f"Updated the timing table in {GUIDE.relative_to(ROOT)}")
    return 0 if all(t.status == "ok" for t in timings) else 1


if __name__ == "__main__":
    sys.exit(main())
