"""A hint that sends a learner to "section N (title)" must point at that section of the lesson."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "src" / "enterprise_ai" / "checks"
POINTER = re.compile(r"section (\d+) \(([^)]+)\)")


def _headings(module: str) -> dict[int, str]:
    (lesson,) = (ROOT / "notebooks").glob(f"{module}_*.ipynb")
    cells = json.loads(lesson.read_text(encoding="utf-8"))["cells"]
    found = {}
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for line in "".join(cell["source"]).splitlines():
            match = re.match(r"## (\d+) · (.+)", line)
            if match:
                found[int(match.group(1))] = match.group(2).lower()
    return found


def test_section_pointers_in_hints_name_the_right_section() -> None:
    checked = 0
    for path in sorted(CHECKS.glob("module*.py")):
        module = path.stem.removeprefix("module")
        headings = _headings(module)
        for number, title in POINTER.findall(path.read_text(encoding="utf-8")):
            words = [w for w in re.findall(r"\w+", title.lower()) if len(w) > 3]
            heading = headings.get(int(number), "")
            assert any(w in heading for w in words), (
                f"{path.name}: 'section {number} ({title})' but section {number} of lesson "
                f"{module} is {heading!r}"
            )
            checked += 1
    assert checked >= 2  # the rule sees the pointers that exist today


def test_the_rule_catches_a_wrong_pointer() -> None:
    headings = _headings("07")
    assert "scenario" not in headings[6] and "scenario" in headings[7]
