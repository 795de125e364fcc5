"""Nothing private is committed: no API keys, no paths of someone's machine, no ``.env``.

Notebooks are committed with their outputs, so a key printed by accident or a traceback that
shows a home folder would be published on the book site. This scans what git tracks (what a
fresh clone and CI see). Findings are reported masked, so the test log leaks nothing either.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from enterprise_ai.config import mask_secret

ROOT = Path(__file__).resolve().parents[1]

SECRET = re.compile(r"sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}")
#: The obviously fake keys tests use; allowed under tests/ only.
FAKE_TEST_KEY = re.compile(r"sk-test-[A-Za-z0-9_-]+")
#: A home folder with something after it (a bare "/home/" is a pattern in a test, not a leak).
HOME_PATH = re.compile(r"(?<![\w.~-])(?:/root|/home|/Users)/[A-Za-z0-9_.-]+")

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs git and a git checkout (the scan covers the files git tracks)",
)


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def _tracked_text_files() -> dict[str, str]:
    """Path (relative, posix) → text, for every tracked file that exists and is UTF-8 text."""
    listing = _git("ls-files", "-z")
    assert listing.returncode == 0, listing.stderr
    files: dict[str, str] = {}
    for name in filter(None, listing.stdout.split("\0")):
        path = ROOT / name
        if not path.is_file():  # deleted in the working tree, not yet committed
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return files


def _line_number(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def test_the_scan_sees_the_repository() -> None:
    files = _tracked_text_files()
    assert "pyproject.toml" in files and "Makefile" in files, sorted(files)[:20]


def test_no_api_keys_in_tracked_files() -> None:
    findings = []
    for name, text in _tracked_text_files().items():
        for match in SECRET.finditer(text):
            if name.startswith("tests/") and FAKE_TEST_KEY.fullmatch(match.group()):
                continue
            line = _line_number(text, match.start())
            findings.append(f"{name}:{line}: {mask_secret(match.group())}")
    assert not findings, (
        "These look like real API keys. Remove them, rotate the key with its provider, and keep "
        "keys in .env (git-ignored):\n" + "\n".join(findings)
    )


def test_no_home_directory_paths_in_tracked_files() -> None:
    findings = [
        f"{name}:{_line_number(text, match.start())}: {match.group()}"
        for name, text in _tracked_text_files().items()
        for match in HOME_PATH.finditer(text)
    ]
    assert not findings, (
        "Absolute home paths tie files to one machine (and name a person). Use paths relative "
        "to the repository, or re-run `make execute` for notebook outputs:\n" + "\n".join(findings)
    )


def _output_texts(notebook: dict) -> list[tuple[int, str]]:
    """(cell number, text) for every stored output of a notebook, all formats as text."""
    texts = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        for output in cell.get("outputs", []):
            texts.append((number, json.dumps(output, ensure_ascii=False)))
    return texts


def test_notebook_outputs_do_not_show_this_machine() -> None:
    machine_paths = {str(ROOT), str(Path.home())} - {"/", ""}
    findings = []
    for name, text in _tracked_text_files().items():
        if not name.endswith(".ipynb"):
            continue
        try:
            notebook = json.loads(text)
        except ValueError as err:
            findings.append(f"{name}: not valid JSON ({err})")
            continue
        for cell, output in _output_texts(notebook):
            shown = [p for p in machine_paths if p in output]
            shown += HOME_PATH.findall(output)
            if shown:
                findings.append(f"{name}, cell {cell}: output shows {sorted(set(shown))}")
    assert not findings, (
        "Stored outputs show paths of the machine that ran them; make the code print relative "
        "paths (or sanitize them) and re-run `make execute`:\n" + "\n".join(findings)
    )


def test_dotenv_is_git_ignored_and_never_tracked() -> None:
    ignored = _git("check-ignore", "--quiet", "--no-index", ".env")
    assert ignored.returncode == 0, ".env must be listed in .gitignore: it holds API keys"
    nested = _git("check-ignore", "--quiet", "--no-index", "notebooks/.env")
    assert nested.returncode == 0, "a .env in a subfolder must be git-ignored too"
    example = _git("check-ignore", "--quiet", "--no-index", ".env.example")
    assert example.returncode == 1, ".env.example must stay committed (it documents settings)"
    tracked = [n for n in _git("ls-files").stdout.splitlines() if Path(n).name == ".env"]
    assert not tracked, f"a .env file is committed: {tracked}; `git rm --cached` it, rotate keys"
