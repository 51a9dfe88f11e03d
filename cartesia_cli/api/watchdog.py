"""An idle timer for a stream: fires when no event has arrived for `timeout` seconds.

httpx's read timeout restarts on every byte, so SSE keep-alive comments would
keep a stalled stream alive forever (livekit/agents-js#681). This timer is fed
per *event* instead, runs in one sleeping thread, and costs the hot path only a
clock read per event. Time the consumer spends writing (a slow pipe reader) is
not counted: the timer is paused while the event is being handled.
Never fed after it is armed, the same timer is a deadline: the client uses it
so that a response trickled a byte at a time still ends on time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

from cartesia_cli import process


class IdleWatchdog:
    def __init__(
        self, timeout: float, on_expire: Callable[[], None], *, armed: bool = True
    ) -> None:
        """`armed=False`: the timer starts at the first `feed()`, not at once."""
        self.timeout = timeout
        self.fired = False
        self._on_expire = on_expire
        self._last: float | None = time.monotonic() if armed else None
        self._paused_last: float | None = None
        self._paused_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="idle-watchdog", daemon=True)

    def __enter__(self) -> IdleWatchdog:
        process.start_thread(self._thread)  # stop signals go to the main thread only
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=1)

    def feed(self) -> None:
        """Progress arrived: restart the timer."""
        self._last = time.monotonic()

    def pause(self) -> None:
        """The consumer is busy; do not count this time as waiting for the server."""
        self._paused_last, self._paused_at = self._last, time.monotonic()
        self._last = None

    def resume(self) -> None:
        """The consumer is done: count on from the last progress, without the time paused."""
        last = self._paused_last if self._paused_last is not None else self._paused_at
        self._last = last + (time.monotonic() - self._paused_at)

    def _watch(self) -> None:
        while not self._stop.is_set():
            last = self._last
            remaining = self.timeout if last is None else last + self.timeout - time.monotonic()
            if remaining <= 0:
                self.fired = True
                self._on_expire()
                return
            self._stop.wait(remaining)
