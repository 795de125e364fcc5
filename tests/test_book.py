"""Build the Jupyter Book the way CI publishes it, then check the site a reader gets.

The build uses the flags of ``make book`` (``-W -n --keep-going``: every warning, including an
unresolved cross-reference, fails it) and writes to a temporary folder, so the repository is not
touched. The checks after it catch what a green build still lets through:

- a page from ``_toc.yml`` that was not written, or a root page that is missing;
- "TODO" left in a page;
- a widget that reaches the page as its Python repr (``VBox(children=...)``) instead of a widget;
- a widget view whose state was not stored (the page would show nothing, silently), or a page
  with widgets that lacks the RequireJS / html-manager scripts that draw them;
- a script that registers itself with RequireJS after RequireJS has loaded, which breaks every
  widget on the page (jupyter/jupyter.github.io#878);
- an internal link or anchor that points nowhere.

Run it alone with ``pytest tests/test_book.py``; it is marked ``slow``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import ipywidgets
import pytest
import yaml
from conftest import BOOK_LOG_TAIL_LINES as LOG_TAIL_LINES
from conftest import BookBuild

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_TYPE = "application/vnd.jupyter.widget-view+json"

# Self-closing HTML elements: they never get an end tag, so they never go on the parse stack.
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# Attributes that hold a URL the browser will fetch or navigate to.
_URL_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src"}


def _widget_repr_pattern() -> re.Pattern[str]:
    """Match the text repr of any ipywidgets widget, e.g. ``IntSlider(value=3, ...)``.

    Only ``Name(`` followed by ``)`` or ``keyword=`` counts, so a matplotlib ``Text(0.5, 1.0,
    'Title')`` repr in an output is not mistaken for the ipywidgets ``Text`` widget.
    """
    names = sorted(
        name
        for name, obj in vars(ipywidgets).items()
        if isinstance(obj, type) and issubclass(obj, ipywidgets.DOMWidget)
    )
    return re.compile(r"\b(?:" + "|".join(names) + r")\((?:\)|[a-z_]+=)")


WIDGET_REPR = _widget_repr_pattern()


# --------------------------------------------------------------------------- the book's pages


def _toc_docnames(entries: list[dict]) -> list[str]:
    """The ``file:`` entries of a toc (sub)tree, depth first."""
    names: list[str] = []
    for entry in entries:
        if "file" in entry:
            names.append(entry["file"])
        for key in ("sections", "chapters"):
            names.extend(_toc_docnames(entry.get(key, [])))
        for part in entry.get("parts", []):
            names.extend(_toc_docnames(part.get("chapters", [])))
    return names


def toc_docnames() -> list[str]:
    """Every page ``_toc.yml`` lists, root first, as paths without suffix."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names.extend(_toc_docnames(part.get("chapters", [])))
    names.extend(_toc_docnames(toc.get("chapters", [])))
    return names


def source_of(docname: str) -> Path | None:
    """The file a toc entry refers to (``.md`` or ``.ipynb``), or None if there is none."""
    for suffix in (".md", ".ipynb"):
        path = REPO / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


# --------------------------------------------------------------------------- building


@pytest.fixture(scope="module")
def book(built_book: BookBuild) -> BookBuild:
    """The book, built once per test run (``built_book`` in conftest.py, shared with the
    browser test)."""
    return built_book


def _failure(build: BookBuild, message: str) -> str:
    """The message, the warnings and errors of the build, then the tail of its log."""
    problems = "\n".join(build.problems()) or "(none reported)"
    return (
        f"{message}\n\n--- warnings and errors ---\n{problems}"
        f"\n\n--- last {LOG_TAIL_LINES} lines of the build log ---\n{build.log_tail()}"
    )


# --------------------------------------------------------------------------- reading the HTML


@dataclass
class Script:
    """One ``<script>`` element, in document order."""

    attrs: dict[str, str]
    body: str = ""


@dataclass
class Page:
    """What the checks need from one built HTML page."""

    path: Path
    ids: set[str] = field(default_factory=set)
    urls: list[str] = field(default_factory=list)
    scripts: list[Script] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    output_text: list[str] = field(default_factory=list)


class _PageParser(HTMLParser):
    """Collect ids, fetched URLs, scripts, visible text and the text of notebook outputs."""

    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._stack: list[tuple[str, bool]] = []  # (tag, opens a notebook output area)
        self._script: Script | None = None
        self._in_style = False

    def _inside_output(self) -> bool:
        return any(is_output for _, is_output in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.page.ids.add(values["name"])
        url_attribute = _URL_ATTRIBUTES.get(tag)
        if url_attribute and values.get(url_attribute):
            self.page.urls.append(values[url_attribute])
        if tag == "script":
            self._script = Script(values)
            self.page.scripts.append(self._script)
        if tag == "style":
            self._in_style = True
        if tag not in _VOID_ELEMENTS:
            is_output = tag == "div" and "cell_output" in values.get("class", "").split()
            self._stack.append((tag, is_output))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None
        if tag == "style":
            self._in_style = False
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                del self._stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script.body += data
            return
        if self._in_style:
            return
        self.page.text.append(data)
        if self._inside_output():
            self.page.output_text.append(data)


def read_page(path: Path) -> Page:
    page = Page(path)
    parser = _PageParser(page)
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return page


@pytest.fixture(scope="module")
def pages(book: BookBuild) -> dict[Path, Page]:
    """Every HTML page of the built site (theme assets under ``_static`` excluded)."""
    if not book.html_dir.is_dir():
        pytest.fail(_failure(book, f"The build wrote no HTML folder at {book.html_dir}."))
    return {
        path: read_page(path)
        for path in sorted(book.html_dir.rglob("*.html"))
        if "_static" not in path.relative_to(book.html_dir).parts
    }


def _content_pages(book: BookBuild, pages: dict[Path, Page]) -> dict[str, Page]:
    """The pages of the toc entries, by docname (only those that were built)."""
    found = {}
    for docname in toc_docnames():
        path = book.html_dir / f"{docname}.html"
        if path in pages:
            found[docname] = pages[path]
    return found


# --------------------------------------------------------------------------- the checks


def test_toc_lists_only_existing_files() -> None:
    missing = [name for name in toc_docnames() if source_of(name) is None]
    assert not missing, (
        f"_toc.yml lists {missing}, but there is no .md or .ipynb file for them in {REPO}. "
        "Write the file or remove the entry from _toc.yml."
    )


def test_book_builds_without_warnings(book: BookBuild) -> None:
    assert book.returncode == 0, _failure(
        book,
        f"jupyter-book build -W -n exited with {book.returncode}: with -W every warning is an "
        "error. Fix the lines below; reproduce with `make book`.",
    )


def test_root_page_exists(book: BookBuild) -> None:
    index = book.html_dir / "index.html"
    root = book.html_dir / f"{toc_docnames()[0]}.html"
    assert index.is_file(), _failure(book, f"No index.html in {book.html_dir}.")
    assert root.is_file(), _failure(book, f"The root page {root.name} was not written.")
    assert root.relative_to(book.html_dir).as_posix() in index.read_text(encoding="utf-8"), (
        f"index.html does not lead to the root page {root.relative_to(book.html_dir)}."
    )


def test_every_toc_page_is_built(book: BookBuild) -> None:
    missing = [
        f"{name}.html"
        for name in toc_docnames()
        if source_of(name) is not None and not (book.html_dir / f"{name}.html").is_file()
    ]
    assert not missing, _failure(book, f"These toc pages were not written: {missing}.")


def test_no_todo_left_in_pages(book: BookBuild, pages: dict[Path, Page]) -> None:
    offenders = {}
    for docname, page in _content_pages(book, pages).items():
        text = " ".join(" ".join(page.text).split())
        if "TODO" in text:
            at = text.index("TODO")
            offenders[docname] = text[max(0, at - 60) : at + 60]
    assert not offenders, f"Pages still contain 'TODO' (with context): {offenders}"


def test_no_widget_shown_as_text(book: BookBuild, pages: dict[Path, Page]) -> None:
    offenders = {}
    for docname, page in _content_pages(book, pages).items():
        match = WIDGET_REPR.search("".join(page.output_text))
        if match:
            offenders[docname] = match.group(0)
    assert not offenders, (
        f"Notebook outputs show widgets as Python text instead of widgets: {offenders}. "
        "The output lacks its widget view; re-run `make execute` (it stores widget state) "
        "instead of saving the notebook from JupyterLab."
    )


def _widget_views(page: Page) -> list[str]:
    return [
        json.loads(script.body)["model_id"]
        for script in page.scripts
        if script.attrs.get("type") == WIDGET_VIEW_TYPE
    ]


def _widget_state(page: Page) -> dict[str, dict]:
    states = [s for s in page.scripts if s.attrs.get("type") == WIDGET_STATE_TYPE]
    return json.loads(states[0].body).get("state", {}) if states else {}


def test_pages_with_widgets_carry_state_and_loader(
    book: BookBuild, pages: dict[Path, Page]
) -> None:
    problems = []
    for docname, page in _content_pages(book, pages).items():
        views = _widget_views(page)
        if not views:
            continue
        state = _widget_state(page)
        missing = [model_id for model_id in views if model_id not in state]
        if missing:
            problems.append(
                f"{docname}: widget views {missing} have no stored state, so the page shows "
                "nothing there. Re-run `make execute`, which saves widget state."
            )
        dangling = sorted(set(re.findall(r"IPY_MODEL_(\w+)", json.dumps(state))) - set(state))
        if dangling:
            problems.append(f"{docname}: the widget state refers to missing models {dangling}.")
        sources = [s.attrs.get("src", "") for s in page.scripts]
        for needed in ("require.min.js", "@jupyter-widgets/html-manager"):
            if not any(needed in src for src in sources):
                problems.append(f"{docname}: has widgets but does not load {needed}.")
    assert not problems, "\n".join(problems)


def _local_script_file(page: Page, src: str) -> Path | None:
    if urlsplit(src).scheme or src.startswith("//"):
        return None
    path = (page.path.parent / unquote(urlsplit(src).path)).resolve()
    return path if path.is_file() else None


def test_no_script_registers_with_requirejs_after_it_loads(pages: dict[Path, Page]) -> None:
    """A UMD script that runs after RequireJS calls define() and breaks every widget."""
    problems = set()
    for page in pages.values():
        sources = [s.attrs.get("src", "") for s in page.scripts]
        if not any("require.min.js" in src for src in sources):
            continue
        require_loaded = False
        for script in page.scripts:
            src = script.attrs.get("src", "")
            if "require.min.js" in src:
                require_loaded = True
                continue
            runs_late = require_loaded or "defer" in script.attrs or "async" in script.attrs
            local = _local_script_file(page, src) if src else None
            if runs_late and local is not None and "define.amd" in local.read_text("utf-8"):
                problems.add(f"{local.name} (on {page.path.name} and maybe others)")
    assert not problems, (
        f"These scripts detect RequireJS and run after it has loaded: {sorted(problems)}. "
        "They will call define() anonymously and stop widgets from drawing; load them before "
        "require.min.js and without defer/async."
    )


def test_internal_links_resolve(book: BookBuild, pages: dict[Path, Page]) -> None:
    broken = []
    for page in pages.values():
        for url in page.urls:
            parts = urlsplit(url)
            if parts.scheme or url.startswith("//") or not (parts.path or parts.fragment):
                continue  # external (http, https, mailto, data, javascript) or a bare "#"
            target = (page.path.parent / unquote(parts.path)).resolve() if parts.path else page.path
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.path.relative_to(book.html_dir)} -> {url}"
            if not target.is_file():
                broken.append(f"{where} (no file {target.name})")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                target_page = pages.get(target) or read_page(target)
                if fragment not in target_page.ids:
                    broken.append(f"{where} (no id {fragment!r} in {target.name})")
    assert not broken, f"{len(broken)} internal links point nowhere:\n" + "\n".join(broken[:40])
