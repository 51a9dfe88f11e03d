"""Plain-text lines for people: the run summary, the player hint, partial-audio notes."""

from __future__ import annotations

import shlex

from cartesia_cli.formats import Encoding, audio_seconds
from cartesia_cli.sinks import Sink
from cartesia_cli.stream import StreamStats


def play_command(encoding: Encoding, sample_rate: int, target: str | None) -> str:
    """An ffplay command that plays this raw audio; `target=None` means a pipe on stdin."""
    source = "-i -" if target is None else shlex.quote(target)
    return f"ffplay -autoexit -nodisp -f {encoding.ffmpeg_format} -ar {sample_rate} {source}"


def play_hint(encoding: Encoding, sample_rate: int, sink: Sink) -> str:
    if sink.is_stdout:
        return f"cartesia-cli tts sse ... -o - | {play_command(encoding, sample_rate, None)}"
    return play_command(encoding, sample_rate, sink.label)


def summary(stats: StreamStats, sink: Sink, encoding: Encoding, sample_rate: int) -> str:
    seconds = audio_seconds(stats.bytes, encoding, sample_rate)
    ttfa = stats.time_to_first_audio()
    first = "no audio" if ttfa is None else f"first audio {_ms(ttfa)}"
    return (
        f"wrote {sink.label}: {seconds:.2f} s of audio, {stats.bytes} bytes, "
        f"{encoding.value} {sample_rate} Hz, {first}, total {_ms(stats.elapsed())}"
    )


def partial_note(sink: Sink, encoding: Encoding, sample_rate: int) -> str:
    """What the user has after a failure: the kept bytes, or that nothing was written."""
    size = sink.bytes_written
    if size == 0:
        return ""
    seconds = audio_seconds(size, encoding, sample_rate)
    where = "on stdout" if sink.is_stdout else sink.label
    return f"; partial audio kept: {where} ({size} bytes, {seconds:.2f} s)"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
