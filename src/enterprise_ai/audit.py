"""An audit log for the support bot: one JSON line per decision, no raw personal data.

Why a log at all: when a customer complains, a data-protection officer asks, or a guard fails,
someone must be able to see what the bot decided and why. GDPR limits what that log may hold:
only what is needed (data minimisation, Art. 5(1)(c)) and only as long as needed (storage
limitation, Art. 5(1)(e)). So:

* every string that goes in passes through :func:`enterprise_ai.pii.redact_pii` first;
* the file is only ever opened for appending, so a record, once written, is not changed;
* :meth:`AuditLog.prune` is the one controlled exception: it drops records older than the
  retention period, writes the rest to a new file and swaps it in atomically (a crash leaves
  the old or the new file, never half of one), then logs that it pruned.

For a high-risk AI system the AI Act asks deployers to keep its logs for at least six months
(Art. 26(6)); a support bot is usually not high-risk, and your data-protection officer sets
the period. None of this is legal advice.

Example:
    >>> import tempfile, pathlib
    >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl")
    >>> entry = log.record("ticket.received", text="Call me on 089 12345678")
    >>> entry["text"]
    'Call me on [PHONE]'

Introduced in notebooks/05_guardrails.ipynb.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from enterprise_ai.pii import redact_pii

__all__ = ["DEFAULT_RETENTION_DAYS", "AuditLog", "default_audit_path"]

#: Six months, counted generously (the longest six calendar months have 184 days).
DEFAULT_RETENTION_DAYS = 184

_RESERVED = ("ts", "event")


def default_audit_path() -> Path:
    """``<working dir>/audit/support_bot.jsonl`` (see :func:`enterprise_ai.data.working_dir`)."""
    from enterprise_ai.data import working_dir

    return working_dir() / "audit" / "support_bot.jsonl"


def _clean(value: Any) -> Any:
    """Redact every string inside ``value``; keep numbers, booleans and ``None``."""
    if isinstance(value, str):
        return redact_pii(value).text
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, dict):
        return {_clean(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_clean(v) for v in value]
    return redact_pii(str(value)).text


class AuditLog:
    """An append-only JSON Lines file of what the bot did, with personal data redacted.

    Args:
        path: the file; default :func:`default_audit_path`. Its folder is created.
        retention_days: how long records are kept by :meth:`prune`.
        clock: returns "now" as an aware ``datetime``; tests pass a fixed clock.

    Example:
        >>> import tempfile, pathlib
        >>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()) / "a.jsonl", retention_days=30)
        >>> _ = log.record("reply.sent", reply="Mail us at anna@example.de", escalate=False)
        >>> log.read()[0]["reply"], len(log)
        ('Mail us at [EMAIL]', 1)

    Introduced in notebooks/05_guardrails.ipynb.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if retention_days < 1:
            raise ValueError(
                f"retention_days must be at least 1, got {retention_days}. Ask your "
                "data-protection officer for the period; the default is "
                f"{DEFAULT_RETENTION_DAYS} days."
            )
        self.path = Path(path) if path is not None else default_audit_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.retention_days = retention_days
        self._clock = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return (
            f"AuditLog({self.path.name!r}, {len(self)} records, "
            f"retention {self.retention_days} days)"
        )

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as file:
            return sum(1 for line in file if line.strip())

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ValueError(
                f"The clock returned {now.isoformat()} without a time zone; return an aware "
                "datetime such as datetime.now(UTC)."
            )
        return now

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False, sort_keys=False)
        with self.path.open("a", encoding="utf-8") as file:  # append only, never "w"
            file.write(line + "\n")
            file.flush()
            os.fsync(file.fileno())

    def record(self, event: str, **fields: Any) -> dict[str, Any]:
        """Append one record: ``{"ts": …, "event": event, **fields}``, every string redacted.

        Args:
            event: what happened, e.g. ``"support.reply"`` or ``"injection.blocked"``.
            **fields: details; strings (also inside lists and dicts) pass through
                :func:`~enterprise_ai.pii.redact_pii`; other objects are stored as
                their redacted ``str``.

        Returns:
            The record as written.

        Raises:
            ValueError: a field is called ``ts`` or ``event`` (the log sets those).
        """
        clash = [name for name in _RESERVED if name in fields]
        if clash:
            raise ValueError(
                f"Field name(s) {clash} are set by the log itself; rename your field, "
                "e.g. event_type=…"
            )
        entry = {"ts": self._now().isoformat(timespec="seconds"), "event": _clean(event)}
        entry.update({name: _clean(value) for name, value in fields.items()})
        self._append(entry)
        return entry

    def read(self) -> list[dict[str, Any]]:
        """All records, oldest first (an empty list if nothing was logged yet)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as file:
            return [json.loads(line) for line in file if line.strip()]

    def to_frame(self) -> pd.DataFrame:
        """The records as a table, ``ts`` parsed as datetime."""
        frame = pd.DataFrame(self.read())
        if "ts" in frame:
            frame["ts"] = pd.to_datetime(frame["ts"], format="ISO8601")
        return frame

    def prune(self, now: datetime | None = None) -> int:
        """Drop records older than ``retention_days``; return how many were dropped.

        The kept lines are copied unchanged (byte for byte) to a temporary file in the same
        folder, which then replaces the log in one atomic step (``os.replace``). The pruning
        itself is recorded as an ``audit.pruned`` event, so the log shows that and when it was
        shortened.

        Args:
            now: the time to count back from; default: the log's clock.
        """
        now = now or self._now()
        cutoff = now - timedelta(days=self.retention_days)
        if not self.path.exists():
            return 0
        with self.path.open(encoding="utf-8") as file:
            lines = [line for line in file if line.strip()]
        kept = [line for line in lines if datetime.fromisoformat(json.loads(line)["ts"]) >= cutoff]
        dropped = len(lines) - len(kept)
        if dropped:
            handle, temporary = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.writelines(kept)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        self.record(
            "audit.pruned",
            dropped=dropped,
            kept=len(kept),
            retention_days=self.retention_days,
            cutoff=cutoff.isoformat(timespec="seconds"),
        )
        return dropped
