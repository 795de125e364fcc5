"""Numbers in prose come from code: lessons 06 and 09 state only figures their cells print.

A sentence that states a computed figure ("net 9,486 EUR a month", "3,663 tickets per group")
must repeat what a cell printed, or the prose and the outputs drift apart on the next run. This
test reads the stored notebook and finds every quantity in its Markdown prose: a number with a
unit (%, EUR, tickets, months, weeks, hours, FTE, points, people, minutes, times, s, µs, calls,
rows, ...), "month N", or "N of M". It then looks for that number in the same ``##`` section:
in the text outputs of its code cells, or in the code itself where the prose restates an input
(``0.12`` → "12 %"). Outputs of ``# NBVAL_IGNORE_OUTPUT`` cells do not count: they come from
the model and change on the next run, so prose that quotes them would soon contradict them. A
section without code (the situation, the objectives) may quote any output of the notebook.
Figures that are neither, such as a statistical convention, are listed per lesson in
``NOT_COMPUTED`` with the reason. The checker is tested on small notebooks made up here, so it
can fail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSON_06 = REPO / "notebooks" / "06_tools.ipynb"
LESSON_09 = REPO / "notebooks" / "09_business_case.ipynb"

#: Per lesson, the quantities in its prose that no cell computes, each with the reason.
NOT_COMPUTED: dict[str, dict[tuple[str, str], str]] = {
    "06_tools": {
        ("25", "minutes"): "the business track's time, an estimate for planning a workshop",
        ("60", "minutes"): "the builder track's time, an estimate for planning a workshop",
        ("4999", "EUR"): "the amount the injected order note demands, quoted from the note",
    },
    "02_triage": {
        ("25", "minutes"): "the business track's time, an estimate for planning a workshop",
        ("60", "minutes"): "the builder track's time, an estimate for planning a workshop",
        ("100", "tickets"): "the size of the fixed sample, set in section 1's code",
    },
    "03_grounded_bot": {
        ("60", "minutes"): "the builder track's time, an estimate for planning a workshop",
    },
    "04_evals": {
        ("75", "minutes"): "the builder track's time, an estimate for planning a workshop",
    },
    "07_agents": {
        ("25", "minutes"): "the business track's time, an estimate for planning a workshop",
        ("50", "times"): "an illustration of a stuck agent (50 steps), not a measurement",
        ("49.99", "EUR"): "a flaw the benchmark once found in an earlier approve_below, quoted",
        ("3,899", "EUR"): "the bike price in that historical benchmark case, quoted",
        ("50", "EUR"): "REFUND_LIMIT_EUR, the approval policy's limit (a setting, not a result)",
    },
    "10_capstone": {
        ("30", "minutes"): "the business track's time, an estimate for planning a workshop",
        ("40", "minutes"): "the builder track's time, an estimate for planning a workshop",
    },
    "solutions/10_capstone": {
        (
            "26",
            "points",
        ): "the checklist's total, set by capstone.grade (lesson 10 prints it)",
        ("4999", "EUR"): "the amount the injected order note demands, quoted from the note",
    },
    "09_business_case": {
        ("95", "%"): "the usual two-sided 95 % interval: a statistical convention, not a result",
        ("45", "minutes"): "the business track's time, an estimate for planning a workshop",
        ("80", "minutes"): "the builder track's time, an estimate for planning a workshop",
    },
}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNITS = (
    r"%|(?:EUR|€|euros?|tickets?|months?|weeks?|hours?|FTE|points?|people|person-hours|"
    r"minutes?|times|agents?|drafts?|s|seconds?|ms|µs|calls?|rows?)\b"
)
_QUANTITY = re.compile(
    rf"(?<![\w.,/§-])(?P<num>{_NUMBER})[\s-]*(?:(?:staff|full-time|in-scope|model)\s+)?"
    rf"(?P<unit>{_UNITS})"
    rf"|\bmonth (?P<month>\d+)\b"
    rf"|(?<![\w.,/§-])(?P<part>\d+) of (?:the )?(?P<whole>\d+)\b"
)
_IGNORED_OUTPUT = "# NBVAL_IGNORE_OUTPUT"
_ANY_NUMBER = re.compile(_NUMBER)
# Markdown that is not prose: inline code, maths, link targets, HTML.
_NOT_PROSE = re.compile(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)|<[^>]+>")


@dataclass(frozen=True)
class Quantity:
    """A number stated in prose, with its unit and where it stands."""

    text: str
    unit: str
    cell: int

    @property
    def value(self) -> float:
        return float(self.text.replace(",", ""))

    @property
    def decimals(self) -> int:
        return len(self.text.split(".")[1]) if "." in self.text else 0


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _output_text(cell: dict) -> str:
    """The text a code cell printed; nothing for a cell whose output nbval ignores."""
    if _source(cell).lstrip().startswith(_IGNORED_OUTPUT):
        return ""
    texts = []
    for output in cell.get("outputs", []):
        if "text" in output:
            texts.append(_source({"source": output["text"]}))
        for mime, data in output.get("data", {}).items():
            if mime.startswith("text/"):
                texts.append(_source({"source": data}))
    return "\n".join(texts)


def _numbers(text: str) -> set[float]:
    return {float(match.replace(",", "")) for match in _ANY_NUMBER.findall(text)}


def quantities(markdown: str, cell: int) -> list[Quantity]:
    """The quantities stated in one Markdown cell's prose."""
    prose = _NOT_PROSE.sub(" ", markdown)
    found = []
    for match in _QUANTITY.finditer(prose):
        if match["month"]:
            found.append(Quantity(match["month"], "month", cell))
        elif match["part"]:
            found += [Quantity(match["part"], "of", cell), Quantity(match["whole"], "of", cell)]
        else:
            found.append(Quantity(match["num"], match["unit"], cell))
    return found


def _matches(quantity: Quantity, candidates: set[float]) -> bool:
    scales = (1.0, 100.0) if quantity.unit in ("%", "point", "points") else (1.0,)
    return any(
        round(abs(candidate) * scale, quantity.decimals) == quantity.value
        for candidate in candidates
        for scale in scales
    )


def unmatched_quantities(
    notebook: dict, not_computed: dict[tuple[str, str], str] | None = None
) -> list[str]:
    """Every prose quantity of ``notebook`` that no output (or code input) of its section has.

    ``not_computed`` lists the quantities that are exempt, each with its reason.
    """
    not_computed = not_computed or {}
    sections: list[list[tuple[int, dict]]] = [[]]
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "markdown" and _source(cell).lstrip().startswith("## "):
            sections.append([])
        sections[-1].append((index, cell))
    everywhere = set().union(
        *(_numbers(_output_text(c)) for c in notebook["cells"] if c["cell_type"] == "code")
    )
    problems = []
    for section in sections:
        code = [cell for _, cell in section if cell["cell_type"] == "code"]
        candidates = set().union(*(_numbers(_output_text(c)) | _numbers(_source(c)) for c in code))
        if not code:
            candidates = everywhere
        for index, cell in section:
            if cell["cell_type"] != "markdown":
                continue
            for quantity in quantities(_source(cell), index):
                if (quantity.text, quantity.unit) in not_computed:
                    continue
                if not _matches(quantity, candidates):
                    problems.append(
                        f"cell {index}: '{quantity.text} {quantity.unit}' is in the prose, but "
                        "no output (or code input) of its section shows it"
                    )
    return problems


def _notebook(*cells: tuple[str, str, str]) -> dict:
    """A made-up notebook: (kind, source, printed output) per cell."""
    built = []
    for kind, source, printed in cells:
        cell: dict = {"cell_type": kind, "source": source}
        if kind == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": printed}]
        built.append(cell)
    return {"cells": built}


def test_lesson_09_prose_states_only_figures_its_cells_print() -> None:
    notebook = json.loads(LESSON_09.read_text(encoding="utf-8"))
    checked = [
        q
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "markdown"
        for q in quantities(_source(cell), index)
    ]
    assert len(checked) >= 40, "the lesson's prose should state its key figures"
    problems = unmatched_quantities(notebook, NOT_COMPUTED["09_business_case"])
    assert not problems, "\n".join(problems)


def test_lesson_09_states_the_figures_of_the_issue() -> None:
    """The go/no-go figures and the capacity figures are in the prose, so they are checked."""
    notebook = json.loads(LESSON_09.read_text(encoding="utf-8"))
    prose = " ".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
    for figure in ("3,663 tickets", "2,886", "562.5 staff hours", "29.14 EUR", "month 9"):
        assert figure in prose, figure


def _section_prose(notebook: dict, heading: str) -> str:
    """The Markdown of one ``##`` section, from its heading to the next one."""
    prose, inside = [], False
    for cell in notebook["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown" and text.lstrip().startswith("## "):
            inside = text.lstrip().startswith(heading)
        if inside and cell["cell_type"] == "markdown":
            prose.append(text)
    return " ".join(" ".join(prose).split())


def test_lesson_06_prose_states_only_figures_its_cells_print() -> None:
    notebook = json.loads(LESSON_06.read_text(encoding="utf-8"))
    checked = [
        q
        for index, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "markdown"
        for q in quantities(_source(cell), index)
    ]
    assert len(checked) >= 15, "the lesson's prose should state its key figures"
    problems = unmatched_quantities(notebook, NOT_COMPUTED["06_tools"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "name", ["02_triage", "03_grounded_bot", "04_evals", "07_agents", "10_capstone"]
)
def test_other_lessons_state_only_figures_their_cells_print(name: str) -> None:
    """The lessons whose measured figures changed with the speed work (02, 03, 04, 07) and
    the capstone, whose grader and evaluation figures changed with issue 17."""
    notebook = json.loads((REPO / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    problems = unmatched_quantities(notebook, NOT_COMPUTED[name])
    assert not problems, "\n".join(problems)


def test_solution_10_states_only_figures_its_cells_print() -> None:
    """Solution 10.4 puts measured figures on a system card: they must come from its cells."""
    path = REPO / "solutions" / "10_capstone.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))
    problems = unmatched_quantities(notebook, NOT_COMPUTED["solutions/10_capstone"])
    assert not problems, "\n".join(problems)


def test_solution_10_card_figures_come_from_the_whole_set_evaluation() -> None:
    """The card's figures are those of the stored whole-set evaluation, with sizes and
    intervals; never a rate of a handful of questions."""
    from enterprise_ai import capstone

    notebook = json.loads((REPO / "solutions" / "10_capstone.ipynb").read_text(encoding="utf-8"))
    code = "\n".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "code")
    assert "capstone.measured_evaluation()" in code and "capstone.card_figures(" in code
    assert "evals.run(" not in code, "the card must not rest on a live run of a few questions"
    printed = "\n".join(_output_text(c) for c in notebook["cells"] if c["cell_type"] == "code")
    table = capstone.measured_evaluation()
    assert len(table) >= capstone.MIN_EVAL_QUESTIONS
    for rate, figure in capstone.card_figures(table).items():
        assert figure in printed, rate


def test_lesson_06_routing_conclusion_quotes_the_stored_benchmark() -> None:
    """Section 8 decides on the larger sample the benchmark stored, never on the live handful.

    Its prose must quote the figures in ``data/measured/tool_routing.json``; after a new run of
    ``benchmarks/tool_routing.py`` this fails until the lesson is executed and its text updated.
    """
    from enterprise_ai import data

    measured = data.measured("tool_routing")
    prose = _section_prose(json.loads(LESSON_06.read_text(encoding="utf-8")), "## 8 ")
    tickets = measured["tickets"]
    for router, figures in measured["routers"].items():
        assert f"{figures['right first tool']} of {tickets}" in prose, router
    model_seconds = measured["routers"]["model alone"]["seconds per message"]
    assert f"{model_seconds:.1f} s a message" in prose
    assert f"{measured['routers']['rule, then model']['model calls']} model calls" in prose


def test_the_checker_catches_a_figure_that_differs_from_the_output() -> None:
    notebook = _notebook(
        ("markdown", "## 3 · Cash flow", ""),
        ("code", "roi.net_monthly_benefit(case)", "9486.068\n"),
        ("markdown", "Net 9,500 EUR a month, break-even in month 9.", ""),
    )
    problems = unmatched_quantities(notebook)
    assert len(problems) == 2
    assert "'9,500 EUR'" in problems[0] and "'9 month'" in problems[1]


def test_the_checker_accepts_rounded_percent_and_input_figures() -> None:
    notebook = _notebook(
        ("markdown", "## 2 · Money", ""),
        ("code", "rate = 0.12\nprint(cost)", "13.93\n"),
        ("markdown", "Tokens cost 14 EUR a month at 12 % deflection.", ""),
    )
    assert unmatched_quantities(notebook) == []


def test_the_checker_looks_only_in_the_same_section() -> None:
    notebook = _notebook(
        ("markdown", "## 1 · First", ""),
        ("code", "print(x)", "3663\n"),
        ("markdown", "## 2 · Second", ""),
        ("code", "print(y)", "1251\n"),
        ("markdown", "It needs 3,663 tickets per group.", ""),
    )
    assert len(unmatched_quantities(notebook)) == 1


def test_the_checker_does_not_count_outputs_that_nbval_ignores() -> None:
    notebook = _notebook(
        ("markdown", "## 8 · Routing", ""),
        ("code", "# NBVAL_IGNORE_OUTPUT\nprint(model_seconds)", "4.6\n"),
        ("markdown", "The model took 4.6 s a message.", ""),
    )
    assert unmatched_quantities(notebook) == [
        "cell 2: '4.6 s' is in the prose, but no output (or code input) of its section shows it"
    ]


def test_the_checker_reads_counts_of_a_whole_and_exempts_listed_figures() -> None:
    notebook = _notebook(
        ("markdown", "## 8 · Routing", ""),
        ("code", "print(table)", "model alone 25 of 80 right\n"),
        ("markdown", "The model got 25 of 80, not 3 of 8; plan 25 minutes.", ""),
    )
    problems = unmatched_quantities(notebook, {("25", "minutes"): "a planning estimate"})
    assert len(problems) == 2
    assert "'3 of'" in problems[0] and "'8 of'" in problems[1]


@pytest.mark.parametrize(
    ("prose", "expected"),
    [
        ("a 40-EUR hour", [("40", "EUR")]),
        ("562.5 staff hours, 3.5 full-time agents", [("562.5", "hours"), ("3.5", "agents")]),
        ("±60 % and 3 weeks", [("60", "%"), ("3", "weeks")]),
        ("in month 14, see Art. 4 and module 04", [("14", "month")]),
        ("`sample_size(0.70, 0.75)` gives [686 tickets](link)", [("686", "tickets")]),
        (
            "25 of the 80, 2.6 s a message, 35 model calls, 7 µs",
            [("25", "of"), ("80", "of"), ("2.6", "s"), ("35", "calls"), ("7", "µs")],
        ),
        ("2 slots, 3 sessions, 600 rows", [("600", "rows")]),
    ],
)
def test_quantities_are_numbers_with_units(prose: str, expected: list) -> None:
    assert [(q.text, q.unit) for q in quantities(prose, 0)] == expected
