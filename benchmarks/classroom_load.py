"""A class of learners on one machine: ``course serve`` under load, measured.

    python benchmarks/classroom_load.py                    # 10, 20, 30 learners, 4 slots: ~15 min
    python benchmarks/classroom_load.py --learners 30 --slots 2 --duration 60
    python benchmarks/classroom_load.py --learners 30 --hostile   # plus four attackers: ~30 min

What it simulates: ``--learners`` threads, each one a learner with their own ``openai.OpenAI``
client pointed at a class server on loopback (exactly what ``COURSE_BACKEND=compatible`` with
``OPENAI_BASE_URL`` gives a laptop in the room). Each learner comes from its own loopback
address (127.0.0.10, .11, ...), as each laptop in a room has its own; the class server shares
its capacity per key and address. Each learner reads for a while (a random "think time"), then
sends the kind of request the modules send:

- ``chat``: module 00's playground, a short answer of at most 60 tokens;
- ``triage``: module 02's structured triage of one ticket (``chat.completions.parse``);
- ``support``: module 03's grounded answer (retrieval on the laptop, one model call).

The run is bounded twice: every learner sends at most ``--requests`` requests, and nobody starts a
new one after ``--duration`` seconds; requests already running are allowed to finish. Nothing in
it asserts a time: it prints a table and writes the section "Classroom load" of RESULTS.md.

The goal from the trainer's point of view: no failed request (llama.cpp queues what its slots
cannot take; the SDK retries 429/503 with back-off), and a 60-token answer back within 10 s at
the 95th percentile.

With ``--hostile`` (one class size only), the same class runs in ``--repeats`` pairs, back to
back: once as usual (the control), once with the same learners (same seed) while four attackers
work through the whole run, each from its own address and all in a process of their own (in a
room they sit at other machines): slow-loris connections that trickle header bytes (and more
connections than one address may hold), a client posting 5 MB bodies, a client guessing keys,
and a flood of chat requests with the right key from eight threads. The goals then: still no
failed learner request, and the learners' chat p95, over all pairs together, within 20 % of the
quiet 1.8 s of section (f) that issue 15 names. The controls show what the shared machine gave
without attackers on the same day. It writes its own section of RESULTS.md, with what each
attacker got back and a check of the server's log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from machine import ROOT, describe_machine, git_commit, load_average
from results_file import markdown_table, replace_section

KINDS = ("chat", "triage", "support")
P95_GOAL_SECONDS = 10.0
SECTION_TITLE = "## (f) Classroom load: `course serve` with many learners"
HOSTILE_TITLE = "## (f2) Classroom load with hostile clients: 30 learners and four attackers"
#: What the flooder asks for (``--flood``): the title of its RESULTS section, what it does, and
#: its request. ``long-streams`` is an attack the class server's queue was not designed
#: around: streams are never stopped, and each asks for thousands of tokens.
FLOODS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "short": (HOSTILE_TITLE, "8 threads of chat requests, no pause", {"max_tokens": 60}),
    "long-streams": (
        "## (f3) Classroom load with hostile clients: the flood streams long answers",
        "8 threads of streamed requests for 4000 tokens each, no pause",
        {"max_tokens": 4000, "stream": True},
    ),
}
#: The 30-learner chat p95 of section (f) without attackers (commit 09fcb9b, http.server proxy):
#: the attackers' run should stay within 20 % of it.
BASELINE_CHAT_P95_S = 1.8
HOSTILE_SLOWDOWN_GOAL = 1.2


@dataclass(frozen=True)
class Outcome:
    """One request of one learner."""

    learner: int
    kind: str
    seconds: float
    completion_tokens: int
    ok: bool
    error: str = ""


def _percentile(values: list[float], share: float) -> float:
    """The value below which ``share`` of ``values`` lie (nearest rank; 0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(share * len(ordered) + 0.5)) if share < 1 else len(ordered)
    return ordered[min(rank, len(ordered)) - 1]


def _one_request(
    kind: str, client: Any, model: str, rng: random.Random, tickets: list, questions: list
) -> int:
    """Send one request of ``kind``; return its completion tokens. Raises on failure."""
    from enterprise_ai import kb, support, triage

    if kind == "chat":
        reply = client.chat.completions.create(
            model=model,
            messages=[
                {"role": "system", "content": "You are the support assistant of Isar Cycles."},
                {"role": "user", "content": "In two sentences: how do I charge my e-bike?"},
            ],
            max_tokens=60,
            temperature=0.7,
        )
        return reply.usage.completion_tokens if reply.usage else 0
    if kind == "triage":
        ticket = tickets[rng.randrange(len(tickets))]
        completion = client.chat.completions.parse(
            model=model,
            messages=triage.build_messages(triage.ticket_text(ticket), method="zero_shot"),
            response_format=triage.TicketTriage,
            temperature=0,
            max_tokens=120,
        )
        return completion.usage.completion_tokens if completion.usage else 0
    question = questions[rng.randrange(len(questions))]
    # What support.answer() sends, spelled out so the usage of the reply can be counted.
    reply = client.chat.completions.create(
        model=model,
        messages=support.build_messages(question, kb.search(question, k=3)),
        temperature=0,
        max_tokens=100,
    )
    return reply.usage.completion_tokens if reply.usage else 0


def _learner_address(number: int) -> str:
    """Learner ``number``'s own loopback address: one laptop, one address."""
    return f"127.0.0.{10 + number}"


def _learner(
    number: int,
    *,
    base_url: str,
    api_key: str,
    model: str,
    requests: int,
    deadline: float,
    think_seconds: float,
    seed: int,
    tickets: list[dict[str, Any]],
    questions: list[str],
    outcomes: list[Outcome],
    lock: threading.Lock,
) -> None:
    import httpx2
    import openai

    os.nice(10)  # this thread only (Linux); the server keeps its priority
    rng = random.Random(seed * 1000 + number)
    laptop = httpx2.HTTPTransport(local_address=_learner_address(number))
    client = openai.OpenAI(
        base_url=base_url,
        api_key=api_key,
        max_retries=3,
        timeout=300,
        http_client=httpx2.Client(transport=laptop),
    )
    time.sleep(rng.uniform(0, think_seconds))  # learners do not all press Run at the same second
    for _ in range(requests):
        if time.perf_counter() >= deadline:
            break
        kind = rng.choice(KINDS)
        started = time.perf_counter()
        try:
            tokens = _one_request(kind, client, model, rng, tickets, questions)
            outcome = Outcome(number, kind, time.perf_counter() - started, tokens, True)
        except Exception as err:  # noqa: BLE001 - a failed request is a result, not a crash
            message = f"{type(err).__name__}: {str(err)[:120]}"
            outcome = Outcome(number, kind, time.perf_counter() - started, 0, False, message)
        with lock:
            outcomes.append(outcome)
        time.sleep(rng.uniform(0.5, 1.5) * think_seconds)  # reading, typing, discussing
    client.close()


def _start_course_serve(slots: int, api_key: str, log: Any) -> subprocess.Popen[str]:
    """Run ``course serve`` as its own process, as a trainer does, and wait for its URL.

    The simulated learners' threads lower their own priority (``os.nice`` applies to the
    calling thread on Linux): on one machine they stand in for thirty laptops, so they should
    not take the server's cores. The server's log (stderr) goes to ``log``.
    """
    command = [str(Path(sys.executable).with_name("course")), "serve", "--port", "0"]
    server = subprocess.Popen(
        [*command, "--parallel", str(slots), "--api-key", api_key],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    assert server.stdout is not None
    for line in server.stdout:
        if "OPENAI_BASE_URL=" in line:
            server.url = line.split("=", 1)[1].strip()  # type: ignore[attr-defined]
            break
    else:
        raise RuntimeError("course serve stopped before printing its URL")
    return server


# --------------------------------------------------------------------------------------------
# Hostile clients: each runs until ``deadline`` from its own address and counts what it got
# --------------------------------------------------------------------------------------------

#: Written into every attacker's key and body: it must never show up in the server's log.
MARKER = "ATTACKER-MARKER-" + secrets.token_hex(4)


@dataclass
class Attack:
    """What one attacker did and what the class server answered."""

    name: str
    what: str
    address: str
    answers: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, answer: object) -> None:
        self.answers[str(answer)] += 1


def _host_port(base_url: str) -> tuple[str, int]:
    netloc = base_url.split("/")[2]
    host, _, port = netloc.rpartition(":")
    return host.strip("[]"), int(port)


def _slow_loris(attack: Attack, base_url: str, deadline: float, connections: int) -> None:
    """Open ``connections`` connections that send one header byte every 2 s; reopen dropped ones.

    More connections than one address may hold: the surplus is closed at once.
    """
    os.nice(10)
    address = _host_port(base_url)
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: class\r\nX-Slow: " + b"a" * 10_000
    lifetimes: list[float] = []
    lock = threading.Lock()

    def one_connection() -> None:
        while time.perf_counter() < deadline:
            try:
                sock = socket.create_connection(
                    address, timeout=5, source_address=(attack.address, 0)
                )
            except OSError as err:
                with lock:
                    attack.count(f"connect failed ({type(err).__name__})")
                time.sleep(1)
                continue
            opened, sent = time.perf_counter(), 0
            with sock:
                while time.perf_counter() < deadline:
                    readable, _, _ = select.select([sock], [], [], 2.0)
                    try:
                        if readable and not sock.recv(1024):
                            break  # the server hung up
                        sock.send(head[sent : sent + 1])
                        sent += 1
                    except OSError:
                        break
                else:
                    with lock:
                        attack.count("still open at the end")
                    return
            time.sleep(0.5)  # then straight back with a new connection
            with lock:
                lifetime = time.perf_counter() - opened - 0.5
                lifetimes.append(lifetime)
                attack.count(
                    "dropped at once (over the per-address cap)"
                    if lifetime < 1
                    else "dropped at the header deadline"
                )

    threads = [threading.Thread(target=one_connection, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [t for t in lifetimes if t >= 1]
    if held:
        attack.notes.append(f"longest a trickling connection was held: {max(held):.1f} s")


def _oversized_bodies(attack: Attack, base_url: str, api_key: str, deadline: float) -> None:
    """POST 5 MB bodies with the right key, one after the other."""
    import httpx2

    os.nice(10)
    body = b'{"model": "' + MARKER.encode() + b'", "pad": "' + b"x" * 5_000_000 + b'"}'
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    transport = httpx2.HTTPTransport(local_address=attack.address)
    with httpx2.Client(transport=transport, timeout=30) as client:
        while time.perf_counter() < deadline:
            try:
                reply = client.post(f"{base_url}/chat/completions", headers=headers, content=body)
                attack.count(reply.status_code)
            except httpx2.HTTPError as err:
                attack.count(type(err).__name__)
            time.sleep(0.5)


def _wrong_keys(attack: Attack, base_url: str, deadline: float) -> None:
    """Guess keys, 20 times a second, on the model list and on chat with a small body."""
    import httpx2

    os.nice(10)
    body = {"model": "x", "messages": [{"role": "user", "content": MARKER}]}
    transport = httpx2.HTTPTransport(local_address=attack.address)
    with httpx2.Client(transport=transport, timeout=30) as client:
        while time.perf_counter() < deadline:
            guess = {"Authorization": f"Bearer {MARKER}-{secrets.token_hex(6)}"}
            try:
                attack.count(client.get(f"{base_url}/models", headers=guess).status_code)
                reply = client.post(f"{base_url}/chat/completions", headers=guess, json=body)
                attack.count(reply.status_code)
            except httpx2.HTTPError as err:
                attack.count(type(err).__name__)
            time.sleep(0.05)


def _flood(
    attack: Attack,
    base_url: str,
    api_key: str,
    model: str,
    deadline: float,
    threads: int,
    request: dict[str, Any],
) -> None:
    """Chat requests (``request``'s fields) with the right key from ``threads`` threads, no
    pause, no retries. A streamed answer is read to its end."""
    import httpx2
    import openai

    os.nice(10)
    lock = threading.Lock()

    def one_thread() -> None:
        laptop = httpx2.HTTPTransport(local_address=attack.address)
        client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,
            timeout=60,  # a flooder does not wait long for one answer
            http_client=httpx2.Client(transport=laptop),
        )
        messages = [{"role": "user", "content": "Write a long story about bicycles."}]
        while time.perf_counter() < deadline:
            try:
                reply = client.chat.completions.create(model=model, messages=messages, **request)
                if request.get("stream"):
                    for _chunk in reply:  # type: ignore[union-attr]
                        if time.perf_counter() > deadline:
                            break
                answer: object = 200
            except openai.APIStatusError as err:
                answer = err.status_code
                time.sleep(0.05)
            except openai.APIError as err:
                answer = type(err).__name__
                time.sleep(0.05)
            with lock:
                attack.count(answer)

    workers = [threading.Thread(target=one_thread, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _start_attacks(
    base_url: str, api_key: str, model: str, deadline: float, flood: str = "short"
) -> tuple[list[Attack], list[threading.Thread]]:
    _, flood_what, flood_request = FLOODS[flood]
    attacks = [
        Attack(
            "slow loris",
            "100 connections trickling one header byte every 2 s; a dropped one reconnects after "
            "0.5 s",
            "127.0.0.200",
        ),
        Attack("oversized bodies", "POST of 5 MB with the right key, every 0.5 s", "127.0.0.201"),
        Attack("wrong keys", "20 guesses per second (models and chat)", "127.0.0.202"),
        Attack("flood from one key", flood_what, "127.0.0.203"),
    ]
    runs: list[tuple[Any, tuple[Any, ...]]] = [
        (_slow_loris, (attacks[0], base_url, deadline, 100)),
        (_oversized_bodies, (attacks[1], base_url, api_key, deadline)),
        (_wrong_keys, (attacks[2], base_url, deadline)),
        (_flood, (attacks[3], base_url, api_key, model, deadline, 8, flood_request)),
    ]
    threads = [threading.Thread(target=run, args=args, daemon=True) for run, args in runs]
    for thread in threads:
        thread.start()
    return attacks, threads


def _attackers_process(
    base_url: str, api_key: str, model: str, seconds: float, flood: str, results: Any
) -> None:
    """The four attackers, in a process of their own: in a room they sit at other machines.

    As threads of the learners' process they would compete with the learners for Python's
    GIL, and the learners' timings would include the attackers' own work, not the server's.
    """
    os.nice(10)  # like the learners: this machine's cores are the server's first
    deadline = time.perf_counter() + seconds
    attacks, threads = _start_attacks(base_url, api_key, model, deadline, flood)
    for thread in threads:
        thread.join(timeout=seconds + 120)
    results.put(attacks)


def _log_check(log_text: str, api_key: str) -> str:
    """What the server's log holds: line counts by status, and whether anything leaked."""
    statuses: Counter[str] = Counter()
    for line in log_text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in ("GET", "POST", "-"):
            statuses[parts[2]] += 1
    leaked = [
        name
        for name, text in (("the class key", api_key), ("a body or a guessed key", MARKER))
        if text in log_text
    ]
    shown = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
    verdict = (
        f"it contains {' and '.join(leaked)}!"
        if leaked
        else ("no line contains the class key, a guessed key or a body")
    )
    return f"{sum(statuses.values())} request lines ({shown}); {verdict}"


def measure_classroom(
    *,
    learners: int = 30,
    slots: int = 4,
    requests: int = 3,
    duration: float = 240.0,
    think_seconds: float = 60.0,
    seed: int = 7,
    hostile: bool = False,
    flood: str = "short",
) -> tuple[list[Outcome], float, list[Attack], str]:
    """Start a class server on loopback, let ``learners`` threads use it, return all outcomes.

    Args:
        hostile: Run the four attackers (see the module docstring) during the same time.

    Returns:
        The outcomes of every learner request, the wall time of the whole run in seconds, what
        each attacker got (empty without ``hostile``), and the check of the server's log.
    """
    from enterprise_ai import data, kb, llm

    # What every laptop has loaded before its first request: data and the search index.
    tickets = data.tickets().head(200).to_dict("records")
    questions = [q.question for q in data.eval_set() if q.answerable]
    kb.default_index()

    api_key = secrets.token_hex(12)
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as log:
        server = _start_course_serve(slots, api_key, log)
        outcomes: list[Outcome] = []
        attacks: list[Attack] = []
        attackers: list[multiprocessing.process.BaseProcess] = []
        lock = threading.Lock()
        try:
            model = llm.default_model("local")
            started = time.perf_counter()
            deadline = started + duration
            if hostile:
                url = server.url  # type: ignore[attr-defined]
                spawn = multiprocessing.get_context("spawn")
                attack_results = spawn.Queue()
                attackers = [
                    spawn.Process(
                        target=_attackers_process,
                        args=(url, api_key, model, duration, flood, attack_results),
                        daemon=True,
                    )
                ]
                attackers[0].start()
            threads = [
                threading.Thread(
                    target=_learner,
                    args=(number,),
                    kwargs={
                        "base_url": server.url,  # type: ignore[attr-defined]
                        "api_key": api_key,
                        "model": model,
                        "requests": requests,
                        "deadline": deadline,
                        "think_seconds": think_seconds,
                        "seed": seed,
                        "tickets": tickets,
                        "questions": questions,
                        "outcomes": outcomes,
                        "lock": lock,
                    },
                    daemon=True,
                )
                for number in range(learners)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=duration + 600)  # a hung request must not hang the benchmark
            wall = time.perf_counter() - started
            if attackers:
                attacks = attack_results.get(timeout=duration + 300)
                attackers[0].join(timeout=60)
        finally:
            server.send_signal(signal.SIGINT)  # Ctrl+C: course serve shuts down cleanly
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        log.seek(0)
        log_check = _log_check(log.read(), api_key)
    return outcomes, wall, attacks, log_check


def _per_kind_rows(outcomes: list[Outcome]) -> list[list[object]]:
    rows: list[list[object]] = []
    for kind in (*KINDS, "all"):
        chosen = [o for o in outcomes if kind in ("all", o.kind)]
        good = [o.seconds for o in chosen if o.ok]
        rows.append(
            [
                kind,
                len(chosen),
                sum(not o.ok for o in chosen),
                f"{_percentile(good, 0.5):.1f}",
                f"{_percentile(good, 0.95):.1f}",
                f"{max(good, default=0.0):.1f}",
            ]
        )
    return rows


def classroom_section(
    runs: list[tuple[int, list[Outcome], float]],
    *,
    slots: int,
    requests: int,
    think_seconds: float,
) -> list[str]:
    """The Markdown lines of the RESULTS.md section: one row per class size, then the details
    of the largest class."""
    summary: list[list[object]] = []
    for learners, outcomes, wall in runs:
        chat = [o.seconds for o in outcomes if o.ok and o.kind == "chat"]
        good = [o.seconds for o in outcomes if o.ok]
        tokens = sum(o.completion_tokens for o in outcomes if o.ok)
        failed = sum(not o.ok for o in outcomes)
        verdict = (
            "yes" if chat and _percentile(chat, 0.95) <= P95_GOAL_SECONDS and not failed else "no"
        )
        summary.append(
            [
                learners,
                len(outcomes),
                failed,
                f"{_percentile(chat, 0.5):.1f}",
                f"{_percentile(chat, 0.95):.1f}",
                f"{_percentile(good, 0.95):.1f}",
                f"{tokens / wall:.1f}",
                verdict,
            ]
        )
    learners, outcomes, wall = max(runs, key=lambda run: run[0])
    errors = sorted({o.error for o in outcomes if not o.ok})
    lines = [
        SECTION_TITLE,
        "",
        "Simulated learners on loopback, each with their own `openai.OpenAI` client (the "
        f"`compatible` backend), at most {requests} requests each, starting at random within the "
        f"first {think_seconds:.0f} s, then about {think_seconds:.0f} s apart (reading, typing). "
        f"The server is `course serve --parallel {slots}` in its own process, with llama.cpp on "
        "every core (`course serve`'s default since the 30-learner run with one thread missed "
        "the goal: chat p95 10.8 s). The learners' own work (SDK, retrieval) runs on the same "
        "two cores here, at a lower priority; in a room it runs on their laptops. Load average "
        f"at the end: {load_average()}.",
        "",
        *markdown_table(
            [
                "learners",
                "requests",
                "failed",
                "chat p50 s",
                "chat p95 s",
                "all p95 s",
                "tokens/s",
                f"goal met (0 failed, chat p95 ≤ {P95_GOAL_SECONDS:.0f} s)",
            ],
            summary,
        ),
        "",
        f"The {learners}-learner run by kind of request (wall time {wall:.0f} s):",
        "",
        *markdown_table(
            ["request", "sent", "failed", "p50 s", "p95 s", "max s"], _per_kind_rows(outcomes)
        ),
        "",
        "`chat` is module 00's 60-token answer, `triage` module 02's structured triage, `support` "
        "module 03's grounded answer.",
    ]
    if errors:
        lines.append("Errors seen: " + "; ".join(errors[:5]))
    return [*lines, ""]


@dataclass(frozen=True)
class ClassRun:
    """One run of the class: its outcomes, wall time and the machine's load around it."""

    outcomes: list[Outcome]
    wall: float
    load_before: str
    load_after: str

    @property
    def chat_p95(self) -> float:
        return _percentile([o.seconds for o in self.outcomes if o.ok and o.kind == "chat"], 0.95)

    def row(self, name: str) -> list[object]:
        chat = [o.seconds for o in self.outcomes if o.ok and o.kind == "chat"]
        good = [o.seconds for o in self.outcomes if o.ok]
        return [
            name,
            len(self.outcomes),
            sum(not o.ok for o in self.outcomes),
            f"{_percentile(chat, 0.5):.1f}",
            f"{_percentile(chat, 0.95):.1f}",
            f"{_percentile(good, 0.95):.1f}",
            f"{self.wall:.0f}",
            f"{self.load_before} → {self.load_after}",
        ]


def _pooled(runs: list[ClassRun]) -> ClassRun:
    """All runs' outcomes as one sample (a p95 over more requests is a steadier figure)."""
    return ClassRun(
        [o for run in runs for o in run.outcomes],
        sum(run.wall for run in runs),
        runs[0].load_before,
        runs[-1].load_after,
    )


def hostile_section(
    learners: int,
    controls: list[ClassRun],
    attacked_runs: list[ClassRun],
    attacks: list[Attack],
    log_check: str,
    *,
    slots: int,
    requests: int,
    think_seconds: float,
    title: str = HOSTILE_TITLE,
    first_seed: int = 7,
) -> list[str]:
    """The Markdown lines of the hostile runs' RESULTS.md section.

    ``attacks`` and ``log_check`` are those of the last run with attackers.
    """
    control, attacked = _pooled(controls), _pooled(attacked_runs)
    outcomes = attacked.outcomes
    failed = sum(not o.ok for o in outcomes)
    issue_limit = BASELINE_CHAT_P95_S * HOSTILE_SLOWDOWN_GOAL
    control_limit = control.chat_p95 * HOSTILE_SLOWDOWN_GOAL
    chat_sent = sum(o.kind == "chat" for o in outcomes)

    def verdict(limit: float) -> str:
        return "yes" if not failed and attacked.chat_p95 <= limit else "no"

    errors = sorted({o.error for o in outcomes if not o.ok})
    rows = []
    for number, (quiet, loud) in enumerate(zip(controls, attacked_runs, strict=True), 1):
        rows += [quiet.row(f"control {number}"), loud.row(f"with attackers {number}")]
    if len(controls) > 1:
        rows += [control.row("control, all runs"), attacked.row("with attackers, all runs")]
    lines = [
        title,
        "",
        f"The class of section (f), {learners} learners (at most {requests} requests each, about "
        f"{think_seconds:.0f} s apart, each from its own loopback address, `course serve "
        f"--parallel {slots} --api-key ...` in its own process), run in {len(controls)} "
        f"pair{'s' if len(controls) > 1 else ''} "
        "back to back: without attackers (control), then the same learners (same seed) while "
        "four attackers work through the whole run, each from its own address and in a process "
        "of its own (in a room they sit at other machines). The p95 figures of all runs together "
        f"rest on {chat_sent} chat requests per condition. The load average (1/5/15 min) before "
        "and after each run shows how busy the shared machine was. Seeds (who asks what, and "
        f"when) {first_seed} to {first_seed + len(controls) - 1}; run "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}.",
        "",
        f"Goals: no failed learner request, and the chat p95 with attackers at most "
        f"{HOSTILE_SLOWDOWN_GOAL:.0%} of the quiet {BASELINE_CHAT_P95_S} s of the issue "
        f"(≤ {issue_limit:.2f} s): **{verdict(issue_limit)}** "
        f"({failed} failed, chat p95 {attacked.chat_p95:.2f} s). Against this run's own "
        f"controls (≤ {control_limit:.2f} s): **{verdict(control_limit)}**.",
        "",
        *markdown_table(
            [
                "run",
                "requests",
                "failed",
                "chat p50 s",
                "chat p95 s",
                "all p95 s",
                "wall s",
                "load average",
            ],
            rows,
        ),
        "",
        "All runs with attackers, by kind of request:",
        "",
        *markdown_table(
            ["request", "sent", "failed", "p50 s", "p95 s", "max s"], _per_kind_rows(outcomes)
        ),
        "",
        "What the attackers got back in the last run:",
        "",
        *markdown_table(
            ["attacker", "what it did", "answers"],
            [
                [
                    a.name,
                    a.what,
                    "; ".join(f"{answer}: {n}" for answer, n in a.answers.most_common())
                    + ("" if not a.notes else f" ({'; '.join(a.notes)})"),
                ]
                for a in attacks
            ],
        ),
        "",
        f"The server's log of the last run: {log_check}.",
    ]
    if errors:
        lines.append("Learner errors seen: " + "; ".join(errors[:5]))
    return [*lines, ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--learners", default="10,20,30", help="class sizes to try, comma-separated"
    )
    parser.add_argument("--slots", type=int, default=4, help="llama.cpp slots (course serve)")
    parser.add_argument("--requests", type=int, default=3, help="at most this many per learner")
    parser.add_argument("--duration", type=float, default=240.0, help="no new requests after")
    parser.add_argument(
        "--think", type=float, default=60.0, help="mean seconds between a learner's requests"
    )
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="one class size (the largest given) plus four attackers; writes section (f2)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="with --hostile: pairs of runs (control, attacked), pooled for a steadier p95",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="with --hostile: the first pair's seed (the next pairs add 1); another seed is "
        "another class (who asks what, and when)",
    )
    parser.add_argument(
        "--flood",
        choices=sorted(FLOODS),
        default="short",
        help="with --hostile: what the one-key flood asks for (long-streams writes section f3)",
    )
    args = parser.parse_args(argv)
    os.environ["COURSE_BACKEND"] = "local"
    os.environ["COURSE_DOTENV"] = "0"
    cores = describe_machine().get("cores (logical)")
    if args.hostile:
        learners = max(int(n) for n in args.learners.split(","))
        runs: dict[bool, list[ClassRun]] = {False: [], True: []}
        for repeat in range(args.repeats):
            for hostile in (False, True):
                print(
                    f"pair {repeat + 1}/{args.repeats}: {learners} learners"
                    f"{' and 4 attackers' if hostile else ' (control)'}, {args.slots} slots, "
                    f"on {cores} cores, load average {load_average()} …",
                    flush=True,
                )
                before = load_average()
                outcomes, wall, found, checked = measure_classroom(
                    learners=learners,
                    slots=args.slots,
                    requests=args.requests,
                    duration=args.duration,
                    think_seconds=args.think,
                    seed=args.seed + repeat,
                    hostile=hostile,
                    flood=args.flood,
                )
                runs[hostile].append(ClassRun(outcomes, wall, before, load_average()))
                if hostile:
                    attacks, log_check = found, checked
                print(f"  chat p95 {runs[hostile][-1].chat_p95:.2f} s", flush=True)
        lines = hostile_section(
            learners,
            runs[False],
            runs[True],
            attacks,
            log_check,
            slots=args.slots,
            requests=args.requests,
            think_seconds=args.think,
            title=FLOODS[args.flood][0],
            first_seed=args.seed,
        )
        print("\n".join(lines))
        replace_section(args.output, FLOODS[args.flood][0], lines)
        print(f"Wrote the section to {args.output}")
        return 0
    runs = []
    for learners in (int(n) for n in args.learners.split(",")):
        print(f"{learners} learners, {args.slots} slots, on {cores} cores …", flush=True)
        outcomes, wall, _, _ = measure_classroom(
            learners=learners,
            slots=args.slots,
            requests=args.requests,
            duration=args.duration,
            think_seconds=args.think,
        )
        runs.append((learners, outcomes, wall))
    lines = classroom_section(
        runs, slots=args.slots, requests=args.requests, think_seconds=args.think
    )
    print("\n".join(lines))
    replace_section(args.output, SECTION_TITLE, lines)
    print(f"Wrote the section to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
