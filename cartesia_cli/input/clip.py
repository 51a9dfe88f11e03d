"""A voice clip for `voices clone`, checked here before any request, and made uploadable.

The API documents no limit and no error for a bad clip, so a clip that is not
audio, or too short or too long to clone from, is refused here with one line
(exit 2) rather than sent:

- a regular file, not empty, at most MAX_BYTES (read whole, it is uploaded whole),
  converted or not;
- audio by its first bytes: WAV, MP3, FLAC, OGG, WebM, or an M4A/MP4 (`ftyp`), or
  one of WAV's large-file variants (RF64, Wave64);
- MIN_SECONDS to MAX_SECONDS long. The API recommends about 5 s and an instant
  clone wants about 10 s; under 2 s there is too little voice to copy, and a
  longer clip does not make a better clone, so 5 minutes is plenty. The length
  is read by ffprobe when it is installed (bounded, its output never shown),
  else from a WAV header; a length that cannot be read is left to the server.

The API does not take M4A (nor other containers found by their first bytes but
not in its list): such a clip is converted to WAV by ffmpeg when it is
installed, else refused. The API lists WAV, which is the plain RIFF file: RF64
and Wave64 are converted too. What is sent as it is must pass the fake server's
`mock/multipart.is_audio`, which cannot import this module: tests/test_clip.py
holds the two to the same answer over generated first bytes.
No typer, no requests, no terminal: facts and errors.
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

from cartesia_cli.errors import UsageError

MIN_SECONDS = 2.0
SHORT_SECONDS = 5.0  # below this a clone works, but is said to be better from more
MAX_SECONDS = 300.0
# 16 MiB: 5 minutes of MP3 or OGG, or 3 minutes of 44.1 kHz 16-bit mono WAV; a clone
# wants 10 s. (The fake server takes uploads up to 20 MiB; the API documents no limit.)
MAX_BYTES = 16 * 1024 * 1024
HEAD_BYTES = 64 * 1024  # where the WAV header's chunks are looked for
PROBE_TIMEOUT = 10.0  # seconds ffprobe gets to read a clip's length
CONVERT_TIMEOUT = 60.0  # seconds ffmpeg gets to turn a 5-minute clip into WAV
PROBER = "ffprobe"
CONVERTER = "ffmpeg"


class Kind(NamedTuple):
    """An audio container as recognised by its first bytes."""

    name: str  # as people call it: "WAV"
    suffix: str  # the file name's ending when sent
    media_type: str  # the upload part's Content-Type
    accepted: bool  # whether the API takes it as it is (else it is converted)


WAV = Kind("WAV", ".wav", "audio/wav", True)
MP3 = Kind("MP3", ".mp3", "audio/mpeg", True)
FLAC = Kind("FLAC", ".flac", "audio/flac", True)
OGG = Kind("OGG", ".ogg", "audio/ogg", True)
WEBM = Kind("WebM", ".webm", "audio/webm", True)
M4A = Kind("M4A", ".m4a", "audio/mp4", False)
MATROSKA = Kind("Matroska", ".mka", "audio/x-matroska", False)
RF64 = Kind("RF64 WAV", ".wav", "audio/wav", False)  # a WAV past 4 GiB: "RF64", not "RIFF"
WAVE64 = Kind("Wave64", ".w64", "audio/x-w64", False)
# Wave64's first 16 bytes: the GUID of its "riff" chunk.
_W64 = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
KNOWN = "WAV, MP3, FLAC, OGG, WebM or M4A"


class Clip(NamedTuple):
    """What goes up: the file's name as sent, its bytes, their media type; and the facts."""

    name: str
    data: bytes
    media_type: str
    kind: Kind  # the clip as given (M4A when it was converted)
    seconds: float | None  # None when its length could not be read
    converted: bool


def sniff(head: bytes) -> Kind | None:
    """The container `head` (a file's first bytes) begins, or None when it is no audio we know."""
    if len(head) >= 12 and head[8:12] == b"WAVE" and head[:4] in (b"RIFF", b"RF64"):
        return WAV if head[:4] == b"RIFF" else RF64
    if head.startswith(_W64):
        return WAVE64
    if head.startswith(b"ID3") or _mpeg_frame(head):
        return MP3
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"OggS"):
        return OGG
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return M4A
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM says so in its DocType
        return WEBM if b"webm" in head[:64] else MATROSKA
    return None


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then no reserved version, layer (layer 0
    is how ADTS AAC, not taken by the API, begins), bit rate or sample rate."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bit_rate, sample_rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bit_rate != 0xF and sample_rate != 3


def wav_seconds(head: bytes, file_size: int) -> float | None:
    """A WAV's length from its header (`head`, the file's first bytes); None when unreadable.

    A data size of 0 or 0xFFFFFFFF (written while streaming) or past the end of
    the file counts what the file holds after the header.
    """
    if sniff(head) not in (WAV, RF64):  # RF64's sizes of 0xFFFFFFFF count to the end
        return None
    byte_rate, offset = 0, 12
    while offset + 8 <= len(head):
        chunk, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        if chunk == b"fmt " and offset + 20 <= len(head):
            byte_rate = struct.unpack_from("<I", head, offset + 16)[0]
        elif chunk == b"data":
            if byte_rate <= 0:
                return None
            there = max(file_size - (offset + 8), 0)
            data = there if size in (0, 0xFFFFFFFF) or size > there else size
            return data / byte_rate
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    return None


def checked_length(seconds: float | None, shown: str) -> None:
    """Refuse a clip too short or too long to clone from (an unknown length passes)."""
    if seconds is None:
        return
    if seconds < MIN_SECONDS:
        raise UsageError(
            f"{shown} is {seconds:.1f} s long; a clone needs at least {MIN_SECONDS:g} s of speech"
            " (about 10 s is best)"
        )
    if seconds > MAX_SECONDS:
        raise UsageError(
            f"{shown} is {seconds / 60:.1f} minutes long; a clip may be at most"
            f" {MAX_SECONDS / 60:g} minutes (about 10 s of clear speech is best)"
        )


def load(path: str) -> Clip:
    """The clip at `path`, checked and ready to upload; a UsageError says what is wrong."""
    shown = repr(path)
    data = _read(path, shown)
    kind = sniff(data[:HEAD_BYTES])
    if kind is None:
        raise UsageError(f"{shown} is not audio: expected {KNOWN} (checked by its first bytes)")
    seconds = _length(path, data, shown, kind)
    checked_length(seconds, shown)
    name = Path(path).stem or "clip"
    if kind.accepted:
        return Clip(name + kind.suffix, data, kind.media_type, kind, seconds, converted=False)
    wav = _to_wav(path, kind, shown)
    if len(wav) > MAX_BYTES:
        raise UsageError(
            f"{shown} converted to WAV is {len(wav) / 1e6:.0f} MB; a clip may be at most"
            f" {MAX_BYTES // (1024 * 1024)} MiB: give a shorter one (about 10 s of speech is best)"
        )
    return Clip(name + WAV.suffix, wav, WAV.media_type, kind, seconds, converted=True)


def _read(path: str, shown: str) -> bytes:
    """The whole file, if it is a regular file, not empty and not too large."""
    try:
        # O_NONBLOCK: a named pipe with no writer must be refused, not waited on.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}") from None
    try:
        _check_file(os.fstat(fd), shown)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {shown}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_BYTES:  # it grew while being read
        raise UsageError(f"{shown} is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    return data


def _check_file(info: os.stat_result, shown: str) -> None:
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise UsageError(f"{shown} is {what}; give an audio file")
    if info.st_size == 0:
        raise UsageError(f"{shown} is empty")
    if info.st_size > MAX_BYTES:
        raise UsageError(
            f"{shown} is {info.st_size / 1e6:.0f} MB; a clip may be at most"
            f" {MAX_BYTES // (1024 * 1024)} MiB (about 10 s of speech is best)"
        )


def _length(path: str, data: bytes, shown: str, kind: Kind) -> float | None:
    """Seconds of audio: ffprobe's answer when it is installed, else the WAV header's."""
    prober = shutil.which(PROBER)
    if prober is None:
        return wav_seconds(data[:HEAD_BYTES], len(data))
    try:
        done = subprocess.run(
            [prober, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
             _ffmpeg_path(path)],
            stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return wav_seconds(data[:HEAD_BYTES], len(data))  # a slow probe says nothing of the clip
    except OSError:
        return wav_seconds(data[:HEAD_BYTES], len(data))
    if done.returncode != 0:
        raise UsageError(f"{shown} begins like {kind.name} but cannot be read as audio (damaged?)")
    try:
        seconds = float(done.stdout.decode("ascii", "replace").strip())
    except ValueError:  # "N/A": the container does not say
        return wav_seconds(data[:HEAD_BYTES], len(data))
    return seconds if seconds >= 0 else None


def _to_wav(path: str, kind: Kind, shown: str) -> bytes:
    """The clip as 16-bit mono WAV (one voice needs one channel), made by ffmpeg in a folder
    of its own: a seekable file, so that the header carries the real sizes."""
    converter = shutil.which(CONVERTER)
    if converter is None:
        raise UsageError(
            f"{shown} is {kind.name}, which the API does not take; install ffmpeg to have it"
            " converted, or give a WAV, MP3, FLAC, OGG or WebM"
        )
    with tempfile.TemporaryDirectory(prefix="cartesia-clip-") as folder:
        target = os.path.join(folder, "clip.wav")
        command = [converter, "-hide_banner", "-nostdin", "-v", "error", "-i", _ffmpeg_path(path)]
        command += ["-vn", "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", target]
        try:
            done = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=CONVERT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"ffmpeg took over {CONVERT_TIMEOUT:g} s converting {shown}; convert it to WAV"
            ) from None
        except OSError as exc:
            raise UsageError(f"could not run ffmpeg to convert {shown}: {exc.strerror}") from None
        if done.returncode != 0 or not os.path.exists(target):
            raise UsageError(f"ffmpeg could not convert {shown} ({kind.name}) to WAV (damaged?)")
        return Path(target).read_bytes()


def _ffmpeg_path(path: str) -> str:
    """`path` as ffmpeg reads it: a plain file, never an option (`-x`) or a protocol (`http:`)."""
    return "file:" + os.path.abspath(path)
