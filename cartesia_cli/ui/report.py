"""Plain-text lines for people: the run summary, the player hint, partial-audio notes."""

from __future__ import annotations

import shlex

from cartesia_cli.errors import KeptAudio
from cartesia_cli.formats import OutputFormat
from cartesia_cli.output import players


def play_command(audio: OutputFormat, target: str | None, player: str = players.AUTO) -> str:
    """The command that plays this audio, as a shell line; `target=None`: a pipe.

    The player is `--player`'s, or the one `auto` would pick (an external one:
    the in-process player has no command line).
    """
    kind = players.hint_player(player, audio, target)
    return shlex.join(kind.argv(audio, target, fed=False))


def play_hint(
    audio: OutputFormat, command: str, label: str | None, player: str = players.AUTO
) -> str:
    """`play it: …` for a file, or the pipe to use with stdout (`label=None`)."""
    if label is None:
        return f"play it: cartesia-cli {command} ... -o - | {play_command(audio, None, player)}"
    return f"play it: {play_command(audio, label, player)}"


def summary(
    label: str | None,
    num_bytes: int,
    seconds: float,
    audio: OutputFormat,
    first_audio: float | None,
    elapsed: float,
    *,
    played: bool = True,
    voice: str | None = None,
    cached: bool = False,
) -> str:
    """`wrote LABEL: …`, or `played: …` when the audio only went to a player (`label=None`);
    `not played: …` when that player failed (`played=False`); `voice`: the voice as shown
    (`Katie (f786…)`); `…, cached` last when the audio came from the audio cache (no
    request), so it reads as a note on the whole line."""
    first = "no audio" if first_audio is None else f"first audio {_ms(first_audio)}"
    done = ("played" if played else "not played") if label is None else f"wrote {label}"
    spoken_by = "" if voice is None else f", voice {voice}"
    return (
        f"{done}: {seconds:.2f} s of audio, {num_bytes} bytes, "
        f"{audio.describe()}, {first}, total {_ms(elapsed)}{spoken_by}"
        f"{', cached' if cached else ''}"
    )


def batch_summary(done: int, failed: int, audio_seconds: float, elapsed: float) -> str:
    """`batch: 20 items, 19 ok, 1 failed, 18.40 s of audio, total 3.2 s`."""
    return (
        f"batch: {done} items, {done - failed} ok, {failed} failed, "
        f"{audio_seconds:.2f} s of audio, total {_ms(elapsed)}"
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
