"""An audiobook's mp3 and m4b files (and an m4b's .m4a chapters), made by ffmpeg.

The PCM is fed on ffmpeg's stdin as it is read from the parts (memory flat);
the tags and chapter marks go in as an FFMETADATA file, the cover as an
image file, both from a scratch folder removed afterwards. ffmpeg writes to
a temporary file beside the output, renamed when it ends well (an MP4's
index is written last: it needs a file it can seek in, not a pipe).

Bounded: a full pipe left unread for ENCODER_STALL seconds gives ffmpeg up,
and its end is waited for FINISH_SECONDS plus a little per hour of audio (an
m4b's index is moved to the front at the end, a pass over the whole file).
Its chatter stays off the terminal; a failure is an OutputError with the last
line it said.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cartesia_cli import process
from cartesia_cli.errors import BrokenPipe, OutputError
from cartesia_cli.output import atomic, book_marks, child
from cartesia_cli.output.book_names import BookFormat
from cartesia_cli.output.encoder import ENCODER, ENCODER_STALL, STOP_GRACE

if TYPE_CHECKING:
    import subprocess

BIT_RATE = "64k"  # mono speech: as clear at 64 kb/s as at twice that, in half the space
AUDIO: dict[BookFormat, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", BIT_RATE, "-id3v2_version", "3", "-f", "mp3"],
    # Its index at the front: a player starts a long book without reading it to the end.
    "m4b": ["-c:a", "aac", "-b:a", BIT_RATE, "-movflags", "+faststart", "-f", "mp4"],
}
COVER = ["-c:v", "copy", "-disposition:v", "attached_pic"]
FINISH_SECONDS = 30.0
FINISH_PER_HOUR = 30.0  # more seconds to finish per hour of audio
QUIET = ["-hide_banner", "-nostdin", "-nostats", "-v", "error"]


def encode(
    ffmpeg: str,
    pcm: Iterable[bytes],
    *,
    sample_rate: int,
    seconds: float,
    out: Path,
    fmt: BookFormat,
    tags: Mapping[str, str],
    marks: Sequence[book_marks.Mark] = (),
    cover: bytes | None = None,
) -> None:
    """`pcm` (s16le mono) as `fmt` at `out`, with `tags`, chapter `marks` and a `cover`."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cartesia-book-") as scratch:
        metadata = Path(scratch) / "metadata.txt"
        metadata.write_text(book_marks.ffmetadata(tags, marks, sample_rate), encoding="utf-8")
        inputs = ["-f", "ffmetadata", "-i", str(metadata)]
        maps = ["-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
        kind = picture_kind(cover) if cover else None
        if cover and kind:
            picture = Path(scratch) / f"cover.{kind}"
            picture.write_bytes(cover)
            inputs += ["-i", str(picture)]
            maps += ["-map", "2:v", *COVER]
        source = ["-f", "s16le", "-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0"]
        with atomic.replacing(out) as temporary:
            command = [ffmpeg, *QUIET, *source, *inputs, *maps, *AUDIO[fmt], "-y", str(temporary)]
            finish_within = FINISH_SECONDS + FINISH_PER_HOUR * seconds / 3600
            _run(command, pcm, label=out.name, finish_within=finish_within)


def picture_kind(image: bytes) -> str | None:
    """`jpg` or `png` by the image's first bytes (what MP4 covers may be); None for others."""
    if image.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if image.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def _run(command: list[str], pcm: Iterable[bytes], *, label: str, finish_within: float) -> None:
    import subprocess

    encoder = child.start(command, ENCODER, stdout=subprocess.DEVNULL)
    said = _LastLine(encoder)
    try:
        _feed(encoder, pcm, said, label)
        assert encoder.stdin is not None
        encoder.stdin.close()  # end of input: ffmpeg finishes the file
        code = encoder.wait(timeout=finish_within)
    except subprocess.TimeoutExpired:
        raise OutputError(
            f"{ENCODER} had not finished {label} after {finish_within:.0f} s; stopped it"
        ) from None
    finally:
        child.stop(encoder, STOP_GRACE)  # never left running, whatever happened
        said.join()
    if code != 0:
        raise OutputError(f"{ENCODER} could not make {label} (exit {code}){said.text}")


def _feed(
    encoder: subprocess.Popen[bytes], pcm: Iterable[bytes], said: _LastLine, label: str
) -> None:
    import subprocess

    assert encoder.stdin is not None
    stdin = child.ChildInput(encoder.stdin.fileno(), ENCODER, stall_after=ENCODER_STALL)
    try:
        for chunk in pcm:
            stdin.write(chunk)
    except BrokenPipe:  # it quit: its exit and its last line say why
        with contextlib.suppress(subprocess.TimeoutExpired):
            encoder.wait(timeout=1.0)
        said.join()
        how = "still running" if encoder.returncode is None else f"exit {encoder.returncode}"
        raise OutputError(f"{ENCODER} stopped making {label} ({how}){said.text}") from None
    except child.Stalled:
        raise OutputError(
            f"{ENCODER} read none of its input for {ENCODER_STALL:g} s (making {label}); stopped it"
        ) from None


class _LastLine:
    """ffmpeg's stderr read on a thread of its own (off our terminal), its last line kept."""

    def __init__(self, encoder: subprocess.Popen[bytes]) -> None:
        import threading

        assert encoder.stderr is not None
        self._line = ""
        self._thread = threading.Thread(target=self._read, args=(encoder.stderr,), daemon=True)
        process.start_thread(self._thread)  # stop signals go to the main thread only

    def _read(self, stream: IO[bytes]) -> None:
        with stream:
            for raw in stream:
                if line := raw.decode("utf-8", "replace").strip():
                    self._line = line[-300:]

    def join(self) -> None:
        self._thread.join(timeout=1.0)

    @property
    def text(self) -> str:
        """`: <its last line>` to end a message with, or nothing when it said nothing."""
        return f": {self._line}" if self._line else ""
