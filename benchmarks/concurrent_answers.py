"""Does a second answer written at the same time cost the first one? Measured on this CPU.

    python benchmarks/concurrent_answers.py          # about 1 minute on 2 cores

The class server's queue (:mod:`enterprise_ai.fair_share`) stops a loop's running request when
someone else asks. That is only worth it if llama.cpp's slots share the cores rather than add
capacity: if two answers at once took no longer per token than one, a loop in the background
would cost the room nothing. This script starts the class server's llama.cpp (4 slots, every
core), times the module 00 chat answer (at most 60 tokens) alone, then with 1 and with 2 other
answers always being written in the background, and reports milliseconds per generated token.
Writes section (n) of RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import threading
import time

from machine import ROOT, describe_machine, git_commit, load_average
from results_file import markdown_table, replace_section

SECTION = "## (n) Answers written at the same time (`benchmarks/concurrent_answers.py`)"
REQUESTS = 15


def main() -> int:
    import httpx2

    from enterprise_ai.local_server import LocalServer, class_server_threads

    server = LocalServer(n_parallel=4, n_threads=class_server_threads())
    url = server.base_url + "/v1/chat/completions"
    chat = {
        "model": server.model_name,
        "messages": [
            {"role": "system", "content": "You are the support assistant of Isar Cycles."},
            {"role": "user", "content": "In two sentences: how do I charge my e-bike?"},
        ],
        "max_tokens": 60,
        "temperature": 0.7,
    }
    background = {
        "model": server.model_name,
        "messages": [{"role": "user", "content": "Write a long story about bicycles."}],
        "max_tokens": 60,
    }
    client = httpx2.Client(timeout=120)

    def timed(http: httpx2.Client, body: dict) -> tuple[float, int]:
        started = time.perf_counter()
        reply = http.post(url, json=body)
        reply.raise_for_status()
        return time.perf_counter() - started, reply.json()["usage"]["completion_tokens"]

    timed(client, chat)  # warm-up
    rows = []
    try:
        for others in (0, 1, 2):
            stop = threading.Event()

            def keep_writing(stop: threading.Event = stop) -> None:
                with httpx2.Client(timeout=120) as http:
                    while not stop.is_set():
                        timed(http, background)

            writers = [threading.Thread(target=keep_writing, daemon=True) for _ in range(others)]
            for writer in writers:
                writer.start()
            time.sleep(1.0 if others else 0.0)
            runs = []
            for _ in range(REQUESTS):
                runs.append(timed(client, chat))
                time.sleep(0.3)
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
            ms_per_token = 1000 * sum(s for s, _ in runs) / max(1, sum(t for _, t in runs))
            rows.append(
                [
                    others,
                    REQUESTS,
                    f"{statistics.median(s for s, _ in runs):.2f}",
                    f"{ms_per_token:.1f}",
                ]
            )
            print(f"{others} other answers: {ms_per_token:.1f} ms per token", flush=True)
    finally:
        server.close()
    alone = float(rows[0][3])
    for row in rows:
        row.append(f"{float(row[3]) / alone:.1f}×")
    machine = describe_machine()
    lines = [
        SECTION,
        "",
        f"llama.cpp with 4 slots on {server.n_threads} threads ({machine['CPU']}), "
        f"the chat answer of module 00 sent {REQUESTS} times while 0, 1 or 2 other answers are "
        "always being written in the background (`classroom_load.py`'s flood request). Time per "
        "generated token, including the prompt: if the slots added capacity, it would not grow. "
        f"Run {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}, load average "
        f"at the end {load_average()}.",
        "",
        *markdown_table(
            ["other answers", "chat requests", "median s", "ms per token", "against alone"], rows
        ),
        "",
        "What follows for the class server: a learner's loop that always has an answer being "
        "written slows everyone else's answers by the factor in the second row, although it "
        "holds one slot only. That is why `fair_share.FairShare` lets loops run only in the "
        "gaps, and stops a loop's running request when someone else asks.",
        "",
    ]
    print("\n".join(lines))
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
