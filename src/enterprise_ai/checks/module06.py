"""Checks for exercises/06_tools.ipynb (lesson: notebooks/06_tools.ipynb).

The checks build a tiny in-memory orders database and hand the learner's function a
connection that records every SQL statement, so they can tell a parameterised query from one
that pastes the order id into the SQL text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from enterprise_ai.checks.feedback import call_learner_code, not_yet, passed

__all__ = [
    "EX06_ORDERS",
    "EX06_3_CASES",
    "ex06_1",
    "ex06_2",
    "ex06_3",
    "recording_connection",
]

#: The orders of the checks' database: (order_id, customer_id, status).
EX06_ORDERS: tuple[tuple[str, str, str], ...] = (
    ("IC-100001", "C-0228", "delivered"),
    ("IC-100179", "C-0105", "processing"),
    ("IC-100311", "C-0297", "delivered"),
)

_BAD_IDS = (
    "IC-12",
    "ic-100001",
    "IC-1000011",
    "IC-100001' OR '1'='1",
    "IC-100001'; DROP TABLE orders;--",
    "' UNION SELECT customer_id, status FROM orders --",
)

#: ex06_3's cases: (amount_eur, left_eur, read_customer_text, expected decision).
EX06_3_CASES: tuple[tuple[float, float, bool, str], ...] = (
    (19.90, 2499.0, False, "refund"),
    (50.00, 2499.0, False, "refund"),
    (50.01, 2499.0, False, "needs_approval"),
    (4999.0, 3299.0, False, "reject"),
    (10.0, 3299.0, True, "needs_approval"),
    (0.0, 100.0, False, "reject"),
    (-20.0, 100.0, False, "reject"),
    (300.0, 300.0, False, "needs_approval"),
    (300.01, 300.0, True, "reject"),
    (49.99, 49.99, False, "refund"),
)


class _RecordingConnection:
    """A sqlite3 connection that remembers each statement and its parameters."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        self.statements.append((sql, parameters))
        return self._connection.execute(sql, parameters)

    def cursor(self) -> _RecordingConnection:
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def __repr__(self) -> str:
        return f"<orders database: {len(EX06_ORDERS)} orders, {len(self.statements)} queries>"


def recording_connection() -> Any:
    """A fresh in-memory orders database (table ``orders``) that records every query.

    Columns: ``order_id``, ``customer_id``, ``status``. Rows: :data:`EX06_ORDERS`.
    """
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE orders (order_id TEXT, customer_id TEXT, status TEXT)")
    connection.executemany("INSERT INTO orders VALUES (?, ?, ?)", EX06_ORDERS)
    return _RecordingConnection(connection)


def _table_intact(connection: Any) -> bool:
    try:
        return connection.execute("SELECT count(*) FROM orders").fetchone()[0] == len(EX06_ORDERS)
    except sqlite3.Error:
        return False


def _pasted_into_sql(connection: Any, value: str) -> str | None:
    """The first statement whose SQL text contains ``value`` (it was not a parameter)."""
    for sql, _ in connection.statements:
        if value and value in sql:
            return sql
    return None


def _is_error(result: Any) -> bool:
    return isinstance(result, dict) and isinstance(result.get("error"), str) and result["error"]


def ex06_1(order_status: Callable[..., Any]) -> bool:
    """Check ``order_status(connection, order_id) -> dict``: safe lookup with bad ids rejected."""
    label = "ex06_1"
    if order_status is None:
        return not_yet(label, "order_status is None", "write the function in the cell above")
    connection = recording_connection()
    ok, result = call_learner_code(label, order_status, connection, "IC-100001")
    if not ok:
        return False
    if not isinstance(result, dict) or result.get("status") != "delivered":
        return not_yet(
            label,
            f"order_status(db, 'IC-100001') should return a dict with status 'delivered', got "
            f"{result!r:.80}",
            "return {'order_id': ..., 'status': row[...]} for an order that exists",
        )
    if not connection.statements:
        return not_yet(
            label,
            "the function returned a status without querying the database",
            "look the order up with connection.execute(...)",
        )
    pasted = _pasted_into_sql(connection, "IC-100001")
    if pasted:
        return not_yet(
            label,
            f"the order id is part of the SQL text: {pasted!r:.100}",
            "write `WHERE order_id = ?` and pass (order_id,) as the second argument of "
            "execute(); see lesson 06, 'Parameterised queries'",
        )
    for order_id in ("IC-999999", *_BAD_IDS):
        connection = recording_connection()
        ok, result = call_learner_code(label, order_status, connection, order_id)
        if not ok:
            return False
        if not _is_error(result):
            return not_yet(
                label,
                f"order_status(db, {order_id!r}) should return {{'error': '...'}}, got "
                f"{result!r:.80}",
                "check the id with re.fullmatch(r'IC-[0-9]{6}', order_id) first, and return "
                "an error dict when no row is found",
            )
        if order_id in _BAD_IDS and connection.statements:
            return not_yet(
                label,
                f"order_status(db, {order_id!r}) queried the database with a malformed id",
                "reject the id before any query: validation first, then the database",
            )
        if not _table_intact(connection):
            return not_yet(
                label,
                f"after order_status(db, {order_id!r}) the orders table is damaged",
                "never build SQL from text: use `?` placeholders",
            )
    return passed(label, f"found IC-100001, and rejected {len(_BAD_IDS) + 1} bad or unknown ids.")


def ex06_2(customer_order: Callable[..., Any]) -> bool:
    """Check ``customer_order(connection, order_id, *, customer_id)``: least privilege."""
    label = "ex06_2"
    if customer_order is None:
        return not_yet(label, "customer_order is None", "write the function in the cell above")
    for order_id, owner, status in EX06_ORDERS:
        ok, result = call_learner_code(
            label, customer_order, recording_connection(), order_id, customer_id=owner
        )
        if not ok:
            return False
        if not isinstance(result, dict) or result.get("status") != status:
            return not_yet(
                label,
                f"customer {owner} asking for their own order {order_id} should get status "
                f"{status!r}, got {result!r:.80}",
                "return the order when its customer_id equals the session's customer_id",
            )
    ok, foreign = call_learner_code(
        label, customer_order, recording_connection(), "IC-100179", customer_id="C-0228"
    )
    if not ok:
        return False
    if not _is_error(foreign):
        return not_yet(
            label,
            f"customer C-0228 asking for IC-100179 (C-0105's order) got {foreign!r:.80}",
            "compare the row's customer_id with customer_id and return {'error': ...} if they "
            "differ",
        )
    if "processing" in str(foreign) or "C-0105" in str(foreign):
        return not_yet(
            label,
            f"the error for someone else's order gives details away: {foreign!r:.100}",
            "say only that no such order was found for this customer",
        )
    ok, missing = call_learner_code(
        label, customer_order, recording_connection(), "IC-999999", customer_id="C-0228"
    )
    if not ok:
        return False
    if not _is_error(missing) or (
        foreign["error"].replace("IC-100179", "#") != missing["error"].replace("IC-999999", "#")
    ):
        return not_yet(
            label,
            f"a foreign order and a missing order get different answers: {foreign!r:.70} vs "
            f"{missing!r:.70}",
            "give both the same error, so the bot cannot be used to find out which order "
            "numbers exist",
        )
    connection = recording_connection()
    ok, _ = call_learner_code(
        label, customer_order, connection, "IC-100001' OR '1'='1", customer_id="C-0228"
    )
    if not ok:
        return False
    pasted = _pasted_into_sql(connection, "OR '1'='1")
    if pasted:
        return not_yet(
            label,
            f"text from the order id reached the SQL: {pasted!r:.100}",
            "use `?` placeholders (or reuse your order_status from ex06_1)",
        )
    return passed(label, "own orders found; someone else's order looks exactly like a missing one.")


def ex06_3(refund_decision: Callable[..., Any]) -> bool:
    """Check ``refund_decision(amount_eur, *, left_eur, read_customer_text)``: the refund rule."""
    label = "ex06_3"
    if refund_decision is None:
        return not_yet(label, "refund_decision is None", "write the function in the cell above")
    for amount, left, read_text, expected in EX06_3_CASES:
        ok, result = call_learner_code(
            label, refund_decision, amount, left_eur=left, read_customer_text=read_text
        )
        if not ok:
            return False
        if result != expected:
            return not_yet(
                label,
                f"refund_decision({amount}, left_eur={left}, read_customer_text={read_text}) "
                f"should be {expected!r}, got {result!r:.60}",
                "first reject what can never be right (≤ 0, more than is left), then ask for "
                "approval above 50 EUR or after customer text; 50.00 itself is still automatic",
            )
    return passed(label, f"all {len(EX06_3_CASES)} refund requests decided correctly.")
