"""Point the "Suggest edit" button of an exercise page at the solution it is generated from.

``exercises/NN_name.ipynb`` is written by ``make exercises`` from ``solutions/NN_name.ipynb``
(``enterprise_ai.notebooks``); an edit made to the exercise on GitHub would be overwritten by
the next run and fails ``tests/test_exercises_in_sync.py``. sphinx-book-theme builds the
button from the page's own path, so this handler runs after it (priority 502; the theme's
``add_source_buttons`` runs at 501) and rewrites that one link. The "Show source" and
Binder buttons keep pointing at the exercise, which is what a learner opens.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

EXERCISES = "exercises/"
SOLUTIONS = "solutions/"
EDIT_BUTTON_LABEL = "source-edit-button"


def _buttons(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button, including those inside dropdown groups."""
    found = []
    for button in buttons:
        found.append(button)
        found.extend(_buttons(button.get("buttons", [])))
    return found


def edit_the_solution(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    if not pagename.startswith(EXERCISES):
        return
    for button in _buttons(context.get("header_buttons", [])):
        if button.get("label") == EDIT_BUTTON_LABEL:
            button["url"] = button["url"].replace(
                f"/{pagename}", f"/{SOLUTIONS}{pagename[len(EXERCISES) :]}"
            )
            button["tooltip"] = "Suggest an edit to the solution this exercise is generated from"


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("html-page-context", edit_the_solution, priority=502)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
