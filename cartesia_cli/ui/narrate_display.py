"""`narrate`'s progress: one live line for the whole book on a terminal, plain lines otherwise.

The run updates the counters (from its chapters' threads, under the lock);
the live line redraws itself on rich's timer. Without a terminal, each
chapter's end is one line, as it happens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cartesia_cli.ui.console import console

_REFRESH_PER_SECOND = 4


class NarrateProgress:
    """Counters for the whole job; `audio_bytes` and `characters` count this run's speech."""

    def __init__(self, *, chapters: int, characters: int, bytes_per_second: int) -> None:
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.chapters = chapters  # chapters this run has something to say in
        self.chapters_done = 0
        self.chapters_failed = 0
        self.characters_total = characters
        self.characters = 0
        self.audio_bytes = 0
        self.bytes_per_second = bytes_per_second

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        audio = self.audio_bytes / self.bytes_per_second
        rate = self.characters / elapsed
        left = self.characters_total - self.characters
        eta = f"{clock(left / rate)}" if rate > 0 and left > 0 else "?"
        failed = f", {self.chapters_failed} failed" if self.chapters_failed else ""
        return (
            f"{self.chapters_done}/{self.chapters} chapters{failed} · {clock(audio)} of audio"
            f" · {self.characters:,}/{self.characters_total:,} characters"
            f" · {audio / elapsed:.1f}x real time · ETA {eta}"
        )


def clock(seconds: float) -> str:
    """1:02:03, 2:03, 0:04."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@contextmanager
def shown(progress: NarrateProgress) -> Iterator[None]:
    """The live line while the job runs, on a terminal (and not --quiet); else nothing."""
    if not console.wants_live_display():
        yield
        return
    from rich.text import Text

    from cartesia_cli.ui.display import SignalSafeLive

    class _View:
        def __rich__(self) -> Text:
            with progress.lock:
                return Text(progress.line())

    with (
        console.live_console() as rich_console,
        SignalSafeLive(
            _View(),
            console=rich_console,
            refresh_per_second=_REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=False,
        ),
    ):
        yield


def chapter_line(number: int, total: int, title: str, *, seconds: float, said: int) -> str:
    """A chapter finished, for a log: `chapter 3/12 done: Title (4 paragraphs said, 1:02)`."""
    paragraphs = "paragraph" if said == 1 else "paragraphs"
    return f"chapter {number}/{total} done: {title} ({said} {paragraphs} said, {clock(seconds)})"
