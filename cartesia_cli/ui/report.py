"""Plain-text lines for people: the run summary, the player hint, partial-audio notes."""

from __future__ import annotations

import shlex

from cartesia_cli.errors import KeptAudio
from cartesia_cli.formats import AudioFormat, Container


def play_command(audio: AudioFormat, target: str | None) -> str:
    """An ffplay command that plays this audio; `target=None` means a pipe on stdin.

    Raw PCM needs its demuxer and rate; WAV and MP3 carry them in the file.
    """
    source = "-i -" if target is None else shlex.quote(target)
    if audio.container is Container.RAW and audio.encoding is not None:
        demuxer = f"-f {audio.encoding.ffmpeg_format} -ar {audio.sample_rate} "
    else:
        demuxer = ""
    return f"ffplay -autoexit -nodisp {demuxer}{source}"


def play_hint(audio: AudioFormat, command: str, label: str | None) -> str:
    """`play it: …` for a file, or the pipe to use with stdout (`label=None`)."""
    if label is None:
        return f"play it: cartesia-cli {command} ... -o - | {play_command(audio, None)}"
    return f"play it: {play_command(audio, label)}"


def summary(
    label: str,
    num_bytes: int,
    seconds: float,
    audio: AudioFormat,
    first_audio: float | None,
    elapsed: float,
) -> str:
    first = "no audio" if first_audio is None else f"first audio {_ms(first_audio)}"
    return (
        f"wrote {label}: {seconds:.2f} s of audio, {num_bytes} bytes, "
        f"{audio.describe()}, {first}, total {_ms(elapsed)}"
    )


def kept_note(kept: KeptAudio | None) -> str:
    """What the user has after a failure: the kept bytes, or nothing to say."""
    if kept is None:
        return ""
    where = "on stdout" if kept.is_stdout else kept.where
    seconds = "" if kept.seconds is None else f", {kept.seconds:.2f} s"
    return f"partial audio kept: {where} ({kept.bytes} bytes{seconds})"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"
