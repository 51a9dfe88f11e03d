"""Drive one TTS stream: events in, audio bytes out to the sink, figures kept.

The hot path per chunk is: decode (in events.py), one os.write, two integer
updates. The live display reads `StreamStats` on its own timer instead of
being called per chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from cartesia_cli.errors import StreamError
from cartesia_cli.events import AudioChunk, Event, PhonemeTimestamps, UnknownEvent, WordTimestamps
from cartesia_cli.sinks import Sink


class StreamStats:
    """What the display and the summary report; times are `time.perf_counter()` values.

    A plain slotted class: it is mutated per chunk, and a dataclass would add
    import time to every run for no gain.
    """

    __slots__ = ("bytes", "chunks", "finished", "first_audio", "started")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_audio: float | None = None
        self.finished: float | None = None
        self.bytes = 0
        self.chunks = 0

    def time_to_first_audio(self) -> float | None:
        return None if self.first_audio is None else self.first_audio - self.started

    def elapsed(self) -> float:
        end = self.finished if self.finished is not None else time.perf_counter()
        return end - self.started


class StreamResult:
    """The figures of one stream and the timestamps it carried (for --timestamps)."""

    __slots__ = ("phoneme_timestamps", "stats", "word_timestamps")

    def __init__(self, stats: StreamStats) -> None:
        self.stats = stats
        self.word_timestamps: list[WordTimestamps] = []
        self.phoneme_timestamps: list[PhonemeTimestamps] = []


def pump(
    events: Iterable[Event],
    sink: Sink,
    result: StreamResult,
    debug: Callable[[str], None] | None = None,
) -> None:
    """Write every audio chunk as it arrives; keep timestamps; require some audio."""
    stats = result.stats
    try:
        for event in events:
            if isinstance(event, AudioChunk):
                if event.audio:
                    sink.write(event.audio)
                    if stats.first_audio is None:
                        stats.first_audio = time.perf_counter()
                    stats.bytes += len(event.audio)
                    stats.chunks += 1
            elif isinstance(event, WordTimestamps):
                result.word_timestamps.append(event)
            elif isinstance(event, PhonemeTimestamps):
                result.phoneme_timestamps.append(event)
            elif isinstance(event, UnknownEvent) and debug is not None:
                debug(f"ignored an event of unknown type {event.type!r}")
    finally:
        stats.finished = time.perf_counter()
    if stats.bytes == 0:
        raise StreamError("the server finished the stream without sending any audio")
