"""Tool routing (lesson 06): the order-number rule, the model, and the rule first, then the model.

    python benchmarks/tool_routing.py          # about 4 minutes on 2 busy cores

Lesson 06 lets the model pick the first tool for a handful of tickets live, so that a class does
not wait minutes for one cell. This script measures a larger fixed sample: the first
``PER_GROUP`` tickets by ticket id of every expected action that maps to a tool, in English and
in German. It writes section (j) of RESULTS.md and
``src/enterprise_ai/data/measured/tool_routing.json``, which the lesson shows next to its live
figures, labelled with the date and this command.

Nothing here is tuned: ``tools.route`` (one regular expression) and ``tools.model_route`` are
the library's, unchanged. The model runs once per ticket; "rule, then model" uses the model's
answer only where the rule did not fire, and its time is that of the model calls it needs
(those tickets are sent as their own batch and timed on their own).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections import Counter

from machine import ROOT, describe_machine, load_average
from results_file import markdown_table, replace_section

SECTION = "## (j) Tool routing in lesson 06: rule, model, rule then model (`tool_routing.py`)"
MEASURED = ROOT / "src" / "enterprise_ai" / "data" / "measured" / "tool_routing.json"
COMMAND = "python benchmarks/tool_routing.py"
#: The right first tool for each expected action that a tool serves (``refuse`` has none).
RIGHT_TOOL = {
    "look_up_order": "get_order_status",
    "answer_from_kb": "search_knowledge_base",
    "create_return": "create_return_label",
    "escalate_human": "escalate_to_human",
}
PER_GROUP = 10  # tickets per expected action and language: 4 actions × 2 languages × 10
ROUTERS = ("rule alone", "model alone", "rule, then model")
NO_TOOL = "none"


def routing_sample():
    """The fixed sample: first ``PER_GROUP`` tickets by id per expected action and language."""
    from enterprise_ai import data

    tickets = data.tickets().sort_values("ticket_id")
    tickets = tickets[tickets["expected_action"].isin(RIGHT_TOOL)]
    sample = tickets.groupby(["expected_action", "language"]).head(PER_GROUP)
    return sample.reset_index(drop=True)


def _rule_seconds_per_message(texts: list[str], repeats: int = 200) -> float:
    """Microsecond timings are noisy: run the rule over the sample many times, take the mean."""
    from enterprise_ai import tools

    started = time.perf_counter()
    for _ in range(repeats):
        for text in texts:
            tools.route(text)
    return (time.perf_counter() - started) / (repeats * len(texts))


def measure() -> dict:
    """Run the rule and the model on the sample; return the figures as plain data."""
    from enterprise_ai import batch, llm, tools
    from enterprise_ai.local_server import get_local_server

    sample = routing_sample()
    client, model = llm.get_client(), llm.default_model()
    workers = batch.default_workers(client)
    tools.model_route("Warm-up: is the server there?", client=client, model=model)  # not timed

    texts = list(sample["text"])
    sample["expected"] = sample["expected_action"].map(RIGHT_TOOL)
    sample["rule alone"] = [(tools.route(text) or (NO_TOOL,))[0] for text in texts]
    rule_seconds = _rule_seconds_per_message(texts)

    def first_tool(text: str) -> str:
        return (tools.model_route(text, client=client, model=model) or (NO_TOOL,))[0]

    # The tickets the rule leaves to the model first, timed on their own: that is the model
    # time "rule, then model" costs. Then the rest, so "model alone" has every ticket.
    left = sample.index[sample["rule alone"] == NO_TOOL].tolist()
    caught = sample.index[sample["rule alone"] != NO_TOOL].tolist()
    model_choice: dict[int, str] = {}
    seconds: dict[str, float] = {}
    for name, rows in (("left to the model", left), ("caught by the rule", caught)):
        print(f"  model on {len(rows)} tickets {name} …", end=" ", flush=True)
        run = batch.run_batch(
            first_tool, [texts[i] for i in rows], workers=workers, desc=name, progress=False
        )
        if not run.complete:
            raise RuntimeError(f"The model run stopped early ({run.stopped}); run it again.")
        model_choice |= dict(zip(rows, run.results, strict=True))
        seconds[name] = run.seconds
        print(f"{run.seconds:.0f} s", flush=True)
    sample["model alone"] = [model_choice[i] for i in sample.index]
    sample["rule, then model"] = sample["rule alone"].where(
        sample["rule alone"] != NO_TOOL, sample["model alone"]
    )

    n = len(sample)
    model_seconds = sum(seconds.values())
    per_message = {
        "rule alone": rule_seconds,
        "model alone": model_seconds / n,
        "rule, then model": rule_seconds + seconds["left to the model"] / n,
    }
    model_calls = {"rule alone": 0, "model alone": n, "rule, then model": len(left)}
    routers = {}
    for router in ROUTERS:
        right = sample[router] == sample["expected"]
        routers[router] = {
            "right first tool": int(right.sum()),
            "right, English": int(right[sample["language"] == "en"].sum()),
            "right, German": int(right[sample["language"] == "de"].sum()),
            "model calls": model_calls[router],
            "seconds per message": round(per_message[router], 7),
        }
    by_action = {
        action: {router: int((group[router] == group["expected"]).sum()) for router in ROUTERS}
        | {"tickets": len(group)}
        for action, group in sample.groupby("expected_action")
    }
    server = get_local_server() if llm.load_settings().backend == "local" else None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "command": COMMAND,
        "backend": llm.load_settings().backend,
        "model": model,
        "slots": server.n_parallel if server else None,
        "requests in flight": workers,
        "machine": f"{describe_machine()['CPU']}, {os.cpu_count()} cores",
        "sample": (
            f"the first {PER_GROUP} tickets by ticket id of each expected action that maps "
            "to a tool, in English and in German"
        ),
        "tickets": n,
        "tickets per language": {
            language: int(count) for language, count in sample["language"].value_counts().items()
        },
        "ticket ids": list(sample["ticket_id"]),
        "routers": routers,
        "right first tool by expected action": by_action,
        "model's first tool": dict(Counter(sample["model alone"]).most_common()),
    }


def section_lines(measured: dict) -> list[str]:
    rows = []
    for router, f in measured["routers"].items():
        seconds = f["seconds per message"]
        shown = f"{seconds * 1e6:.0f} µs" if seconds < 0.01 else f"{seconds:.1f} s"
        rows.append(
            [
                router,
                f"{f['right first tool']} of {measured['tickets']}",
                f"{f['right, English']} / {f['right, German']}",
                f["model calls"],
                shown,
            ]
        )
    header = ["router", "right first tool", "EN / DE", "model calls", "per message"]
    actions = measured["right first tool by expected action"]
    action_rows = [
        [action, f["tickets"], *(f[router] for router in ROUTERS)] for action, f in actions.items()
    ]
    chosen = ", ".join(
        f"`{tool}` {count}" for tool, count in measured["model's first tool"].items()
    )
    return [
        SECTION,
        "",
        f"Measured {measured['date']} with `{measured['command']}`: backend "
        f"`{measured['backend']}`, model `{measured['model']}`, {measured['slots']} server slots "
        f"({measured['requests in flight']} requests in flight), {measured['machine']}; "
        f"load average at the start {measured['load average (1/5/15 min) at start']}, at the "
        f"end {measured['load average (1/5/15 min) at end']}. Sample: "
        f"{measured['sample']} ({measured['tickets']} tickets). The model picks the first tool "
        'with `tools.model_route` (`tool_choice="required"`, temperature 0, 200 tokens); the '
        "rule is `tools.route` (an order number means `get_order_status`). Lesson 06 shows "
        "this table next to its live run on a few of these tickets "
        "(`data.measured('tool_routing')`).",
        "",
        *markdown_table(header, rows),
        "",
        "Right first tool per expected action:",
        "",
        *markdown_table(["expected action", "tickets", *ROUTERS], action_rows),
        "",
        f"The model's first tool on the sample: {chosen}.",
        "",
    ]


def main() -> int:
    os.environ["COURSE_BACKEND"] = "local"
    os.environ["COURSE_DOTENV"] = "0"
    load_start = load_average()
    print(f"tool routing: rule and model on {len(routing_sample())} tickets …", flush=True)
    measured = measure()
    # The machine is shared: how busy it was belongs next to every per-message time.
    measured["load average (1/5/15 min) at start"] = load_start
    measured["load average (1/5/15 min) at end"] = load_average()
    MEASURED.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(measured, indent=1, ensure_ascii=False) + "\n"
    MEASURED.write_text(text, encoding="utf-8")
    lines = section_lines(measured)
    print("\n".join(lines))
    replace_section(ROOT / "benchmarks" / "RESULTS.md", SECTION, lines)
    print(f"Wrote {MEASURED.relative_to(ROOT)} and section (j) of benchmarks/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
