"""The audit log: redacted, append-only, pruned by retention with an injected clock."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from enterprise_ai import data
from enterprise_ai.audit import DEFAULT_RETENTION_DAYS, AuditLog, default_audit_path

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_record_redacts_every_string_also_nested(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=Clock())
    entry = log.record(
        "ticket.received",
        text="Call 089 12345678",
        contacts=["anna@example.de", {"iban": "DE89 3704 0044 0532 0130 00"}],
        order_id="IC-100042",
        escalate=True,
        score=2.5,
    )
    assert entry == {
        "ts": "2026-01-01T09:00:00+00:00",
        "event": "ticket.received",
        "text": "Call [PHONE]",
        "contacts": ["[EMAIL]", {"iban": "[IBAN]"}],
        "order_id": "IC-100042",
        "escalate": True,
        "score": 2.5,
    }
    assert log.read() == [entry]


def test_no_raw_pii_from_tickets_or_redteam_reaches_the_file(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=Clock())
    tickets = data.tickets()
    for row in tickets.itertuples():
        log.record("ticket.received", ticket_id=row.ticket_id, text=row.text)
    for row in data.redteam().itertuples():
        log.record("redteam.case", text=row.text)
    written = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    customers = data.customers()
    all_text = "\n".join(tickets["text"])
    values = pd.concat([customers["email"], customers["phone"], customers["street"]])
    present = [v for v in values if v in all_text]
    assert len(present) > 200  # the tickets really hold PII, so the test can fail
    assert [v for v in present if v in written] == []
    ibans = re.findall(r"\b[A-Z]{2}\d{2}(?: ?\d{4}){4}(?: ?\d{1,4})?\b", all_text)
    assert ibans and [i for i in ibans if i in written] == []
    assert len(log) == len(tickets) + len(data.redteam())


def test_existing_lines_stay_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, clock=Clock())
    log.record("a", n=1)
    before = path.read_bytes()
    log.record("b", n=2)
    after = path.read_bytes()
    assert after.startswith(before) and len(after) > len(before)


def test_the_log_never_opens_its_file_for_writing(tmp_path: Path, monkeypatch) -> None:
    modes: list[str] = []
    original = Path.open

    def spy(self: Path, mode: str = "r", *args: object, **kwargs: object):
        modes.append(mode)
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    log = AuditLog(tmp_path / "audit.jsonl", clock=Clock())
    log.record("a")
    log.read()
    assert set(modes) <= {"a", "r"} and "a" in modes


def test_prune_honours_retention_and_logs_itself(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path, retention_days=30, clock=clock)
    log.record("old", n=1)
    clock.now = START + timedelta(days=20)
    log.record("recent", n=2)
    kept_line = path.read_text(encoding="utf-8").splitlines()[1]
    clock.now = START + timedelta(days=40)
    assert log.prune() == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == kept_line  # kept records are copied unchanged
    events = [json.loads(line)["event"] for line in lines]
    assert events == ["recent", "audit.pruned"]
    pruned = log.read()[-1]
    assert (pruned["dropped"], pruned["kept"], pruned["retention_days"]) == (1, 1, 30)
    assert list(tmp_path.glob("*.tmp")) == []
    assert log.prune(now=START + timedelta(days=41)) == 0


def test_to_frame_parses_timestamps(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", clock=Clock())
    assert log.to_frame().empty and log.read() == [] and len(log) == 0
    log.record("a", n=1)
    frame = log.to_frame()
    assert frame.loc[0, "ts"] == pd.Timestamp(START) and frame.loc[0, "n"] == 1


def test_bad_settings_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AuditLog(tmp_path / "a.jsonl", retention_days=0)
    log = AuditLog(tmp_path / "a.jsonl", clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="without a time zone"):
        log.record("a")
    with pytest.raises(ValueError, match="set by the log itself"):
        AuditLog(tmp_path / "b.jsonl").record("a", ts="yesterday")


def test_default_path_is_in_the_working_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_WORKDIR", str(tmp_path))
    assert default_audit_path() == tmp_path / "audit" / "support_bot.jsonl"
    log = AuditLog()
    assert log.retention_days == DEFAULT_RETENTION_DAYS
    assert "support_bot.jsonl" in repr(log) and str(tmp_path) not in repr(log)
