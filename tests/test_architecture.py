"""Dependencies in enterprise_ai point one way: core → capabilities → front ends, no circles.

The rules are import-linter contracts in pyproject.toml (``[tool.importlinter]``): the model
layer knows nothing about support bots, a capability knows nothing about widgets, so each can
be tested without ipywidgets, and no two modules import each other. ``make lint`` runs
``lint-imports``; this file runs it too, and proves on a copy of the package that a wrong
import makes it fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "enterprise_ai"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(source_root: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the project's contracts on the package found under source_root."""
    # COLUMNS: rich wraps long contract names at 80 columns otherwise.
    env = {**os.environ, "PYTHONPATH": str(source_root), "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache)],
        capture_output=True,
        text=True,
        env=env,
        cwd=source_root,
        timeout=120,
    )


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of src/enterprise_ai to break on purpose; returns the copy's source root."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "enterprise_ai")
    return tmp_path / "src"


def _add_import(source_root: Path, module: str, line: str) -> None:
    path = source_root / "enterprise_ai" / f"{module}.py"
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_the_package_keeps_its_import_contracts(tmp_path: Path) -> None:
    result = _lint_imports(ROOT / "src", tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_copy_is_what_the_contracts_read(package_copy: Path, tmp_path: Path) -> None:
    """The failing cases below mean something only if the unbroken copy passes."""
    result = _lint_imports(package_copy, tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        # the two circles issue 15 removed
        ("compliance", "from enterprise_ai import compliance_bot", "compliance_bot (the bot)"),
        ("audit", "from enterprise_ai import guardrails", "know nothing about guardrails"),
        # a circle of two modules no named contract covers
        ("kb", "from enterprise_ai import support", "No two modules of enterprise_ai"),
        # the model layer importing a capability, a capability importing a widget
        ("llm", "from enterprise_ai import support", "never the other way"),
        ("costs", "from enterprise_ai import widgets", "never the other way"),
        # the costs split
        ("costs", "from enterprise_ai.charts import ChartFigure", "costs is prices and arithmetic"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    package_copy: Path, tmp_path: Path, module: str, line: str, broken: str
) -> None:
    _add_import(package_copy, module, line)
    result = _lint_imports(package_copy, tmp_path / "cache")
    assert result.returncode == 1, result.stdout + result.stderr
    _, _, report = result.stdout.partition("Broken contracts")
    assert broken in report, result.stdout
