"""MP3 for `/tts/bytes`, made by an `ffmpeg` subprocess (the fake has no encoder of its own)."""

from __future__ import annotations

import shutil
import subprocess

ENCODE_TIMEOUT = 60.0


class Mp3Unavailable(Exception):
    """`ffmpeg` is not on the PATH of the process serving the fake."""


class Mp3Failed(Exception):
    """`ffmpeg` ran but made no mp3 (its stderr is the message)."""


def ffmpeg() -> str:
    """The ffmpeg executable, looked up on each call so a changed PATH counts."""
    path = shutil.which("ffmpeg")
    if path is None:
        raise Mp3Unavailable("mp3 output needs ffmpeg on the mock server's PATH.")
    return path


def encode_mp3(executable: str, pcm_s16le: bytes, sample_rate: int, bit_rate: int) -> bytes:
    """Mono s16le PCM to an mp3 file's bytes, with libmp3lame at `bit_rate` bits/s.

    lame lowers a bit rate its MPEG version cannot carry (above 160 kb/s below 32 kHz).
    """
    command = [executable, "-v", "error", "-nostdin", "-f", "s16le", "-ar", str(sample_rate)]
    command += ["-ac", "1", "-i", "-", "-c:a", "libmp3lame", "-b:a", str(bit_rate), "-f", "mp3"]
    try:
        done = subprocess.run(
            [*command, "-"], input=pcm_s16le, capture_output=True, timeout=ENCODE_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Mp3Failed(str(error)) from error
    if done.returncode != 0 or not done.stdout:
        raise Mp3Failed(done.stderr.decode(errors="replace").strip() or "ffmpeg made no output")
    return done.stdout
