"""`--timestamps PATH`: checked before the request, written when the stream ends.

The formats are `output/captions.py`; this is the glue: which commands can
have timestamps, what the request must ask for, where the text goes, and what
to say when a failed stream leaves only some of them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NamedTuple

from cartesia_cli.errors import OUTPUT_EXISTS, OutputError, UsageError
from cartesia_cli.output import captions
from cartesia_cli.run.pipeline import StreamResult

STDOUT = "-"


class Timestamps(NamedTuple):
    """Where the subtitles go and how they are cut."""

    path: str
    kind: str  # srt, vtt, json
    words_per_cue: int | None

    def request_fields(self) -> dict[tuple[str, ...], Any]:
        fields: dict[tuple[str, ...], Any] = {("add_timestamps",): True}
        if self.kind == "json":
            fields[("add_phoneme_timestamps",)] = True
        return fields


def checked(
    path: str | None, words_per_cue: int | None, *, streams: bool, output: str | None, force: bool
) -> Timestamps | None:
    """The --timestamps request, refused (exit 2, before any request) where it cannot work."""
    if path is None:
        if words_per_cue is not None:
            raise UsageError("--words-per-cue applies to --timestamps FILE.srt or FILE.vtt")
        return None
    if not streams:
        raise UsageError("--timestamps needs tts sse or say: /tts/bytes sends no timestamps")
    kind = captions.format_of(path)
    if words_per_cue is not None and words_per_cue < 1:
        raise UsageError(f"--words-per-cue must be 1 or more, got {words_per_cue}")
    if path == STDOUT and output == STDOUT:
        raise UsageError("--timestamps - and -o - would share stdout; send one of them to a file")
    if path != STDOUT:
        _check_file(Path(path), force=force)
    return Timestamps(path, kind, words_per_cue)


def _check_file(path: Path, *, force: bool) -> None:
    if path.is_file() and not force:
        raise UsageError(f"{path} already exists", kind=OUTPUT_EXISTS)
    if path.is_dir():
        raise UsageError(f"--timestamps needs a file name, and {path} is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"directory for --timestamps does not exist: {path.parent}")


def write(timestamps: Timestamps, result: StreamResult, *, complete: bool) -> str:
    """Write what arrived; a line for people saying where and how much."""
    words = captions.in_order((b.words, b.start, b.end) for b in result.word_timestamps)
    phonemes = captions.in_order((b.phonemes, b.start, b.end) for b in result.phoneme_timestamps)
    if timestamps.kind == "json":
        text = captions.as_json(words, phonemes, complete=complete)
        what = f"{_count(len(words), 'word')}, {_count(len(phonemes), 'phoneme')}"
    else:
        cues = captions.cues(words, words_per_cue=timestamps.words_per_cue)
        text = (captions.vtt if timestamps.kind == "vtt" else captions.srt)(cues)
        what = f"{_count(len(cues), 'cue')}, {_count(len(words), 'word')}"
    dropped = sum(batch.dropped for batch in result.word_timestamps)
    if timestamps.kind == "json":
        dropped += sum(batch.dropped for batch in result.phoneme_timestamps)
    if dropped:
        what += f"; {dropped} dropped: the server sent no usable time for them"
    _put(timestamps.path, text)
    where = "stdout" if timestamps.path == STDOUT else timestamps.path
    return f"{where} ({what})"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _put(path: str, text: str) -> None:
    try:
        if path == STDOUT:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"could not write the timestamps to {path}: {exc.strerror}") from None
