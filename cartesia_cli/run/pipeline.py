"""One TTS job: events in, audio bytes out to the sink, figures kept, failures explained.

It knows nothing of terminals or signals: the caller opens the events, the
sink and any display, and turns the result or the error into lines for people.
The hot path per chunk is: decode (in api/events.py), one os.write, two integer
updates. The live display reads `StreamStats` on its own timer instead of
being called per chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable
from contextlib import closing, suppress

from cartesia_cli.api.events import (
    AudioChunk,
    Event,
    PhonemeTimestamps,
    UnknownEvent,
    WordTimestamps,
)
from cartesia_cli.errors import (
    BrokenPipe,
    CliError,
    ExitCode,
    Interrupted,
    KeptAudio,
    StopRequested,
    StreamError,
    stop_word,
)
from cartesia_cli.formats import Container, OutputFormat, RequestedFormat, wav_data_offset
from cartesia_cli.output.sinks import Sink


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
    """Write every audio chunk as it arrives; keep timestamps; require some audio.

    Ends with the sink finished: an encoder has written out the last of it.
    """
    try:
        for event in events:
            take(event, sink, result, debug)
    finally:
        result.stats.finished = time.perf_counter()
    require_audio(result.stats)
    sink.finish()


def take(
    event: Event,
    sink: Sink,
    result: StreamResult,
    debug: Callable[[str], None] | None = None,
) -> None:
    """One event: audio written and counted, timestamps kept, an unknown type noted."""
    stats = result.stats
    if isinstance(event, AudioChunk):
        if event.audio:
            sink.write(event.audio)
            if stats.first_audio is None:
                stats.first_audio = time.perf_counter()
            stats.bytes += len(event.audio)
            stats.chunks += 1
    elif isinstance(event, WordTimestamps):
        result.word_timestamps.append(event)
        _note_dropped(event.dropped, "word", debug)
    elif isinstance(event, PhonemeTimestamps):
        result.phoneme_timestamps.append(event)
        _note_dropped(event.dropped, "phoneme", debug)
    elif isinstance(event, UnknownEvent) and debug is not None:
        debug(f"ignored an event of unknown type {event.type!r}")


def _note_dropped(count: int, what: str, debug: Callable[[str], None] | None) -> None:
    if count and debug is not None:
        debug(f"dropped {count} {what} timestamp(s) the server sent with unusable times")


def require_audio(stats: StreamStats) -> None:
    """A stream that ended as it should but carried no audio is still a failure."""
    if stats.bytes == 0:
        raise StreamError("the server finished the stream without sending any audio")


def run(
    events: Generator[Event, None, None],
    sink: Sink,
    audio: RequestedFormat,
    result: StreamResult,
    debug: Callable[[str], None] | None = None,
) -> StreamResult:
    """Pump `events` into `sink`; on any failure, say what was kept.

    Raises a CliError for every failure, with `kept` set when audio was written;
    Ctrl-C, a stop request and a closed stdout become `Interrupted` with their
    exit codes. The caller, which opened the sink, closes it.
    """
    try:
        with closing(events):
            pump(events, sink, result, debug)
    except CliError as exc:
        exc.kept = kept_audio(sink, audio)
        raise
    except BrokenPipe:
        raise Interrupted(
            f"{sink.label} was closed by its reader after {sink.bytes_written} bytes; stopped",
            ExitCode.BROKEN_PIPE,
        ) from None
    except (KeyboardInterrupt, StopRequested) as exc:
        raise stopped(exc, sink, audio) from None
    return result


def stopped(stop: BaseException, sink: Sink | None, audio: RequestedFormat) -> Interrupted:
    """Ctrl-C or a stop request as the error to report, with what the sink holds."""
    code = stop.exit_code if isinstance(stop, StopRequested) else ExitCode.INTERRUPTED
    failure = Interrupted(stop_word(code), code)
    failure.kept = kept_audio(sink, audio) if sink is not None else None
    return failure


def as_written(audio: OutputFormat, sink: Sink) -> OutputFormat:
    """`audio` with the bit rate its MP3 really has: an encoder may lower the one asked for."""
    clock = sink.mp3_clock()
    if clock is None or clock.bit_rate is None:
        return audio
    rate = clock.bit_rate
    received = audio.received
    if received.container is Container.MP3:  # the server's MP3: what it sent is what is written
        received = received._replace(bit_rate=rate)
    return audio._replace(bit_rate=rate, received=received)


def kept_audio(sink: Sink, audio: RequestedFormat) -> KeptAudio | None:
    """What a sink holds after a failure; None when nothing was written (or kept).

    The sink is finished first (an encoder writes out what it holds), so the
    figures are the file's as it stays.
    """
    with suppress(CliError, BrokenPipe):  # the failure being reported is the run's own
        sink.finish()
    if sink.bytes_written == 0 or not sink.keeps_audio:
        return None
    return KeptAudio(
        where=sink.label,
        is_stdout=sink.is_stdout,
        bytes=sink.bytes_written,
        seconds=audio_seconds(sink, audio),
    )


def audio_seconds(sink: Sink, received: RequestedFormat) -> float:
    """Seconds of the audio received that reached the sink, whatever it is written as.

    Counted in the audio as the API sent it (PCM, or the server's WAV or MP3),
    not in the bytes written: an encoded file's size says nothing exact of its
    length, and a WAV header made here is no audio. An MP3, the server's or one
    made here, is timed by its frames (`Sink.time_as_mp3`): its bit rate may not
    be the one asked for, and an encoder adds its delay and padding.
    """
    clock = sink.mp3_clock()
    if clock is not None:
        return clock.seconds
    header = 0
    if received.container is Container.WAV:  # the server's WAV: its header came with it
        header = wav_data_offset(sink.head) or 0
    return received.seconds(sink.audio_bytes, header)
