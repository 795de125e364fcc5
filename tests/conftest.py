"""Shared test setup: a hermetic environment, and nbval settings for the course notebooks.

Environment: tests never read the developer's ``.env`` (``COURSE_DOTENV=0``), and run on the
offline model unless ``COURSE_BACKEND`` was exported on purpose. Kernels that nbval starts
inherit these variables, so notebooks run under the same settings as ``make execute``.

nbval: model-server logs and library warnings land on stderr and differ between machines, so
stderr is not compared. pytest applies a conftest's *collection* hooks only to files under the
conftest's own folder, and the notebooks live in ``notebooks/``, ``solutions/`` and
``exercises/``; so the rule is registered as a plugin, which applies to every collected file.
It is active whenever this file is loaded: ``pytest tests ...`` or, for notebook-only runs,
``python -m pytest -p tests.conftest --nbval notebooks``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from enterprise_ai.notebooks import NOTEBOOK_ENVIRONMENT

os.environ["COURSE_DOTENV"] = "0"
os.environ.setdefault("COURSE_BACKEND", NOTEBOOK_ENVIRONMENT["COURSE_BACKEND"])
os.environ.setdefault("PYTHONHASHSEED", NOTEBOOK_ENVIRONMENT["PYTHONHASHSEED"])
os.environ.setdefault(
    "PYDEVD_DISABLE_FILE_VALIDATION", NOTEBOOK_ENVIRONMENT["PYDEVD_DISABLE_FILE_VALIDATION"]
)

NBVAL_PLUGIN_NAME = "enterprise-ai-nbval-settings"


class NbvalSettings:
    """nbval adjustments for every notebook collected in this pytest run."""

    @pytest.hookimpl
    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        """Skip comparing stderr streams: server logs and warnings are not the lesson."""
        path = getattr(collector, "path", None)
        skip_compare = getattr(collector, "skip_compare", None)
        if path is None or path.suffix != ".ipynb" or skip_compare is None:
            return
        if "stderr" not in skip_compare:
            collector.skip_compare = (*skip_compare, "stderr")


def pytest_configure(config: pytest.Config) -> None:
    # Guarded: this file may be loaded twice, as tests/conftest.py and via -p tests.conftest.
    if not config.pluginmanager.has_plugin(NBVAL_PLUGIN_NAME):
        config.pluginmanager.register(NbvalSettings(), NBVAL_PLUGIN_NAME)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with ``slow`` tests first (a stable sort: the order inside a file is kept).

    ``make test`` runs the test files on several workers (``pytest -n 3 --dist loadfile``),
    which are handed files in this order: the longest work starts first instead of last, when
    the other workers would sit idle waiting for it.
    """
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)


#: Every variable that selects or configures a backend. Tests that need a known starting point
#: use the ``clean_course_env`` fixture, which removes them all.
COURSE_VARIABLES = (
    "COURSE_BACKEND",
    "COURSE_MODEL",
    "COURSE_MODEL_PATH",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_VERSION",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_DEPLOYMENT",
)


@pytest.fixture
def clean_course_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No backend settings at all, and no ``.env``: the state of a fresh laptop."""
    for name in COURSE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_DOTENV", "0")


@pytest.fixture
def closed_loopback_url() -> str:
    """A loopback URL where nothing listens, so a request there fails at once, offline."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --------------------------------------------------------------------------- the built book

REPO = Path(__file__).resolve().parents[1]
BOOK_BUILD_TIMEOUT_SECONDS = 600
BOOK_LOG_TAIL_LINES = 80
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Sphinx colours its log even when piped
_PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback|Exception")


@dataclass
class BookBuild:
    """The result of one ``jupyter-book build`` run."""

    returncode: int
    log: str
    html_dir: Path
    seconds: float

    def problems(self) -> list[str]:
        """The log lines that report a warning or an error."""
        return [line for line in self.log.splitlines() if _PROBLEM.search(line)]

    def log_tail(self) -> str:
        return "\n".join(self.log.splitlines()[-BOOK_LOG_TAIL_LINES:])


def jupyter_book_command() -> str:
    """The jupyter-book script of the Python running the tests (the course's venv)."""
    beside_python = Path(sys.executable).with_name("jupyter-book")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("jupyter-book")
    if found is None:
        pytest.fail(
            f"jupyter-book is not installed next to {sys.executable} nor on PATH. "
            "Install the test extra: pip install -e '.[test]'."
        )
    return found


def build_book(out: Path) -> BookBuild:
    """Build the book the way ``make book`` does (``-W -n --keep-going``), into ``out``."""
    command = [
        jupyter_book_command(),
        "build",
        str(REPO),
        "--path-output",
        str(out),
        "--builder",
        "html",
        "-W",
        "-n",
        "--keep-going",
    ]
    started = time.perf_counter()
    result = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=BOOK_BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.perf_counter() - started
    print(f"\njupyter-book build took {seconds:.1f} s (exit code {result.returncode})")
    return BookBuild(
        returncode=result.returncode,
        log=_ANSI_ESCAPE.sub("", result.stdout + result.stderr),
        html_dir=out / "_build" / "html",
        seconds=seconds,
    )


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    """The whole book, built once per test run into a temporary folder.

    Building takes a minute or two on two cores, so tests/test_book.py (static checks of the
    HTML) and tests/test_site_browser.py (the pages in a real browser) share this one build,
    also when pytest-xdist runs them on two workers (``make test``): the first worker builds
    under a file lock, the other waits and reads the result. The repository is not touched.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return build_book(tmp_path_factory.mktemp("book"))
    import fcntl  # POSIX only, like the parallel test run itself

    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, common to its workers
    with (shared / "book.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        result = shared / "book-build.json"
        if result.exists():
            stored = json.loads(result.read_text(encoding="utf-8"))
            return BookBuild(**{**stored, "html_dir": Path(stored["html_dir"])})
        (shared / "book").mkdir(exist_ok=True)
        build = build_book(shared / "book")
        stored = {**build.__dict__, "html_dir": str(build.html_dir)}
        result.write_text(json.dumps(stored), encoding="utf-8")
        return build


# --------------------------------------------------------------------------- the browser

#: Headless Chromium without sandbox (containers run as root) and without calls home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
CHROMIUM_NAMES = ("chromium", "chromium-browser")
CHROMIUM_INSTALL_HINT = (
    "Install Debian's chromium with `make chromium` "
    "(runs `apt-get install -y chromium`, as root or with sudo), "
    "or point COURSE_CHROMIUM at a Chromium binary."
)


def chromium_executable() -> str:
    """Debian's chromium (or ``COURSE_CHROMIUM``) for Playwright, which never downloads one.

    Fails the test, naming the install command, when there is none: a skipped browser test
    would let a fresh clone look green without the site ever having been opened.
    """
    chosen = os.environ.get("COURSE_CHROMIUM")
    if chosen:
        if not Path(chosen).is_file():
            pytest.fail(f"COURSE_CHROMIUM={chosen} is not a file. {CHROMIUM_INSTALL_HINT}")
        return chosen
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    names = ", ".join(CHROMIUM_NAMES)
    pytest.fail(f"No Chromium found on PATH (looked for {names}). {CHROMIUM_INSTALL_HINT}")
