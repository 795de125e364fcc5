"""How many llama.cpp threads a learner's own server should use: measured, quiet and busy.

    python benchmarks/threads.py          # about 4 minutes on 2 cores

llama.cpp's threads meet at a barrier after every step of every token, so one thread that has
to share its core with another busy program holds all the others up. More threads are faster on
a quiet machine and slower on a busy one. The course therefore decides when the server starts
(:func:`enterprise_ai.local_server._default_threads`): every core if the cores are quiet, one
core less otherwise. This script checks that choice: the same 12 tickets of few-shot triage
(lesson 02) with 1 thread, with every core, and with the automatic choice, first on a quiet
machine and then with one other process keeping a core busy (what a video call or a compile
does to a laptop). Each run is a fresh Python process with its own server. Writes section (l)
of RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager

from machine import ROOT, describe_machine, git_commit, load_average
from results_file import markdown_table, replace_section

SECTION = "## (l) Threads for a learner's own server (`benchmarks/threads.py`)"
TICKETS = 12

#: One run: start a server with the given COURSE_THREADS, warm it up, time few-shot triage.
RUN = """
import json, time
from enterprise_ai import data, llm, triage
from enterprise_ai.local_server import running_server
client, model = llm.get_client(), llm.default_model()
triage.classify("My bike lock is stuck.", client=client, model=model, method="few_shot")
server = running_server()
started = time.perf_counter()
for _, row in data.tickets().sort_values("ticket_id").head({tickets}).iterrows():
    triage.classify(triage.ticket_text(row), client=client, model=model, method="few_shot")
print(json.dumps({{"seconds": time.perf_counter() - started, "threads": server.n_threads}}))
"""


@contextmanager
def one_busy_core(busy: bool):
    """While active, one other process spins on a core (like a video call or a compile)."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)  # let the scheduler see it before the server measures the machine
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def run_once(threads: str, *, busy: bool) -> dict:
    """One fresh process, one server; ``threads`` is COURSE_THREADS ("" = automatic)."""
    env = {**os.environ, "COURSE_DOTENV": "0", "COURSE_BACKEND": "local", "COURSE_THREADS": threads}
    with one_busy_core(busy):
        result = subprocess.run(
            [sys.executable, "-c", RUN.format(tickets=TICKETS)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    cores = os.cpu_count() or 1
    load_start = load_average()
    settings = [("1", "1 thread"), (str(min(cores, 8)), "every core"), ("", "automatic")]
    rows = []
    for busy in (False, True):
        condition = "one other busy process" if busy else "quiet"
        for threads, label in settings:
            measured = run_once(threads, busy=busy)
            print(
                f"{condition:24} {label:12} threads={measured['threads']} "
                f"{measured['seconds']:.1f} s",
                flush=True,
            )
            rows.append([condition, label, measured["threads"], f"{measured['seconds']:.1f}"])
    machine = describe_machine()
    lines = [
        SECTION,
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with `python benchmarks/threads.py`"
        f" at commit {git_commit()}: {machine['CPU']}, {cores} cores; load average at start "
        f"{load_start}, at the end {load_average()}. {TICKETS} tickets of few-shot triage "
        "(lesson 02), one at a time, after one warm-up request; each row is a fresh process "
        "with its own server. *Automatic* is what a learner gets without `COURSE_THREADS`: "
        "every core if the cores are quiet when the server starts, one core less otherwise "
        "(`local_server._default_threads`).",
        "",
        *markdown_table(["machine", "setting", "threads", "seconds"], rows),
        "",
        "More threads pay only on a quiet machine: llama.cpp's threads wait for each other "
        "after every step, so a thread that shares its core with another program slows all of "
        "them. The choice is made once, at start-up; a laptop that gets busy later (a video "
        "call started mid-lesson) keeps the faster-when-quiet setting until the kernel "
        "restarts. Starting JupyterLab with `COURSE_THREADS=1 make lab` makes it conservative "
        "for good.",
        "",
    ]
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
