"""Copy the JavaScript the site and its tests need from npm into the repository.

    python scripts/vendor_web_assets.py           # fetch the pinned versions, copy, write manifests
    python scripts/vendor_web_assets.py --check   # change nothing; exit 1 if a file was altered

Why vendored, not loaded from a CDN or installed at test time:

- ``@jupyter-widgets/html-manager`` draws the widgets stored in the notebooks on the static
  site. Loaded from a CDN (myst-nb's default), a page needs a third-party network to show them
  (and breaks when the CDN does: ipywidgets#3904). Its standalone bundle ``embed.js`` draws
  the standard ipywidgets without RequireJS, so the site needs no other script for it.
- ``mathjax`` typesets the few formulas (Sphinx loads it from a CDN by default, so they
  showed as raw TeX offline).
- ``axe-core`` audits every built page for accessibility in the browser tests. CI and a laptop
  run them offline after ``make setup``, which installs Python packages only.

``make vendor`` runs this with ``npm pack`` into a scratch folder; only the built files and
their licences are committed. Each destination holds a ``vendored.json`` with the package,
its exact version, the registry's integrity hash of the tarball and a sha256 per file, so a
reviewer can check the files against the registry and ``--check`` notices a hand edit.
Bump a version by changing it below and running ``make vendor``; the folder names carry the
version, so a browser never serves a cached older copy after an upgrade.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "vendored.json"


@dataclass(frozen=True)
class Package:
    """Files taken from one npm package: path inside the package -> path to write.

    A key with ``*`` is a glob; its value is then a folder (ending in ``/``) that receives
    every matching file under its own name.
    """

    name: str
    version: str
    files: dict[str, str]

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Vendored:
    """One folder of vendored files and the packages they come from."""

    destination: Path
    packages: tuple[Package, ...]
    #: The npm package declares BSD-3-Clause but ships no LICENSE file (see _ipywidgets_license).
    add_ipywidgets_license: bool = False


HTML_MANAGER = Vendored(
    destination=ROOT / "book" / "_static" / "html-manager-1.0.15",
    packages=(
        Package(
            "@jupyter-widgets/html-manager",
            # 1.x draws ipywidgets 8 models (ipywidgets 8.1 asks for ^1.0.1); newest 1.x.
            "1.0.15",
            {
                "dist/embed.js": "embed.js",
                # Notices of the libraries bundled into embed.js (jQuery, jQuery UI, ...).
                "dist/embed.js.LICENSE.txt": "THIRD-PARTY-NOTICES.txt",
                # embed.js bundles Font Awesome 5's CSS, which asks for these fonts next to
                # embed.js on every widget page. Browsers take the first format they support,
                # woff2, so the woff/ttf/eot/svg copies are left out.
                "dist/1551f4f60c37af51121f.woff2": "1551f4f60c37af51121f.woff2",
                "dist/7a3337626410ca2f4071.woff2": "7a3337626410ca2f4071.woff2",
                "dist/d878b0a6a1144760244f.woff2": "d878b0a6a1144760244f.woff2",
            },
        ),
        # The version bundled into embed.js (its CSS banner says "Font Awesome Free 5.15.4").
        Package(
            "@fortawesome/fontawesome-free", "5.15.4", {"LICENSE.txt": "LICENSE-font-awesome.txt"}
        ),
    ),
    add_ipywidgets_license=True,
)

MATHJAX = Vendored(
    destination=ROOT / "book" / "_static" / "mathjax-3.2.2",
    packages=(
        Package(
            "mathjax",
            # Sphinx 7's default mathjax_path is MathJax 3 from a CDN; same major version here.
            "3.2.2",
            {
                "es5/tex-mml-chtml.js": "tex-mml-chtml.js",
                # MathJax loads its fonts from this path next to the script.
                "es5/output/chtml/fonts/woff-v2/*.woff": "output/chtml/fonts/woff-v2/",
                "LICENSE": "LICENSE",
            },
        ),
    ),
)

AXE_CORE = Vendored(
    destination=ROOT / "tests" / "fixtures" / "axe-core-4.14.1",
    packages=(
        Package(
            "axe-core",
            "4.14.1",
            {
                "axe.min.js": "axe.min.js",
                "LICENSE": "LICENSE",
                "LICENSE-3RD-PARTY.txt": "LICENSE-3RD-PARTY.txt",
            },
        ),
    ),
)

VENDORED = (HTML_MANAGER, MATHJAX, AXE_CORE)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it, for messages."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _hashes(destination: Path) -> dict[str, str]:
    """sha256 of every file under ``destination`` but the manifest, by relative posix path."""
    return {
        path.relative_to(destination).as_posix(): _sha256(path)
        for path in sorted(destination.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _npm_pack(package: Package, scratch: Path) -> tuple[Path, str]:
    """Download the package tarball with npm; return the unpacked folder and its integrity."""
    npm = shutil.which("npm")
    if npm is None:
        sys.exit("npm is not on PATH. Install Node.js (Debian: apt-get install npm) and rerun.")
    result = subprocess.run(
        [npm, "pack", package.spec, "--json", "--pack-destination", str(scratch)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"`npm pack {package.spec}` failed ({result.returncode}):\n{result.stderr}")
    info = json.loads(result.stdout)[0]
    unpacked = scratch / package.name.replace("/", "__")
    with tarfile.open(scratch / info["filename"]) as tar:
        tar.extractall(unpacked, filter="data")
    root = unpacked / "package"
    declared = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    if declared != package.version:
        sys.exit(f"npm returned {package.name} {declared}, not the pinned {package.version}.")
    return root, info["integrity"]


def _ipywidgets_license() -> str:
    """The BSD-3-Clause text of the ipywidgets repository, which publishes html-manager.

    The npm package declares ``"license": "BSD-3-Clause"`` but ships no LICENSE file. The
    ipywidgets wheel comes from the same repository and carries the file, so it is copied
    from the installed wheel (``make setup`` installs it).
    """
    files = metadata.files("ipywidgets") or []
    found = [f for f in files if f.name == "LICENSE" and "dist-info" in str(f)]
    if not found:
        sys.exit("ipywidgets' LICENSE file was not found; run `make setup` first.")
    return found[0].read_text(encoding="utf-8")


def vendor(folder: Vendored, scratch: Path) -> None:
    """Replace ``folder.destination`` with the pinned files and a fresh manifest."""
    if folder.destination.exists():
        shutil.rmtree(folder.destination)
    folder.destination.mkdir(parents=True)
    packages = []
    for package in folder.packages:
        unpacked, integrity = _npm_pack(package, scratch)
        for source, target in package.files.items():
            matches = sorted(unpacked.glob(source)) if "*" in source else [unpacked / source]
            if not matches or not matches[0].is_file():
                sys.exit(f"{package.spec} has no {source}; check the path in this script.")
            for match in matches:
                path = folder.destination / (target + match.name if "*" in source else target)
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(match, path)
        packages.append(
            {"name": package.name, "version": package.version, "npm_integrity": integrity}
        )
    if folder.add_ipywidgets_license:
        (folder.destination / "LICENSE").write_text(_ipywidgets_license(), encoding="utf-8")
    manifest = {"packages": packages, "sha256": _hashes(folder.destination)}
    (folder.destination / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", "utf-8")
    print(f"{', '.join(p.spec for p in folder.packages)} -> {_shown(folder.destination)}")


def problems(folder: Vendored) -> list[str]:
    """What differs between the committed files and their manifest (empty when all match)."""
    manifest_path = folder.destination / MANIFEST
    where = _shown(folder.destination)
    if not manifest_path.is_file():
        return [f"{where}/{MANIFEST} is missing; run `make vendor`."]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found = []
    recorded = [(p["name"], p["version"]) for p in manifest["packages"]]
    pinned = [(p.name, p.version) for p in folder.packages]
    if recorded != pinned:
        found.append(
            f"{where} holds {recorded}, but scripts/vendor_web_assets.py pins {pinned}; "
            "run `make vendor`."
        )
    on_disk = _hashes(folder.destination)
    for name in sorted(set(on_disk) ^ set(manifest["sha256"])):
        found.append(f"{where}/{name} is on disk or in {MANIFEST}, not both; run `make vendor`.")
    for name in sorted(set(on_disk) & set(manifest["sha256"])):
        if on_disk[name] != manifest["sha256"][name]:
            found.append(f"{where}/{name} was changed after vendoring; run `make vendor`.")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        found = [line for folder in VENDORED for line in problems(folder)]
        print("\n".join(found) or "All vendored files match their manifests.")
        return 1 if found else 0
    with tempfile.TemporaryDirectory(prefix="vendor-") as scratch:
        for folder in VENDORED:
            vendor(folder, Path(scratch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
