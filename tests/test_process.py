"""Stop signals held back around a step that must not be cut in two."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cartesia_cli import process
from cartesia_cli.errors import ExitCode, StopRequested


@pytest.fixture
def handlers(handlers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest's real handlers, with a stop raised again every 0.2 s rather than every 1 s."""
    monkeypatch.setattr(process, "REPEAT_SECONDS", 0.2)


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


@pytest.mark.usefixtures("handlers")
def test_a_second_signal_while_the_first_unwinds_changes_nothing() -> None:
    with pytest.raises(KeyboardInterrupt):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # a second quick Ctrl-C, in the clean-up
            for _ in range(1000):
                pass
            cleaned_up = True
    assert cleaned_up


@pytest.mark.usefixtures("handlers")
def test_a_stop_that_was_swallowed_is_raised_again() -> None:
    # As when Python drops an exception raised inside a finaliser: the first is lost.
    with pytest.raises(StopRequested):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    with pytest.raises(StopRequested) as again:
        for _ in range(100):
            time.sleep(0.05)  # the repeat comes within REPEAT_SECONDS
    assert again.value.exit_code == ExitCode.TERMINATED


@pytest.mark.usefixtures("handlers")
def test_once_the_stop_is_taken_further_signals_are_ignored() -> None:
    with pytest.raises(StopRequested):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):
            pass
    process.stop_taken()
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(process.REPEAT_SECONDS * 1.5)  # no repeat either
