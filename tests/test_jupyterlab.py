"""A learner's first ten minutes in JupyterLab, in a real browser, on the real local model.

Starts JupyterLab on a free loopback port with a random token, opens a copy of
``notebooks/00_setup.ipynb`` in headless Chromium (Debian's, driven by Playwright), runs all
cells, waits for the kernel to go idle, then uses the prompt playground widget: types a new
question, clicks **Ask** and waits for the answer to appear. This is what the static checks
cannot see: the widget JavaScript in JupyterLab, the kernel, the Python callback and the model
server working together.

The notebook is a copy in a temporary folder, so the lesson in the repository is never saved
over; the test checks that too. Every wait has a timeout and JupyterLab (with its kernels) is
stopped in a ``finally`` block. Requests that leave 127.0.0.1 are blocked: the course must work
offline. A screenshot of the answered playground goes to ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import CHROMIUM_FLAGS, chromium_executable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
LESSON = Path("notebooks") / "00_setup.ipynb"
ARTIFACTS = REPO / "tests" / "artifacts"
QUESTION = "Which colours does the Isar Cycles city e-bike come in?"

SERVER_START_SECONDS = 90
RUN_ALL_SECONDS = 240  # the lesson runs in about 10 s; a busy CI machine needs far more
ANSWER_SECONDS = 120
UI_TIMEOUT_MS = 60_000
LOG_TAIL_CHARS = 3000

# JavaScript run in the page through the app object (--expose-app-in-browser).
_NOTEBOOK_STATE = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) { return null; }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = [...panel.content.widgets].filter((c) => c.model.type === "code");
  const errors = cells.flatMap((cell) => {
    const outputs = cell.model.outputs;
    const found = [];
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs.get(i).toJSON();
      if (output.output_type === "error") { found.push(`${output.ename}: ${output.evalue}`); }
    }
    return found;
  });
  return {
    kernel: kernel ? kernel.status : "no kernel",
    codeCells: cells.length,
    executed: cells.filter((c) => c.model.executionCount !== null).length,
    errors: errors,
  };
}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningLab:
    """A JupyterLab server started by this test, reachable at ``url`` with ``token``."""

    process: subprocess.Popen[str]
    url: str
    token: str
    log_path: Path

    def log_tail(self) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-LOG_TAIL_CHARS:].replace(self.token, "<token>")

    def stop(self) -> None:
        """Stop the server and its kernels (they share its process group)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def _lab_command(port: int, token: str, root: Path) -> list[str]:
    jupyter = Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter) if jupyter.exists() else "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--expose-app-in-browser",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.getuid() == 0:
        command.append("--allow-root")  # containers and CI run as root
    return command


def _wait_until_serving(lab: RunningLab) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            pytest.fail(f"JupyterLab exited with {lab.process.returncode}:\n{lab.log_tail()}")
        try:
            with urllib.request.urlopen(f"{lab.url}api/status?token={lab.token}", timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_SECONDS} s:\n{lab.log_tail()}")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[RunningLab]:
    """JupyterLab over a temporary copy of lesson 00, with isolated Jupyter settings."""
    root = tmp_path / "course"
    (root / LESSON.parent).mkdir(parents=True)
    shutil.copy2(REPO / LESSON, root / LESSON)
    jupyter_home = tmp_path / "jupyter"
    env = {
        **os.environ,
        "COURSE_DOTENV": "0",
        "COURSE_BACKEND": "local",
        # The learner's own JupyterLab settings and workspaces must not change the test.
        "JUPYTER_CONFIG_DIR": str(jupyter_home / "config"),
        "JUPYTER_RUNTIME_DIR": str(jupyter_home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(jupyter_home / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter_home / "lab-workspaces"),
    }
    token = secrets.token_hex(16)
    port = _free_port()
    log_path = tmp_path / "jupyterlab.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            _lab_command(port, token, root),
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, so stop() reaches the kernels
        )
    running = RunningLab(process, f"http://127.0.0.1:{port}/", token, log_path)
    try:
        _wait_until_serving(running)
        yield running
    finally:
        running.stop()


def _block_external(page, lab: RunningLab) -> None:  # noqa: ANN001 - playwright Page
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith((lab.url, "data:", "blob:"))
            else route.abort("blockedbyclient")
        ),
    )


def _run_all_cells(page, lab: RunningLab) -> dict:  # noqa: ANN001 - playwright Page
    """Run every cell through JupyterLab's own command and wait until the kernel is idle."""
    page.wait_for_function(
        "() => { const s = (" + _NOTEBOOK_STATE + ")(); return s && s.kernel === 'idle'; }",
        timeout=UI_TIMEOUT_MS,
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function(
            "() => { const s = (" + _NOTEBOOK_STATE + ")();"
            " return s && s.kernel === 'idle' && s.executed === s.codeCells"
            " && ![...document.querySelectorAll('.jp-InputPrompt')]"
            "      .some((p) => p.textContent.includes('*')); }",
            timeout=RUN_ALL_SECONDS * 1000,
            polling=500,
        )
    except Exception as error:  # noqa: BLE001 - re-raised as a failure with the state
        state = page.evaluate(_NOTEBOOK_STATE)
        pytest.fail(
            f"Run All did not finish within {RUN_ALL_SECONDS} s ({error}); notebook state: "
            f"{state}\nJupyterLab log:\n{lab.log_tail()}"
        )
    return page.evaluate(_NOTEBOOK_STATE)


def _save_failure_screenshot(browser) -> None:  # noqa: ANN001 - playwright Browser
    """What JupyterLab showed when the test failed, for the person reading the failure."""
    pages = [page for context in browser.contexts for page in context.pages]
    if not pages:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pages[-1].screenshot(path=str(ARTIFACTS / "jupyterlab-failure.png"), timeout=10_000)
    except Exception:  # noqa: BLE001 - the original failure matters more than the picture
        return
    print(f"Screenshot of the failure: {ARTIFACTS / 'jupyterlab-failure.png'}")


def test_run_lesson_00_and_ask_the_playground(lab: RunningLab) -> None:
    from playwright.sync_api import sync_playwright

    lesson_before = (REPO / LESSON).read_bytes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_FLAGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(UI_TIMEOUT_MS)
            page_errors: list[str] = []
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            _block_external(page, lab)
            page.goto(f"{lab.url}lab/tree/{LESSON.as_posix()}?token={lab.token}")
            page.locator(".jp-NotebookPanel .jp-Notebook").first.wait_for()

            state = _run_all_cells(page, lab)
            assert state["errors"] == [], (
                f"Cells raised errors when run in JupyterLab: {state['errors']}"
            )

            playground = page.locator(".jp-OutputArea-output").filter(
                has=page.locator("button", has_text="Ask")
            )
            playground.wait_for()
            question = playground.locator("textarea").nth(1)  # System first, then User
            answer = playground.locator(".widget-html").filter(
                has=page.locator("div[style*='border-left']")
            )
            first_answer = answer.inner_text()
            assert first_answer.strip(), "The playground shows no answer after Run All."

            question.fill(QUESTION)
            question.press("Tab")  # ipywidgets sends a Textarea's value on change
            playground.locator("button", has_text="Ask").click()
            try:
                page.wait_for_function(
                    """([first]) => {
                      const selector = ".widget-html div[style*='border-left']";
                      const box = document.querySelector(selector);
                      const text = box ? box.innerText.trim() : "";
                      return text && text !== first.trim() && !text.includes("thinking");
                    }""",
                    arg=[first_answer],
                    timeout=ANSWER_SECONDS * 1000,
                    polling=250,
                )
            except Exception as error:  # noqa: BLE001 - re-raised as a failure with what it shows
                pytest.fail(
                    f"No new answer in the playground {ANSWER_SECONDS} s after clicking Ask "
                    f"({error}). It shows: {playground.inner_text()[-600:]!r}\n"
                    f"JupyterLab log:\n{lab.log_tail()}"
                )
            new_answer = answer.inner_text()
            usage = playground.locator(".widget-html small").inner_text()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            playground.screenshot(path=str(ARTIFACTS / "jupyterlab-playground.png"))
        except BaseException:
            _save_failure_screenshot(browser)
            raise
        finally:
            browser.close()

    assert "Not sent" not in new_answer, f"The playground reported an error: {new_answer}"
    assert new_answer.strip() != first_answer.strip()
    assert "prompt +" in usage and "finish:" in usage, f"No token usage under the answer: {usage}"
    assert page_errors == [], f"JavaScript errors in JupyterLab: {page_errors}"
    assert (REPO / LESSON).read_bytes() == lesson_before, (
        f"{LESSON} in the repository changed; the test must only touch its copy."
    )
