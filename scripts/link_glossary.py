"""Link every glossary term where a reader meets it first.

    python scripts/link_glossary.py           # add the missing links, report what changed
    python scripts/link_glossary.py --check   # change nothing; exit 1 if a first use is unlinked

"First" follows the reading order of the book: the pages of ``_toc.yml`` from top to bottom,
and inside a notebook its Markdown cells. The first mention of a term (or its plural) that is
ordinary prose becomes a Markdown link to the term's entry, e.g.
``[tokens](../book/glossary.md#token)``. Headings, code, existing links, roles, directives and
HTML are left alone. Each glossary entry is a ``###`` heading, so the link's anchor is the
heading's slug: plain Markdown links then work in both places a learner reads (Jupyter Book
checks and resolves them; JupyterLab opens the glossary file). Sphinx's ``{glossary}``
directive was not used for this reason: MyST cannot check a link into its term ids.

Run it after adding a module or a glossary term; ``tests/test_glossary.py`` runs ``--check``.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"

#: Other ways the prose names a term (the glossary entry keeps the precise name).
ALIASES: dict[str, list[str]] = {
    "few-shot prompt": ["few-shot"],
    "zero-shot prompt": ["zero-shot"],
    "grounded answer": ["grounded"],
    "OpenAI-compatible API": ["OpenAI-compatible"],
    "static fallback": ["static fallback"],
    "quantisation": ["quantised", "quantized"],
    "personal data": ["PII"],
    "high-risk AI system": ["high-risk system", "high-risk"],
    "output moderation": ["moderation"],
    "red teaming": ["red-team", "red team"],
}
#: Terms whose everyday sense differs from the glossary's (a "provider" of a cloud model is not
#: the AI Act's provider): the lessons link them by hand where the precise sense is meant.
AMBIGUOUS = {"provider", "deployer"}
_TERM_ROLE = re.compile(r"\{term\}`([^`<]*?)\s*(?:<([^>`]+)>)?`")

# Regions of Markdown that must never receive a link.
_PROTECTED = re.compile(
    r"(?ms)"
    r"^(?P<fence>`{3,}|~{3,}).*?^(?P=fence)[ \t]*$"  # fenced code and directives
    r"|^[ \t]*#{1,6}[ \t].*?$"  # headings
    r"|^\([^)\n]*\)=[ \t]*$"  # MyST targets: (label)=
    r"|^[ \t]*:[\w-]+:.*?$"  # directive options
    r"|`[^`\n]*`"  # inline code, and the argument of a {role}`...`
    r"|\{[\w:-]+\}"  # the role name itself
    r"|!?\[[^\]\n]*\]\([^)\n]*\)"  # links and images
    r"|<[^>\n]+>"  # HTML tags and autolinks
    r"|https?://\S+"  # bare URLs
)


@dataclass(frozen=True)
class Term:
    """A glossary entry: its name, its anchor in the built page, and how prose spells it."""

    name: str
    anchor: str
    pattern: re.Pattern[str]
    spellings: tuple[str, ...] = ()  # lower case, for a quick "is it there at all?" test


@dataclass
class Document:
    """One page of the book: a Markdown file, or the Markdown cells of a notebook."""

    path: Path
    texts: list[str]
    notebook: dict | None = None

    def save(self) -> None:
        if self.notebook is None:
            self.path.write_text(self.texts[0], encoding="utf-8")
            return
        markdown = iter(self.texts)
        for cell in self.notebook["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = next(markdown).splitlines(keepends=True)
        text = json.dumps(self.notebook, indent=1, ensure_ascii=False) + "\n"
        self.path.write_text(text, encoding="utf-8")


def term_anchor(name: str) -> str:
    """The anchor MyST gives the heading ``### name`` (GitHub style: lower case, spaces as
    dashes, other punctuation dropped), e.g. ``hit@k`` → ``hitk``."""
    return re.sub(r"[^\w\- ]", "", name.lower().replace(" ", "-"))


def _spellings(name: str) -> list[str]:
    """How a term appears in prose: "retrieval-augmented generation (RAG)" has two names."""
    match = re.fullmatch(r"(.+?)\s*\((.+)\)", name)
    names = [match.group(1), match.group(2)] if match else [name]
    return names + ALIASES.get(name, [])


def load_terms(glossary: Path = GLOSSARY) -> list[Term]:
    """The terms (the ``###`` headings of the glossary), longest first, so "system prompt"
    wins over "prompt" when both could match at the same place."""
    names = re.findall(r"^### (.+?)\s*$", glossary.read_text(encoding="utf-8"), re.MULTILINE)
    if not names:
        raise SystemExit(f"No '### term' headings in {glossary}.")
    terms = []
    for name in names:
        words = "|".join(re.escape(s) for s in _spellings(name))
        pattern = re.compile(rf"(?<![\w@/.-])(?:{words})(?:s|es)?(?![\w@-])", re.IGNORECASE)
        lowered = tuple(spelling.lower() for spelling in _spellings(name))
        terms.append(Term(name, term_anchor(name), pattern, lowered))
    return sorted(terms, key=lambda t: -len(t.name))


def _toc_files(toc: Path) -> list[Path]:
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    entries = [data["root"]]

    def walk(node: dict) -> None:
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key, []):
                if "file" in child:
                    entries.append(child["file"])
                walk(child)

    walk(data)
    paths = []
    for entry in entries:
        for suffix in (".md", ".ipynb"):
            candidate = ROOT / f"{entry}{suffix}"
            if candidate.is_file():
                paths.append(candidate)
                break
    return paths


def load_documents(toc: Path = ROOT / "_toc.yml") -> list[Document]:
    """Every page in reading order, except the glossary itself and the solutions/exercises
    (they repeat their lesson's words; the lesson links them first)."""
    documents = []
    for path in _toc_files(toc):
        if path == GLOSSARY or path.parent.name in ("exercises", "solutions"):
            continue
        if path.suffix == ".md":
            documents.append(Document(path, [path.read_text(encoding="utf-8")]))
        else:
            notebook = json.loads(path.read_text(encoding="utf-8"))
            texts = [
                "".join(cell["source"])
                for cell in notebook["cells"]
                if cell["cell_type"] == "markdown"
            ]
            documents.append(Document(path, texts, notebook))
    return documents


@functools.lru_cache(maxsize=4096)
def _protected_spans(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Starts and ends of the code, links and headings in ``text`` (sorted, not overlapping).

    Cached: every term is looked up in every text, so the spans of one text are needed about
    a hundred times.
    """
    spans = [(m.start(), m.end()) for m in _PROTECTED.finditer(text)]
    return tuple(start for start, _ in spans), tuple(end for _, end in spans)


def _free_matches(term: Term, text: str) -> list[re.Match[str]]:
    starts, ends = _protected_spans(text)

    def protected(position: int) -> bool:
        i = bisect.bisect_right(starts, position) - 1
        return i >= 0 and position < ends[i]

    return [m for m in term.pattern.finditer(text) if not protected(m.start())]


@functools.lru_cache(maxsize=8192)
def _lower(text: str) -> str:
    return text.lower()


def _has_free_match(term: Term, text: str) -> bool:
    """Like ``bool(_free_matches(...))``, but stops at the first free match."""
    lower = _lower(text)
    if not any(spelling in lower for spelling in term.spellings):
        return False  # most texts do not mention most terms: a substring test says so fast
    return bool(_free_matches(term, text))


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _glossary_path(document: Document) -> str:
    return os.path.relpath(GLOSSARY, document.path.parent).replace(os.sep, "/")


def _link_target(document: Document, term: Term) -> str:
    return f"{_glossary_path(document)}#{term.anchor}"


def is_linked(term: Term, text: str) -> bool:
    """True if ``text`` holds a Markdown link to the term's glossary entry."""
    return f"glossary.md#{term.anchor})" in text


def replace_term_roles(document: Document) -> int:
    """Turn ``{term}`text <name>``` roles (the old glossary syntax) into Markdown links."""
    count = 0
    for index, text in enumerate(document.texts):

        def link(match: re.Match[str]) -> str:
            shown, name = match.group(1).strip(), (match.group(2) or match.group(1)).strip()
            target = f"{_glossary_path(document)}#{term_anchor(name)}"
            return f"[{shown}]({target})"

        new, replaced = _TERM_ROLE.subn(link, text)
        document.texts[index] = new
        count += replaced
    return count


def first_uses(documents: list[Document], terms: list[Term]) -> dict[str, tuple[Document, int]]:
    """For each term, the document and text index of its first linked or unlinked use."""
    found: dict[str, tuple[Document, int]] = {}
    for term in terms:
        for document in documents:
            for index, text in enumerate(document.texts):
                if is_linked(term, text) or _has_free_match(term, text):
                    found[term.name] = (document, index)
                    break
            if term.name in found:
                break
    return found


def link_first_uses(documents: list[Document], terms: list[Term]) -> list[str]:
    """Turn each term's first use into a link, unless it is linked there already.

    Returns:
        One line per change, ``path: term``.
    """
    changes = []
    for term, (document, index) in first_uses(documents, terms).items():
        text = document.texts[index]
        entry = next(t for t in terms if t.name == term)
        if is_linked(entry, text):
            continue
        match = _free_matches(entry, text)[0]
        link = f"[{match.group(0)}]({_link_target(document, entry)})"
        document.texts[index] = text[: match.start()] + link + text[match.end() :]
        changes.append(f"{_shown(document.path)}: {term}")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if needed")
    args = parser.parse_args(argv)
    terms = load_terms()
    documents = load_documents()
    roles = {d.path: replace_term_roles(d) for d in documents}
    missing = [t.name for t in terms if t.name not in first_uses(documents, terms)]
    # Two ways into the course: the book from its first page, and the lessons in JupyterLab
    # from module 00. Each gets its own first link.
    lessons = [d for d in documents if d.path.parent.name == "notebooks"]
    precise = [t for t in terms if t.name not in AMBIGUOUS]
    changes = link_first_uses(documents, terms) + link_first_uses(lessons, precise)
    changes += [f"{_shown(p)}: {n} {{term}} role(s)" for p, n in roles.items() if n]
    for line in changes:
        print(("unlinked first use: " if args.check else "linked: ") + line)
    for name in missing:
        print(f"never used in the book: {name}")
    if args.check:
        return 1 if changes else 0
    changed = {line.split(":")[0] for line in changes}
    for document in documents:
        if _shown(document.path) in changed:
            document.save()
    print(f"{len(changes)} link(s) added; {len(terms) - len(missing)} terms are linked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
