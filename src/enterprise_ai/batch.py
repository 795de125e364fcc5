"""Run one function over many items: several at a time, results in order, safe to stop.

Evaluations call the model once per ticket, question or scenario. A hosted API, or a local
server with more than one thread, works on several requests at once (llama.cpp's *slots* are
decoded in one batch), so sending a few at once finishes the whole set sooner. This module does
the sending, and keeps the three promises an evaluation loop owes a learner:

- **Order.** Results come back in the order of the input, whatever finished first, so a table
  of results lines up with the table of questions.
- **Progress.** A tqdm bar counts finished items (on stderr, so stored notebook outputs stay
  stable).
- **Nothing lost.** Kernel → Interrupt returns control at once with everything that finished;
  so does a ``time_budget``. What did not finish is listed, never silently dropped. Requests
  already sent finish on the server in the background (a few seconds at most).

Example:
    >>> run = run_batch(lambda x: x * x, [1, 2, 3], workers=2, progress=False)
    >>> run.results, run.complete
    ([1, 4, 9], True)

Introduced in notebooks/02_triage.ipynb (``triage.evaluate``); ``evals.run`` and the agent
scenario suite use it too.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["BatchRun", "default_workers", "run_batch"]

T = TypeVar("T")
R = TypeVar("R")

#: How often the waiting loop wakes up to notice Kernel → Interrupt and the time budget.
_POLL_SECONDS = 0.1


@dataclass
class BatchRun(Generic[R]):
    """What :func:`run_batch` finished.

    Attributes:
        results: the finished results, in input order (only the finished ones).
        indices: the input position of each result in ``results``.
        total: how many items were asked for.
        seconds: wall time of the whole run.
        stopped: why the run stopped early (time budget, interrupt), or ``None``.
    """

    results: list[R] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    total: int = 0
    seconds: float = 0.0
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        """True when every item finished."""
        return len(self.results) == self.total

    @property
    def missing(self) -> list[int]:
        """Input positions that did not finish (empty when complete)."""
        done = set(self.indices)
        return [i for i in range(self.total) if i not in done]


def default_workers(client: Any) -> int:
    """How many requests to send at once to ``client``: the local server's slots, else one.

    The local server has one slot per llama.cpp thread (at most two, see
    :func:`enterprise_ai.local_server.learner_slots`), and decodes its slots in one batch. Other
    endpoints get one at a time unless the caller asks for more with ``workers=``: a shared
    class server or a rate-limited API key is not ours to flood, and a scripted test client
    answers in script order.
    """
    base_url = str(getattr(client, "base_url", "") or "")
    from enterprise_ai import local_server

    server = local_server.running_server()
    if server is not None and base_url.rstrip("/").startswith(server.base_url):
        return server.n_parallel
    return 1


def run_batch(
    fn: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int = 1,
    desc: str = "",
    progress: bool = True,
    time_budget: float | None = None,
) -> BatchRun[R]:
    """Call ``fn(item)`` for every item, ``workers`` at a time; stop cleanly when asked.

    Args:
        fn: the work for one item. It must not raise for an expected failure (a model error is
            a result row, not an exception); an exception it raises stops the run and is raised
            here after the other requests are cancelled.
        items: the inputs.
        workers: calls in flight at once (1 = one after the other).
        desc: the progress bar's label.
        progress: show a tqdm progress bar on stderr.
        time_budget: seconds after which no new item starts; the run returns what finished,
            with ``stopped`` saying so. ``None``: no limit.

    Returns:
        A :class:`BatchRun`. After Kernel → Interrupt it holds what finished and says so in
        ``stopped``; the interrupt is not re-raised, so a cell's results so far are kept.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    run: BatchRun[R] = BatchRun(total=len(items))
    finished: dict[int, R] = {}
    bar = tqdm(total=len(items), desc=desc, disable=not progress, file=sys.stderr)
    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="batch")
    pending: dict[Future[R], int] = {}
    next_item = 0
    try:
        while next_item < len(items) or pending:
            over_budget = time_budget is not None and time.perf_counter() - started > time_budget
            while next_item < len(items) and len(pending) < max(1, workers) and not over_budget:
                pending[pool.submit(fn, items[next_item])] = next_item
                next_item += 1
            if over_budget and next_item < len(items) and run.stopped is None:
                run.stopped = f"time budget of {time_budget:g} s reached"
            if not pending:
                break
            done, _ = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                finished[pending.pop(future)] = future.result()  # fn's own bug: raise it
                bar.update(1)
    except KeyboardInterrupt:
        run.stopped = "interrupted (Kernel → Interrupt)"
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        bar.close()
    run.indices = sorted(finished)
    run.results = [finished[i] for i in run.indices]
    run.seconds = time.perf_counter() - started
    if run.stopped:
        print(
            f"Stopped early, {run.stopped}: {len(run.results)} of {run.total} finished in "
            f"{run.seconds:.0f} s. The results below are those {len(run.results)}; "
            "run the cell again for the rest.",
            file=sys.stderr,
        )
    return run
