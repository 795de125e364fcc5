"""Alt text for the charts in notebook outputs, taken from the code that drew them.

myst-nb writes a matplotlib output as ``<img>`` without alt text unless the cell's metadata
gives one, and the HTML writer then falls back to the image's file name
(``alt="../_images/71641d…png"``): a screen reader reads out a hash. The lessons' code cells
already say what each chart shows, in its title:

    charts.plot_monthly_costs(table, title="1,000 tickets/day, 1,500 tokens in, 300 out")
    ax.set(..., title="Answer more, or abstain more?")

So every output image without alt text gets one from its cell's code: the chart's title
(``title=``, ``set_title()``, ``suptitle()``; the parts of an f-string that are computed
become "…"), or, when the code passes none, the plotting call and the section it is in.
An explicit alt text in the cell metadata (``mystnb: image: alt:``) is left alone.

Runs on ``doctree-resolved``: myst-nb picks the image out of an output's formats only in a
post-transform, so the image nodes exist from then on.
"""

from __future__ import annotations

import ast

from docutils import nodes
from sphinx.application import Sphinx

TITLE_KEYWORDS = ("title",)
TITLE_METHODS = ("set_title", "suptitle", "title")


def _text(node: ast.expr) -> str | None:
    """A string literal, or an f-string with its computed parts as "…"; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "…" for part in node.values
        )
    return None


def _call_name(call: ast.Call) -> str:
    """``roi.plot_tornado`` for ``roi.plot_tornado(...)``; ``plot`` for ``x.y.plot(...)``."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return f"{func.value.id}.{func.attr}"
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def chart_description(source: str) -> tuple[str | None, str | None]:
    """The chart title a cell's code sets, and the last plotting call in it.

    Returns ``(title, call)``; either is None when the code has none (or does not parse,
    e.g. a cell with IPython magics).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None, None
    title = call_name = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        if "plot" in name:
            call_name = name
        for keyword in node.keywords:
            if keyword.arg in TITLE_KEYWORDS and _text(keyword.value):
                title = _text(keyword.value)
        if name.split(".")[-1] in TITLE_METHODS and node.args and _text(node.args[0]):
            title = _text(node.args[0])
    return title, call_name


def _ancestor(node: nodes.Node, classname: str) -> nodes.Element | None:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, nodes.Element) and classname in parent.get("classes", []):
            return parent
        parent = parent.parent
    return None


def _cell_source(output: nodes.Element) -> str:
    cell = _ancestor(output, "cell")
    if cell is None:
        return ""
    for block in cell.findall(nodes.literal_block):
        if _ancestor(block, "cell_input") is not None:
            return block.astext()
    return ""


def _section_title(node: nodes.Node) -> str:
    parent = node.parent
    while parent is not None and not isinstance(parent, nodes.section):
        parent = parent.parent
    if parent is None:
        return ""
    titles = [child for child in parent.children if isinstance(child, nodes.title)]
    return titles[0].astext() if titles else ""


def alt_text(source: str, section: str) -> str:
    """The alt text of a chart drawn by ``source`` in the section titled ``section``."""
    title, call = chart_description(source)
    if title:
        return f"Chart: {' '.join(title.split())}"
    where = f" in the section “{section}”" if section else ""
    drawn_by = f" drawn by {call}()" if call else ""
    return f"Chart{drawn_by}{where}"


def add_alt_text(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Give every notebook output image without alt text one from its cell's code."""
    for image in doctree.findall(nodes.image):
        if image.get("alt"):
            continue
        output = _ancestor(image, "cell_output")
        if output is None:
            continue
        image["alt"] = alt_text(_cell_source(output), _section_title(image))


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("doctree-resolved", add_alt_text)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
