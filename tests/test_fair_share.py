"""The class server's queue: a person's question before a loop, and a loop's run stopped for it.

Each test drives :class:`FairShare` with jobs that wait on events and a clock the test moves, so
"busy" (recent model time above the line) is set up exactly, without sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from enterprise_ai.fair_share import (
    BUSY_SECONDS,
    HALF_LIFE_S,
    LONG_ANSWER_S,
    MAX_HOLD_S,
    MAX_STOPS,
    SHORT_TOKENS,
    FairShare,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=10))


async def settle() -> None:
    """Let every ready task take its next step."""
    for _ in range(10):
        await asyncio.sleep(0)


async def make_busy(fair: FairShare, clock: Clock, learner: str) -> None:
    """Give ``learner`` more recent model time than the busy line."""

    async def long_job() -> None:
        clock.now += BUSY_SECONDS + 5

    await fair.run(learner, long_job)
    assert fair.is_busy(learner)


class Job:
    """A model request that runs until the test releases it, counting how often it started."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log, self.starts = name, log, 0
        self.release = asyncio.Event()

    async def __call__(self) -> str:
        self.starts += 1
        self.log.append(f"start {self.name}")
        await self.release.wait()
        self.log.append(f"end {self.name}")
        return self.name


def test_a_person_goes_before_a_loop_whatever_the_order_of_arrival() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=1, clock=clock)
        await make_busy(fair, clock, "loop")
        first, loop, person = Job("first", log), Job("loop", log), Job("person", log)
        running = asyncio.ensure_future(fair.run("someone", first))
        await settle()
        waiting_loop = asyncio.ensure_future(fair.run("loop", loop))
        await settle()
        waiting_person = asyncio.ensure_future(fair.run("person", person))
        await settle()
        first.release.set()
        person.release.set()
        loop.release.set()
        assert await asyncio.gather(running, waiting_person, waiting_loop) == [
            "first",
            "person",
            "loop",
        ]
        assert log.index("start person") < log.index("start loop")

    run(scenario)


def test_a_loop_waits_while_a_person_is_answered_even_with_free_slots() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        await make_busy(fair, clock, "loop")
        person, loop = Job("person", log), Job("loop", log)
        answering = asyncio.ensure_future(fair.run("person", person))
        await settle()
        looping = asyncio.ensure_future(fair.run("loop", loop))
        await settle()
        assert loop.starts == 0 and fair.waiting == 1 and fair.running == 1
        person.release.set()
        loop.release.set()
        await asyncio.gather(answering, looping)
        assert loop.starts == 1

    run(scenario)


def test_a_loop_is_stopped_for_a_person_and_runs_again_after() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        await make_busy(fair, clock, "loop")
        loop, person = Job("loop", log), Job("person", log)
        looping = asyncio.ensure_future(fair.run("loop", loop))
        await settle()
        assert loop.starts == 1  # the room was quiet: the loop may use it
        answering = asyncio.ensure_future(fair.run("person", person))
        await settle()
        assert fair.stopped_total == 1 and fair.running == 1  # only the person runs now
        assert log == ["start loop", "start person"]
        person.release.set()
        await settle()
        assert loop.starts == 2  # sent again once the person has the answer
        loop.release.set()
        assert await asyncio.gather(looping, answering) == ["loop", "person"]

    run(scenario)


def test_one_request_is_stopped_at_most_max_stops_times() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        await make_busy(fair, clock, "loop")
        loop = Job("loop", log)
        looping = asyncio.ensure_future(fair.run("loop", loop))
        for number in range(MAX_STOPS + 2):
            await settle()
            person = Job(f"person{number}", log)
            person.release.set()  # answered at once
            await fair.run(f"person{number}", person)
        await settle()
        assert loop.starts == MAX_STOPS + 1
        assert fair.stopped_total == MAX_STOPS
        loop.release.set()
        assert await looping == "loop"

    run(scenario)


def test_a_turn_that_may_not_be_stopped_is_held_to_the_end() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        await make_busy(fair, clock, "loop")
        turn = await fair.wait_turn("loop")  # may_stop=False
        person = Job("person", log)
        answering = asyncio.ensure_future(fair.run("person", person))
        await settle()
        assert not turn.stop.is_set() and fair.running == 2
        person.release.set()
        await answering
        fair.finish(turn)
        fair.finish(turn)  # twice is harmless
        assert fair.running == 0

    run(scenario)


def test_the_least_recent_user_goes_first_among_people() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=1, clock=clock)

        async def three_seconds() -> None:
            clock.now += 3

        await fair.run("asked before", three_seconds)
        first = Job("first", log)
        running = asyncio.ensure_future(fair.run("someone", first))
        await settle()
        again, new = Job("asked before", log), Job("new", log)
        waits = [asyncio.ensure_future(fair.run("asked before", again))]
        await settle()
        waits.append(asyncio.ensure_future(fair.run("new", new)))
        await settle()
        for job in (first, again, new):
            job.release.set()
        await asyncio.gather(running, *waits)
        assert log.index("start new") < log.index("start asked before")

    run(scenario)


def test_a_loop_counts_as_a_person_again_once_its_time_has_faded() -> None:
    async def scenario() -> None:
        clock = Clock()
        fair = FairShare(slots=1, clock=clock)
        await make_busy(fair, clock, "loop")
        clock.now += 2 * HALF_LIFE_S  # a quarter is left: below the line
        assert fair.recent_seconds("loop") == pytest.approx((BUSY_SECONDS + 5) / 4)
        assert not fair.is_busy("loop")

    run(scenario)


def test_waiting_past_the_deadline_raises_and_leaves_no_trace() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=1, clock=clock)
        holder = Job("holder", log)
        holding = asyncio.ensure_future(fair.run("holder", holder))
        await settle()
        deadline = asyncio.get_running_loop().time() + 0.05
        with pytest.raises(TimeoutError):
            await fair.run("late", Job("late", log), wait_until=deadline)
        assert fair.waiting == 0 and fair.running == 1
        holder.release.set()
        await holding
        assert fair.running == 0 and "start late" not in log

    run(scenario)


def test_a_cancelled_caller_gives_its_turn_back() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=1, clock=clock)
        job = Job("gone", log)
        asking = asyncio.ensure_future(fair.run("gone", job))
        await settle()
        asking.cancel()  # the client hung up
        await settle()
        assert fair.running == 0 and fair.waiting == 0

    run(scenario)


def test_no_slots_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="at least one request slot"):
        FairShare(slots=0)


def test_one_long_answer_counts_as_a_loop_once_it_has_run_for_long() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        long, first, second = Job("long", log), Job("first", log), Job("second", log)
        writing = asyncio.ensure_future(fair.run("new learner", long))
        await settle()
        clock.now += LONG_ANSWER_S - 5  # slow, but the course's answers can be: left alone
        first.release.set()
        await fair.run("first person", first)
        assert fair.stopped_total == 0 and long.starts == 1
        clock.now += 10  # still writing: now it is a loop's kind of work
        asking = asyncio.ensure_future(fair.run("second person", second))
        await settle()
        assert fair.stopped_total == 1
        second.release.set()
        await asking
        await settle()
        assert long.starts == 2  # sent again once the person has the answer
        long.release.set()
        assert await writing == "long"

    run(scenario)


# Rule 5: short questions first ------------------------------------------------------------

SHORT, LONG = SHORT_TOKENS, SHORT_TOKENS + 1


async def poke(fair: FairShare) -> None:
    """Change the queue without running anything: a request arrives, is held, and gives up."""
    arriving = asyncio.ensure_future(fair.wait_turn("poke", tokens=LONG))
    await settle()
    arriving.cancel()
    await settle()


def test_a_short_question_goes_before_longer_requests_that_came_first() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=1, clock=clock)
        first, long, short = Job("first", log), Job("long", log), Job("short", log)
        running = asyncio.ensure_future(fair.run("a", first, tokens=LONG))
        await settle()
        waiting_long = asyncio.ensure_future(fair.run("b", long, tokens=LONG))
        await settle()
        waiting_short = asyncio.ensure_future(fair.run("c", short, tokens=SHORT))
        await settle()
        assert fair.stopped_total == 1  # the first long one made room (rule 5) ...
        for job in (short, long, first):
            job.release.set()
        await asyncio.gather(running, waiting_long, waiting_short)
        assert log.index("start short") < log.index("start long")
        assert first.starts == 2  # ... and was sent again after the short one

    run(scenario)


def test_longer_requests_wait_while_a_short_one_is_written_but_not_for_ever() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        short, long, late = Job("short", log), Job("long", log), Job("late", log)
        asking = asyncio.ensure_future(fair.run("a", short, tokens=SHORT))
        await settle()
        waiting = asyncio.ensure_future(fair.run("b", long, tokens=LONG))
        await settle()
        assert long.starts == 0 and fair.running == 1  # free slots, yet it waits
        short.release.set()
        await asking
        await settle()
        assert long.starts == 1  # the short answer is out: its turn
        # A short question that takes unusually long holds the others MAX_HOLD_S at most.
        slow_short = Job("slow short", log)
        asking = asyncio.ensure_future(fair.run("c", slow_short, tokens=SHORT))
        await settle()
        waiting_late = asyncio.ensure_future(fair.run("d", late, tokens=LONG))
        await settle()
        assert late.starts == 0
        clock.now += MAX_HOLD_S
        await poke(fair)  # any change in the queue looks again
        await settle()
        assert late.starts == 1
        for job in (slow_short, long, late):
            job.release.set()
        await asyncio.gather(asking, waiting, waiting_late)

    run(scenario)


def test_a_streams_turn_is_never_stopped_for_a_short_question() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        stream = await fair.wait_turn("streamer", may_stop=True, tokens=LONG)  # resends=False
        plain, short = Job("plain", log), Job("short", log)
        writing = asyncio.ensure_future(fair.run("writer", plain, tokens=LONG))
        await settle()
        asking = asyncio.ensure_future(fair.run("asker", short, tokens=SHORT))
        await settle()
        assert not stream.stop.is_set()  # a person's stream goes on
        assert fair.stopped_total == 1 and plain.starts == 1  # the plain one made room
        short.release.set()
        await asking
        await settle()
        assert plain.starts == 2
        plain.release.set()
        await writing
        fair.finish(stream)

    run(scenario)


def test_a_loops_short_requests_get_no_short_question_priority() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        await make_busy(fair, clock, "flood")
        person, flood = Job("person", log), Job("flood", log)
        writing = asyncio.ensure_future(fair.run("person", person, tokens=LONG))
        await settle()
        flooding = asyncio.ensure_future(fair.run("flood", flood, tokens=SHORT))
        await settle()
        assert fair.stopped_total == 0 and person.starts == 1  # not stopped for a loop
        assert flood.starts == 0  # and the loop still waits for the gaps (rule 3)
        person.release.set()
        flood.release.set()
        await asyncio.gather(writing, flooding)

    run(scenario)


def test_a_request_started_during_a_short_question_is_not_stopped_for_it() -> None:
    async def scenario() -> None:
        clock, log = Clock(), []
        fair = FairShare(slots=4, clock=clock)
        short, long = Job("short", log), Job("long", log)
        asking = asyncio.ensure_future(fair.run("a", short, tokens=SHORT))
        await settle()
        waiting = asyncio.ensure_future(fair.run("b", long, tokens=LONG))
        await settle()
        clock.now += MAX_HOLD_S  # held long enough: it starts beside the short one
        await poke(fair)
        await settle()
        assert long.starts == 1 and fair.stopped_total == 0
        short.release.set()
        long.release.set()
        await asyncio.gather(asking, waiting)
        assert long.starts == 1

    run(scenario)
