"""Whose request the class server's model writes next: a learner's question before a loop.

Why it is needed: on a laptop's CPU, llama.cpp's request slots share the same cores; they do
not add capacity. ``benchmarks/concurrent_answers.py`` (RESULTS.md section (n)) measures it on
the course's 2-core machine: with one other answer being written at the same time, every token
of a chat answer takes clearly longer, and with two others more than twice as long. So a learner
whose loop always has a request running (an evaluation over 100 tickets, or a deliberate flood)
slows everyone else down, although it holds only one slot.

The rule, in the order :class:`FairShare` applies it:

1. Every learner's model time is counted, fading with a half-life of :data:`HALF_LIFE_S`.
   A learner whose recent model time is above :data:`BUSY_SECONDS` is *busy*: a loop, not a
   person reading answers. A single request that has run for longer than
   :data:`LONG_ANSWER_S` counts as busy as well. Busy learners become ordinary again a minute or
   two after their loop stops.
2. At most ``slots`` requests run at once. Ordinary learners go first; among learners of the
   same kind, the one with the least recent model time goes first.
3. A busy learner's request starts only while no ordinary learner's request runs or waits:
   loops fill the gaps between the questions of the room.
4. When an ordinary request arrives while busy requests run, those are stopped. A plain request
   is queued again (:meth:`FairShare.run` sends it once more later; the client only sees a
   longer wait), at most :data:`MAX_STOPS` times, so a loop still finishes in a room that never
   goes quiet. A stream cannot be sent again once it has begun: the class server cuts a busy
   learner's stream with a message instead (``wait_turn(..., may_stop=True)``).
5. Short questions first. A request expected to need at most :data:`SHORT_TOKENS` tokens
   (prompt and answer; module 00's chat question) is *short*. Among ordinary learners it goes
   first; while it is being written, longer requests do not start (unless they have waited
   :data:`MAX_HOLD_S` already), and running longer plain requests of other learners are
   stopped and sent again like a loop's (at most :data:`MAX_STOPS` times). A person's stream
   is never stopped for this. So a quick question is written at the speed of an idle model,
   and the longer answers, which take seconds anyway, absorb the wait.

Nothing here knows about HTTP: :mod:`enterprise_ai.serve` calls :meth:`FairShare.run` with the
forwarding coroutine, and :meth:`FairShare.wait_turn` / :meth:`FairShare.finish` for streams.
Runs on one asyncio event loop (uvicorn's), so it needs no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

__all__ = [
    "BUSY_SECONDS",
    "HALF_LIFE_S",
    "LONG_ANSWER_S",
    "MAX_HOLD_S",
    "MAX_STOPS",
    "SHORT_TOKENS",
    "FairShare",
    "Turn",
]

#: Recent model time after which a learner counts as busy. A person asks a question, reads the
#: answer for a minute and asks again: a few seconds (a grounded answer takes about 3 s). A loop
#: crosses 10 s within its first ten items; until then it counts as a person.
BUSY_SECONDS = 10.0
#: How fast model time is forgotten: half of it after this many seconds.
HALF_LIFE_S = 60.0
#: A running request older than this counts as a loop's work, whoever sent it. The course's own
#: requests (at most a few hundred tokens) take under 25 s even in a full room; one answer of
#: thousands of tokens takes minutes, and a learner who had not used the model before must not
#: hold the room that long.
LONG_ANSWER_S = 30.0
#: How often one request may be stopped for an ordinary learner before it runs to its end.
MAX_STOPS = 2
#: Requests expected to need at most this many tokens, prompt and answer, are short (rule 5).
#: Module 00's chat question is about 120; a triage or a grounded answer several hundred.
SHORT_TOKENS = 256
#: A longer request held back for short ones starts anyway after waiting this long.
MAX_HOLD_S = 5.0

T = TypeVar("T")


@dataclass
class Turn:
    """One request's place: waiting, then running until :meth:`FairShare.finish`."""

    learner: Hashable
    may_stop: bool
    order: int
    resends: bool = False  # the caller sends the request again when it is stopped (run does)
    short: bool = False  # expected to need at most SHORT_TOKENS tokens (rule 5)
    queued: float = 0.0
    started: float = 0.0
    stops: int = 0
    busy: bool = False  # decided when it starts, again whenever the queue changes
    granted: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    stop: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class _Usage:
    seconds: float = 0.0
    updated: float = 0.0

    def now(self, now: float) -> float:
        return self.seconds * math.exp2(-(now - self.updated) / HALF_LIFE_S)


class FairShare:
    """The class server's queue in front of the model (see the module docstring).

    Args:
        slots: Requests that may run at once (llama.cpp's slots).
        busy_seconds: Recent model time above which a learner is busy.
        long_answer_seconds: Running time after which a request counts as busy.
        clock: Seconds, monotonic; tests pass their own.
    """

    def __init__(
        self,
        slots: int,
        *,
        busy_seconds: float = BUSY_SECONDS,
        long_answer_seconds: float = LONG_ANSWER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots={slots}: the model needs at least one request slot")
        self.slots = slots
        self.busy_seconds = busy_seconds
        self.long_answer_seconds = long_answer_seconds
        self._clock = clock
        self._usage: dict[Hashable, _Usage] = {}
        self._waiting: list[Turn] = []
        self._running: list[Turn] = []
        self._order = itertools.count()
        self.stopped_total = 0  # how many runs were stopped for an ordinary learner

    # What the class server calls ------------------------------------------------------------

    async def run(
        self,
        learner: Hashable,
        job: Callable[[], Awaitable[T]],
        *,
        wait_until: float | None = None,
        tokens: int | None = None,
    ) -> T:
        """Run ``job()`` in ``learner``'s turn; if the turn is stopped, run it again later.

        ``job`` must be safe to repeat (a model request whose answer nobody has seen yet is).

        Args:
            wait_until: The event loop's time (``loop.time()``) after which waiting for a turn,
                first or again, raises :class:`TimeoutError`. Running time does not count.
            tokens: The request's expected size, prompt and answer (None: unknown, not short).
        """
        stops = 0
        while True:
            async with asyncio.timeout_at(wait_until):
                turn = await self.wait_turn(
                    learner, may_stop=stops < MAX_STOPS, resends=stops < MAX_STOPS, tokens=tokens
                )
            task = asyncio.ensure_future(job())
            stopped = asyncio.ensure_future(turn.stop.wait())
            try:
                await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            except BaseException:  # our caller was cancelled: so is the job
                task.cancel()
                raise
            finally:
                stopped.cancel()
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                self.finish(turn)
            if not task.cancelled():
                return task.result()
            stops += 1

    async def wait_turn(
        self,
        learner: Hashable,
        *,
        may_stop: bool = False,
        resends: bool = False,
        tokens: int | None = None,
    ) -> Turn:
        """Wait until ``learner`` may use the model; call :meth:`finish` with the turn after.

        Args:
            may_stop: The turn may be stopped while its learner is busy (``turn.stop`` is set).
            resends: The caller sends the request again when stopped, so it may also be stopped
                for a short question (rule 5). A stream cannot be, so it passes False.
            tokens: The request's expected size, prompt and answer (None: unknown, not short).
        """
        turn = Turn(
            learner,
            may_stop=may_stop,
            order=next(self._order),
            resends=resends and may_stop,
            short=tokens is not None and tokens <= SHORT_TOKENS,
            queued=self._clock(),
        )
        self._waiting.append(turn)
        self._dispatch()
        try:
            await turn.granted
        except BaseException:
            if turn in self._running:  # granted just as the caller gave up
                self.finish(turn)
            elif turn in self._waiting:
                self._waiting.remove(turn)
                self._dispatch()
            raise
        return turn

    def finish(self, turn: Turn) -> None:
        """The turn is over: count its model time and let the next request in. Safe twice."""
        if turn not in self._running:
            return
        self._running.remove(turn)
        now = self._clock()
        usage = self._usage.setdefault(turn.learner, _Usage(updated=now))
        usage.seconds = usage.now(now) + (now - turn.started)
        usage.updated = now
        self._forget_faded(now)
        self._dispatch()

    # What a trainer or a test may look at ---------------------------------------------------

    def recent_seconds(self, learner: Hashable) -> float:
        """``learner``'s model time, faded by :data:`HALF_LIFE_S`."""
        usage = self._usage.get(learner)
        return usage.now(self._clock()) if usage else 0.0

    def is_busy(self, learner: Hashable) -> bool:
        return self.recent_seconds(learner) > self.busy_seconds

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    # The rule -------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        now = self._clock()
        for turn in self._running:
            # A request that has run for long is a loop's work too: one answer of thousands of
            # tokens from a learner who had not used the model yet must not run unstoppable.
            turn.busy = self.is_busy(turn.learner) or now - turn.started > self.long_answer_seconds
        ordinary_waiting = any(not self.is_busy(t.learner) for t in self._waiting)
        while self._waiting and len(self._running) < self.slots:
            nxt = min(self._waiting, key=self._rank)
            busy = self.is_busy(nxt.learner)
            if busy and (ordinary_waiting or any(not t.busy for t in self._running)):
                break  # rule 3: loops fill the gaps only
            held = now - nxt.queued < MAX_HOLD_S
            if not nxt.short and held and any(self._quick(t) for t in self._running):
                break  # rule 5: a short question is being written; longer ones wait for it
            self._waiting.remove(nxt)
            nxt.busy = busy
            nxt.started = now
            self._running.append(nxt)
            nxt.granted.set_result(None)
            ordinary_waiting = any(not self.is_busy(t.learner) for t in self._waiting)
        quick = [t for t in self._waiting + self._running if self._quick(t)]
        for turn in self._running:
            if not turn.may_stop or turn.stop.is_set():
                continue
            if turn.busy:  # rule 4
                others_ordinary = ordinary_waiting or any(
                    not other.busy and other.learner != turn.learner for other in self._running
                )
                stop = others_ordinary
            else:  # rule 5: for a short question that came while this one was written
                stop = turn.resends and not turn.short
                stop = stop and any(
                    other.learner != turn.learner and other.queued >= turn.started
                    for other in quick
                )
            if stop:
                turn.stop.set()
                self.stopped_total += 1

    def _quick(self, turn: Turn) -> bool:
        """A short question of an ordinary learner: rule 5 makes room for it."""
        return turn.short and not self.is_busy(turn.learner)

    def _rank(self, turn: Turn) -> tuple[bool, bool, float, int]:
        return (
            self.is_busy(turn.learner),
            not turn.short,
            self.recent_seconds(turn.learner),
            turn.order,
        )

    def _forget_faded(self, now: float) -> None:
        """Drop learners whose model time has faded to nothing (keeps the table small)."""
        if len(self._usage) < 1000:
            return
        for learner, usage in list(self._usage.items()):
            if usage.now(now) < 0.01:
                del self._usage[learner]
