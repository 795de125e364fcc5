"""From a fresh clone to the first model answer: install time, model load, first completion.

The promise to a trainer is "a room that works in five minutes". Three numbers decide it:
how long ``make setup`` takes on a fresh clone (downloads and installs, minutes), how long
llama.cpp needs to load SmolLM2, and how long the first answer takes. The last two are measured
in a new Python process, as a learner's first notebook cell would see them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Runs in a fresh interpreter: the same three calls as the first cell of notebooks/00_setup.
_COLD_START = """
import json, time
started = time.perf_counter()
from enterprise_ai import llm
from enterprise_ai.local_server import get_local_server
imported = time.perf_counter()
server = get_local_server()
loaded = time.perf_counter()
client = llm.get_client()
reply = client.chat.completions.create(
    model=llm.default_model(),
    messages=[{"role": "user", "content": "Say hello to the course in one sentence."}],
    max_tokens=32,
    temperature=0,
)
answered = time.perf_counter()
print(json.dumps({
    "import_seconds": imported - started,
    "load_seconds": server.load_seconds,
    "start_server_seconds": loaded - imported,
    "first_completion_seconds": answered - loaded,
    "completion_tokens": reply.usage.completion_tokens,
    "answer": reply.choices[0].message.content,
}))
"""


@dataclass(frozen=True)
class FirstAnswer:
    """Timings of one cold start, in seconds."""

    process_to_answer_seconds: float  # interpreter start to first answer, measured outside
    import_seconds: float
    load_seconds: float  # LocalServer(): llama.cpp loads the GGUF file
    first_completion_seconds: float  # get_client() plus the first chat completion
    completion_tokens: int
    answer: str


@dataclass(frozen=True)
class FreshInstall:
    """Timings of ``git clone`` plus ``make setup`` in an empty folder, in seconds."""

    clone_seconds: float
    setup_seconds: float
    python: Path  # the new virtual environment's interpreter
    venv_megabytes: float  # what `make setup` installed
    pip_cache_was_warm: bool  # a warm pip cache skips most downloads


def _local_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"COURSE_BACKEND": "local", "COURSE_DOTENV": "0"})
    return env


def cold_start(*, python: Path | None = None, cwd: Path | None = None) -> FirstAnswer:
    """Start a new interpreter, load the model and ask one question; return the timings.

    Args:
        python: interpreter to use (default: this one); a fresh clone's ``.venv/bin/python``.
        cwd: working directory (default: the current one).

    Raises:
        RuntimeError: the child process failed; the message holds its stderr.
    """
    started = time.perf_counter()
    result = subprocess.run(
        [str(python or sys.executable), "-c", _COLD_START],
        cwd=cwd,
        env=_local_environment(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    total = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"cold start failed (exit {result.returncode}):\n{result.stderr}")
    data = json.loads(result.stdout.strip().splitlines()[-1])
    return FirstAnswer(
        process_to_answer_seconds=total,
        import_seconds=data["import_seconds"],
        load_seconds=data["load_seconds"],
        first_completion_seconds=data["first_completion_seconds"],
        completion_tokens=data["completion_tokens"],
        answer=data["answer"],
    )


def fresh_install(repo: Path, workdir: Path) -> FreshInstall:
    """``git clone`` the committed state of ``repo`` into ``workdir`` and run ``make setup``.

    This downloads every dependency from PyPI (minutes, depends on the network). Only what is
    committed is cloned, so a missing install step shows up here and not on a learner's laptop.

    Raises:
        RuntimeError: clone or setup failed; the message holds the command's output tail.
    """
    clone = workdir / "fresh-clone"
    cache_warm = _pip_cache_megabytes() > 1
    steps = [
        (["git", "clone", "--quiet", str(repo), str(clone)], workdir),
        (["make", "setup"], clone),
    ]
    seconds = []
    for command, cwd in steps:
        started = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        seconds.append(time.perf_counter() - started)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-2000:]
            raise RuntimeError(f"{' '.join(command)} failed (exit {result.returncode}):\n{tail}")
    venv = clone / ".venv"
    return FreshInstall(
        clone_seconds=seconds[0],
        setup_seconds=seconds[1],
        python=venv / "bin" / "python",
        venv_megabytes=_megabytes(venv),
        pip_cache_was_warm=cache_warm,
    )


def _megabytes(folder: Path) -> float:
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def _pip_cache_megabytes() -> float:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "cache", "dir"], capture_output=True, text=True, check=False
    )
    folder = Path(result.stdout.strip())
    return _megabytes(folder) if result.returncode == 0 and folder.is_dir() else 0.0
