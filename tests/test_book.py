"""Build the Jupyter Book the way CI publishes it, then check the site a reader gets.

The build uses the flags of ``make book`` (``-W -n --keep-going``: every warning, including an
unresolved cross-reference, fails it) and writes to a temporary folder, so the repository is not
touched. The checks after it catch what a green build still lets through:

- a page from ``_toc.yml`` that was not written, or a root page that is missing;
- "TODO" left in a page;
- a widget that reaches the page as its Python repr (``VBox(children=...)``) instead of a widget;
- a widget view whose state was not stored (the page would show nothing, silently), or a page
  with widgets that does not load the widget manager vendored in ``book/_static``;
- a script, style sheet or image fetched from another site (the site must work offline and
  when a CDN is down);
- a script that registers itself with RequireJS after RequireJS has loaded, which breaks every
  widget on the page (jupyter/jupyter.github.io#878);
- an internal link or anchor that points nowhere (the link check: external links are listed in
  ``tests/artifacts/external-links.txt``, not fetched, and must use https);
- a lesson, exercise and solution page of one module that a reader cannot tell apart by title;
- a repository, edit or Binder button that points at a file this repository does not have.

Run it alone with ``pytest tests/test_book.py``; it is marked ``slow`` and ``site``
(``make site-check`` runs the ``site`` tests).
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

pytestmark = [pytest.mark.slow, pytest.mark.site]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
#: The widget manager every page with widgets must load from the site itself.
WIDGET_MANAGER = re.compile(r"_static/html-manager-[\d.]+/embed\.js$")
WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW_TYPE = "application/vnd.jupyter.widget-view+json"

# Self-closing HTML elements: they never get an end tag, so they never go on the parse stack.
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
# Attributes that hold a URL the browser will fetch or navigate to.
_URL_ATTRIBUTES = {"a": "href", "link": "href", "script": "src", "img": "src", "iframe": "src"}
# Of those, the ones the browser fetches while drawing the page (``<a href>`` is only followed;
# a ``<link>`` is fetched for these ``rel`` values, not for e.g. rel="next").
_FETCHED = {"link", "script", "img", "iframe"}
_FETCHED_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon"}


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
    fetched: list[str] = field(default_factory=list)  # script/style/image/frame URLs
    anchors: list[tuple[str, str]] = field(default_factory=list)  # (href, text) of <a>
    sidebar: list[tuple[str, str]] = field(default_factory=list)  # the same, in the book's nav
    scripts: list[Script] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    output_text: list[str] = field(default_factory=list)
    title: str = ""
    h1: str = ""


class _PageParser(HTMLParser):
    """Collect ids, fetched URLs, scripts, visible text and the text of notebook outputs."""

    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, opens an output, opens the nav)
        self._script: Script | None = None
        self._in_style = False
        self._open_text: dict[str, list[str]] = {}  # "title", "h1", "a" -> text so far
        self._href = ""

    def _inside_output(self) -> bool:
        return any(is_output for _, is_output, _ in self._stack)

    def _inside_sidebar(self) -> bool:
        return any(is_nav for _, _, is_nav in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if "id" in values:
            self.page.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.page.ids.add(values["name"])
        url_attribute = _URL_ATTRIBUTES.get(tag)
        if url_attribute and values.get(url_attribute):
            self.page.urls.append(values[url_attribute])
            rels = set(values.get("rel", "").split())
            if tag in _FETCHED and (tag != "link" or rels & _FETCHED_LINK_RELS):
                self.page.fetched.append(values[url_attribute])
        if tag == "title" or (tag == "h1" and not self.page.h1) or tag == "a":
            self._open_text[tag] = []
            self._href = values.get("href", "") if tag == "a" else self._href
        if tag == "script":
            self._script = Script(values)
            self.page.scripts.append(self._script)
        if tag == "style":
            self._in_style = True
        if tag not in _VOID_ELEMENTS:
            classes = values.get("class", "").split()
            is_output = tag == "div" and "cell_output" in classes
            self._stack.append((tag, is_output, tag == "nav" and "bd-docs-nav" in classes))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open_text:
            text = " ".join("".join(self._open_text.pop(tag)).split())
            if tag == "a":
                self.page.anchors.append((self._href, text))
                if self._inside_sidebar():
                    self.page.sidebar.append((self._href, text))
            else:
                setattr(self.page, tag, text.removesuffix("#").strip())
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
        for parts in self._open_text.values():
            parts.append(data)
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
        managers = [
            src
            for src in (s.attrs.get("src", "").split("?")[0] for s in page.scripts)
            if WIDGET_MANAGER.search(src)
        ]
        if not managers:
            problems.append(
                f"{docname}: has widgets but does not load the vendored widget manager "
                "(_static/html-manager-<version>/embed.js); check nb_ipywidgets_js in _config.yml."
            )
        elif _local_script_file(page, managers[0]) is None:
            problems.append(
                f"{docname}: loads {managers[0]}, which is not in the built site; run "
                "`make vendor` (scripts/vendor_web_assets.py) and check html_static_path."
            )
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


def _is_external(url: str) -> bool:
    return bool(urlsplit(url).scheme) or url.startswith("//")


def test_pages_fetch_nothing_from_other_sites(book: BookBuild, pages: dict[Path, Page]) -> None:
    """Scripts, style sheets and images come from the site itself, so it works offline."""
    outside = {
        f"{page.path.relative_to(book.html_dir)}: {url}"
        for page in pages.values()
        for url in page.fetched
        if _is_external(url) and not url.startswith("data:")
    }
    assert not outside, (
        "Pages load these from other sites; they break offline and when the other site is "
        "down. Vendor the file into book/_static (see scripts/vendor_web_assets.py):\n"
        + "\n".join(sorted(outside))
    )


def broken_internal_links(pages: dict[Path, Page], html_dir: Path) -> list[str]:
    """Every link or fetched URL inside the site whose file or ``#anchor`` does not exist.

    External URLs (any scheme, ``//host``) and a bare ``#`` are skipped. A folder means its
    ``index.html``. Pages outside ``pages`` (assets' HTML) are read when a link points there.
    """
    broken = []
    for page in pages.values():
        for url in page.urls:
            parts = urlsplit(url)
            if _is_external(url) or not (parts.path or parts.fragment):
                continue
            target = (page.path.parent / unquote(parts.path)).resolve() if parts.path else page.path
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.path.relative_to(html_dir)} -> {url}"
            if not target.is_file():
                broken.append(f"{where} (no file {target.name})")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.suffix == ".html":
                target_page = pages.get(target) or read_page(target)
                if fragment not in target_page.ids:
                    broken.append(f"{where} (no id {fragment!r} in {target.name})")
    return broken


def external_links(pages: dict[Path, Page], html_dir: Path) -> dict[str, list[str]]:
    """Each external URL of the site (links and fetched files) -> the pages that use it."""
    found: dict[str, set[str]] = {}
    for page in pages.values():
        for url in page.urls:
            if _is_external(url) and not url.startswith(("data:", "javascript:")):
                found.setdefault(url, set()).add(page.path.relative_to(html_dir).as_posix())
    return {url: sorted(where) for url, where in sorted(found.items())}


def test_internal_links_resolve(book: BookBuild, pages: dict[Path, Page]) -> None:
    broken = broken_internal_links(pages, book.html_dir)
    assert not broken, f"{len(broken)} internal links point nowhere:\n" + "\n".join(broken[:40])


def test_link_checker_finds_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    """The checker above, on a two-page site with one good and two broken links."""
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="b.html#part">ok</a><a href="c.html">gone</a>'
        '<a href="b.html#nowhere">bad anchor</a><a href="https://example.org/x">external</a>',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text('<h2 id="part">B</h2><a href="a.html#top">ok</a>', "utf-8")
    pages = {path: read_page(path) for path in sorted(tmp_path.glob("*.html"))}
    assert broken_internal_links(pages, tmp_path) == [
        "a.html -> c.html (no file c.html)",
        "a.html -> b.html#nowhere (no id 'nowhere' in b.html)",
    ]
    assert external_links(pages, tmp_path) == {"https://example.org/x": ["a.html"]}


def test_external_links_are_listed_and_use_https(book: BookBuild, pages: dict[Path, Page]) -> None:
    """External links are not fetched (the tests run offline); they are written to a file a
    person can check, and each must be https (or mailto), which the published site needs."""
    links = external_links(pages, book.html_dir)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    listing = ARTIFACTS / "external-links.txt"
    listing.write_text(
        f"# {len(links)} external URLs of the built book (not fetched), with the pages using them\n"
        + "".join(f"{url}\t{' '.join(where)}\n" for url, where in links.items()),
        encoding="utf-8",
    )
    assert links, "The book has no external links at all; the link collection is broken."
    insecure = {
        url: where for url, where in links.items() if not url.startswith(("https://", "mailto:"))
    }
    assert not insecure, f"External links that are not https (or mailto): {insecure}"


# --------------------------------------------------------------------------------------------
# Page titles and the buttons of a notebook page

MODULE_PARTS = {"notebooks": "", "exercises": "Exercises ", "solutions": "Solutions "}


def _module_pages(book: BookBuild, pages: dict[Path, Page]) -> dict[str, dict[str, Page]]:
    """Module number -> {"notebooks": page, "exercises": page, "solutions": page}."""
    modules: dict[str, dict[str, Page]] = {}
    for docname, page in _content_pages(book, pages).items():
        folder, _, name = docname.partition("/")
        if folder in MODULE_PARTS:
            modules.setdefault(name[:2], {})[folder] = page
    return modules


def test_lesson_exercise_and_solution_are_titled_apart(
    book: BookBuild, pages: dict[Path, Page]
) -> None:
    """Page title and heading say which of the three a page is: "01 · …", "Exercises 01 · …",
    "Solutions 01 · …" (the sidebar shows the same titles)."""
    modules = _module_pages(book, pages)
    assert len(modules) >= 10, f"Expected the course's modules, found {sorted(modules)}"
    problems = []
    for number, parts in sorted(modules.items()):
        for folder, page in parts.items():
            prefix = f"{MODULE_PARTS[folder]}{number} · "
            if not page.h1.startswith(prefix) or not page.title.startswith(prefix):
                problems.append(
                    f"{folder}/{page.path.name}: heading {page.h1!r}, title {page.title!r}; "
                    f"both should start with {prefix!r}"
                )
        titles = [page.title for page in parts.values()]
        if len(set(titles)) != len(titles):
            problems.append(f"module {number}: pages share a title: {titles}")
    assert not problems, (
        "Solutions' first heading is '# Solutions NN · …' (make exercises turns it into "
        "'# Exercises NN · …'):\n" + "\n".join(problems)
    )


def test_sidebar_names_each_page_by_its_title(book: BookBuild, pages: dict[Path, Page]) -> None:
    home = pages[book.html_dir / f"{toc_docnames()[0]}.html"]
    sidebar = {href.split("#")[0]: text for href, text in home.sidebar}
    missing = []
    for parts in _module_pages(book, pages).values():
        for page in parts.values():
            href = "../" + page.path.relative_to(book.html_dir).as_posix()
            if sidebar.get(href) != page.h1:
                missing.append(f"{href}: sidebar says {sidebar.get(href)!r}, page {page.h1!r}")
    assert not missing, "\n".join(missing)


def _repository() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["repository"]


def test_notebook_buttons_point_at_files_of_this_repository(
    book: BookBuild, pages: dict[Path, Page]
) -> None:
    """Repository, edit, issue and Binder buttons of every module page lead somewhere real.

    Edit links must name a file that exists on the configured branch (for an exercise: the
    solution it is generated from); Binder must open this repository's branch and the page's
    own notebook in JupyterLab.
    """
    repo = _repository()
    url, branch = repo["url"].rstrip("/"), repo["branch"]
    owner_repo = urlsplit(url).path.strip("/")
    binder = f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/"
    problems = []
    for parts in _module_pages(book, pages).values():
        for page in parts.values():
            source = page.path.relative_to(book.html_dir).with_suffix(".ipynb").as_posix()
            hrefs = {href for href, _ in page.anchors}
            edits = [h for h in hrefs if h.startswith(f"{url}/edit/")]
            expected = source.replace("exercises/", "solutions/", 1)
            if edits != [f"{url}/edit/{branch}/{expected}"]:
                problems.append(f"{source}: edit links {edits}, expected one to {expected}")
            if url not in hrefs:
                problems.append(f"{source}: no repository button ({url})")
            if not any(h.startswith(f"{url}/issues/new?") for h in hrefs):
                problems.append(f"{source}: no issue button")
            if f"{binder}{source}" not in hrefs:
                problems.append(f"{source}: no Binder link {binder}{source}")
            for target in {expected, source}:
                if not (REPO / target).is_file():
                    problems.append(f"{source}: the buttons name {target}, which does not exist")
    assert not problems, "\n".join(problems)
