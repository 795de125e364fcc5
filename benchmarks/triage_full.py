"""Ticket triage (lesson 02) on the lesson's full 100-ticket sample, every method.

    python benchmarks/triage_full.py          # about 3 minutes on 2 cores

Lesson 02 runs the model live on ten of the 100 tickets (one per category), so that a class does
not wait minutes for one cell. This script measures all 100, writes section (i) of RESULTS.md
and ``src/enterprise_ai/data/measured/triage_full.json``, which the lesson shows next to its live
figure, labelled with the date and this command. It also reports how much of each prompt the
llama.cpp prompt cache held (the system prompt and the few-shot examples come first in every
request, identical, so only the ticket has to be read).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time

from machine import ROOT, describe_machine, load_average
from results_file import markdown_table, replace_section

SECTION = "## (i) Triage on the 100 tickets of lesson 02 (`benchmarks/triage_full.py`)"
MEASURED = ROOT / "src" / "enterprise_ai" / "data" / "measured" / "triage_full.json"
COMMAND = "python benchmarks/triage_full.py"
METHODS = ("keywords", "zero_shot", "few_shot")
#: The same measurement before the speed work (issue 13), as RESULTS.md (g) recorded it on
#: 2026-11-25 at commit 09fcb9b: one request at a time, free-whitespace JSON.
BEFORE = {
    "keywords": {"category accuracy": 0.95, "action accuracy": 0.86, "seconds": 0},
    "zero_shot": {"category accuracy": 0.16, "action accuracy": 0.49, "seconds": 193},
    "few_shot": {"category accuracy": 0.29, "action accuracy": 0.37, "seconds": 184},
}


def measure() -> dict:
    """Run every method on the lesson's sample; return the figures as plain data."""
    from enterprise_ai import data, llm, triage
    from enterprise_ai.local_server import get_local_server

    sample = data.tickets().sort_values("ticket_id").head(100)
    client, model = llm.get_client(), llm.default_model()
    figures: dict = {}
    for method in METHODS:
        print(f"  {method} …", end=" ", flush=True)
        started = time.perf_counter()
        results = triage.evaluate(sample, method=method, client=client, model=model)
        seconds = time.perf_counter() - started
        prompt = int(results["prompt_tokens"].sum())
        cached = int(results["cached_tokens"].sum())
        figures[method] = {
            "tickets": len(results),
            "category accuracy": round(triage.accuracy(results), 3),
            "action accuracy": round(
                triage.accuracy(results, expected="expected_action", predicted="predicted_action"),
                3,
            ),
            "urgency accuracy": round(
                triage.accuracy(
                    results, expected="expected_urgency", predicted="predicted_urgency"
                ),
                3,
            ),
            "category accuracy, English": round(
                triage.accuracy(results[results["language"] == "en"]), 3
            ),
            "category accuracy, German": round(
                triage.accuracy(results[results["language"] == "de"]), 3
            ),
            "battery tickets sent elsewhere": int(
                (
                    (results["expected"] == "battery_safety")
                    & (results["predicted"] != "battery_safety")
                ).sum()
            ),
            "fallbacks": int(results["fallback"].sum()),
            "retries": int((results["attempts"] > 1).sum()),
            "seconds": round(seconds, 1),
            "prompt tokens": prompt,
            "prompt tokens from the cache": cached,
        }
        print(f"{seconds:.0f} s", flush=True)
    server = get_local_server() if llm.load_settings().backend == "local" else None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "command": COMMAND,
        "backend": llm.load_settings().backend,
        "model": model,
        "slots": server.n_parallel if server else None,
        "machine": f"{describe_machine()['CPU']}, {os.cpu_count()} cores",
        "methods": figures,
    }


def _slots(slots: int | None) -> str:
    if not slots:
        return "a hosted endpoint"
    return "1 server slot (one ticket at a time)" if slots == 1 else f"{slots} server slots"


def section_lines(measured: dict, load_end: str) -> list[str]:
    rows = []
    for method, f in measured["methods"].items():
        hit = (
            f"{f['prompt tokens from the cache'] / f['prompt tokens']:.0%}"
            if f["prompt tokens"]
            else "–"
        )
        rows.append(
            [
                method,
                f"{f['category accuracy']:.2f}",
                f"{f['category accuracy, English']:.2f} / {f['category accuracy, German']:.2f}",
                f"{f['action accuracy']:.2f}",
                f"{f['urgency accuracy']:.2f}",
                f["battery tickets sent elsewhere"],
                f"{f['fallbacks']} / {f['retries']}",
                f"{f['seconds']:.0f}",
                hit,
            ]
        )
    header = [
        "method",
        "category accuracy",
        "EN / DE",
        "action accuracy",
        "urgency accuracy",
        "battery tickets sent elsewhere",
        "fallbacks / retries",
        "seconds",
        "prompt tokens from the cache",
    ]
    before_rows = [
        [
            method,
            f"{BEFORE[method]['category accuracy']:.2f} → {f['category accuracy']:.2f}",
            f"{BEFORE[method]['action accuracy']:.2f} → {f['action accuracy']:.2f}",
            f"{BEFORE[method]['seconds']:.0f} → {f['seconds']:.0f}",
        ]
        for method, f in measured["methods"].items()
        if method in BEFORE
    ]
    before = [
        "Before → after the speed work (before: RESULTS (g) of 2026-11-25, commit 09fcb9b, "
        "free-whitespace JSON; after: compact JSON grammar, this run). The accuracies moved by "
        "up to ten points in both directions; on 100 tickets one standard error is about five "
        "points, and the gains and losses roughly cancel. The compact grammar changed which "
        "wrong answers a near-chance model gives, not how good it is:",
        "",
        *markdown_table(["method", "category accuracy", "action accuracy", "seconds"], before_rows),
        "",
    ]
    return [
        SECTION,
        "",
        f"Measured {measured['date']} with `{measured['command']}`: backend "
        f"`{measured['backend']}`, model `{measured['model']}`, {_slots(measured['slots'])}, "
        f"{measured['machine']}; load average at the end {load_end}. "
        "Lesson 02 shows this table next to its live run on ten of these tickets "
        "(`data.measured('triage_full')`).",
        "",
        *markdown_table(header, rows),
        "",
        *before,
    ]


def main() -> int:
    os.environ["COURSE_BACKEND"] = "local"
    os.environ["COURSE_DOTENV"] = "0"
    print("triage: 3 methods × 100 tickets …", flush=True)
    measured = measure()
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    MEASURED.write_text(json.dumps(measured, indent=1) + "\n", encoding="utf-8")
    lines = section_lines(measured, load_average())
    print("\n".join(lines))
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    print(f"Wrote {MEASURED.relative_to(ROOT)} and section (i) of benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
