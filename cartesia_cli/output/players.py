"""Which player plays the audio: the players we know, their flags, and `auto`'s choice.

No process is started here: this module names a player for `--player`
(`auto` or a name), builds the command line each external one needs for the
audio at hand (raw PCM at its encoding and rate, or the WAV/MP3 container),
and words what to install when there is none. The command lines are the ones
`--play` runs and the `play it:` hint prints.

`auto` tries, in this order: the in-process player (the `play` extra:
miniaudio), then ffplay, mpv, afplay (macOS), paplay, pw-play, aplay and
sox's `play`, taking the first that is installed and can play the audio.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NamedTuple

from cartesia_cli.errors import NO_PLAYER, UsageError
from cartesia_cli.formats import PLAYER_NAMES, Container, Encoding, OutputFormat

AUTO = "auto"
IN_PROCESS = "miniaudio"  # the in-process player's name for --player: the library it uses
EXTRA = "pip install 'cartesia-cli[play]'"

# Raw PCM: (encoding, rate) -> the flags that describe it; None: the player cannot take it.
RawFlags = Callable[[Encoding, int], list[str]]


class PlayerKind(NamedTuple):
    """One external player: how it is started for raw PCM, for a container, and quietly."""

    name: str  # the program, as --player names it
    quiet: tuple[str, ...]  # the flags that keep its chatter to errors
    raw: RawFlags
    encodings: frozenset[Encoding]  # raw encodings it reads; others are converted to s16le
    containers: frozenset[Container]  # the containers it reads as they are
    reads_stdin: bool  # False: it needs a file (afplay)
    live: tuple[str, ...] = ()  # flags for playing a pipe at once: no probing, no buffering

    def takes(self, audio: OutputFormat, target: str | None, *, fed: bool = True) -> bool:
        """Can it play this audio from `target` (None: stdin, as `--play` feeds it)?

        A pipe is fed raw PCM whenever the audio has an encoding (a WAV's header
        is not sent), so any player reading stdin takes it; a file is read as it is.
        """
        if target is None and fed:
            return self.reads_stdin and (
                audio.encoding is not None or audio.container in self.containers
            )
        if target is None and not self.reads_stdin:
            return False
        if audio.container is Container.RAW:
            return audio.encoding in self.encodings
        return audio.container in self.containers

    def fed(self, encoding: Encoding) -> Encoding:
        """The encoding it is fed for `encoding`: the same, or s16le converted here."""
        return encoding if encoding in self.encodings else Encoding.PCM_S16LE

    def argv(self, audio: OutputFormat, target: str | None, *, fed: bool = True) -> list[str]:
        """Its command line for `audio` from `target` (None: stdin).

        `fed`: the pipe is the one `--play` feeds, which carries raw PCM whenever
        the audio has an encoding (a WAV's header is not sent on). Otherwise (a
        file, or stdout in a `-o - |` hint) the audio is read as it was written.
        """
        source = "-" if target is None else target
        pcm_pipe = target is None and fed and audio.encoding is not None
        raw = audio.container is Container.RAW or pcm_pipe
        live = list(self.live) if target is None and raw else []
        if raw and audio.encoding is not None:
            encoding = self.fed(audio.encoding) if target is None else audio.encoding
            flags = self.raw(encoding, audio.sample_rate)
        else:
            flags = _CONTAINER_FLAGS.get(self.name, {}).get(audio.container, [])
        return [self.name, *self.quiet, *live, *flags, *_source(self.name, source)]


def _source(name: str, source: str) -> list[str]:
    if name == "ffplay":
        return ["-i", source] if source == "-" else [source]
    if name == "paplay" and source == "-":
        return []  # paplay reads stdin when given no file
    return [source]


def _ffplay_raw(encoding: Encoding, rate: int) -> list[str]:
    return ["-f", encoding.ffmpeg_format, "-ar", str(rate)]


_MPV_FORMAT = {Encoding.PCM_F32LE: "floatle", Encoding.PCM_S16LE: "s16le"}


def _mpv_raw(encoding: Encoding, rate: int) -> list[str]:
    return [
        "--demuxer=rawaudio",
        f"--demuxer-rawaudio-format={_MPV_FORMAT[encoding]}",
        f"--demuxer-rawaudio-rate={rate}",
        "--demuxer-rawaudio-channels=1",
    ]


_PULSE_FORMAT = {
    Encoding.PCM_F32LE: "float32le",
    Encoding.PCM_S16LE: "s16le",
    Encoding.PCM_MULAW: "ulaw",
    Encoding.PCM_ALAW: "alaw",
}


def _paplay_raw(encoding: Encoding, rate: int) -> list[str]:
    return ["--raw", f"--format={_PULSE_FORMAT[encoding]}", f"--rate={rate}", "--channels=1"]


_PIPEWIRE_FORMAT = {Encoding.PCM_F32LE: "f32", Encoding.PCM_S16LE: "s16"}


def _pw_play_raw(encoding: Encoding, rate: int) -> list[str]:
    return ["--format", _PIPEWIRE_FORMAT[encoding], "--rate", str(rate), "--channels", "1"]


_ALSA_FORMAT = {
    Encoding.PCM_F32LE: "FLOAT_LE",
    Encoding.PCM_S16LE: "S16_LE",
    Encoding.PCM_MULAW: "MU_LAW",
    Encoding.PCM_ALAW: "A_LAW",
}


def _aplay_raw(encoding: Encoding, rate: int) -> list[str]:
    return ["-t", "raw", "-f", _ALSA_FORMAT[encoding], "-r", str(rate), "-c", "1"]


_SOX_ENCODING = {
    Encoding.PCM_F32LE: ("floating-point", "32"),
    Encoding.PCM_S16LE: ("signed-integer", "16"),
    Encoding.PCM_MULAW: ("mu-law", "8"),
    Encoding.PCM_ALAW: ("a-law", "8"),
}


def _sox_raw(encoding: Encoding, rate: int) -> list[str]:
    name, bits = _SOX_ENCODING[encoding]
    return ["-t", "raw", "-e", name, "-b", bits, "-r", str(rate), "-c", "1"]


def _no_raw(encoding: Encoding, rate: int) -> list[str]:
    raise AssertionError("afplay reads files with a header, never raw PCM")


# A file's container, where the player cannot tell it from the content.
_CONTAINER_FLAGS: dict[str, dict[Container, list[str]]] = {
    "play": {Container.WAV: ["-t", "wav"], Container.MP3: ["-t", "mp3"]},
}
ALL_ENCODINGS = frozenset(Encoding)
_PCM16 = frozenset({Encoding.PCM_F32LE, Encoding.PCM_S16LE})
_FILES = frozenset({Container.WAV, Container.MP3, Container.FLAC, Container.OGG})

FFPLAY = PlayerKind(
    "ffplay", ("-nodisp", "-autoexit", "-loglevel", "error"), _ffplay_raw, ALL_ENCODINGS, _FILES,
    reads_stdin=True,
    # Play what comes as it comes: no probing of the input first. Not `-fflags nobuffer`:
    # measured, it drops the first packets of a pipe (docs/playing-players.md).
    live=("-probesize", "32", "-analyzeduration", "0"),
)  # fmt: skip
MPV = PlayerKind(
    "mpv", ("--no-video", "--msg-level=all=error", "--input-terminal=no"), _mpv_raw, _PCM16,
    _FILES, reads_stdin=True, live=("--cache=no", "--demuxer-readahead-secs=0"),
)  # fmt: skip
AFPLAY = PlayerKind(
    "afplay", (), _no_raw, frozenset(), frozenset({Container.WAV, Container.MP3}),
    reads_stdin=False,
)  # fmt: skip
PAPLAY = PlayerKind(
    "paplay", (), _paplay_raw, ALL_ENCODINGS, frozenset({Container.WAV, Container.FLAC}),
    reads_stdin=True, live=("--latency-msec=20",),
)  # fmt: skip
PW_PLAY = PlayerKind(
    "pw-play", (), _pw_play_raw, _PCM16, frozenset({Container.WAV, Container.FLAC}),
    reads_stdin=True,
)  # fmt: skip
APLAY = PlayerKind(
    "aplay", ("-q",), _aplay_raw, ALL_ENCODINGS, frozenset({Container.WAV}), reads_stdin=True,
)  # fmt: skip
SOX_PLAY = PlayerKind(
    "play", ("-q", "-V1"), _sox_raw, ALL_ENCODINGS, frozenset({Container.WAV, Container.MP3}),
    reads_stdin=True,
)  # fmt: skip
EXTERNAL = (FFPLAY, MPV, AFPLAY, PAPLAY, PW_PLAY, APLAY, SOX_PLAY)
MACOS_ONLY = frozenset({AFPLAY.name})  # part of macOS: nothing to install elsewhere
assert (AUTO, IN_PROCESS, *(kind.name for kind in EXTERNAL)) == PLAYER_NAMES, "one order"


class Choice(NamedTuple):
    """The player picked: an external one (its kind and path) or the in-process one."""

    name: str
    kind: PlayerKind | None  # None: the in-process player
    path: str | None  # the external player's executable


def in_process_available() -> bool:
    """Is the in-process player's library installed? (Found, not imported: that is slow.)"""
    import importlib.util

    return importlib.util.find_spec(IN_PROCESS) is not None


def in_process_takes(audio: OutputFormat) -> bool:
    """The in-process player plays PCM (a WAV's samples too), not a compressed file."""
    return audio.encoding is not None and audio.container in (Container.RAW, Container.WAV)


def choose(name: str, audio: OutputFormat, platform: str = sys.platform) -> Choice:
    """The player for `--play` (a usage error, before any request, when there is none)."""
    import shutil

    if name in (AUTO, IN_PROCESS) and in_process_available() and in_process_takes(audio):
        return Choice(IN_PROCESS, None, None)
    if name == IN_PROCESS:
        why = "is not installed" if not in_process_available() else "cannot play this audio"
        raise UsageError(f"--player {IN_PROCESS} {why}", kind=NO_PLAYER)
    kinds = EXTERNAL if name == AUTO else tuple(k for k in EXTERNAL if k.name == name)
    for kind in kinds:
        path = shutil.which(kind.name)
        if path is not None and kind.takes(audio, None):
            return Choice(kind.name, kind, path)
    if name != AUTO:
        kind = kinds[0]
        if name in MACOS_ONLY and platform != "darwin" and shutil.which(name) is None:
            failure = UsageError(f"--player {name}: {name} comes with macOS", kind=NO_PLAYER)
            failure.hint = f"on this system use --player auto, or one of {_others(name)}"
            raise failure
        why = "is not on PATH" if shutil.which(name) is None else f"cannot play {_what(audio)}"
        raise UsageError(f"--player {name}: {kind.name} {why}", kind=NO_PLAYER)
    tried = ", ".join(PLAYER_NAMES[1:])
    raise UsageError(
        f"no audio player found for {_what(audio)} (looked for {tried})", kind=NO_PLAYER
    )


def _others(name: str) -> str:
    return ", ".join(kind.name for kind in EXTERNAL if kind.name not in (name, *MACOS_ONLY))


def _what(audio: OutputFormat) -> str:
    return "raw PCM" if audio.container is Container.RAW else f"a {audio.container.value} stream"


def hint_player(name: str, audio: OutputFormat, target: str | None) -> PlayerKind:
    """The external player the `play it:` hint names: `name`'s, or `auto`'s; ffplay if none.

    The in-process player has no command line to print, so the hint names the
    first external player that is installed and can play the file (or pipe).
    """
    import shutil

    named = [k for k in EXTERNAL if k.name == name]
    for kind in named or EXTERNAL:
        if kind.takes(audio, target, fed=False) and shutil.which(kind.name) is not None:
            return kind
    return named[0] if named and named[0].takes(audio, target, fed=False) else FFPLAY


def what_to_install(platform: str = sys.platform) -> str:
    """What to install for a player on this operating system, in one phrase."""
    if platform == "darwin":
        return f"{EXTRA} (or brew install ffmpeg)"
    if platform.startswith("win"):
        return f"{EXTRA} (or winget install ffmpeg, for ffplay)"
    return f"{EXTRA} (or apt install ffmpeg, for ffplay; or mpv, pulseaudio-utils, alsa-utils)"
