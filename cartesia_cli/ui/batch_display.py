"""The batch's one live line: items done of total, failures, audio seconds, elapsed.

Like the single-run display: rich, on stderr, on a terminal only, redrawn on
rich's own timer from counters the batch updates.
"""

from __future__ import annotations

from rich.console import Console
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from cartesia_cli.run.batch import BatchProgress
from cartesia_cli.ui.display import SignalSafeLive

_REFRESH_PER_SECOND = 8


class _BatchView:
    def __init__(self, progress: BatchProgress) -> None:
        self._progress = progress
        self._spinner = Spinner("dots", style="cyan")

    def __rich__(self) -> Table:
        p = self._progress
        total = "?" if p.total is None else str(p.total)
        failed = Text(f"{p.failed} failed", style="bold red" if p.failed else "")
        line = Text.assemble(
            (f"{p.done}/{total}", "bold green"),
            " items · ",
            failed,
            f" · {p.audio_seconds:.1f} s audio · {p.elapsed():.1f} s",
        )
        grid = Table.grid(padding=(0, 1))
        grid.add_row(self._spinner, line)
        return grid


def batch_display(progress: BatchProgress, console: Console) -> SignalSafeLive:
    """A transient live line while the batch runs; lines printed meanwhile go above it."""
    return SignalSafeLive(
        _BatchView(progress),
        console=console,
        refresh_per_second=_REFRESH_PER_SECOND,
        transient=True,
        redirect_stdout=False,
    )
