"""How every check talks to the learner: ✅ or "not yet: …, hint: …", never an exception.

Introduced in notebooks/00_setup.ipynb; every ``checks/moduleNN.py`` uses these three helpers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["call_learner_code", "not_yet", "passed"]


def passed(label: str, message: str) -> bool:
    print(f"✅ {label}: {message}")
    return True


def not_yet(label: str, what: str, hint: str) -> bool:
    print(f"not yet ({label}): {what}\n   hint: {hint}")
    return False


def call_learner_code(label: str, func: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """Call the learner's function; turn any exception into a friendly 'not yet'."""
    if not callable(func):
        return False, not_yet(
            label, f"expected a function, got {type(func).__name__}", "pass the function itself"
        )
    try:
        return True, func(*args, **kwargs)
    except NotImplementedError:
        return False, not_yet(label, "the function is not written yet", "replace the `...`")
    except Exception as err:  # noqa: BLE001 - a check reports, it never raises
        return False, not_yet(
            label,
            f"calling it raised {type(err).__name__}: {err}",
            "run the cell that defines it and read the error; compare with the lesson's code",
        )
