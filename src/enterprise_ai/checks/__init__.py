"""Exercise checks: ``checks.ex00_1(ask)`` prints ✅ or "not yet: …, hint: …" and returns a bool.

Rules every check follows:

* it never raises, whatever the learner's code does (a stub returning ``None`` included), so
  "Run all" on an exercise notebook always finishes;
* it tests the learner's *code* on fixed inputs, usually with the scripted client from
  :mod:`enterprise_ai.testing`, never the wording of a model's answer;
* it reports the first problem only, with what it expected, what it got, and where to reread.

Exercise ``exNN_K`` lives in ``exercises/NN_*.ipynb`` and is checked by ``checks.exNN_K``.
"""

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
