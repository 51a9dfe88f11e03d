"""Drive one TTS stream: events in, audio bytes out to the sink, figures kept.

The hot path per chunk is: decode (in events.py), one os.write, two integer
updates. The live display reads `StreamStats` on its own timer instead of
being called per chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cartesia_cli.errors import StreamError
from cartesia_cli.events import AudioChunk, Event, PhonemeTimestamps, UnknownEvent, WordTimestamps
from cartesia_cli.sinks import Sink


@dataclass
class StreamStats:
    """What the display and the summary report; times are `time.perf_counter()` values."""

    started: float = field(default_factory=time.perf_counter)
    first_audio: float | None = None
    finished: float | None = None
    bytes: int = 0
    chunks: int = 0

    def time_to_first_audio(self) -> float | None:
        return None if self.first_audio is None else self.first_audio - self.started

    def elapsed(self) -> float:
        end = self.finished if self.finished is not None else time.perf_counter()
        return end - self.started


@dataclass
class StreamResult:
    stats: StreamStats
    word_timestamps: list[WordTimestamps] = field(default_factory=list)
    phoneme_timestamps: list[PhonemeTimestamps] = field(default_factory=list)


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
