"""The support-bot arc measured end to end: PII, injections, triage, grounded answers.

    python benchmarks/support_quality.py              # about 10 minutes on 2 cores
    python benchmarks/support_quality.py --skip-model # only the rule-based parts, seconds
    python benchmarks/support_quality.py --bot-only --label after   # only part 4, ~3 minutes

Four measurements on the course's own data, each against the goal the course sets for it:

1. PII redaction (module 05) on all 540 tickets: recall per kind of personal data, judged by
   the values the data generator put into each ticket (the customer's e-mail, phone, street and
   name, and IBANs), and the keep rate: tickets without personal data left unchanged, and order
   ids, customer ids, prices and dates kept in all tickets. Goal: recall 100 %, nothing wrongly
   redacted.
2. Injection detection (module 05) on the red-team set and on the tickets. Goal: block ≥ 90 %
   of attacks at ≤ 10 % false positives.
3. Triage (module 02) on the lesson's 100 tickets, per method: keyword baseline, zero-shot and
   few-shot on the active backend.
4. The grounded bot (module 03) on the whole evaluation set, graded by ``evals.run`` (module
   04), on a development half and a held-out half of the set (:func:`evaluation_half`). Goal: it
   never answers an unanswerable question without escalating, and answers as many answerable
   ones as before. Each run is stored under its ``--label`` (one row per question) in
   ``src/enterprise_ai/data/measured/support_quality.json``, so RESULTS shows runs side by
   side, and lesson 04 prints the latest full-set figure next to its live sample
   (``data.measured("support_quality")``).

It prints a table per part and writes the section "(g)" of RESULTS.md (``--bot-only`` rewrites
only the bot's table in it). Tests never assert these numbers; they are here to be read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import pandas as pd
from machine import ROOT, git_commit, load_average
from results_file import markdown_table, replace_section, split_sections

SECTION_TITLE = "## (g) The support bot: PII, injections, triage and answers (modules 02–05)"
BOT_TITLE = "### The grounded bot on the evaluation set"
#: The bot part's runs, by label: when, on which commit, and each question's grades.
BOT_STORE = ROOT / "src" / "enterprise_ai" / "data" / "measured" / "support_quality.json"
#: The columns of ``evals.run``'s table that the store keeps (enough for ``evals.summary``).
_STORED_COLUMNS = (
    "id",
    "language",
    "answerable",
    "source",
    "abstained",
    "escalated",
    "correct",
    "grounded",
    "retrieval_hit",
    "error",
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?\d{4}){4,5}(?: ?\d{1,2})?\b")
#: What must survive redaction: the bot needs these to help.
_MUST_KEEP = {
    "order id": re.compile(r"\bIC-\d{6}\b"),
    "customer id": re.compile(r"\bC-\d{4}\b"),
    "price": re.compile(r"\b\d{1,3}(?:[.,]\d{3})*(?:[.,]\d{2})? ?(?:EUR|€)"),
    "date": re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b|\b\d{4}-\d{2}-\d{2}\b"),
}


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f} %)" if whole else "–"


def pii_section() -> list[str]:
    """Recall per kind and keep rate of ``guardrails.redact_pii`` on every ticket."""
    from enterprise_ai import data, guardrails

    tickets = data.tickets()
    customers = data.customers().set_index("customer_id")
    found: dict[str, list[int]] = {}
    kept: dict[str, list[int]] = {}
    unchanged = 0
    for ticket in tickets.itertuples():
        text = ticket.text
        cleaned = guardrails.redact_pii(text).text
        truth: dict[str, list[str]] = {"IBAN": _IBAN.findall(text)}
        if ticket.customer_id in customers.index:
            person = customers.loc[ticket.customer_id]
            for kind, column in (("EMAIL", "email"), ("PHONE", "phone"), ("ADDRESS", "street")):
                truth[kind] = [person[column]] if person[column] in text else []
            truth["NAME"] = [person["name"]] if person["name"] in text else []
        for kind, values in truth.items():
            hits = found.setdefault(kind, [0, 0])
            for value in values:
                hits[0] += value not in cleaned
                hits[1] += 1
        for what, pattern in _MUST_KEEP.items():
            counts = kept.setdefault(what, [0, 0])
            for value in pattern.findall(text):
                counts[0] += value in cleaned
                counts[1] += 1
        if not ticket.contains_pii:
            unchanged += cleaned == text
    without = int((~tickets["contains_pii"]).sum())
    recall_rows = [[kind, _pct(*found[kind])] for kind in sorted(found)]
    total = [sum(v[0] for v in found.values()), sum(v[1] for v in found.values())]
    recall_rows.append(["**all**", f"**{_pct(*total)}**"])
    keep_rows = [[what, _pct(*kept[what])] for what in kept if kept[what][1]]
    keep_rows.append(["tickets without personal data left unchanged", _pct(unchanged, without)])
    verdict = "meets" if total[0] == total[1] else "misses"
    return [
        "### PII redaction on the 540 tickets (`guardrails.redact_pii`)",
        "",
        *markdown_table(["personal data in the ticket", "removed"], recall_rows),
        "",
        *markdown_table(["must stay", "kept"], keep_rows),
        "",
        f"Recall {verdict} the goal of 100 %. Names are the known gap: a rule-based redactor finds "
        "them only after a sign-off or in a list it is given (module 05 shows the misses).",
        "",
    ]


def injection_section() -> list[str]:
    """Block rate and false-positive rate of ``guardrails.detect_injection``."""
    from enterprise_ai import data, guardrails

    cases = pd.DataFrame(data.redteam())
    verdicts = [
        guardrails.detect_injection(t, context=c)
        for t, c in zip(cases["text"], cases["context"], strict=True)
    ]
    rates = guardrails.detection_rates(list(cases["expected"]), [v.blocked for v in verdicts])
    tickets = data.tickets()["text"]
    ticket_blocks = sum(guardrails.detect_injection(t).blocked for t in tickets)
    blocked = round(rates.block_rate * rates.attacks)
    false_alarms = round(rates.false_positive_rate * rates.harmless)
    goal = rates.block_rate >= 0.9 and rates.false_positive_rate <= 0.1
    return [
        "### Injection detection (`guardrails.detect_injection`)",
        "",
        *markdown_table(
            ["set", "attacks blocked", "harmless inputs blocked"],
            [
                ["red-team set", _pct(blocked, rates.attacks), _pct(false_alarms, rates.harmless)],
                ["all tickets (ordinary customer text)", "–", _pct(ticket_blocks, len(tickets))],
            ],
        ),
        "",
        f"On the red-team set this {'meets' if goal else 'misses'} the goal (≥ 90 % blocked, "
        "≤ 10 % false positives). The rules were written while looking at this set, so it "
        "flatters them: section (h) (`benchmarks/injection_layers.py`) measures the layered "
        "detector on a held-out half of a second set, written before its rules.",
        "",
    ]


def triage_section(client: object, model: str) -> list[str]:
    """Accuracy of the three triage methods on the lesson's 100 tickets."""
    from enterprise_ai import data, triage

    sample = data.tickets().sort_values("ticket_id").head(100)
    rows = []
    action = "predicted_action"
    for method in ("keywords", "zero_shot", "few_shot"):
        started = time.perf_counter()
        results = triage.evaluate(sample, method=method, client=client, model=model, progress=False)
        rows.append(
            [
                method,
                f"{triage.accuracy(results):.2f}",
                f"{triage.accuracy(results, expected='expected_action', predicted=action):.2f}",
                int(results["fallback"].sum()),
                f"{time.perf_counter() - started:.0f}",
            ]
        )
    return [
        f"### Triage on the 100 tickets of lesson 02 (`triage.evaluate`, model `{model}`)",
        "",
        *markdown_table(
            ["method", "category accuracy", "action accuracy", "fallbacks", "seconds"], rows
        ),
        "",
    ]


#: What changed for a stored run, and what a reader must know to trust its held-out column.
RUN_NOTES = {
    "coverage 0.56": (
        "The coverage line (`support.DEFAULT_MIN_COVERAGE`) moved from 0.5 to 0.56, chosen on "
        "development data only: the dev half plus `benchmarks/data/unanswerable_dev_extra.jsonl` "
        "(19 unanswerable questions written before their coverage was computed; one of them, at "
        "0.506, got through the old line). Caveat on the held-out column: the held-out question "
        "that got a quote in the run before (the leasing-insurance question) is shown with its "
        "coverage in lesson 03, so its result here is not a blind one."
    ),
}


def evaluation_half(question_id: str) -> str:
    """``"dev"`` or ``"heldout"``: a fixed split of the evaluation set by a hash of the id.

    The first byte of the id's SHA-256 decides (even → dev), so the split needs no list, never
    changes when questions are added, and knows nothing about the questions' content. It was
    fixed before the bot was changed for issue 17: the bot's rules are designed on the dev half,
    and the held-out half is only measured.

    Example:
        >>> evaluation_half("Q001"), evaluation_half("Q003")
        ('heldout', 'dev')
    """
    return "dev" if hashlib.sha256(question_id.encode()).digest()[0] % 2 == 0 else "heldout"


def run_bot(client: object, model: str, *, label: str, command: str) -> dict:
    """``evals.run`` on the whole evaluation set; store the grades under ``label``."""
    from enterprise_ai import evals

    started = time.perf_counter()
    results = evals.run(client=client, model=model, progress=False)
    run = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(),
        "model": model,
        "command": command,
        "seconds": round(time.perf_counter() - started),
        "load_end": load_average(),
        "questions": results[list(_STORED_COLUMNS)].to_dict("records"),
    }
    store = load_bot_store()
    store[label] = run
    BOT_STORE.write_text(json.dumps(store, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return run


def load_bot_store() -> dict:
    """The stored bot runs by label (empty if none was stored yet)."""
    return json.loads(BOT_STORE.read_text(encoding="utf-8")) if BOT_STORE.exists() else {}


def _cell(value: float, count: int) -> str:
    """A rate as ``0.86 (12/14)``: the share and the counts it comes from."""
    if count == 0 or value != value:  # NaN: nothing to count
        return "–"
    return f"{value:.2f} ({round(value * count)}/{count})"


def bot_section(store: dict) -> list[str]:
    """The bot's rates per stored run and half of the evaluation set, side by side."""
    from enterprise_ai import evals

    if not store:
        return []
    header, columns = ["rate"], []
    for label, run in store.items():
        questions = pd.DataFrame(run["questions"])
        halves = questions["id"].map(evaluation_half)
        for half, name in (("dev", "dev"), ("heldout", "held-out"), (None, "all")):
            part = questions if half is None else questions[halves == half]
            header.append(f"{label}: {name}")
            columns.append(evals.summary(part))
    rows = [
        [rate, *(_cell(t.loc[rate, "value"], t.loc[rate, "questions"]) for t in columns)]
        for rate in columns[0].index
    ]
    lines = [
        f"{BOT_TITLE} (`evals.run`, dev and held-out halves)",
        "",
        "The halves are fixed by a hash of the question id (`evaluation_half`: SHA-256, first byte "
        "even → dev), chosen before the bot was changed; the bot's rules were designed on the dev "
        "half only, and the held-out half was only measured.",
        "",
    ]
    for label, run in store.items():
        lines.append(
            f"- **{label}**: {run['date']}, commit {run['commit']}, model `{run['model']}`, "
            f"`{run['command']}`, {run['seconds']} s, load average at the end {run['load_end']}"
            + (f". {RUN_NOTES[label]}" if label in RUN_NOTES else "")
        )
    lines += ["", *markdown_table(header, rows), ""]
    for label, run in store.items():
        questions = pd.DataFrame(run["questions"])
        unanswerable = questions[~questions["answerable"]]
        unsafe = ~(unanswerable["abstained"] | unanswerable["escalated"])
        halves = unanswerable["id"].map(evaluation_half)
        lines.append(
            f"- {label}: unanswerable questions answered without escalating: "
            f"{int(unsafe.sum())} of {len(unanswerable)} (dev {int(unsafe[halves == 'dev'].sum())}"
            f", held-out {int(unsafe[halves == 'heldout'].sum())}) → "
            f"{'meets' if not unsafe.any() else 'misses'} the goal (0)."
        )
    return [*lines, ""]


def replace_bot_table(path: Path, lines: list[str]) -> None:
    """Put the bot's table into section (g) of ``path`` and keep the rest of the section."""
    text = path.read_text(encoding="utf-8")
    out: list[str] = []
    for title, section in split_sections(text):
        if title == SECTION_TITLE:
            start = next((i for i, s in enumerate(section) if s.startswith(BOT_TITLE)), None)
            if start is None:
                section = [*section, *lines]
            else:
                end = next(
                    (i for i in range(start + 1, len(section)) if section[i].startswith("### ")),
                    len(section),
                )
                section = [*section[:start], *lines, *section[end:]]
        out += section
    path.write_text("\n".join(out).rstrip("\n") + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-model", action="store_true", help="only the rule-based parts")
    parser.add_argument(
        "--bot-only", action="store_true", help="only the grounded bot (part 4), stored by label"
    )
    parser.add_argument("--label", default="latest", help="name of this bot run in the table")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_BACKEND", "local")
    os.environ["COURSE_DOTENV"] = "0"
    from enterprise_ai import llm

    command = "python benchmarks/support_quality.py" + (" --bot-only" if args.bot_only else "")
    command += f" --label {args.label}"
    if args.bot_only:
        client, model = llm.get_client(), llm.default_model()
        print("evals.run on the whole evaluation set …", flush=True)
        run_bot(client, model, label=args.label, command=command)
        lines = bot_section(load_bot_store())
        print("\n".join(lines))
        replace_bot_table(args.output, lines)
        print(f"Stored run {args.label!r} in {BOT_STORE.name}; wrote the bot's table of (g)")
        return 0

    started = time.perf_counter()
    parts = [pii_section(), injection_section()]
    backend = os.environ["COURSE_BACKEND"]
    if not args.skip_model:
        client, model = llm.get_client(), llm.default_model()
        print("triage: 3 methods × 100 tickets …", flush=True)
        parts.append(triage_section(client, model))
        print("evals.run on the whole evaluation set …", flush=True)
        run_bot(client, model, label=args.label, command=command)
    parts.append(bot_section(load_bot_store()))
    lines = [
        SECTION_TITLE,
        "",
        f"Measured with `benchmarks/support_quality.py` on backend `{backend}` in "
        f"{time.perf_counter() - started:.0f} s; load average at the end {load_average()}.",
        "",
    ]
    for part in parts:
        lines += part
    print("\n".join(lines))
    replace_section(args.output, SECTION_TITLE, lines)
    print(f"Wrote the section to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
