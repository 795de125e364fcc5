"""What every course widget shares: how it shows itself in a notebook and on a static page.

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

__all__ = ["CourseWidget"]


class CourseWidget:
    """Base class: displays ``self.widget``, with a one-line ``text/plain`` form.

    Without a widget manager (a static page, a terminal, nbval) a notebook shows the plain-text
    form; ipywidgets' default would be a long ``VBox(children=…)`` repr full of values.
    Subclasses set :attr:`plain_text` and build :attr:`widget`.
    """

    plain_text = "Course widget (interactive in JupyterLab)"
    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = self.plain_text
        return bundle
