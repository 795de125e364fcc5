"""The trainer guide's agendas add up: consecutive times, full days, every module covered."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[1] / "book" / "trainer-guide.md"
MODULES = {f"{n:02d}" for n in range(11)}
ROW = re.compile(r"^\| (\d\d:\d\d) \| (\d+) \| (\d\d|—) \| (.+) \|$")


def _agendas() -> dict[str, list[list[tuple[str, int, str]]]]:
    """Agenda title → list of days → rows (start, minutes, module)."""
    agendas: dict[str, list[list[tuple[str, int, str]]]] = {}
    title, day = None, None
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].strip() if "agenda" in line.lower() else None
            if title:
                agendas[title] = []
            day = None
        elif title and (match := ROW.match(line)):
            if day is None:
                day = []
                agendas[title].append(day)
            day.append((match[1], int(match[2]), match[3]))
        elif title and line.strip() and not line.startswith("|"):
            day = None  # prose between two tables starts the next day
    return agendas


def test_there_is_a_one_day_and_a_two_day_agenda():
    agendas = _agendas()
    days = sorted(len(d) for d in agendas.values())
    assert days == [1, 2], f"expected a one-day and a two-day agenda, found {agendas.keys()}"


def test_each_day_runs_09_00_to_17_00_without_gaps_or_overlaps():
    for title, days in _agendas().items():
        for number, rows in enumerate(days, start=1):
            clock = datetime.strptime("09:00", "%H:%M")
            for start, minutes, module in rows:
                assert start == clock.strftime("%H:%M"), (
                    f"{title}, day {number}: module {module} starts at {start}, "
                    f"but the previous item ends at {clock:%H:%M}"
                )
                clock += timedelta(minutes=minutes)
            assert clock.strftime("%H:%M") == "17:00", f"{title}, day {number} ends {clock:%H:%M}"
            assert sum(m for _, m, _ in rows) == 480


def test_every_module_appears_in_every_agenda():
    for title, days in _agendas().items():
        covered = {module for rows in days for _, _, module in rows}
        assert covered >= MODULES, f"{title} misses modules {sorted(MODULES - covered)}"
