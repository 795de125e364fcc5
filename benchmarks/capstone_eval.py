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

Usage (from the repository root; takes about two minutes on two cores)::

    .venv/bin/python benchmarks/capstone_eval.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

from machine import ROOT, _git_commit, load_average
from results_file import markdown_table, replace_section

STORE = ROOT / "src" / "enterprise_ai" / "data" / "measured" / "capstone_eval.json"
SECTION_TITLE = "## (k) Capstone: the agent's answer path on the whole evaluation set"
#: The answer settings of the capstone agent (solutions/10_capstone.ipynb, exercise 10.3);
#: the answer function is ``capstone.answer``.
SETTINGS = {"k": 2, "max_tokens": 80}
#: Columns left out of the stored table: the retrieved passages are long and can be rebuilt.
_NOT_STORED = ("context",)


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
        "commit": _git_commit(),
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
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    parser.add_argument(
        "--section-only", action="store_true", help="rewrite section (k) from the stored run"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_BACKEND", "local")
    os.environ["COURSE_DOTENV"] = "0"
    if args.section_only:
        stored = json.loads(STORE.read_text(encoding="utf-8"))
    else:
        print("evals.run on the whole evaluation set with the capstone settings …", flush=True)
        stored = measure("python benchmarks/capstone_eval.py")
    lines = section(stored)
    print("\n".join(lines))
    replace_section(args.output, SECTION_TITLE, lines)
    print(f"Stored {STORE.name}; wrote section (k) of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
