"""The learner's machine misbehaves: a full disk, a read-only install, two notebooks, Run all twice.

Each test reproduces one of the days a trainer dreads, and checks that the course either keeps
working or stops with a message that names the folder or variable to change.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import enterprise_ai
from enterprise_ai import data, kb, support
from enterprise_ai.notebooks import NOTEBOOK_ENVIRONMENT

pytestmark = pytest.mark.slow  # runs whole solutions, twice: scheduled first in make test

REPO = Path(__file__).resolve().parents[1]
PACKAGE = Path(enterprise_ai.__file__).resolve().parent


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COURSE_WORKDIR", str(tmp_path / "work"))
    return tmp_path / "work"


def test_a_full_disk_names_the_folder_and_leaves_no_half_built_database(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect

    class FullDisk(sqlite3.Connection):
        def executemany(self, *args: object, **kwargs: object) -> sqlite3.Cursor:
            raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(
        data.sqlite3, "connect", lambda path, **kw: real_connect(path, factory=FullDisk, **kw)
    )
    with pytest.raises(OSError) as caught:
        data.orders_db()
    message = str(caught.value)
    assert str(workdir) in message and "COURSE_WORKDIR" in message
    assert "disk" in message
    assert list(workdir.iterdir()) == []  # neither a temporary file nor a broken database

    monkeypatch.setattr(data.sqlite3, "connect", real_connect)  # space freed: it just works
    rows = sqlite3.connect(data.orders_db()).execute("SELECT count(*) FROM orders").fetchone()
    assert rows[0] == len(data.orders())


def test_a_working_folder_that_cannot_be_created_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_WORKDIR", str(blocker / "work"))  # a folder inside a file
    with pytest.raises(OSError) as caught:
        data.working_dir()
    assert "COURSE_WORKDIR" in str(caught.value) and str(blocker) in str(caught.value)


def test_nothing_is_ever_written_inside_the_installed_package(workdir: Path) -> None:
    """A read-only install (site-packages owned by root, a shared JupyterHub image) must work.

    Python's audit hooks see every ``open()``; the hook records each one that could write and
    points into the package. Root ignores file permissions, so this is also the only way to
    test it on a CI machine that runs as root.
    """
    writes: list[str] = []
    watching = [True]

    def hook(event: str, args: tuple) -> None:
        if not watching[0] or event != "open" or not isinstance(args[0], str | Path):
            return
        mode, flags = args[1], args[2]
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & 0b11
        )
        if writing and Path(args[0]).resolve().is_relative_to(PACKAGE):
            writes.append(str(args[0]))

    sys.addaudithook(hook)  # hooks cannot be removed; the flag switches this one off
    try:
        data.orders_db()
        kb.search("How long do I have to return my bike?")
        support.answer("Can I pay in instalments?", client=None, min_score=1e9)  # abstains
        data.tickets(), data.customers(), data.eval_set(), data.redteam(), data.prices()
    finally:
        watching[0] = False
    assert writes == []


def test_two_notebooks_at_once_each_get_a_working_local_model(tmp_path: Path) -> None:
    """Two kernels = two processes; each starts its own llama.cpp on its own free port."""
    script = textwrap.dedent(
        """
        import json
        from enterprise_ai import llm
        from enterprise_ai.local_server import get_local_server
        client = llm.get_client()
        reply = client.chat.completions.create(
            model=llm.default_model(),
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=8, temperature=0, seed=1,
        )
        print(json.dumps({"url": get_local_server().base_url,
                          "text": reply.choices[0].message.content}))
        """
    )
    env = {**NOTEBOOK_ENVIRONMENT, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env["COURSE_WORKDIR"] = str(tmp_path / "work")
    kernels = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = []
    for kernel in kernels:
        out, _ = kernel.communicate(timeout=120)
        assert kernel.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0]["url"] != results[1]["url"]
    assert all(r["text"].strip() for r in results)


def _run_all_twice(path: Path, tmp_path: Path) -> tuple[list[str], list[str]]:
    """Execute every code cell of a notebook twice in ONE kernel, like pressing Run all twice.

    Returns the text outputs of the first and the second pass, for cells not marked
    ``# NBVAL_IGNORE_OUTPUT`` (those show model text or timings and may differ).
    """
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    twice = nbformat.v4.new_notebook(metadata=notebook.metadata)
    twice.cells = [nbformat.v4.new_code_cell(c.source) for c in code + code]
    NotebookClient(
        twice, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()

    def text(cell: nbformat.NotebookNode) -> str:
        if cell.source.startswith("# NBVAL_IGNORE_OUTPUT"):
            return "(ignored)"
        parts = []
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stdout":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
            elif output.output_type == "error":
                parts.append(f"ERROR {output.ename}: {output.evalue}")
        return "".join(parts)

    outputs = [text(c) for c in twice.cells]
    return outputs[: len(code)], outputs[len(code) :]


@pytest.mark.parametrize(
    "name",
    [
        "00_setup",
        "03_grounded_bot",
        "04_evals",
        "05_guardrails",
        "06_tools",
        "08_ai_act",
        "09_business_case",
        "10_capstone",
    ],
)
def test_run_all_twice_in_one_kernel_gives_the_same_outputs(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in NOTEBOOK_ENVIRONMENT.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COURSE_WORKDIR", str(tmp_path / "work"))
    first, second = _run_all_twice(REPO / "solutions" / f"{name}.ipynb", tmp_path)
    assert not any(o.startswith("ERROR") for o in first + second)
    assert first == second
