"""The notebook pipeline: generate exercises from solutions, and execute notebooks reproducibly.

The course keeps three folders of notebooks:

- ``notebooks/NN_name.ipynb``: the lessons, stored *with* outputs and widget state, so the
  published book and GitHub show them without a kernel (nbval checks they still hold).
- ``solutions/NN_name.ipynb``: the worked exercises, stored with outputs.
- ``exercises/NN_name.ipynb``: what learners fill in. These are *generated* from the solutions by
  :func:`make_exercise` and stored without outputs. Two hand-kept copies would drift apart;
  generating them means a fix to a solution reaches the exercise with ``make exercises``.

Solutions mark what the learner writes the way nbgrader does::

    def total_cost(tokens: int, *, eur_per_million: float) -> float:
        ### BEGIN SOLUTION
        return tokens / 1_000_000 * eur_per_million
        ### END SOLUTION

In the exercise the block becomes ``# YOUR CODE HERE`` plus a placeholder that keeps "Run all"
working: ``name = None`` for each name the block assigns, otherwise ``...``. So the function above
returns ``None`` and the check under it says "not yet" instead of the notebook crashing.
Markdown answers go between ``<!-- BEGIN SOLUTION -->`` and ``<!-- END SOLUTION -->`` lines and
become ``_Your answer here._``. Cells tagged ``solution`` are left out of the exercise.
A solution's title, ``# Solutions 01 · …`` in its first cell, becomes ``# Exercises 01 · …``, so
the book's sidebar and page titles tell the two apart.

Command line (``make execute``, ``make exercises`` and ``course exercises`` call it)::

    python -m enterprise_ai.notebooks execute [PATH ...]   # default: notebooks/ and solutions/
    python -m enterprise_ai.notebooks exercises            # regenerate exercises/
    python -m enterprise_ai.notebooks check-sync           # exit 1 if exercises/ is stale
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import re
import sys
import textwrap
import time
import uuid
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "EXERCISE_MARKDOWN_STUB",
    "NOTEBOOK_ENVIRONMENT",
    "SOLUTION_TAG",
    "ExerciseMarkerError",
    "NotebookExecutionError",
    "execute_notebook",
    "exercise_sync_problems",
    "exercises_out_of_sync",
    "main",
    "make_exercise",
    "notebook_text",
    "write_exercises",
    "write_notebook",
]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_COMMENT = "# YOUR CODE HERE"
EXERCISE_MARKDOWN_STUB = "_Your answer here._"
SOLUTION_TAG = "solution"
FIX_HINT = "make exercises"
SOLUTION_TITLE_WORD = "Solutions"
EXERCISE_TITLE_WORD = "Exercises"

# The title heading of a solution notebook: "# Solutions 01 · Costs" (the first line only).
_SOLUTION_TITLE = re.compile(rf"\A(#[ \t]+){SOLUTION_TITLE_WORD}(?=[ \t])")

# A markdown marker may be hidden in an HTML comment so the solution page renders cleanly.
_MARKDOWN_BEGIN = re.compile(r"^\s*(?:<!--\s*|#+\s*)?BEGIN SOLUTION\s*(?:-->)?\s*$")
_MARKDOWN_END = re.compile(r"^\s*(?:<!--\s*|#+\s*)?END SOLUTION\s*(?:-->)?\s*$")

# Cell metadata worth keeping in an exercise; everything else (timings, scroll state) is noise.
_EXERCISE_CELL_METADATA = ("tags", "editable", "deletable", "jupyter")

# Cell metadata that changes on every run and would make each re-execution a large diff.
_VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")

_DEFAULT_KERNELSPEC = {
    "display_name": "Python 3 (ipykernel)",
    "language": "python",
    "name": "python3",
}

# The environment every notebook runs in, for `make execute` and for the nbval tests alike, so
# stored outputs are reproducible: the offline model, no personal .env, fixed str hashing
# (set iteration order shows in outputs), inline PNG plots even if the shell exported a
# non-inline MPLBACKEND, and no debugger warning on stderr.
NOTEBOOK_ENVIRONMENT: dict[str, str] = {
    "COURSE_BACKEND": "local",
    "COURSE_DOTENV": "0",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

_WIDGET_STATE_KEY = "application/vnd.jupyter.widget-state+json"
_WIDGET_VIEW_KEY = "application/vnd.jupyter.widget-view+json"


class ExerciseMarkerError(ValueError):
    """A solution notebook's ``BEGIN SOLUTION``/``END SOLUTION`` markers cannot be turned into
    an exercise (unbalanced, nested, or leaving the cell as invalid Python)."""


class NotebookExecutionError(RuntimeError):
    """A cell raised while a notebook was executed; the stored file was left unchanged."""


# --------------------------------------------------------------------------------------------
# Reading and writing, the way Jupyter does
# --------------------------------------------------------------------------------------------


def notebook_text(nb: NotebookNode) -> str:
    """Serialise ``nb`` exactly as Jupyter saves it: sorted keys, indent 1, trailing newline.

    One function for every file this module writes, so the same notebook always gives the same
    bytes and the sync check can compare files byte for byte.
    """
    text = nbformat.writes(nb, version=nbformat.NO_CONVERT)
    return text if text.endswith("\n") else text + "\n"


def write_notebook(nb: NotebookNode, path: str | os.PathLike[str]) -> Path:
    """Write ``nb`` to ``path`` with :func:`notebook_text` (UTF-8, ``\\n`` line endings)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(notebook_text(nb), encoding="utf-8", newline="\n")
    return path


def _read_notebook(path: Path) -> NotebookNode:
    """Read a notebook as stored, without nbformat's repairs.

    ``nbformat.read`` gives cells that lack an id a *random* one, which would make the generated
    exercise differ on every run; :func:`make_exercise` gives them a deterministic one instead.
    """
    text = path.read_text(encoding="utf-8")
    try:
        version = json.loads(text).get("nbformat")
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{path} is not valid notebook JSON ({error}). A merge conflict? "
            "Restore it with git, or fix the JSON by hand."
        ) from error
    if version != 4:
        raise ValueError(
            f"{path} is nbformat {version}; the course needs nbformat 4. "
            "Open and save it in JupyterLab 4 to convert it."
        )
    return nbformat.v4.reads(text)


# --------------------------------------------------------------------------------------------
# Solutions -> exercises
# --------------------------------------------------------------------------------------------


def make_exercise(solution_nb: NotebookNode) -> NotebookNode:
    """Turn a worked solution notebook into the learner's exercise notebook.

    Args:
        solution_nb: The solution, with ``### BEGIN SOLUTION``/``### END SOLUTION`` blocks in
            code cells, ``<!-- BEGIN SOLUTION -->``/``<!-- END SOLUTION -->`` blocks in
            markdown cells, and ``solution``-tagged cells that only the solution shows.

    Returns:
        A new notebook (the input is not changed): solution blocks replaced by stubs, tagged
        cells dropped, outputs, execution counts and widget state cleared, metadata reduced to
        what a learner needs. The same input always gives the same notebook.

    Raises:
        ExerciseMarkerError: A marker is unbalanced or nested, or the stub would leave a cell
            that compiled in the solution unable to compile in the exercise.

    Example:
        >>> import nbformat
        >>> nb = nbformat.v4.new_notebook()
        >>> source = "def double(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n"
        >>> nb.cells.append(nbformat.v4.new_code_cell(source + "    ### END SOLUTION"))
        >>> print(make_exercise(nb).cells[0].source)
        def double(x):
            # YOUR CODE HERE
            ...
    """
    exercise = copy.deepcopy(solution_nb)
    cells = []
    for index, cell in enumerate(exercise.cells):
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = _describe_cell(index, cell)
        if cell.cell_type == "code":
            original = cell.source
            cell.source = _stub_code(original, where=where)
            if cell.source != original and _compiles(original) and not _compiles(cell.source):
                raise ExerciseMarkerError(
                    f"{where}: replacing the solution block leaves invalid Python:\n"
                    f"{cell.source}\nPut the markers around whole statements inside one block."
                )
            cell.outputs = []
            cell.execution_count = None
        elif cell.cell_type == "markdown":
            cell.source = _stub_markdown(cell.source, where=where)
            if index == 0:
                cell.source = _exercise_title(cell.source)
        cell.metadata = {
            key: cell.metadata[key] for key in _EXERCISE_CELL_METADATA if key in cell.metadata
        }
        if exercise.nbformat_minor >= 5 and not cell.get("id"):
            cell.id = _deterministic_cell_id(index, cell.source)
        cells.append(cell)
    exercise.cells = cells
    exercise.metadata = _exercise_metadata(solution_nb.metadata)
    return exercise


def _exercise_title(source: str) -> str:
    """``# Solutions 01 · Costs`` -> ``# Exercises 01 · Costs``; other text is unchanged.

    Only a first line that is a level-1 heading starting with the word is renamed, so a
    sentence about solutions further down the cell stays as written.
    """
    return _SOLUTION_TITLE.sub(rf"\g<1>{EXERCISE_TITLE_WORD}", source, count=1)


def _describe_cell(index: int, cell: NotebookNode) -> str:
    cell_id = cell.get("id")
    return f"cell {index}" + (f" (id {cell_id})" if cell_id else "")


def _stub_code(source: str, *, where: str) -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block with a stub."""
    lines = source.split("\n")
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    begin_line = 0
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if block is not None:
                raise ExerciseMarkerError(
                    f"{where}: {BEGIN_SOLUTION!r} on line {number} comes before the block "
                    f"opened on line {begin_line} ends. Close it with {END_SOLUTION!r} first."
                )
            block, begin_line = [], number
            indent = line[: len(line) - len(line.lstrip())]
        elif marker == END_SOLUTION:
            if block is None:
                raise ExerciseMarkerError(
                    f"{where}: {END_SOLUTION!r} on line {number} has no {BEGIN_SOLUTION!r} "
                    "before it. Add the begin marker or remove this line."
                )
            out.extend(_code_stub(block, indent))
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise ExerciseMarkerError(
            f"{where}: {BEGIN_SOLUTION!r} on line {begin_line} has no {END_SOLUTION!r}. "
            "Add the end marker at the same indentation."
        )
    return "\n".join(out)


def _code_stub(block: list[str], indent: str) -> list[str]:
    """The lines that stand in for a solution block.

    ``name = None`` for each name the block assigns, so code after the block (``return
    result``, a later cell using ``answer``) still runs; ``...`` otherwise, which is a valid
    statement anywhere, so a function body returns None.
    """
    names = _assigned_names("\n".join(block))
    if names:
        return [f"{indent}{STUB_COMMENT}"] + [f"{indent}{name} = None" for name in names]
    return [f"{indent}{STUB_COMMENT}", f"{indent}..."]


def _assigned_names(code: str) -> list[str]:
    """Names bound by the top-level assignments of ``code``, in order; [] if it won't parse.

    ``x += 1`` is not counted: the name existed before the block, and ``x = None`` would wipe it.
    """
    try:
        tree = ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return []
    names: list[str] = []

    def collect(target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            if target.id not in names:
                names.append(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                collect(element)
        elif isinstance(target, ast.Starred):
            collect(target.value)

    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                collect(target)
        elif isinstance(statement, ast.AnnAssign):
            collect(statement.target)
    return names


def _compiles(source: str) -> bool:
    """Whether a code cell is valid IPython (magics and ``!shell`` lines allowed)."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "\d" in a plain string
            code = TransformerManager().transform_cell(source)
            compile(code, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except (SyntaxError, ValueError):
        return False
    return True


def _stub_markdown(source: str, *, where: str) -> str:
    lines = source.split("\n")
    out: list[str] = []
    inside = False
    begin_line = 0
    for number, line in enumerate(lines, start=1):
        if _MARKDOWN_BEGIN.match(line):
            if inside:
                raise ExerciseMarkerError(
                    f"{where}: 'BEGIN SOLUTION' on line {number} comes before the answer "
                    f"opened on line {begin_line} ends. Close it with 'END SOLUTION' first."
                )
            inside, begin_line = True, number
            out.append(EXERCISE_MARKDOWN_STUB)
        elif _MARKDOWN_END.match(line):
            if not inside:
                raise ExerciseMarkerError(
                    f"{where}: 'END SOLUTION' on line {number} has no 'BEGIN SOLUTION' "
                    "before it. Add the begin marker or remove this line."
                )
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseMarkerError(
            f"{where}: 'BEGIN SOLUTION' on line {begin_line} has no 'END SOLUTION'. "
            "Add <!-- END SOLUTION --> after the answer."
        )
    return "\n".join(out)


def _deterministic_cell_id(index: int, source: str) -> str:
    digest = hashlib.sha1(f"{index}\n{source}".encode()).hexdigest()
    return f"ex-{digest[:12]}"


def _exercise_metadata(metadata: Mapping[str, Any]) -> NotebookNode:
    kept: dict[str, Any] = {"kernelspec": dict(metadata.get("kernelspec") or _DEFAULT_KERNELSPEC)}
    language = (metadata.get("language_info") or {}).get("name")
    if language:
        kept["language_info"] = {"name": language}
    return nbformat.from_dict(kept)


def _solution_paths(solutions_dir: Path) -> list[Path]:
    if not solutions_dir.is_dir():
        raise FileNotFoundError(
            f"No solutions folder at {solutions_dir.resolve()}. "
            "Run this from the course's root folder (the one with pyproject.toml)."
        )
    return sorted(solutions_dir.glob("*.ipynb"))


def _exercise_text(solution_path: Path) -> str:
    try:
        return notebook_text(make_exercise(_read_notebook(solution_path)))
    except ExerciseMarkerError as error:
        raise ExerciseMarkerError(f"{solution_path}: {error}") from error


def write_exercises(
    solutions_dir: str | os.PathLike[str] = "solutions",
    exercises_dir: str | os.PathLike[str] = "exercises",
) -> list[Path]:
    """Regenerate ``exercises_dir/X.ipynb`` from every ``solutions_dir/X.ipynb``.

    Files that are already up to date are not rewritten (their timestamps stay). Exercises
    without a solution are left alone; :func:`exercise_sync_problems` reports them.

    Returns:
        The exercise paths, one per solution, sorted by name.
    """
    solutions, exercises = Path(solutions_dir), Path(exercises_dir)
    written = []
    for solution in _solution_paths(solutions):
        target = exercises / solution.name
        text = _exercise_text(solution)
        if _read_text(target) != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
        written.append(target)
    return written


def _read_text(path: Path) -> str | None:
    """A file's text with ``\\r\\n`` read as ``\\n`` (a Windows checkout is not "out of sync")."""
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8").replace("\r\n", "\n")


def exercise_sync_problems(
    solutions_dir: str | os.PathLike[str] = "solutions",
    exercises_dir: str | os.PathLike[str] = "exercises",
) -> dict[str, str]:
    """What is wrong between ``solutions_dir`` and ``exercises_dir``, file by file.

    Returns:
        ``{exercise path: one-line reason and fix}``, sorted by path; empty when in sync.
    """
    solutions, exercises = Path(solutions_dir), Path(exercises_dir)
    problems: dict[str, str] = {}
    solution_paths = _solution_paths(solutions)
    for solution in solution_paths:
        target = exercises / solution.name
        current = _read_text(target)
        if current is None:
            problems[str(target)] = (
                f"{target} is missing; run `{FIX_HINT}` to generate it from {solution}."
            )
        elif current != _exercise_text(solution):
            problems[str(target)] = (
                f"{target} differs from what {solution} generates; edit the solution, "
                f"not the exercise, then run `{FIX_HINT}`."
            )
    solution_names = {path.name for path in solution_paths}
    for exercise in sorted(exercises.glob("*.ipynb")):
        if exercise.name not in solution_names:
            problems[str(exercise)] = (
                f"{exercise} has no {solutions / exercise.name}; exercises are generated from "
                f"solutions: add the solution or delete the exercise, then run `{FIX_HINT}`."
            )
    return dict(sorted(problems.items()))


def exercises_out_of_sync(
    solutions_dir: str | os.PathLike[str] = "solutions",
    exercises_dir: str | os.PathLike[str] = "exercises",
) -> list[str]:
    """Paths of exercises that differ from what the solutions generate, are missing, or have no
    solution. Empty when ``exercises_dir`` is in sync; see :func:`exercise_sync_problems` for
    the reasons."""
    return list(exercise_sync_problems(solutions_dir, exercises_dir))


# --------------------------------------------------------------------------------------------
# Executing notebooks
# --------------------------------------------------------------------------------------------


def execute_notebook(
    path: str | os.PathLike[str],
    *,
    timeout: int = 600,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Run a notebook top to bottom in a fresh ``python3`` kernel and store the results in place.

    Like "Restart kernel and run all" followed by "Save widget state": old outputs are cleared
    first, widget state is stored in the notebook metadata (the static book draws widgets from
    it), and things that change on every run without meaning anything (cell timings, random
    widget ids) are removed or made stable, so re-executing gives a minimal diff.

    Args:
        path: The ``.ipynb`` file; it is overwritten only if every cell ran.
        timeout: Seconds one cell may take before execution stops.
        cwd: Working directory of the kernel (default: the notebook's folder, as in Jupyter).
        env: Extra environment variables on top of :data:`NOTEBOOK_ENVIRONMENT`.

    Raises:
        NotebookExecutionError: A cell raised (cells tagged ``raises-exception`` may raise) or
            timed out; the message holds the cell and its traceback.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    path = Path(path)
    nb = _read_notebook(path)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("widgets", None)
    nb.metadata.setdefault("kernelspec", dict(_DEFAULT_KERNELSPEC))

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(cwd) if cwd else path.parent.resolve())}},
        store_widget_state=True,
        record_timing=False,
        # The kernel's own start-up warnings (e.g. about its TCP transport) are noise in
        # `make execute`; errors in cells still arrive as cell outputs.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    # Stored outputs are made the way CI checks them (nbval with COURSE_THREADS=1): with
    # another thread count llama.cpp may sum in another order and write a different word.
    environment = {**os.environ, **NOTEBOOK_ENVIRONMENT, "COURSE_THREADS": "1", **(env or {})}
    try:
        client.execute(env=environment)
    except (CellExecutionError, CellTimeoutError) as error:
        raise NotebookExecutionError(
            f"{path} stopped with an error, so the stored file was left unchanged. "
            f"Fix the cell below (or tag it raises-exception if the error is the lesson), "
            f"then run it again.\n{error}"
        ) from error

    _strip_volatile_metadata(nb)
    _coalesce_streams(nb)
    _stabilize_widget_ids(nb, namespace=path.stem)
    write_notebook(nb, path)


def _strip_volatile_metadata(nb: NotebookNode) -> None:
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)


def _coalesce_streams(nb: NotebookNode) -> None:
    """Merge consecutive stdout (or stderr) outputs of a cell into one, as JupyterLab saves them.

    A streamed model answer arrives as one message per token; stored as is, that is hundreds of
    outputs per cell and a diff that changes with how the kernel happened to batch them.
    """
    for cell in nb.cells:
        merged: list[NotebookNode] = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and previous is not None
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged


def _stabilize_widget_ids(nb: NotebookNode, *, namespace: str) -> None:
    """Replace the random widget model ids with ones derived from their order of creation.

    Each run gives every widget a new uuid4, which would turn every re-execution into a diff
    of all widget outputs and state. Ids are replaced everywhere they occur: state keys,
    ``IPY_MODEL_<id>`` references inside the state, and widget-view outputs.
    """
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE_KEY, {}).get("state", {})
    old_ids = list(state)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            model_id = output.get("data", {}).get(_WIDGET_VIEW_KEY, {}).get("model_id")
            if model_id and model_id not in old_ids:
                old_ids.append(model_id)
    if not old_ids:
        return
    mapping = {
        old: uuid.uuid5(uuid.NAMESPACE_URL, f"enterprise-ai-course/{namespace}/{n}").hex
        for n, old in enumerate(old_ids)
    }
    pattern = re.compile("|".join(re.escape(old) for old in mapping))

    def replace(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda match: mapping[match.group(0)], value)
        if isinstance(value, Mapping):
            return {replace(key): replace(item) for key, item in value.items()}
        if isinstance(value, list):
            return [replace(item) for item in value]
        return value

    if "widgets" in nb.metadata:
        nb.metadata.widgets = nbformat.from_dict(replace(nb.metadata.widgets))
    for cell in nb.cells:
        if "outputs" in cell:
            cell.outputs = [nbformat.from_dict(replace(output)) for output in cell.outputs]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _default_notebooks() -> list[Path]:
    return sorted(Path("notebooks").glob("*.ipynb")) + sorted(Path("solutions").glob("*.ipynb"))


def _run_execute(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.paths] or _default_notebooks()
    if not paths:
        print("No notebooks found in notebooks/ or solutions/; nothing to execute.")
    failed: list[Path] = []
    for path in paths:
        print(f"executing {path} ...", flush=True)
        started = time.perf_counter()
        try:
            execute_notebook(path, timeout=args.timeout)
        except (NotebookExecutionError, ValueError, FileNotFoundError) as error:
            print(error, file=sys.stderr)
            failed.append(path)
            continue
        print(f"  stored outputs in {path} ({time.perf_counter() - started:.1f} s)")
    if Path("solutions").is_dir():
        exercises = write_exercises()
        print(f"regenerated {len(exercises)} exercise notebook(s) in exercises/")
    if failed:
        names = ", ".join(str(path) for path in failed)
        print(f"{len(failed)} notebook(s) failed and were left unchanged: {names}", file=sys.stderr)
        return 1
    return 0


def _run_exercises(args: argparse.Namespace) -> int:
    for path in write_exercises():
        print(f"wrote {path}")
    return 0


def _run_check_sync(args: argparse.Namespace) -> int:
    problems = exercise_sync_problems()
    if problems:
        print(f"{len(problems)} exercise notebook(s) out of sync with solutions/:", file=sys.stderr)
        for reason in problems.values():
            print(f"  {reason}", file=sys.stderr)
        print(
            f"Fix: run `{FIX_HINT}` (it regenerates exercises/ from solutions/).", file=sys.stderr
        )
        return 1
    print("exercises/ is in sync with solutions/.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m enterprise_ai.notebooks``; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m enterprise_ai.notebooks",
        description="Execute course notebooks and generate exercises from solutions.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    execute = sub.add_parser(
        "execute",
        help="re-run notebooks storing outputs and widget state, then regenerate exercises",
    )
    execute.add_argument(
        "paths", nargs="*", help="notebooks to run (default: notebooks/*.ipynb solutions/*.ipynb)"
    )
    execute.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    execute.set_defaults(func=_run_execute)
    sub.add_parser("exercises", help="regenerate exercises/ from solutions/").set_defaults(
        func=_run_exercises
    )
    sub.add_parser(
        "check-sync", help="exit 1 if exercises/ differs from what solutions/ generates"
    ).set_defaults(func=_run_check_sync)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as error:  # ExerciseMarkerError is a ValueError
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
