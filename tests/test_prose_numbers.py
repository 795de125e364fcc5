"""Numbers in prose come from code: lesson 09's figures match the outputs they describe.

A sentence that states a computed figure ("net 9,486 EUR a month", "3,663 tickets per group")
must repeat what a cell printed, or the prose and the outputs drift apart on the next run. This
test reads the stored notebook and finds every quantity in its Markdown prose: a number with a
unit (%, EUR, tickets, months, weeks, hours, FTE, points, people, minutes, times, ...), or
"month N". It then looks for that number in the same ``##`` section: in the text outputs of its
code cells, or in the code itself where the prose restates an input (``0.12`` → "12 %"). A
section without code (the situation, the objectives) may quote any output of the notebook.
Figures that are neither, such as a statistical convention, are listed in ``NOT_COMPUTED`` with
the reason. The checker is tested on small notebooks made up here, so it can fail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LESSON_09 = REPO / "notebooks" / "09_business_case.ipynb"

#: Quantities in lesson 09's prose that no cell computes, each with the reason.
NOT_COMPUTED: dict[tuple[str, str], str] = {
    ("95", "%"): "the usual two-sided 95 % interval: a statistical convention, not a result",
    ("45", "minutes"): "the business track's time, an estimate for planning a workshop",
    ("80", "minutes"): "the builder track's time, an estimate for planning a workshop",
}

_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_UNITS = (
    r"%|(?:EUR|€|euros?|tickets?|months?|weeks?|hours?|FTE|points?|people|person-hours|"
    r"minutes?|times|agents?|drafts?)\b"
)
_QUANTITY = re.compile(
    rf"(?<![\w.,/§-])(?P<num>{_NUMBER})[\s-]*(?:(?:staff|full-time|in-scope)\s+)?"
    rf"(?P<unit>{_UNITS})"
    rf"|\bmonth (?P<month>\d+)\b"
)
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


def unmatched_quantities(notebook: dict) -> list[str]:
    """Every prose quantity of ``notebook`` that no output (or code input) of its section has."""
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
                if (quantity.text, quantity.unit) in NOT_COMPUTED:
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
    problems = unmatched_quantities(notebook)
    assert not problems, "\n".join(problems)


def test_lesson_09_states_the_figures_of_the_issue() -> None:
    """The go/no-go figures and the capacity figures are in the prose, so they are checked."""
    notebook = json.loads(LESSON_09.read_text(encoding="utf-8"))
    prose = " ".join(_source(c) for c in notebook["cells"] if c["cell_type"] == "markdown")
    for figure in ("3,663 tickets", "2,886", "562.5 staff hours", "29.14 EUR", "month 9"):
        assert figure in prose, figure


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


@pytest.mark.parametrize(
    ("prose", "expected"),
    [
        ("a 40-EUR hour", [("40", "EUR")]),
        ("562.5 staff hours, 3.5 full-time agents", [("562.5", "hours"), ("3.5", "agents")]),
        ("±60 % and 3 weeks", [("60", "%"), ("3", "weeks")]),
        ("in month 14, see Art. 4 and module 04", [("14", "month")]),
        ("`sample_size(0.70, 0.75)` gives [686 tickets](link)", [("686", "tickets")]),
    ],
)
def test_quantities_are_numbers_with_units(prose: str, expected: list) -> None:
    assert [(q.text, q.unit) for q in quantities(prose, 0)] == expected
