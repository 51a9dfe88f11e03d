"""Many jobs at once: a bounded pool of workers over lazily read items, and the async pump.

No terminal, no signals, no settings: the caller gives each item's work as a
coroutine and reads the progress counters (a display does, on its own timer).
At most `concurrency` items are in flight and at most that many have been read
ahead, so memory stays flat however many items there are.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from typing import Any, TypeVar

from cartesia_cli.api.events import Event
from cartesia_cli.errors import StopRequested
from cartesia_cli.output.sinks import Sink
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult

T = TypeVar("T")


class BatchProgress:
    """Counters for the display and the final line; `total` is None until all is read."""

    __slots__ = ("audio_seconds", "done", "failed", "started", "total")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.total: int | None = None
        self.done = 0
        self.failed = 0
        self.audio_seconds = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


class _End:
    """What the reader puts after the last item, once per worker."""


END = _End()


async def run_all(
    items: Iterator[T],
    work: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    start_thread: Callable[[threading.Thread], None],
    stop: asyncio.Event,
    on_end: Callable[[int], None] = lambda total: None,
) -> bool:
    """Run `work(item)` for every item, `concurrency` at a time; whether a stop ended it.

    The items are read on a thread (`start_thread` starts it: the entry point
    decides which signals it may take), since reading a pipe blocks, and handed
    over through a queue as small as the pool: at most `concurrency` items wait.
    `stop`, once set, ends the pool early (True): every item under way is cancelled
    at its await point (its `work` reports that) and all are awaited here, so
    none is left pending when the loop closes. A stop raised inside an item
    (KeyboardInterrupt, StopRequested: a signal nobody watched) sets it too.
    `work` reports its own failures: an exception out of it is a bug; it ends the
    pool the same way, and is raised here once every item has reported.
    `on_end(total)` is called in the loop once every item has been read.
    A failure to read the input is raised here once the items before it are done.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[T | _End] = asyncio.Queue()
    slots = threading.Semaphore(concurrency)  # items read ahead, at most
    failure: list[BaseException] = []
    bugs: list[Exception] = []

    def hand_over(value: T | _End) -> None:
        # call_soon_threadsafe, not a coroutine: nothing is left un-awaited if the loop
        # has closed under us (a stop), which raises RuntimeError here instead.
        loop.call_soon_threadsafe(queue.put_nowait, value)

    def read() -> None:
        count = 0
        try:
            for item in items:
                slots.acquire()
                hand_over(item)
                count += 1
        except RuntimeError:  # the loop closed under us (a stop): nobody is waiting
            return
        except Exception as exc:  # reading the input failed: said once the rest is done
            failure.append(exc)
        try:
            loop.call_soon_threadsafe(on_end, count)  # the total is known now
            for _ in range(concurrency):
                hand_over(END)
        except RuntimeError:
            return

    async def worker() -> None:
        try:
            # Checked as well as cancelled: code that swallows a cancellation may let
            # the item in hand run on, but no worker starts another after a stop.
            while not stop.is_set() and not isinstance(item := await queue.get(), _End):
                slots.release()
                await work(item)
        except (KeyboardInterrupt, StopRequested):
            # Not raised on: a task that ends with it ends the loop at once, under
            # the other items, before they have been cancelled and have reported.
            stop.set()
        except Exception as exc:
            bugs.append(exc)
            stop.set()

    start_thread(threading.Thread(target=read, name="batch-input", daemon=True))
    await _all_or_none([asyncio.ensure_future(worker()) for _ in range(concurrency)], stop)
    if bugs:
        raise bugs[0]
    if stop.is_set():
        return True
    if failure:
        raise failure[0]
    return False


async def _all_or_none(tasks: list[asyncio.Future[None]], stop: asyncio.Event) -> None:
    """Await every one of `tasks`, or `stop`: then cancel the rest, and await them too.

    However this ends (cancelled itself, or a stop raised in it), it returns or
    raises only once every task has finished: a task still pending when the
    loop closes is destroyed without its `finally` (or its report) ever running.
    """
    stopping = asyncio.ensure_future(stop.wait())
    everyone = asyncio.gather(*tasks, return_exceptions=True)
    either: list[asyncio.Future[Any]] = [everyone, stopping]
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(everyone, stopping, return_exceptions=True)


async def pump(events: AsyncGenerator[Event, None], sink: Sink, result: StreamResult) -> None:
    """`pipeline.pump` for an async stream: the same per-event work and the same rule.

    A write that fails closes the stream here, so its connection and its place
    under the client's concurrency limit are given back at once, not whenever
    the generator is collected. Only then: a stop (KeyboardInterrupt) may land
    while the generator runs, and closing a running generator is an error.
    """
    try:
        try:
            async for event in events:
                pipeline.take(event, sink, result)
        except Exception:
            await events.aclose()  # suspended at its yield, or already ended
            raise
    finally:
        result.stats.finished = time.perf_counter()
    pipeline.require_audio(result.stats)
    sink.finish()  # an encoder's last audio written out: a failure there is the item's
