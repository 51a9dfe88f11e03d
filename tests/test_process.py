"""Stop signals held back around a step that must not be cut in two."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from cartesia_cli import process
from cartesia_cli.errors import ExitCode, StopRequested


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    process.install_handlers()
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("handlers")
@pytest.mark.parametrize(
    ("signum", "stop", "code"),
    [
        (signal.SIGINT, KeyboardInterrupt, None),
        (signal.SIGTERM, StopRequested, ExitCode.TERMINATED),
        (signal.SIGHUP, StopRequested, ExitCode.HANGUP),
    ],
)
def test_a_signal_inside_the_block_takes_effect_at_its_end(
    signum: int, stop: type[BaseException], code: ExitCode | None
) -> None:
    reached_the_end = False
    with pytest.raises(stop) as stopped, process.signals_held():
        os.kill(os.getpid(), signum)
        reached_the_end = True  # not interrupted here
    assert reached_the_end
    assert getattr(stopped.value, "exit_code", None) == code


@pytest.mark.usefixtures("handlers")
def test_outside_the_block_a_signal_stops_at_once() -> None:
    with pytest.raises(StopRequested):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode boundary
            pass
