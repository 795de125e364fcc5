"""What is stored in the repository's notebooks: outputs where the book needs them, none where
learners start, and nothing private in any of them.

Lessons (notebooks/) and solutions (solutions/) are published with their outputs, so they must
have been executed top to bottom by ``make execute``; exercises (exercises/) are generated
without outputs. No output may leak a home directory, the machine's checkout path or an API key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

REPO_ROOT = Path(__file__).resolve().parents[1]
EXECUTED = sorted((REPO_ROOT / "notebooks").glob("*.ipynb")) + sorted(
    (REPO_ROOT / "solutions").glob("*.ipynb")
)
EXERCISES = sorted((REPO_ROOT / "exercises").glob("*.ipynb"))
ALL_NOTEBOOKS = EXECUTED + EXERCISES

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SKIP_EXECUTION_TAG = "skip-execution"  # myst-nb/nbclient: the cell is not run on purpose

# Paths that say whose machine made the output. The checkout path is added as found at run time.
PRIVATE_PATHS = ("/root/", "/home/", "/Users/", "C:\\Users\\", "C:\\\\Users\\\\")
SECRET = re.compile(r"\b(?:sk-(?:proj-|ant-|svcacct-)?[A-Za-z0-9_\-]{20,}|hf_[A-Za-z0-9]{30,})")
FIX = "Re-run it with `make execute` (never save outputs by hand from JupyterLab)."


def short(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


def read(path: Path) -> NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def code_cells_to_run(nb: NotebookNode) -> list[tuple[int, NotebookNode]]:
    return [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and cell.source.strip()
        and SKIP_EXECUTION_TAG not in cell.metadata.get("tags", [])
    ]


def output_texts(output: NotebookNode) -> Iterator[str]:
    """Every piece of text in one output; images (base64) are skipped."""
    if output.output_type == "stream":
        yield output.text
    elif output.output_type == "error":
        yield output.ename
        yield output.evalue
        yield from output.traceback
    else:
        for mimetype, data in output.get("data", {}).items():
            if mimetype.startswith("image/") and mimetype != "image/svg+xml":
                continue
            yield data if isinstance(data, str) else json.dumps(data)


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=short)
def test_is_valid_nbformat_4_with_cell_ids(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["nbformat"] == 4, f"{short(path)} is nbformat {raw['nbformat']}, not 4"
    nbformat.validate(read(path))
    if raw["nbformat_minor"] >= 5:
        missing = [index for index, cell in enumerate(raw["cells"]) if not cell.get("id")]
        assert not missing, (
            f"{short(path)}: cells {missing} have no id (nbformat 4.5 requires one, and "
            "nbformat would add random ones on every read). Open and save it in JupyterLab."
        )


@pytest.mark.parametrize("path", EXECUTED, ids=short)
def test_executed_top_to_bottom_in_one_fresh_kernel(path: Path) -> None:
    cells = code_cells_to_run(read(path))
    counts = [cell.execution_count for _, cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{short(path)}: execution counts {counts} are not 1, 2, 3, ... in order, so the stored "
        f"outputs did not come from one run from the top. {FIX}"
    )


@pytest.mark.parametrize("path", EXECUTED, ids=short)
def test_most_code_cells_show_an_output(path: Path) -> None:
    # Imports and assignments print nothing by design; a lesson where most cells are silent has
    # lost its outputs (or hides what the learner should look at).
    cells = code_cells_to_run(read(path))
    silent = [index for index, cell in cells if not cell.outputs]
    assert len(silent) * 2 <= len(cells), (
        f"{short(path)}: {len(silent)} of {len(cells)} code cells have no stored output "
        f"(cells {silent}). End cells with the value to look at; {FIX}"
    )


@pytest.mark.parametrize("path", EXECUTED, ids=short)
def test_widgets_have_stored_state(path: Path) -> None:
    nb = read(path)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view:
                assert view["model_id"] in state, (
                    f"{short(path)}, cell {index}: widget {view['model_id']} has no stored state, "
                    f"so the published page cannot draw it. {FIX}"
                )


@pytest.mark.parametrize("path", EXERCISES, ids=short)
def test_exercises_are_stored_without_outputs(path: Path) -> None:
    nb = read(path)
    with_outputs = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not with_outputs, (
        f"{short(path)}: cells {with_outputs} have outputs or execution counts; learners start "
        "from a clean notebook. Regenerate it with `make exercises`."
    )
    assert "widgets" not in nb.metadata, f"{short(path)} stores widget state; run `make exercises`"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=short)
def test_outputs_leak_no_private_paths(path: Path) -> None:
    markers = (*PRIVATE_PATHS, str(REPO_ROOT), str(Path.home()) + "/")
    for index, cell in enumerate(read(path).cells):
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                found = [marker for marker in markers if marker != "//" and marker in text]
                assert not found, (
                    f"{short(path)}, cell {index}: an output contains {found[0]!r}, a path of the "
                    "machine that ran it. Print paths relative to the course folder (or silence "
                    f"the warning that shows it). {FIX}"
                )


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=short)
def test_no_api_keys_in_code_or_outputs(path: Path) -> None:
    for index, cell in enumerate(read(path).cells):
        texts = [cell.source]
        for output in cell.get("outputs", []):
            texts.extend(output_texts(output))
        for text in texts:
            match = SECRET.search(text)
            assert match is None, (
                f"{short(path)}, cell {index}: something that looks like an API key "
                f"({match.group(0)[:6]}…) is stored in the notebook. Remove it, rotate the key, "
                "and read keys from .env via enterprise_ai's config instead."
            )
