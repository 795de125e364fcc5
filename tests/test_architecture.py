"""Dependencies in enterprise_ai point one way: core → capabilities → widgets/checks → cli.

A lesson's widget may use its capability module, never the other way round; the model layer
knows nothing about support bots. This keeps every capability testable without ipywidgets.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "enterprise_ai"
CORE = {"config", "errors", "local_server", "adapter", "llm", "batch"}
FRONT_ENDS = {"widgets", "checks", "cli", "doctor", "progress", "serve", "notebooks"}


def _imports(path: Path) -> set[str]:
    """First component after ``enterprise_ai.`` of every import in a file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] == "enterprise_ai":
                if len(parts) > 1:
                    names.add(parts[1])
                else:
                    names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "enterprise_ai" and len(parts) > 1:
                    names.add(parts[1])
    return names


def _module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _modules() -> dict[str, set[str]]:
    imports: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        imports.setdefault(_module_name(path), set()).update(_imports(path))
    return imports


def test_core_imports_no_capability_module():
    for name, imported in _modules().items():
        if name in CORE:
            assert imported <= CORE, f"{name} imports {sorted(imported - CORE)}"


def test_capabilities_import_no_front_end():
    for name, imported in _modules().items():
        if name not in CORE | FRONT_ENDS | {"testing"}:
            bad = imported & FRONT_ENDS
            assert not bad, f"capability module {name} imports front end(s) {sorted(bad)}"


def test_the_rule_sees_imports():
    assert {"data", "local_server", "errors"} <= _modules()["costs"]
