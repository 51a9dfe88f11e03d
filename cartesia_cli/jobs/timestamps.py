"""`--timestamps PATH`: checked and claimed before the request, written when the stream ends.

The formats are `output/captions.py`; this is the glue: refused where the
endpoint sends none (its row in `endpoints.py` says), what the request must ask
for, where the text goes (never onto the audio, nor onto the file stdin reads),
and what to say when a failed stream leaves only some of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from cartesia_cli.endpoints import ENDPOINTS, TtsEndpoint
from cartesia_cli.errors import OUTPUT_EXISTS, OutputError, UsageError
from cartesia_cli.output import captions
from cartesia_cli.output.claims import ClaimedFile, is_open_regular_file, same_file
from cartesia_cli.output.sinks import is_stdout, write_stdout
from cartesia_cli.run.pipeline import StreamResult
from cartesia_cli.ui.console import LINES, isatty, sanitize

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
    path: str | None,
    words_per_cue: int | None,
    *,
    endpoint: TtsEndpoint,
    output: str | None,
    force: bool,
) -> Timestamps | None:
    """The --timestamps request, refused (exit 2, before any request) where it cannot work."""
    if path is None:
        if words_per_cue is not None:
            raise UsageError("--words-per-cue applies to --timestamps FILE.srt or FILE.vtt")
        return None
    if not endpoint.timestamps:
        *others, last = [e.command for e in ENDPOINTS if e.timestamps]
        refused = UsageError(
            f"{endpoint.path} sends no timestamps: --timestamps needs {', '.join(others)} or {last}"
        )
        # The stream carries them, and writes any container: an MP3 with its subtitles.
        refused.hint = (
            "for an MP3 and its subtitles: cartesia-cli tts sse TEXT -o x.mp3 --timestamps x.srt"
        )
        raise refused
    kind = captions.format_of(path)
    if words_per_cue is not None and words_per_cue < 1:
        raise UsageError(f"--words-per-cue must be 1 or more, got {words_per_cue}")
    if is_stdout(path):  # `> x.srt --timestamps x.srt`: stdout, as `-` is
        path = STDOUT
    if path == STDOUT and is_stdout(output):
        raise UsageError("--timestamps - and -o - would share stdout; send one of them to a file")
    if path != STDOUT:
        _check_file(Path(path), output=output, force=force)
    return Timestamps(path, kind, words_per_cue)


def _check_file(path: Path, *, output: str | None, force: bool) -> None:
    # A directory -o gets a new file (created exclusively): it can never be this one.
    if output not in (None, STDOUT) and not os.path.isdir(output) and same_file(output, path):
        raise UsageError(_same_file(output, path))
    if is_open_regular_file(path, 0):
        raise UsageError(f"--timestamps {path} is the file on stdin: it would be overwritten")
    if path.is_file() and not force:
        raise UsageError(f"{path} already exists", kind=OUTPUT_EXISTS)
    if path.is_dir():
        raise UsageError(f"--timestamps needs a file name, and {path} is a directory")
    if not path.parent.is_dir():
        raise UsageError(f"directory for --timestamps does not exist: {path.parent}")


def _same_file(output: str, path: Path) -> str:
    return (
        f"-o {output} and --timestamps {path} are the same file: "
        "the subtitles would overwrite the audio"
    )


class Captions:
    """The --timestamps output, claimed before the request: a file of its own, or stdout.

    A new file is created at the claim; one the run never writes (a stream that
    failed before any timestamp came) is removed again, as an empty audio file is.
    """

    def __init__(self, timestamps: Timestamps, *, force: bool) -> None:
        self.timestamps = timestamps
        self._file = (
            None if timestamps.path == STDOUT else ClaimedFile(Path(timestamps.path), force=force)
        )

    def check_apart_from(self, audio_file: str | None) -> None:
        """Refuse (exit 2) if the audio file just claimed is the subtitles' file after all.

        `checked` compared the names; this compares the files once both are
        claimed, so that no way of naming one file twice (a link into the
        directory the audio's new name is made in, say) lets the subtitles
        overwrite the audio.
        """
        file = self._file
        if file is not None and audio_file is not None and same_file(audio_file, file.path):
            raise UsageError(_same_file(audio_file, file.path))

    def write(self, result: StreamResult, *, complete: bool) -> str:
        """Write what arrived; a line for people saying where and how much."""
        text, what = _render(self.timestamps, result, complete=complete)
        where = "stdout" if self._file is None else self.timestamps.path
        try:
            if self._file is None:
                _to_stdout(text)
            else:
                self._file.write(text)
        except OSError as exc:
            raise OutputError(
                f"could not write the timestamps to {where}: {exc.strerror}"
            ) from None
        return f"{where} ({what})"

    def release(self) -> None:
        """Let the claim go; a file it created and never wrote is removed."""
        if self._file is not None:
            self._file.release()


def _render(timestamps: Timestamps, result: StreamResult, *, complete: bool) -> tuple[str, str]:
    """The subtitles' text, and how much it holds in words for people."""
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
    return text, what


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _to_stdout(text: str) -> None:
    """The subtitles on stdout: as they are into a file or a pipe, made safe for a terminal.

    Their words come from the server: on a terminal, a control character or a
    bidirectional override among them is shown escaped, never obeyed.
    """
    write_stdout(sanitize(text, keep=LINES) if isatty(1) else text, end="")
