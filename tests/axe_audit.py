"""Accessibility audit of a page open in Playwright, with axe-core.

axe-core is the rule engine behind most accessibility checkers (Lighthouse, browser extensions,
Deque's tools). Its ``axe.min.js`` is vendored in ``tests/fixtures/axe-core-<version>/`` by
``scripts/vendor_web_assets.py`` (npm), so the audit runs offline after ``make setup``.
Injecting the file into a loaded page and calling ``axe.run()`` is axe's documented way to use
it from a browser driver; it checks what the browser actually shows (computed colours, the
accessibility tree), which a parser of the HTML cannot.

axe rates each violation by the harm it does to the people it affects: minor, moderate,
serious, critical. The site must have no serious or critical ones (``BLOCKING_IMPACTS``);
the others are reported for a person to judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BLOCKING_IMPACTS = ("serious", "critical")

# Runs in the page once axe.min.js is loaded: starts every rule axe enables by default (WCAG
# 2.0, 2.1 and 2.2 at levels A and AA, and its best practices) and keeps the promise of the
# violations, so the caller can do other work while axe runs and collect them later.
_START_AXE = """
() => {
  window.__courseAxe = axe.run(document, { resultTypes: ["violations"] }).then((result) =>
    result.violations.map((v) => ({
      rule: v.id,
      impact: v.impact || "unknown",
      help: v.help,
      helpUrl: v.helpUrl,
      targets: v.nodes.map((node) => node.target.join(" ")),
    })));
}
"""
_COLLECT = "() => window.__courseAxe"


@dataclass(frozen=True)
class Violation:
    """One axe rule that fails on a page, with the elements it fails on."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING_IMPACTS

    def describe(self, limit: int = 3) -> str:
        shown = "; ".join(self.targets[:limit])
        more = f" (+{len(self.targets) - limit} more)" if len(self.targets) > limit else ""
        return f"[{self.impact}] {self.rule}: {self.help} — {shown}{more} ({self.help_url})"


def axe_script() -> Path:
    """The vendored ``axe.min.js``; fails with the fix when it is missing or doubled."""
    found = sorted(FIXTURES.glob("axe-core-*/axe.min.js"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"Expected one tests/fixtures/axe-core-<version>/axe.min.js, found {found}. "
            "Run `make vendor` (scripts/vendor_web_assets.py) to fetch the pinned axe-core."
        )
    return found[0]


def start_axe(page) -> None:  # noqa: ANN001 - playwright Page
    """Load axe into ``page`` (already loaded and settled) and start the audit; returns at once.

    The audit runs in the page's renderer process, so a test can load the next page (in
    another tab, another process) meanwhile and use both cores.
    """
    page.add_script_tag(path=str(axe_script()))
    page.evaluate(_START_AXE)


def axe_violations(page) -> list[Violation]:  # noqa: ANN001 - playwright Page
    """Wait for the audit :func:`start_axe` started in ``page`` and return its violations."""
    return [
        Violation(
            rule=raw["rule"],
            impact=raw["impact"],
            help=raw["help"],
            help_url=raw["helpUrl"],
            targets=tuple(raw["targets"]),
        )
        for raw in page.evaluate(_COLLECT)
    ]


def run_axe(page) -> list[Violation]:  # noqa: ANN001 - playwright Page
    """Audit ``page`` and wait for the result."""
    start_axe(page)
    return axe_violations(page)
