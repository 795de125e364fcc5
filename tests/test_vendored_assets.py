"""The JavaScript copied from npm (scripts/vendor_web_assets.py) is what its manifest says.

The site loads the widget manager and MathJax from ``book/_static`` and the browser tests load
axe-core from ``tests/fixtures``; each folder's ``vendored.json`` names the npm package, its
exact version and a sha256 per file. A file edited by hand, or left behind by an older version,
fails here with the command that restores the folder.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _vendor_script():  # noqa: ANN202 - a module
    """scripts/ is not a package; load scripts/vendor_web_assets.py from its path."""
    spec = importlib.util.spec_from_file_location(
        "vendor_web_assets", REPO / "scripts" / "vendor_web_assets.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


vendor = _vendor_script()


def test_vendored_files_match_their_manifests() -> None:
    found = [line for folder in vendor.VENDORED for line in vendor.problems(folder)]
    assert not found, "\n".join(found)


def test_the_check_finds_an_edited_and_a_stray_file(tmp_path: Path) -> None:
    copy = tmp_path / "axe"
    shutil.copytree(vendor.AXE_CORE.destination, copy)
    folder = replace(vendor.AXE_CORE, destination=copy)
    assert vendor.problems(folder) == []
    (copy / "axe.min.js").write_text("/* edited */", encoding="utf-8")
    (copy / "extra.js").write_text("", encoding="utf-8")
    found = vendor.problems(folder)
    assert len(found) == 2, found
    assert "extra.js is on disk or in vendored.json, not both" in found[0]
    assert "axe.min.js was changed after vendoring" in found[1]


def test_the_check_finds_a_version_bump_that_was_not_vendored(tmp_path: Path) -> None:
    copy = tmp_path / "axe"
    shutil.copytree(vendor.AXE_CORE.destination, copy)
    package = replace(vendor.AXE_CORE.packages[0], version="0.0.1")
    folder = replace(vendor.AXE_CORE, destination=copy, packages=(package,))
    assert any("run `make vendor`" in line and "0.0.1" in line for line in vendor.problems(folder))


def test_the_book_loads_the_vendored_versions() -> None:
    """_config.yml names the folders the script writes (their names carry the version)."""
    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))["sphinx"]["config"]
    static = REPO / config["html_static_path"][0]
    manager = vendor.HTML_MANAGER.destination.relative_to(static).as_posix()
    mathjax = vendor.MATHJAX.destination.relative_to(static).as_posix()
    assert f"{manager}/embed.js" in config["nb_ipywidgets_js"], config["nb_ipywidgets_js"]
    assert config["mathjax_path"] == f"{mathjax}/tex-mml-chtml.js", config["mathjax_path"]
    for folder in (vendor.HTML_MANAGER, vendor.MATHJAX):
        manifest = json.loads((folder.destination / "vendored.json").read_text("utf-8"))
        assert folder.destination.name.endswith(manifest["packages"][0]["version"]), manifest
