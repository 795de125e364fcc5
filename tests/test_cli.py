"""The `course` command as a learner or trainer runs it: the installed entry point in a shell.

Subprocess tests run ``course`` from this virtual environment with a clean set of course
variables and ``COURSE_DOTENV=0``, in an empty folder, so no ``.env`` takes part.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import COURSE_VARIABLES

from enterprise_ai import cli
from enterprise_ai.config import BACKENDS, mask_secret
from enterprise_ai.errors import PortInUseError

FAKE_KEY = "fake-test-key-1234567890abcdefghij"
COURSE = Path(sys.executable).with_name("course")


def run_course(
    *args: str, cwd: Path, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``course`` command with only the given course variables set."""
    assert COURSE.is_file(), f"{COURSE} is missing; install the package: pip install -e ."
    environment = {k: v for k, v in os.environ.items() if k not in COURSE_VARIABLES}
    environment.update({"COURSE_DOTENV": "0", "PYTHONIOENCODING": "utf-8", **env})
    return subprocess.run(
        [str(COURSE), *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_course("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for command in ("doctor", "serve", "exercises"):
        assert command in result.stdout


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_course(cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: course" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_defaults_to_loopback() -> None:
    args = cli.build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.api_key, args.parallel) == ("127.0.0.1", 8080, None, 4)
    assert args.threads is None  # decided by class_server_threads()
    assert cli.build_parser().parse_args(["serve", "--threads", "3"]).threads == 3


@pytest.mark.parametrize(
    ("cores", "configured", "expected"), [(2, "", 2), (16, "", 8), (1, "", 1), (16, "3", 3)]
)
def test_class_server_uses_every_core_unless_configured(
    cores: int, configured: str, expected: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from enterprise_ai import local_server

    monkeypatch.setattr(local_server, "available_cpus", lambda: cores)
    monkeypatch.setattr(local_server, "busy_cores", lambda: 1.0)  # something else is running
    monkeypatch.setenv("COURSE_THREADS", configured)
    assert local_server.class_server_threads() == expected
    # a learner's own kernel on a busy laptop keeps a core free for the other programs
    assert local_server._default_threads() == (
        int(configured) if configured else max(1, min(cores - 1, 8))
    )


def test_doctor_local_passes_every_check(tmp_path: Path) -> None:
    result = run_course("doctor", cwd=tmp_path, COURSE_BACKEND="local")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line[:1] in {"✅", "❌"}]
    assert len(lines) >= 6, result.stdout
    assert all(line.startswith("✅") for line in lines), result.stdout
    assert "A real completion" in result.stdout
    assert "All checks passed." in result.stdout


def test_doctor_openai_with_unusable_key_fails_without_showing_it(
    tmp_path: Path, closed_loopback_url: str
) -> None:
    url = closed_loopback_url  # a fake key must never reach a real API
    result = run_course(
        "doctor",
        cwd=tmp_path,
        COURSE_BACKEND="openai",
        OPENAI_API_KEY=FAKE_KEY,
        OPENAI_BASE_URL=f"{url}/v1",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert FAKE_KEY not in output
    assert mask_secret(FAKE_KEY) in result.stdout
    assert "❌ A real completion" in result.stdout
    assert url in result.stdout
    assert "   → A real completion: See book/troubleshooting.md" in result.stdout
    assert "Local model loads" not in result.stdout
    assert "Traceback" not in result.stderr


def test_doctor_unknown_backend_prints_one_fix_and_no_traceback(tmp_path: Path) -> None:
    result = run_course("doctor", cwd=tmp_path, COURSE_BACKEND="gemini")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    fixes = [line for line in result.stdout.splitlines() if line.lstrip().startswith("→")]
    assert len(fixes) == 1, result.stdout
    assert fixes[0].startswith("   → Backend settings: COURSE_BACKEND='gemini'")
    assert all(name in fixes[0] for name in BACKENDS), fixes[0]


def test_doctor_no_model_skips_the_model(tmp_path: Path) -> None:
    result = run_course("doctor", "--no-model", cwd=tmp_path, COURSE_BACKEND="local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "A real completion" not in result.stdout
    assert "Local model loads" not in result.stdout


def test_main_turns_course_errors_into_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def serve(**_: object) -> None:
        raise PortInUseError("Port 8080 is taken. Fix: course serve --port 8081")

    monkeypatch.setitem(sys.modules, "enterprise_ai.serve", types.SimpleNamespace(serve=serve))
    assert cli.main(["serve"]) == 2
    captured = capsys.readouterr()
    assert captured.err == "course serve: Port 8080 is taken. Fix: course serve --port 8081\n"
    assert captured.out == ""


@pytest.mark.skipif(
    importlib.util.find_spec("enterprise_ai.serve") is None,
    reason="enterprise_ai/serve.py (course serve) is not written yet",
)
def test_serve_off_loopback_requires_an_api_key(tmp_path: Path) -> None:
    result = run_course("serve", "--host", "0.0.0.0", cwd=tmp_path, timeout=60)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "--api-key" in result.stderr
    assert "Traceback" not in result.stderr
