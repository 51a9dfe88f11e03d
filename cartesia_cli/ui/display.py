"""The live progress display: rich, on the console's stderr, only when it is a terminal.

It refreshes on rich's own timer and reads `StreamStats` when it draws, so
streaming costs nothing extra per chunk. Importing this module imports rich:
the CLI imports it only when it is going to show it.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from cartesia_cli import process
from cartesia_cli.run.pipeline import StreamStats

_REFRESH_PER_SECOND = 8


class _StatsView:
    """A rich renderable that formats the stats each time rich draws it."""

    def __init__(
        self,
        stats: StreamStats,
        seconds: Callable[[], float],
        more: Callable[[], str] | None = None,
    ) -> None:
        self._stats = stats
        self._seconds = seconds
        self._more = more  # a command's own figures (tts ws: the text received and spoken)
        self._spinner = Spinner("dots", style="cyan")

    def __rich__(self) -> Table:
        stats = self._stats
        seconds = self._seconds()
        ttfa = stats.time_to_first_audio()
        waiting = "waiting for first audio" if ttfa is None else f"first audio {ttfa * 1000:.0f} ms"
        line = Text.assemble(
            (f"{seconds:.2f} s", "bold green"),
            f" audio · {stats.bytes:,} B · {stats.chunks} chunks · {waiting} · ",
            f"{stats.elapsed():.1f} s",
            f" · {self._more()}" if self._more is not None else "",
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self._spinner, line)
        return grid


class SignalSafeLive(Live):
    """rich's Live, whose refresh thread never takes a stop signal (SIGINT, SIGTERM, SIGHUP).

    The kernel hands a process-directed signal to any thread that does not block
    it; taken by the refresh thread, it would not interrupt the main thread's
    blocking read, and a terminal closed mid-run (SIGHUP) could go unanswered
    until the server spoke again. The thread inherits the mask it is started with.
    """

    def start(self, refresh: bool = False) -> None:
        with process.stops_blocked_here():
            super().start(refresh)


def live_display(
    stats: StreamStats,
    seconds: Callable[[], float],
    console: Console,
    more: Callable[[], str] | None = None,
) -> Live:
    """A transient live line on `console` while streaming; use it as a context manager."""
    return SignalSafeLive(
        _StatsView(stats, seconds, more),
        console=console,
        refresh_per_second=_REFRESH_PER_SECOND,
        transient=True,
        redirect_stdout=False,
    )
