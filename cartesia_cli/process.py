"""Process concerns the entry point owns: descriptors 0-2, signal handling, holding signals.

`launch.py` makes sure descriptors 0-2 are open and installs the handlers before
anything else runs; `signals_held()` lets the CLI layer make a step indivisible
(claiming the output file and handing it to its sink), so a signal lands before
it or after it, never in the middle.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_closed_at_start: frozenset[int] = frozenset()


def open_standard_descriptors() -> None:
    """Put /dev/null on any of descriptors 0-2 that the parent left closed.

    Otherwise the next file or socket opened takes that number: with stdout
    closed, `-o -` would write the audio into the connection to the API.
    """
    global _closed_at_start
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: fd itself
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    _closed_at_start = frozenset(closed)
    if closed:
        _replace_missing_streams()


def closed_at_start() -> frozenset[int]:
    """The descriptors among 0-2 that were closed when the process started."""
    return _closed_at_start


def _replace_missing_streams() -> None:
    # Python leaves sys.std* as None for a descriptor closed at start-up.
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until exit
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


def install_handlers() -> None:
    """SIGTERM (143) and SIGHUP (129) unwind like Ctrl-C (130): files closed, audio kept."""
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGHUP, _stop)


def _stop(signum: int, frame: FrameType | None) -> None:
    # Raised on every signal, not only the first: if Python drops one (raised inside a
    # finaliser or a weakref callback, it is only printed), the next still stops the run.
    global _pending
    stop = _stop_for(signum)
    if _holding:
        _pending = _pending or stop
        return
    raise stop


def _stop_for(signum: int) -> BaseException:
    from cartesia_cli.errors import ExitCode, StopRequested

    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    hung_up = signum == signal.SIGHUP
    return StopRequested(ExitCode.HANGUP if hung_up else ExitCode.TERMINATED)


_holding = False
_pending: BaseException | None = None


@contextmanager
def signals_held() -> Iterator[None]:
    """Let a stop signal that arrives inside the block take effect only at its end.

    Python runs signal handlers in the main thread, whichever thread the kernel
    delivered the signal to, so a flag the handler reads is enough (a signal
    mask would hold back only this thread's share). Needs install_handlers().
    """
    global _holding, _pending
    _holding, _pending = True, None
    try:
        yield
    finally:
        _holding = False
        stop, _pending = _pending, None
    if stop is not None:
        raise stop
