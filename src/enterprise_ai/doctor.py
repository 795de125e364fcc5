"""``course doctor``: check a machine before a workshop, and say how to fix what fails.

A trainer asks every participant to run it in the first five minutes. Each check is small,
independent and returns a :class:`MachineCheck` with a status, what was found and a fix; a failing
check never stops the others. Secrets are shown masked.

Introduced in notebooks/00_setup.ipynb; every failure has an entry in book/troubleshooting.md.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from enterprise_ai import config, errors

__all__ = ["MachineCheck", "format_report", "run_checks"]

OK, FAIL, INFO = "ok", "fail", "info"
_PACKAGES = ["openai", "xllamacpp", "pydantic", "pandas", "ipywidgets", "jupyterlab", "nbformat"]


@dataclass(frozen=True)
class MachineCheck:
    """One line of the doctor's report: one thing about this machine, ok or not, and the fix."""

    name: str
    status: str  # "ok", "fail" or "info"
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.status != FAIL


def check_python() -> MachineCheck:
    version = ".".join(map(str, sys.version_info[:3]))
    if (3, 11) <= sys.version_info[:2] <= (3, 13):
        return MachineCheck("Python", OK, version)
    return MachineCheck("Python", FAIL, version, "Use Python 3.11, 3.12 or 3.13 (see README).")


def check_packages() -> MachineCheck:
    found, missing = [], []
    for name in _PACKAGES:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return MachineCheck(
            "Packages", FAIL, f"missing: {', '.join(missing)}", "Run `make lab` (or `make setup`)."
        )
    return MachineCheck("Packages", OK, ", ".join(found))


def check_settings() -> MachineCheck:
    try:
        settings = config.load_settings()
    except errors.ConfigError as err:
        return MachineCheck("Backend settings", FAIL, type(err).__name__, str(err))
    where = f" (from {settings.dotenv_path})" if settings.dotenv_path else ""
    key = "" if settings.backend == "local" else f", key {config.mask_secret(settings.api_key)}"
    return MachineCheck("Backend settings", OK, f"COURSE_BACKEND={settings.backend}{key}{where}")


def check_model_file() -> MachineCheck:
    from enterprise_ai.local_server import model_path

    try:
        path = model_path()
    except errors.ModelFileMissingError as err:
        return MachineCheck("Local model file", FAIL, "not found", str(err))
    return MachineCheck("Local model file", OK, f"{path.name} ({path.stat().st_size / 1e6:.0f} MB)")


def check_model_load() -> MachineCheck:
    from enterprise_ai.local_server import get_local_server

    try:
        server = get_local_server()
    except errors.CourseError as err:
        return MachineCheck("Local model loads", FAIL, "could not start llama.cpp", str(err))
    return MachineCheck("Local model loads", OK, f"llama.cpp ready in {server.load_seconds:.1f} s")


def check_completion() -> MachineCheck:
    from enterprise_ai import llm

    started = time.perf_counter()
    try:
        client = llm.get_client()
        reply = client.chat.completions.create(
            model=llm.default_model(),
            messages=[{"role": "user", "content": "Say hello in three words."}],
            max_tokens=12,
            temperature=0,
        )
    except Exception as err:  # noqa: BLE001 - any failure is reported, never raised
        cause = err.__cause__ or err
        return MachineCheck(
            "A real completion",
            FAIL,
            f"{type(err).__name__}: {cause}"[:300],
            "See book/troubleshooting.md; `COURSE_BACKEND=local course doctor` checks the "
            "offline model.",
        )
    seconds = time.perf_counter() - started
    tokens = reply.usage.total_tokens if reply.usage else "?"
    text = (reply.choices[0].message.content or "").strip().replace("\n", " ")[:40]
    return MachineCheck("A real completion", OK, f"{text!r} ({tokens} tokens, {seconds:.1f} s)")


def check_widgets() -> MachineCheck:
    try:
        ipyw = importlib.metadata.version("ipywidgets")
        labw = importlib.metadata.version("jupyterlab_widgets")
    except importlib.metadata.PackageNotFoundError as err:
        return MachineCheck(
            "Widgets in JupyterLab", FAIL, f"{err.name} missing", "Run `make lab` to reinstall."
        )
    if not ipyw.startswith("8."):
        return MachineCheck(
            "Widgets in JupyterLab", FAIL, f"ipywidgets {ipyw}", "The course needs 8.x."
        )
    return MachineCheck(
        "Widgets in JupyterLab", OK, f"ipywidgets {ipyw}, jupyterlab_widgets {labw}"
    )


def run_checks(*, model: bool = True) -> list[MachineCheck]:
    """Run every check in order; ``model=False`` skips starting the model and calling it."""
    steps: list[Callable[[], MachineCheck]] = [check_python, check_packages, check_settings]
    steps += [check_model_file]
    if model:
        try:
            backend: str | None = config.load_settings().backend
        except errors.ConfigError:
            backend = None  # check_settings reports the one fix; a completion cannot run
        if backend in ("local", None):
            steps.append(check_model_load)
        if backend is not None:
            steps.append(check_completion)
    steps.append(check_widgets)
    return [step() for step in steps]


def format_report(checks: list[MachineCheck]) -> str:
    """A plain-text table that reads well in any terminal, then one fix per failure."""
    mark = {OK: "✅", FAIL: "❌", INFO: "ℹ️ "}
    width = max(len(c.name) for c in checks)
    lines = [f"{mark[c.status]} {c.name:<{width}}  {c.detail}" for c in checks]
    fixes = [f"   → {c.name}: {c.fix}" for c in checks if c.status == FAIL and c.fix]
    failed = sum(not c.ok for c in checks)
    summary = "All checks passed." if not failed else f"{failed} check(s) failed. Fixes:"
    return "\n".join(lines + ["", summary, *fixes])
