"""The ``course`` command: ``doctor``, ``serve``, ``exercises`` and ``progress``.

Introduced in notebooks/00_setup.ipynb (doctor) and book/setup.md (serve).
"""

from __future__ import annotations

import argparse
import sys

from enterprise_ai.errors import CourseError

__all__ = ["main"]


def _doctor(args: argparse.Namespace) -> int:
    from enterprise_ai.doctor import format_report, run_checks

    checks = run_checks(model=not args.no_model)
    print(format_report(checks))
    return 0 if all(c.ok for c in checks) else 1


def _serve(args: argparse.Namespace) -> int:
    from enterprise_ai.serve import serve

    serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        parallel=args.parallel,
        threads=args.threads,
    )
    return 0


def _exercises(args: argparse.Namespace) -> int:
    from enterprise_ai import notebooks

    return notebooks.main(["check-sync" if args.check else "exercises"])


def _progress(args: argparse.Namespace) -> int:
    from pathlib import Path

    from enterprise_ai.progress import format_progress, run_progress

    paths = [Path(p) for p in args.notebooks] or sorted(Path("exercises").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing or not paths:
        print(
            f"course progress: no notebook at {', '.join(missing) or 'exercises/*.ipynb'}. "
            "Run it in the course folder, or pass the learner's notebooks.",
            file=sys.stderr,
        )
        return 2
    print(format_progress(run_progress(paths)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, separate from :func:`main` so tests can inspect it."""
    parser = argparse.ArgumentParser(
        prog="course", description="Tools for the Enterprise AI Adoption course."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    doctor = sub.add_parser("doctor", help="check this machine and the configured backend")
    doctor.add_argument(
        "--no-model", action="store_true", help="skip loading and calling the model"
    )
    doctor.set_defaults(func=_doctor)

    serve = sub.add_parser("serve", help="serve the local model to a whole class (trainers)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080)")
    serve.add_argument(
        "--api-key", default=None, help="key learners must send; required off loopback"
    )
    serve.add_argument(
        "--parallel", type=int, default=4, help="requests answered at once (default: 4)"
    )
    serve.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for the model (default: COURSE_THREADS or every core, at most 8)",
    )
    serve.set_defaults(func=_serve)

    exercises = sub.add_parser("exercises", help="regenerate exercises/ from solutions/")
    exercises.add_argument(
        "--check", action="store_true", help="only report notebooks that are out of sync"
    )
    exercises.set_defaults(func=_exercises)
    progress = sub.add_parser(
        "progress", help="run exercise notebooks and list which checks pass (trainers)"
    )
    progress.add_argument("notebooks", nargs="*", help="default: exercises/*.ipynb")
    progress.set_defaults(func=_progress)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``course`` command; errors print one line with the fix, no traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CourseError as err:
        print(f"course {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
