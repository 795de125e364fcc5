"""The capstone agent's answer path on the whole evaluation set: the figures of its system card.

A system card figure needs a real evaluation set and its size (lesson 10, exercise 10.4): the
capstone's grader refuses figures from fewer than ``capstone.MIN_EVAL_QUESTIONS`` questions.
Asking all 87 questions takes minutes on a laptop, too long for a notebook cell, so this
script runs :func:`enterprise_ai.evals.run` once on the capstone agent's answer path
(``capstone.answer(..., k=2, max_tokens=80)``: module 03's bot with a quote of the sentence
that answers), stores the table in
``src/enterprise_ai/data/measured/capstone_eval.json`` (read by
``capstone.measured_evaluation()``), and writes section "(k)" of RESULTS.md with the card's
figures and their 95 % intervals.

The stored table is only accepted by the grader for an agent that answers the way it was
measured: the grader asks the agent some of its questions again and compares.

It then grades the worked solution's agent (``solutions/10_capstone.ipynb``, with this table)
with :func:`enterprise_ai.capstone.grade` on every case of both suites, the lesson's and the
held-out one. The solution's notebook leaves the held-out help-article questions out of its
live check to stay under half a minute; this is the full grading it points to, stored under
``"grading"`` and written to section (k).

Usage (from the repository root; takes about three minutes on two cores)::

    .venv/bin/python benchmarks/capstone_eval.py
    .venv/bin/python benchmarks/capstone_eval.py --grading-only   # keep the table, re-grade
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from machine import ROOT, git_commit, load_average
from results_file import markdown_table, replace_section

STORE = ROOT / "src" / "enterprise_ai" / "data" / "measured" / "capstone_eval.json"
SECTION_TITLE = "## (k) Capstone: the agent's answer path on the whole evaluation set"
#: The answer settings of the capstone agent (solutions/10_capstone.ipynb, exercise 10.3);
#: the answer function is ``capstone.answer``.
SETTINGS = {"k": 2, "max_tokens": 80}
#: Columns left out of the stored table: the retrieved passages are long and can be rebuilt.
_NOT_STORED = ("context",)
#: The worked solution whose agent is graded on both suites.
SOLUTION = ROOT / "solutions" / "10_capstone.ipynb"
#: The solution's code cells run up to, not including, the first one containing this.
_FIRST_GRADING_CELL = "checks.capstone("


def measure(command: str) -> dict:
    """Run evals.run on the whole evaluation set with the capstone settings; store the table."""
    from enterprise_ai import capstone, data, evals, llm

    client, model = llm.get_client(), llm.default_model()
    started = time.perf_counter()
    results = evals.run(
        data.eval_set(),
        client=client,
        model=model,
        answer_fn=capstone.answer,
        progress=False,
        **SETTINGS,
    )
    columns = [c for c in evals.COLUMNS if c not in _NOT_STORED]
    stored = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "model": model,
        "answer_fn": "capstone.answer",
        "settings": SETTINGS,
        "command": command,
        "seconds": round(time.perf_counter() - started),
        "load_end": load_average(),
        "rows": json.loads(results[columns].to_json(orient="records", force_ascii=False)),
    }
    STORE.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return stored


def solution_agent():
    """The agent ``solutions/10_capstone.ipynb`` builds, with its evaluation table.

    Runs the solution's code cells in order up to the first that grades, so the agent graded
    here is the one the notebook builds, not a copy that could drift from it.
    """
    import nbformat

    notebook = nbformat.read(SOLUTION, as_version=4)
    namespace: dict = {"__name__": "capstone_solution"}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if _FIRST_GRADING_CELL in cell.source:
            break
        exec(compile(cell.source, str(SOLUTION.name), "exec"), namespace)  # noqa: S102
    if "agent" not in namespace:
        raise RuntimeError(f"{SOLUTION} built no `agent` before its grading cell.")
    return namespace["agent"]


def grade_solution(command: str) -> dict:
    """Grade the worked solution's agent on every case of both suites; a summary to store."""
    from enterprise_ai import capstone

    agent = solution_agent()
    started = time.perf_counter()
    report = capstone.grade(agent)
    seconds = time.perf_counter() - started
    unseen = report.unseen_results
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "command": command,
        "seconds": round(seconds),
        "load_end": load_average(),
        "score": report.score,
        "max_score": report.max_score,
        "full_marks": report.full_marks,
        "cases": len(report.results),
        "unseen_passed": sum(r.passed for r in unseen),
        "unseen_total": len(unseen),
        "model_calls": sum(r.model_calls or 0 for r in report.results),
        "criteria": {c.name: c.result for c in report.criteria},
        "not_yet": {c.name: c.evidence for c in report.failed()},
    }


def section(stored: dict) -> list[str]:
    """Section (k) of RESULTS.md: the card's figures, each with its size and interval."""
    from enterprise_ai import capstone

    table = capstone.measured_evaluation()
    figures = capstone.card_figures(table)
    sources = table["source"].value_counts().to_dict()
    return [
        SECTION_TITLE,
        "",
        f"`{stored['command']}` on {stored['date']} (commit {stored['commit']}, model "
        f"{stored['model']}, `{stored['answer_fn']}` with {stored['settings']}): {len(table)} "
        "questions in "
        f"{stored['seconds']} s; load average at the end {stored['load_end']}. Stored in "
        "`data/measured/capstone_eval.json` for exercise 10.4 (`capstone.measured_evaluation()`).",
        "",
        *markdown_table(["rate", "system card figure"], [[k, v] for k, v in figures.items()]),
        "",
        "Who wrote the replies: "
        + ", ".join(f"{name} {count}" for name, count in sorted(sources.items()))
        + ". The grader accepts this table only for an agent that gives the same verdict when it "
        f"asks {capstone.EVAL_RECHECKS} of its questions again.",
        "",
        *_grading_lines(stored.get("grading")),
    ]


def _grading_lines(grading: dict | None) -> list[str]:
    """The full grading of the worked solution, as lines of section (k)."""
    if not grading:
        return []
    verdict = "full marks" if grading["full_marks"] else f"not yet: {sorted(grading['not_yet'])}"
    return [
        f"The worked solution's agent (`{SOLUTION.relative_to(ROOT)}`, with this table), graded "
        f"by `capstone.grade` on every case of both suites ({grading['date']}, commit "
        f"{grading['commit']}): **{grading['score']}/{grading['max_score']} points, {verdict}**; "
        f"held-out cases: {grading['unseen_passed']} of {grading['unseen_total']} passed; "
        f"{grading['cases']} cases answered with {grading['model_calls']} model calls, in "
        f"{grading['seconds']} s "
        f"(load average at the end {grading['load_end']}).",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    parser.add_argument(
        "--section-only", action="store_true", help="rewrite section (k) from the stored run"
    )
    parser.add_argument(
        "--grading-only",
        action="store_true",
        help="keep the stored table; grade the worked solution again",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_BACKEND", "local")
    os.environ["COURSE_DOTENV"] = "0"
    command = "python benchmarks/capstone_eval.py"
    if args.section_only or args.grading_only:
        stored = json.loads(STORE.read_text(encoding="utf-8"))
    else:
        print("evals.run on the whole evaluation set with the capstone settings …", flush=True)
        stored = measure(command)
    if not args.section_only:
        print(f"grading the worked solution ({SOLUTION.name}) on both suites …", flush=True)
        suffix = " --grading-only" if args.grading_only else ""
        stored["grading"] = grade_solution(command + suffix)
        STORE.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = section(stored)
    print("\n".join(lines))
    replace_section(args.output, SECTION_TITLE, lines)
    print(f"Stored {STORE.name}; wrote section (k) of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
