"""run_batch: order kept, requests really overlap, and stopping early loses nothing finished."""

from __future__ import annotations

import _thread
import os
import signal
import threading
import time

import pytest

from enterprise_ai import batch
from enterprise_ai.testing import ScriptedClient


def test_results_keep_the_input_order_when_later_items_finish_first() -> None:
    delays = [0.15, 0.0, 0.1, 0.0, 0.05]
    run = batch.run_batch(lambda d: (time.sleep(d), d)[1], delays, workers=3, progress=False)
    assert run.results == delays and run.indices == [0, 1, 2, 3, 4]
    assert run.complete and run.stopped is None and run.missing == []


def test_workers_really_overlap_and_never_exceed_the_limit() -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def work(_: int) -> None:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1

    batch.run_batch(work, range(12), workers=3, progress=False)
    assert state["peak"] == 3
    state["peak"] = 0
    batch.run_batch(work, range(4), workers=1, progress=False)
    assert state["peak"] == 1


def test_a_time_budget_returns_what_finished_and_says_so(capsys: pytest.CaptureFixture) -> None:
    run = batch.run_batch(
        lambda i: (time.sleep(0.1), i)[1],
        list(range(20)),
        workers=2,
        progress=False,
        time_budget=0.25,
    )
    assert 2 <= len(run.results) < 20
    assert run.results == sorted(run.results) and run.results == run.indices
    assert run.stopped and "time budget" in run.stopped and not run.complete
    assert run.missing == [i for i in range(20) if i not in run.indices]
    assert f"{len(run.results)} of 20 finished" in capsys.readouterr().err


def test_kernel_interrupt_returns_at_once_with_the_finished_results() -> None:
    # In a Jupyter kernel, SIGINT raises KeyboardInterrupt; interrupt_main does nothing under
    # another handler. This test failed once in a full run with no interrupt seen; the cause was
    # not found (no test leaves a handler behind), so the test states its precondition itself.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _interrupt_a_batch_run()
    finally:
        signal.signal(signal.SIGINT, previous)


def _interrupt_a_batch_run() -> None:
    timer = threading.Timer(0.35, _thread.interrupt_main)  # what Kernel → Interrupt sends
    timer.start()
    started = time.perf_counter()
    run = batch.run_batch(
        lambda i: (time.sleep(0.1), i)[1], list(range(100)), workers=2, progress=False
    )
    waited = time.perf_counter() - started
    timer.join()
    assert run.stopped and "interrupted" in run.stopped
    assert 2 <= len(run.results) < 100 and run.results == run.indices
    assert waited < 1.0  # not the 5 s the whole list would take


def test_an_exception_in_the_work_is_raised_not_swallowed() -> None:
    def work(i: int) -> int:
        if i == 2:
            raise ValueError("bug in the caller's function")
        return i

    with pytest.raises(ValueError, match="bug in the caller"):
        batch.run_batch(work, range(5), workers=2, progress=False)


def test_default_workers_is_one_for_clients_other_than_the_local_server() -> None:
    assert batch.default_workers(ScriptedClient(["hi"])) == 1
    assert batch.default_workers(object()) == 1


def test_interrupting_an_evaluation_in_a_kernel_keeps_results_and_a_usable_server(
    tmp_path,
) -> None:
    """Kernel → Interrupt during a live evaluation on the real model: the cell ends with the
    finished rows, and the same warm server answers the next cell."""
    from jupyter_client.manager import start_new_kernel

    from enterprise_ai.notebooks import NOTEBOOK_ENVIRONMENT

    finished = tmp_path / "finished.txt"
    env = {**os.environ, **NOTEBOOK_ENVIRONMENT}
    manager, kernel = start_new_kernel(kernel_name="python3", env=env)

    def wait_idle(msg_id: str, timeout: float = 120) -> list[dict]:
        outputs = []
        while True:
            msg = kernel.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return outputs
            outputs.append(msg)

    try:
        wait_idle(
            kernel.execute(
                "from pathlib import Path\n"
                "from enterprise_ai import batch, data, llm, triage\n"
                "client, model = llm.get_client(), llm.default_model()\n"
                "url = client.base_url\n"
                f"log = Path({str(finished)!r})\n"
                "def one(text):\n"
                "    result = triage.classify(text, client=client, model=model)\n"
                "    with log.open('a') as f: f.write('x')\n"
                "    return result\n"
            )
        )
        msg_id = kernel.execute(
            "texts = [triage.ticket_text(t) for t in data.tickets().head(100).to_dict('records')]\n"
            "run = batch.run_batch(one, texts, workers=batch.default_workers(client), "
            "progress=False)"
        )
        deadline = time.monotonic() + 120
        while not (finished.exists() and finished.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        manager.interrupt_kernel()  # what Kernel → Interrupt in JupyterLab sends
        started = time.perf_counter()
        wait_idle(msg_id, timeout=60)
        assert time.perf_counter() - started < 10  # not the minutes 100 tickets take
        printed = wait_idle(
            kernel.execute(
                "print(len(run.results), run.stopped, client.base_url == url)\n"
                "print(client.chat.completions.create(model=model, max_tokens=5,\n"
                "    messages=[{'role': 'user', 'content': 'Hi'}]).choices[0].finish_reason)"
            )
        )
        text = "".join(m["content"].get("text", "") for m in printed if m["msg_type"] == "stream")
        assert "interrupted" in text and "True" in text, text
        done = int(text.split()[0])
        assert 0 < done < 100 and text.split()[-1] in ("stop", "length"), text
    finally:
        manager.shutdown_kernel(now=True)
