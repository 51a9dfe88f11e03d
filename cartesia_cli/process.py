"""Process concerns the entry point owns: signal handling, and holding signals back.

`launch.py` installs the handlers; `signals_held()` lets the CLI layer make a step
indivisible (claiming the output file and handing it to its sink), so a signal
lands before it or after it, never in the middle.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def install_handlers() -> None:
    """SIGTERM unwinds like Ctrl-C (exit 143): files are closed, partial audio is kept."""
    signal.signal(signal.SIGTERM, _stop)


def _stop(signum: int, frame: FrameType | None) -> None:
    # Raised on every SIGTERM, not only the first: if Python drops one (raised inside a
    # finaliser or a weakref callback, it is only printed), the next still stops the run.
    from cartesia_cli.errors import ExitCode, StopRequested

    raise StopRequested(ExitCode.TERMINATED)


@contextmanager
def signals_held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM until the block is done; they are delivered at its end."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
