"""Run every benchmark, print the results and write benchmarks/RESULTS.md.

    python benchmarks/run_all.py                  # about a minute plus the notebooks
    python benchmarks/run_all.py --fresh-clone    # also time git clone + make setup (minutes)

(a) fresh clone to first answer: install time (opt-in), model load, first completion;
(b) decode tokens/s raw (xllamacpp in-process, plain HTTP) versus get_client();
(c) the run time of every notebook and its slowest cell (``notebooks_time.py``, which writes
    its own section);
(d) a clean book build (`make book` flags) and the slides export, on a fresh clone.

Numbers describe one run on one machine, which RESULTS.md describes next to them. Tests never
assert timings; this script is where speed is looked at.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import notebooks_time
from book_build import book_section, time_book_build
from first_answer import FirstAnswer, FreshInstall, cold_start, fresh_install
from machine import ROOT, describe_machine, load_average
from results_file import markdown_table, other_sections
from throughput import (
    GET_CLIENT,
    PROMPT,
    RAW_HTTP,
    RAW_IN_PROCESS,
    PathResult,
    measure_throughput,
)

from enterprise_ai.local_server import LocalServer

RATIO_GOAL = 0.95


def _warm_load_seconds(times: int = 3) -> float:
    """Median time of LocalServer() when the model file is already in the page cache."""
    seconds = []
    for _ in range(times):
        server = LocalServer()
        seconds.append(server.load_seconds)
        server.close()
    return statistics.median(seconds)


def _first_answer_section(
    install: FreshInstall | None, first: FirstAnswer, warm_load: float
) -> list[str]:
    if install is None:
        install_rows = [["install: git clone + `make setup`", "not measured in this run"]]
        note = (
            "Install time: not measured in this run (`python benchmarks/run_all.py --fresh-clone`)."
        )
    else:
        install_rows = [
            ["install: `git clone` (from the local repository)", f"{install.clone_seconds:.2f}"],
            ["install: `make setup` (venv + pip from PyPI)", f"{install.setup_seconds:.1f}"],
        ]
        cache = "warm" if install.pip_cache_was_warm else "empty"
        note = (
            f"`make setup` installed {install.venv_megabytes:.0f} MB into `.venv`; pip's download "
            f"cache was {cache}, so the time mostly reflects this machine's link to PyPI. "
            "The cold start rows ran in the fresh clone's own `.venv`."
        )
    rows = install_rows + [
        ["new Python process → first answer (total)", f"{first.process_to_answer_seconds:.2f}"],
        ["… `import enterprise_ai`", f"{first.import_seconds:.2f}"],
        ["… model load (`LocalServer()`, cold process)", f"{first.load_seconds:.2f}"],
        [
            f"… first completion ({first.completion_tokens} tokens, `get_client()`)",
            f"{first.first_completion_seconds:.2f}",
        ],
        ["model load, warm (`LocalServer()`, median of 3)", f"{warm_load:.2f}"],
    ]
    return [
        "## (a) Fresh clone → first answer",
        "",
        *markdown_table(["step", "seconds"], rows),
        "",
        note,
        f"First answer: {first.answer.strip()!r}",
        "",
    ]


def _throughput_section(results: list[PathResult], repeats: int, max_tokens: int) -> list[str]:
    by_name = {r.name: r for r in results}
    rows = [
        [
            r.name,
            f"{r.median_tokens_per_second:.1f}",
            f"{min(r.tokens_per_second):.1f} – {max(r.tokens_per_second):.1f}",
            ", ".join(sorted({str(t) for t in r.tokens})),
            f"{statistics.median(r.seconds):.2f}",
        ]
        for r in results
    ]
    client = by_name[GET_CLIENT].median_tokens_per_second
    ratios = []
    for baseline in (RAW_HTTP, RAW_IN_PROCESS):
        ratio = client / by_name[baseline].median_tokens_per_second
        verdict = "meets" if ratio >= RATIO_GOAL else "below"
        ratios.append(
            f"- get_client / {baseline}: **{ratio:.3f}** ({verdict} the goal ≥ {RATIO_GOAL})"
        )
    same_text = len(set().union(*(r.texts for r in results))) == 1
    return [
        "## (b) Decode tokens per second: raw versus `get_client()`",
        "",
        f"Same request on every path, to the same llama.cpp server: system + user message "
        f"({PROMPT[:60]!r}…), `max_tokens={max_tokens}`, `temperature=0`, `seed=7`; "
        f"{repeats} repeats after one warm-up each, paths taking turns. "
        "tokens/s = completion tokens / wall time of the request.",
        "",
        *markdown_table(
            ["path", "median tokens/s", "range", "completion tokens", "median s/request"], rows
        ),
        "",
        *ratios,
        f"- Identical answer text on all paths and repeats: {'yes' if same_text else 'NO'}",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--fresh-clone", action="store_true", help="also time git clone + make setup (minutes)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="repeats per path (default 5)")
    parser.add_argument("--max-tokens", type=int, default=128, help="tokens per answer")
    parser.add_argument("--skip-notebooks", action="store_true", help="skip part (c)")
    parser.add_argument("--skip-book", action="store_true", help="skip part (d)")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    args = parser.parse_args(argv)
    # Benchmarks measure the offline model, whatever a .env on this machine selects.
    os.environ["COURSE_BACKEND"] = "local"
    os.environ["COURSE_DOTENV"] = "0"
    started = time.perf_counter()
    machine = describe_machine()

    with tempfile.TemporaryDirectory(prefix="course-benchmark-") as scratch:
        workdir = Path(scratch)
        install = None
        if args.fresh_clone:
            print("(a) git clone + make setup in a temporary folder (minutes) …", flush=True)
            install = fresh_install(ROOT, workdir)
        print("(a) cold start: new process, load model, first answer …", flush=True)
        first = cold_start(python=install.python if install else None, cwd=workdir)
        warm_load = _warm_load_seconds()

        print(f"(b) tokens/s: {args.repeats} repeats × 3 paths …", flush=True)
        throughput = measure_throughput(repeats=args.repeats, max_tokens=args.max_tokens)

        if args.skip_notebooks:
            print("(c) skipped with --skip-notebooks", flush=True)
        elif not notebooks_time.notebooks_module_available():
            print("(c) skipped: enterprise_ai.notebooks is not installed yet", flush=True)
        else:
            print("(c) executing notebooks on copies (benchmarks/notebooks_time.py) …", flush=True)
            notebooks_time.main([])  # writes its own section (c) and the trainer guide's table

        book_lines = [
            "## (d) Book and slides build",
            "",
            "Not measured: skipped with --skip-book.",
            "",
        ]
        if not args.skip_book:
            print("(d) clean book build and slides on a fresh clone …", flush=True)
            book_lines = book_section(time_book_build(ROOT, workdir))

    lines = [
        "# Benchmark results",
        "",
        "Written by `make benchmark` (`python benchmarks/run_all.py`). One run on one machine: "
        "compare numbers only with the machine and its load next to them, and re-run on yours.",
        "",
        "## Machine",
        "",
        *markdown_table(["", ""], [[k, v] for k, v in machine.items()]),
        "",
        *_first_answer_section(install, first, warm_load),
        *_throughput_section(throughput, args.repeats, args.max_tokens),
        *book_lines,
        f"Load average at the end (1/5/15 min): {load_average()}. "
        f"Whole benchmark: {time.perf_counter() - started:.0f} s.",
        "",
    ]
    # Keep what the long-running scripts (classroom_load.py, agent_scenarios.py) wrote.
    own = {line.strip() for line in lines if line.startswith("## ")}
    text = "\n".join([*lines, *other_sections(args.output, own)]).rstrip() + "\n"
    print("\n" + text)
    args.output.write_text(text, encoding="utf-8")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"Wrote {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
