"""Exercise checks: ``checks.ex00_1(ask)`` prints ✅ or "not yet: …, hint: …" and returns a bool.

Rules every check follows:

* it never raises, whatever the learner's code does (a stub returning ``None`` included), so
  "Run all" on an exercise notebook always finishes;
* it tests the learner's *code* on fixed inputs, usually with the scripted client from
  :mod:`enterprise_ai.testing`, never the wording of a model's answer;
* it reports the first problem only, with what it expected, what it got, and where to reread.

Exercise ``exNN_K`` lives in ``exercises/NN_*.ipynb`` and is checked by ``checks.exNN_K``.

Each ``moduleNN`` is imported on first use (``checks.ex02_1`` loads ``checks.module02`` only), so
``from enterprise_ai import checks`` costs a notebook almost nothing: a solution needs the
checks of its own module, not the libraries behind all eleven.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what editors and type checkers see; at run time __getattr__ loads these
    from enterprise_ai.checks.module00 import EX00_3_CASES, ex00_1, ex00_2, ex00_3
    from enterprise_ai.checks.module01 import EX01_PRICES, ex01_1, ex01_2, ex01_3
    from enterprise_ai.checks.module02 import ex02_1, ex02_2, ex02_3
    from enterprise_ai.checks.module03 import (
        EX03_1_TEXT,
        EX03_2_EXPECTED,
        EX03_2_RETRIEVED,
        EX03_3_CASES,
        ex03_1,
        ex03_2,
        ex03_3,
    )
    from enterprise_ai.checks.module04 import (
        EX04_1_CASES,
        EX04_2_CASES,
        EX04_3_SWEEP,
        ex04_1,
        ex04_2,
        ex04_3,
        ex04_4,
    )
    from enterprise_ai.checks.module05 import (
        EX05_1_CASES,
        EX05_2_ATTACKS,
        EX05_2_HARMLESS,
        EX05_3_BLOCKED,
        EX05_3_EXPECTED,
        EX05_4_CASES,
        ex05_1,
        ex05_2,
        ex05_3,
        ex05_4,
    )
    from enterprise_ai.checks.module06 import (
        EX06_3_CASES,
        EX06_ORDERS,
        ex06_1,
        ex06_2,
        ex06_3,
        recording_connection,
    )
    from enterprise_ai.checks.module07 import EX07_1_CASES, ex07_1, ex07_2, ex07_3
    from enterprise_ai.checks.module08 import EX08_1_CASE, EX08_3_REPLIES, ex08_1, ex08_2, ex08_3
    from enterprise_ai.checks.module09 import (
        EX09_1_CASES,
        EX09_2_CASES,
        EX09_3_CASES,
        ex09_1,
        ex09_2,
        ex09_3,
    )
    from enterprise_ai.checks.module10 import EX10_1_CASES, EX10_2_CASES, capstone, ex10_1, ex10_2

__all__ = [
    "EX00_3_CASES",
    "EX01_PRICES",
    "EX03_1_TEXT",
    "EX03_2_EXPECTED",
    "EX03_2_RETRIEVED",
    "EX03_3_CASES",
    "ex00_1",
    "ex00_2",
    "ex00_3",
    "ex01_1",
    "ex01_2",
    "ex01_3",
    "ex02_1",
    "ex02_2",
    "ex02_3",
    "ex03_1",
    "ex03_2",
    "ex03_3",
    "EX05_1_CASES",
    "EX05_2_ATTACKS",
    "EX05_2_HARMLESS",
    "EX05_3_BLOCKED",
    "EX05_3_EXPECTED",
    "EX05_4_CASES",
    "ex05_1",
    "ex05_2",
    "ex05_3",
    "ex05_4",
    "EX04_1_CASES",
    "EX04_2_CASES",
    "EX04_3_SWEEP",
    "ex04_1",
    "ex04_2",
    "ex04_3",
    "ex04_4",
    "EX06_3_CASES",
    "EX06_ORDERS",
    "ex06_1",
    "ex06_2",
    "ex06_3",
    "EX07_1_CASES",
    "ex07_1",
    "ex07_2",
    "ex07_3",
    "EX08_1_CASE",
    "EX08_3_REPLIES",
    "ex08_1",
    "ex08_2",
    "ex08_3",
    "EX09_1_CASES",
    "EX09_2_CASES",
    "EX09_3_CASES",
    "ex09_1",
    "ex09_2",
    "ex09_3",
    "EX10_1_CASES",
    "EX10_2_CASES",
    "capstone",
    "ex10_1",
    "ex10_2",
    "recording_connection",
]

#: Names that do not start with their module's number.
_ELSEWHERE = {"capstone": "module10", "recording_connection": "module06"}
_NUMBERED = re.compile(r"(?:ex|EX)(\d\d)_")


def __getattr__(name: str) -> Any:
    """Load the check module that defines ``name`` the first time a notebook asks for it."""
    numbered = _NUMBERED.match(name)
    module = _ELSEWHERE.get(name) or (f"module{numbered.group(1)}" if numbered else None)
    if module is None or name not in __all__:
        raise AttributeError(f"module 'enterprise_ai.checks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"enterprise_ai.checks.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
