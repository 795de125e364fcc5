"""The support-bot arc measured end to end: PII, injections, triage, grounded answers.

    python benchmarks/support_quality.py              # about 10 minutes on 2 cores
    python benchmarks/support_quality.py --skip-model # only the rule-based parts, seconds

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
   04). Goal: it never answers an unanswerable question without escalating.

It prints a table per part and writes the section "(g)" of RESULTS.md. Tests never assert these
numbers; they are here to be read.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import pandas as pd
from machine import ROOT, load_average
from results_file import markdown_table, replace_section

SECTION_TITLE = "## (g) The support bot: PII, injections, triage and answers (modules 02–05)"
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


def answers_section(client: object, model: str) -> list[str]:
    """``evals.run`` on the whole evaluation set with the course's default bot."""
    from enterprise_ai import evals

    started = time.perf_counter()
    results = evals.run(client=client, model=model, progress=False)
    seconds = time.perf_counter() - started
    table = evals.summary(results)
    rows = [[rate, f"{row.value:.2f}", int(row.questions)] for rate, row in table.iterrows()]
    unanswerable = results[~results["answerable"]]
    unsafe = int((~(unanswerable["abstained"] | unanswerable["escalated"])).sum())
    return [
        f"### The grounded bot on the evaluation set (`evals.run`, model `{model}`, "
        f"{seconds:.0f} s)",
        "",
        *markdown_table(["rate", "value", "questions"], rows),
        "",
        f"Unanswerable questions answered without escalating: {unsafe} of {len(unanswerable)} → "
        f"{'meets' if unsafe == 0 else 'misses'} the goal (0).",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-model", action="store_true", help="only the rule-based parts")
    parser.add_argument(
        "--output", type=Path, default=ROOT / "benchmarks" / "RESULTS.md", help="Markdown file"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("COURSE_BACKEND", "local")
    os.environ["COURSE_DOTENV"] = "0"
    from enterprise_ai import llm

    started = time.perf_counter()
    parts = [pii_section(), injection_section()]
    backend = os.environ["COURSE_BACKEND"]
    if not args.skip_model:
        client, model = llm.get_client(), llm.default_model()
        print("triage: 3 methods × 100 tickets …", flush=True)
        parts.append(triage_section(client, model))
        print("evals.run on the whole evaluation set …", flush=True)
        parts.append(answers_section(client, model))
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
