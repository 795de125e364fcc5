"""`course doctor`'s checks, one by one: each reports what it found and a fix when it fails.

The passing cases run against this machine (the real model file, the real local server); the
failing cases change one thing (an environment variable, a missing package) and check the fix.
"""

from __future__ import annotations

import importlib.metadata
from types import SimpleNamespace

import pytest

from enterprise_ai import doctor, errors, llm, local_server
from enterprise_ai.config import BACKENDS, mask_secret

FAKE_KEY = "fake-test-key-1234567890abcdefghij"
pytestmark = pytest.mark.usefixtures("clean_course_env")


def _names(checks: list[doctor.MachineCheck]) -> list[str]:
    return [c.name for c in checks]


# --- Python and packages --------------------------------------------------------------------


def test_check_python_passes_here() -> None:
    check = doctor.check_python()
    assert check.status == doctor.OK
    assert check.detail.startswith("3.1")


def test_check_python_fails_on_an_old_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "sys", SimpleNamespace(version_info=(3, 10, 14)))
    check = doctor.check_python()
    assert (check.status, check.detail) == (doctor.FAIL, "3.10.14")
    assert "3.11" in check.fix


def test_check_packages_lists_versions() -> None:
    check = doctor.check_packages()
    assert check.status == doctor.OK
    assert f"openai {importlib.metadata.version('openai')}" in check.detail
    assert "xllamacpp" in check.detail


def test_check_packages_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor, "_PACKAGES", ["openai", "no-such-course-package"])
    check = doctor.check_packages()
    assert check.status == doctor.FAIL
    assert check.detail == "missing: no-such-course-package"
    assert "make lab" in check.fix


# --- settings -------------------------------------------------------------------------------


def test_check_settings_local() -> None:
    check = doctor.check_settings()
    assert (check.status, check.detail) == (doctor.OK, "COURSE_BACKEND=local")


def test_check_settings_masks_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    check = doctor.check_settings()
    assert check.status == doctor.OK
    assert mask_secret(FAKE_KEY) in check.detail
    assert FAKE_KEY not in check.detail


def test_check_settings_unknown_backend_lists_the_valid_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "gemini")
    check = doctor.check_settings()
    assert (check.status, check.detail) == (doctor.FAIL, "UnknownBackendError")
    assert all(name in check.fix for name in BACKENDS), check.fix


def test_check_settings_missing_key_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    check = doctor.check_settings()
    assert check.status == doctor.FAIL
    assert "OPENAI_API_KEY" in check.fix


# --- the local model ------------------------------------------------------------------------


def test_check_model_file_finds_the_bundled_model() -> None:
    check = doctor.check_model_file()
    assert check.status == doctor.OK
    assert check.detail.startswith(local_server.MODEL_FILE)
    assert check.detail.endswith(" MB)")


def test_check_model_file_reports_a_wrong_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURSE_MODEL_PATH", "/nonexistent/model.gguf")
    check = doctor.check_model_file()
    assert check.status == doctor.FAIL
    assert "/nonexistent/model.gguf" in check.fix
    assert "COURSE_MODEL_PATH" in check.fix


def test_check_model_load_starts_the_server() -> None:
    check = doctor.check_model_load()
    assert check.status == doctor.OK
    assert check.detail.startswith("llama.cpp ready in ")


def test_check_model_load_reports_the_error_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> local_server.LocalServer:
        raise errors.ModelFileMissingError("The model file is missing. Fix: pip install ...")

    monkeypatch.setattr(local_server, "get_local_server", broken)
    check = doctor.check_model_load()
    assert check.status == doctor.FAIL
    assert check.fix == "The model file is missing. Fix: pip install ..."


def test_check_completion_gets_a_real_answer() -> None:
    check = doctor.check_completion()
    assert check.status == doctor.OK, check
    assert check.detail.startswith("'") and " tokens, " in check.detail


def test_check_completion_reports_an_unreachable_api(
    monkeypatch: pytest.MonkeyPatch, closed_loopback_url: str
) -> None:
    url = closed_loopback_url
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", f"{url}/v1")
    real_get_client = llm.get_client
    monkeypatch.setattr(llm, "get_client", lambda: real_get_client().with_options(max_retries=0))
    check = doctor.check_completion()
    assert check.status == doctor.FAIL
    assert check.detail.startswith("APIConnectionError: Cannot reach ")
    assert url in check.detail
    assert "troubleshooting" in check.fix
    assert FAKE_KEY not in check.detail + check.fix


# --- widgets --------------------------------------------------------------------------------


def test_check_widgets_passes_here() -> None:
    check = doctor.check_widgets()
    assert check.status == doctor.OK
    assert check.detail.startswith("ipywidgets 8.")


def test_check_widgets_rejects_ipywidgets_7(monkeypatch: pytest.MonkeyPatch) -> None:
    real_version = importlib.metadata.version

    def version(name: str) -> str:
        return "7.8.5" if name == "ipywidgets" else real_version(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    check = doctor.check_widgets()
    assert (check.status, check.detail) == (doctor.FAIL, "ipywidgets 7.8.5")
    assert "8.x" in check.fix


def test_check_widgets_names_a_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def version(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", version)
    check = doctor.check_widgets()
    assert (check.status, check.detail) == (doctor.FAIL, "ipywidgets missing")


# --- the whole run and the report -----------------------------------------------------------


def test_run_checks_without_model_skips_loading_and_calling() -> None:
    names = _names(doctor.run_checks(model=False))
    assert "Local model loads" not in names
    assert "A real completion" not in names
    assert names[:3] == ["Python", "Packages", "Backend settings"]


def test_run_checks_for_a_remote_backend_does_not_start_the_local_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    called: list[str] = []

    def completion_stub() -> doctor.MachineCheck:  # no network: only the order of checks matters
        called.append("completion")
        return doctor.MachineCheck("A real completion", doctor.OK, "stub")

    monkeypatch.setattr(doctor, "check_completion", completion_stub)
    names = _names(doctor.run_checks())
    assert "Local model loads" not in names
    assert "A real completion" in names
    assert called == ["completion"]


def test_run_checks_with_bad_settings_reports_one_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COURSE_BACKEND", "gemini")
    checks = doctor.run_checks()
    failed = [c.name for c in checks if not c.ok]
    assert failed == ["Backend settings"]
    assert "Local model loads" in _names(checks)


def test_format_report_all_passed() -> None:
    checks = [
        doctor.MachineCheck("Python", doctor.OK, "3.11.7"),
        doctor.MachineCheck("X", doctor.INFO, "i"),
    ]
    report = doctor.format_report(checks)
    assert report.splitlines()[0] == "✅ Python  3.11.7"
    assert report.endswith("All checks passed.")
    assert "→" not in report


def test_format_report_lists_one_fix_per_failure() -> None:
    checks = [
        doctor.MachineCheck("Python", doctor.OK, "3.11.7"),
        doctor.MachineCheck(
            "Backend settings", doctor.FAIL, "MissingSettingError", "Set OPENAI_API_KEY."
        ),
        doctor.MachineCheck("Widgets", doctor.FAIL, "ipywidgets 7.8.5", "The course needs 8.x."),
    ]
    report = doctor.format_report(checks)
    assert "❌ Backend settings  MissingSettingError" in report
    assert "2 check(s) failed. Fixes:" in report
    assert report.splitlines()[-2:] == [
        "   → Backend settings: Set OPENAI_API_KEY.",
        "   → Widgets: The course needs 8.x.",
    ]
