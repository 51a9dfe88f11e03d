"""A stop signal at a chosen point of a running batch: every item under way reports.

The signal is a real one, sent to this process with the real handlers installed,
from inside the batch at the point the test picks (an item's step between two
awaits, an item being started); once the loop had cleared everything else, those
were the points where a loaded machine lost an item's --json object.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.api.async_client import bounded
from cartesia_cli.api.events import Event
from cartesia_cli.commands import _batch
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.output.sinks import Sink
from cartesia_cli.run import batch, pipeline
from cartesia_cli.run.pipeline import StreamResult

from .conftest import API_KEY, Result, clean_env, run_in_process

CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
WORDS = {130: "interrupted", 143: "terminated"}
STOPS = pytest.mark.parametrize("signum", list(CODES), ids=lambda s: signal.Signals(s).name)
LONG = "A much longer line that takes a while. " * 3  # 9 s of audio: still under way at the stop


def run_batch(tmp_path: Path, lines: list[str]) -> Result:
    (tmp_path / "in.txt").write_text("".join(line + "\n" for line in lines))
    with FakeCartesia(api_key=API_KEY, pace=0.25) as paced:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=paced.url)
        return run_in_process(
            ("tts", "sse", "--batch", "in.txt", "--concurrency", "2", "--json"),
            env=env,
            cwd=tmp_path,
        )


def when_both_write(then: Callable[[], None]) -> Callable[..., None]:
    """`pipeline.take` that calls `then()` once, in item 3's task, once items 2 and 3 hold audio."""
    take = pipeline.take
    written: dict[str, int] = {}

    def taking(event: Event, sink: Sink, result: StreamResult, *args: object) -> None:
        take(event, sink, result, *args)  # type: ignore[arg-type]
        item = sink.label.rsplit("_", 1)[-1]
        written[item] = sink.bytes_written
        if item == "0003.pcm" and written.get("0002.pcm") and "fired" not in written:
            written["fired"] = 1
            then()

    return taking


def check_every_started_item_reported(result: Result, tmp_path: Path, code: int) -> None:
    """The contract of a stopped batch, whatever the point the stop landed at."""
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr and "Task was destroyed" not in result.stderr
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"cartesia-cli: error: {WORDS[code]}: 1 items done, 0 failed"), last
    docs = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert sorted(d["exit_code"] for d in docs) == [0, code, code]  # items 1, 2 and 3, not 4, 5
    for doc in docs:
        if doc["output"] is not None:
            assert os.path.getsize(tmp_path / doc["output"]) == doc["bytes"]
            if doc["exit_code"] == code and doc["bytes"]:
                assert f"{doc['output']} ({doc['bytes']} bytes)" in last  # named as kept


def no_asyncio_errors(caplog: pytest.LogCaptureFixture) -> None:
    """No task destroyed pending, no exception left in a task: asyncio logs both."""
    assert [r.getMessage() for r in caplog.records if r.name == "asyncio"] == []


def in_an_items_step(monkeypatch: pytest.MonkeyPatch, kill: Callable[[], None]) -> None:
    """Items 2 and 3 writing: the signal lands while item 3's task runs, between two awaits.

    Raised there, it ended item 3's task, and the loop with it: item 2 was left
    pending and destroyed with the loop, with no --json object and no partial named.
    """
    monkeypatch.setattr(pipeline, "take", when_both_write(kill))


def as_an_item_starts(monkeypatch: pytest.MonkeyPatch, kill: Callable[[], None]) -> None:
    """The signal lands as the pool starts item 3, while it claims its file (a held step)."""
    claim = _batch._claim

    def claiming(state: _batch.Batch, job: object, plan: object, number: int) -> Sink:
        if number == 3:
            kill()
        return claim(state, job, plan, number)  # type: ignore[arg-type]

    monkeypatch.setattr(_batch, "_claim", claiming)


def in_a_loop_callback(monkeypatch: pytest.MonkeyPatch, kill: Callable[[], None]) -> None:
    """The signal lands in a plain callback of the loop (not a task's step).

    The reader thread hands over the count of items, with item 3 under way (5
    items, two in flight, two read ahead). Raised there, a SIGTERM was caught by
    asyncio, logged with a traceback, and the batch went on, stopped only later.
    """
    run_all = batch.run_all

    async def running(*args: Any, on_end: Callable[[int], None], **kwargs: Any) -> bool:
        def ended(total: int) -> None:
            kill()
            on_end(total)

        return await run_all(*args, on_end=ended, **kwargs)

    monkeypatch.setattr(batch, "run_all", running)


@STOPS
@pytest.mark.usefixtures("handlers")
@pytest.mark.parametrize("where", [in_an_items_step, as_an_item_starts, in_a_loop_callback])
def test_a_stop_wherever_it_lands_reports_every_item_under_way(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    signum: int,
    where: Callable[[pytest.MonkeyPatch, Callable[[], None]], None],
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    where(monkeypatch, lambda: os.kill(os.getpid(), signum))
    result = run_batch(tmp_path, ["Short.", *[LONG] * 4])
    check_every_started_item_reported(result, tmp_path, CODES[signum])
    assert all(path.stat().st_size for path in tmp_path.glob("*.pcm"))  # no empty file left
    no_asyncio_errors(caplog)


@pytest.mark.usefixtures("handlers")
def test_a_stop_raised_inside_an_item_is_not_raised_through_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """As when the loop was stuck in a step that does not await, and the stop was raised there.

    The item it lands in reports it; the pool then stops the others, which report too.
    """
    caplog.set_level(logging.ERROR, logger="asyncio")

    def raise_it() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "take", when_both_write(raise_it))
    check_every_started_item_reported(run_batch(tmp_path, ["Short.", *[LONG] * 4]), tmp_path, 130)
    no_asyncio_errors(caplog)


@pytest.mark.usefixtures("handlers")
def test_a_second_signal_during_the_reports_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def kill(signum: int) -> None:
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(pipeline, "take", when_both_write(lambda: kill(signal.SIGINT)))
    interrupted = _batch._interrupted

    def reporting(*args: object) -> None:
        kill(signal.SIGTERM)  # a different one, even: the first stop decides the code
        interrupted(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(_batch, "_interrupted", reporting)
    check_every_started_item_reported(run_batch(tmp_path, ["Short.", *[LONG] * 4]), tmp_path, 130)


# --- the pieces: a cancellation is never lost, and no item starts after a stop ----------


def test_a_cancellation_as_the_awaited_step_ends_is_not_lost() -> None:
    """asyncio.wait_for (before 3.12) returned the step's result and dropped the cancel:
    a stopped batch's item streamed on to its end, and its worker took the next one."""

    async def scenario() -> str:
        async def step() -> int:
            caller.cancel()  # the stop, in the very turn the awaited read ends
            return 1

        async def reading() -> str:
            await bounded(step(), 10)
            return "went on"

        caller = asyncio.ensure_future(reading())
        try:
            return await caller
        except asyncio.CancelledError:
            return "cancelled"

    assert asyncio.run(scenario()) == "cancelled"


def test_the_bounded_step_still_times_out() -> None:
    async def scenario() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await bounded(asyncio.Event().wait(), 0.01)

    asyncio.run(scenario())


def test_no_item_starts_after_a_stop_even_if_one_swallows_its_cancellation() -> None:
    started: list[int] = []

    async def scenario() -> bool:
        stop = asyncio.Event()

        async def work(item: int) -> None:
            started.append(item)
            if item == 1:
                stop.set()
                with contextlib.suppress(asyncio.CancelledError):  # as some library code does
                    await asyncio.Event().wait()

        return await batch.run_all(
            iter(range(1, 10)), work, concurrency=1, start_thread=threading.Thread.start, stop=stop
        )

    assert asyncio.run(scenario()) is True
    assert started == [1]
