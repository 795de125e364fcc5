"""The GitHub workflows run what the README and .ci/run run, and publish what `make book` builds.

``make lint`` runs actionlint on them (syntax, expressions, job and step keys); these tests
check what actionlint cannot know: that CI's command is the README's, that Pages uploads the
folder the Makefile builds into, that the Pages job gets exactly the rights it needs, and that
every action is pinned to a commit. They also show that actionlint fails on a broken workflow,
so a green lint means something.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
ACTIONLINT_FLAGS = ["-shellcheck=", "-pyflakes=", "-no-color"]  # as in the Makefile's lint
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")


def _workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))


def _triggers(workflow: dict) -> dict:
    """The ``on:`` block (YAML 1.1 reads the bare key ``on`` as True)."""
    return workflow.get("on", workflow.get(True))


def _steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def _runs(workflow: dict, job: str) -> list[str]:
    return [step["run"].strip() for step in _steps(workflow, job) if "run" in step]


def _uses(workflow: dict, job: str, action: str) -> dict:
    found = [step for step in _steps(workflow, job) if step.get("uses", "").startswith(action)]
    assert len(found) == 1, f"job {job} should use {action} once, uses it {len(found)} times"
    return found[0]


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    binary = Path(sys.executable).with_name("actionlint")
    if not binary.exists():
        pytest.fail(f"actionlint is not installed next to {sys.executable}; run `make setup`.")
    return subprocess.run(
        [str(binary), *ACTIONLINT_FLAGS, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_actionlint_passes_on_the_workflows() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert {path.name for path in workflows} >= {"ci.yml", "pages.yml"}, workflows
    result = actionlint(*workflows)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_fails_on_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: make test\n        timeout-minutes: soon\n"
        "      - run: echo ${{ steps.nothing.outputs.result }}\n",
        encoding="utf-8",
    )
    result = actionlint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "timeout-minutes" in result.stdout and "nothing" in result.stdout, result.stdout


def test_every_action_is_pinned_to_a_commit_with_its_release_named() -> None:
    problems = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if "uses:" in line:
                action = line.split("uses:", 1)[1].strip()
                if not PINNED.match(action):
                    problems.append(f"{path.name}:{number}: {action}")
    assert not problems, (
        "Pin actions to a full commit SHA and name the release in a comment, e.g. "
        "`actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0` (a tag can be "
        "moved to other code):\n" + "\n".join(problems)
    )


def test_ci_runs_make_test_like_the_readme_and_ci_script() -> None:
    ci = _workflow("ci.yml")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in (REPO / ".ci" / "run").read_text("utf-8")
    runs = _runs(ci, "test")
    assert runs[-1] == "make test", runs
    assert "make chromium" in runs[:-1], f"the browser tests need chromium first: {runs}"
    assert {"push", "pull_request"} <= set(_triggers(ci)), _triggers(ci)
    assert ci["permissions"] == {"contents": "read"}, ci["permissions"]


def test_ci_caches_pip_on_the_pinned_versions_with_a_supported_python() -> None:
    python = _uses(_workflow("ci.yml"), "test", "actions/setup-python")["with"]
    assert python["cache"] == "pip"
    assert "constraints.txt" in python["cache-dependency-path"].split(), python
    requires = re.search(r'requires-python = ">=(\d+\.\d+)', (REPO / "pyproject.toml").read_text())
    assert requires and python["python-version"] == requires.group(1), (python, requires)


def test_pages_builds_with_make_book_and_uploads_its_output() -> None:
    pages = _workflow("pages.yml")
    assert set(_triggers(pages)) == {"push", "workflow_dispatch"}, _triggers(pages)
    assert _triggers(pages)["push"]["branches"] == ["main"]
    assert "make book" in _runs(pages, "build")
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    book_rule = re.search(r"^book:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert book_rule and "jupyter-book build ." in book_rule.group(1), book_rule
    upload = _uses(pages, "build", "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html", upload  # jupyter-book's output for "."


def test_pages_deploy_job_alone_may_publish() -> None:
    pages = _workflow("pages.yml")
    jobs = pages["jobs"]
    assert pages["permissions"] == {}, "grant rights per job, none by default"
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"
    _uses(pages, "deploy", "actions/deploy-pages")
    assert pages["concurrency"] == {"group": "pages", "cancel-in-progress": False}
