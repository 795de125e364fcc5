"""How long ``make test`` takes on a fresh clone, stage by stage.

    python benchmarks/make_test_time.py       # about 8 minutes on 2 cores

Clones the repository's committed state into a temporary folder (so nothing installed in this
checkout helps) and runs the stages ``make test`` runs, in its order, timing each: ``make setup``
(a new .venv from the pinned constraints), ``make lint``, ``make tests-all`` (library and site
tests) and ``make notebooks`` (every lesson and solution under nbval, then the exercises).
A failing stage stops the run and is reported. Writes section (m) of RESULTS.md.

The package caches of pip and uv are not cleared: a fresh clone on a machine that has
installed the course before, as in CI. The first install on a new machine also downloads
every package (the installed .venv holds about 1.2 GB), so its setup stage takes longer.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import ROOT, describe_machine, git_commit, load_average
from results_file import markdown_table, replace_section

SECTION = "## (m) `make test` on a fresh clone (`benchmarks/make_test_time.py`)"
STAGES = ("setup", "lint", "tests-all", "notebooks")
TARGET_S = 8 * 60


def run_stages(clone: Path) -> list[tuple[str, float, int]]:
    """(stage, seconds, exit code) for each stage, stopping at the first that fails."""
    results = []
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV"))}
    for stage in STAGES:
        started = time.perf_counter()
        done = subprocess.run(["make", stage], cwd=clone, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        print(f"  make {stage:10} {seconds:6.1f} s  exit {done.returncode}", flush=True)
        results.append((stage, seconds, done.returncode))
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:], sep="\n", file=sys.stderr)
            break
    return results


def main() -> None:
    load_start = load_average()
    with tempfile.TemporaryDirectory(prefix="make-test-") as scratch:
        clone = Path(scratch) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        results = run_stages(clone)
    total = sum(seconds for _, seconds, _ in results)
    passed = len(results) == len(STAGES) and all(code == 0 for *_, code in results)
    rows = [
        [f"`make {stage}`", f"{seconds:.0f}", "ok" if code == 0 else f"failed ({code})"]
        for stage, seconds, code in results
    ]
    rows.append(["**total**", f"**{total:.0f}**", "ok" if passed else "failed"])
    machine = describe_machine()
    minutes, seconds = divmod(round(total), 60)
    met = "yes" if passed and total < TARGET_S else "no"
    lines = [
        SECTION,
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/make_test_time.py` at commit {git_commit()}: {machine['CPU']}, "
        f"{os.cpu_count()} cores; load average at start {load_start}, at the end "
        f"{load_average()}. A fresh `git clone`, then the stages of `make test` in order; the "
        "package caches of pip and uv were warm (as in CI on this machine).",
        "",
        *markdown_table(["stage", "seconds", "result"], rows),
        "",
        f"- `make test` under 8 minutes on a fresh clone: {met} ({minutes} min {seconds:02d} s)",
        "",
    ]
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
