"""``enterprise_ai.checks`` and ``enterprise_ai.widgets`` load their modules on first use.

A solution or lesson imports the one check or widget it needs, not the libraries behind all of
them (about a second less per notebook, ``benchmarks/RESULTS.md`` (c)). The catch with lazy
loading: importing ``widgets.support_chat`` makes the *module* an attribute of the package under
the name of the function ``support_chat``. Each name must still give what it names.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

SCRIPT = """
import importlib, inspect, sys
package = importlib.import_module(sys.argv[1])
for name in package.__all__:
    exec(f"from {sys.argv[1]} import {name} as value")
    assert not inspect.ismodule(value), f"{name} is a module"
    assert callable(value) or not name.islower(), f"{name} is not callable"
print(len(package.__all__))
"""


@pytest.mark.parametrize("package", ["enterprise_ai.checks", "enterprise_ai.widgets"])
def test_every_name_imports_as_what_it_names_in_a_fresh_process(package: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, package], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(importlib.import_module(package).__all__)


def test_importing_the_checks_loads_no_check_module_until_one_is_used() -> None:
    script = (
        "import sys; from enterprise_ai import checks\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith('enterprise_ai.checks.'))\n"
        "print(loaded()); checks.ex02_1; print(loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    before, after = result.stdout.splitlines()
    assert before == "[]", result.stderr
    assert "enterprise_ai.checks.module02" in after and "module08" not in after
