"""An audiobook's files from its parts: one file per chapter, the whole book, their captions.

A part is one paragraph's audio as the API sent it (raw pcm_s16le mono, in a
file of its own). A chapter is its parts in order with `paragraph_pause` of
silence between each two; the book is its chapters with `chapter_pause`
between each two. Silences are written here, exact in samples, so every
chapter file is the audio received plus the pauses and nothing else, and
every caption and chapter mark is where the samples say.

Nothing is ever held whole: the PCM streams from the part files to the output
in chunks (`pcm_concat.py`). Every file is written under a temporary name and
renamed when complete (`atomic.py`): a failure leaves no partial file. No
typer, no network, no terminal: the job says what was written.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from cartesia_cli.errors import NO_ENCODER, OutputError, UsageError
from cartesia_cli.formats import Encoding
from cartesia_cli.output import atomic, book_ffmpeg, book_marks, captions, pcm_concat
from cartesia_cli.output.book_names import (
    BOOK_FORMATS,
    BookFormat,
    book_file_name,
    chapter_file_name,
    chapter_suffix,
)
from cartesia_cli.output.captions import Cue
from cartesia_cli.output.encoder import ENCODER
from cartesia_cli.output.pcm_concat import Piece, silence
from cartesia_cli.output.wav import Layout

__all__ = [
    "BookFormat",
    "BookMeta",
    "ChapterAudio",
    "ChapterInput",
    "Cue",
    "Part",
    "Word",
    "book_cues",
    "book_file_name",
    "chapter_cues",
    "chapter_file_name",
    "chapter_suffix",
    "check_format",
    "silence",
    "write_book",
    "write_caption_files",
    "write_captions",
    "write_chapter",
]


class Word(NamedTuple):
    text: str
    start: float  # seconds from the start of its part
    end: float


class Part(NamedTuple):
    audio: Path  # raw pcm_s16le mono of one paragraph
    speaker: str | None  # the cast's name, None for the narrator (VTT: <v NAME>)
    text: str  # the paragraph as sent (captions when words are missing)
    words: Sequence[Word]  # word timestamps; may be empty
    digest: str | None = None  # SHA-256 of `audio` as received: checked as it is read


class ChapterInput(NamedTuple):
    title: str
    parts: Sequence[Part]


class ChapterAudio(NamedTuple):
    title: str
    path: Path  # the chapter's audio file as written (see `chapter_suffix`)
    samples: int  # its length in samples (pauses included)
    captions: Sequence[Cue]  # its cues, times from the chapter's start


class BookMeta(NamedTuple):
    title: str
    author: str | None
    language: str | None
    cover: bytes | None
    cover_type: str | None  # "image/jpeg" / "image/png"


def check_format(fmt: str, ffmpeg: str | None) -> BookFormat:
    """`fmt` as a book format, or a usage error (before any request): an unknown format, or
    mp3 and m4b without ffmpeg (`ffmpeg` is its path, None when it is not installed)."""
    for known in BOOK_FORMATS:
        if fmt == known:
            if known != "wav" and ffmpeg is None:
                raise UsageError(
                    f"--format {known} needs {ENCODER}, which is not on PATH "
                    "(--format wav needs nothing)",
                    kind=NO_ENCODER,
                )
            return known
    raise UsageError(f"--format is one of {', '.join(BOOK_FORMATS)}, not {fmt!r}")


def write_chapter(
    chapter: ChapterInput,
    *,
    sample_rate: int,
    paragraph_pause: float,
    out: Path,
    fmt: BookFormat,
    ffmpeg: str | None,
) -> ChapterAudio:
    """The chapter's parts in order, `paragraph_pause` seconds of silence between each two, as
    one file at `out` (wav: the PCM as is; m4b: AAC in an .m4a; mp3), and its captions."""
    parts = [pcm_concat.part(p.audio, p.digest) for p in chapter.parts]
    pieces = pcm_concat.with_pauses(([p] for p in parts), _samples(sample_rate, paragraph_pause))
    total = pcm_concat.length(pieces)
    if fmt == "wav":
        _write_wav(out, pieces, sample_rate=sample_rate, total=total)
    else:
        book_ffmpeg.encode(
            _ffmpeg(fmt, ffmpeg), pcm_concat.stream(pieces), sample_rate=sample_rate,
            seconds=total / sample_rate, out=out, fmt=fmt, tags={"title": chapter.title},
        )  # fmt: skip
    cues = _chapter_cues(chapter.parts, _starts(pieces), parts, sample_rate)
    return ChapterAudio(chapter.title, out, total, cues)


def chapter_cues(chapter: ChapterInput, *, sample_rate: int, paragraph_pause: float) -> list[Cue]:
    """The captions `write_chapter` gives the chapter, made again from its parts (no audio read,
    nothing written): a book's captions are made a chapter at a time this way."""
    parts = [pcm_concat.part(p.audio, p.digest) for p in chapter.parts]
    pieces = pcm_concat.with_pauses(([p] for p in parts), _samples(sample_rate, paragraph_pause))
    return _chapter_cues(chapter.parts, _starts(pieces), parts, sample_rate)


def write_book(
    chapters: Sequence[ChapterAudio],
    *,
    sample_rate: int,
    chapter_pause: float,
    meta: BookMeta,
    out: Path,
    fmt: BookFormat,
    ffmpeg: str | None,
    parts_of: Sequence[ChapterInput],
) -> Path:
    """The whole book at `out`: the chapters in order, `chapter_pause` seconds of silence between
    each two, a chapter mark at each chapter's start (m4b: MP4 chapters; mp3: ID3v2 CHAP and
    CTOC; wav: cue points with their titles), and for m4b and mp3 the book's title, author
    and cover (a JPEG or PNG; an image of another kind is left out).

    Made from the parts again (`parts_of`, in the chapters' order), never from the chapters'
    files: an encoded chapter decoded and encoded again would lose quality.
    """
    pause = _samples(sample_rate, chapter_pause)
    groups = [_rebuilt(audio, given) for audio, given in zip(chapters, parts_of, strict=True)]
    pieces = pcm_concat.with_pauses(groups, pause)
    total = pcm_concat.length(pieces)
    starts = _chapter_starts(chapters, pause)
    marks = [
        book_marks.Mark(audio.title, start, end)
        for audio, start, end in zip(chapters, starts, [*starts[1:], total], strict=True)
    ]
    if fmt == "wav":
        trailer = book_marks.wav_chunks(marks)
        _write_wav(out, pieces, sample_rate=sample_rate, total=total, trailer=trailer)
    else:
        book_ffmpeg.encode(
            _ffmpeg(fmt, ffmpeg), pcm_concat.stream(pieces), sample_rate=sample_rate,
            seconds=total / sample_rate, out=out, fmt=fmt, tags=_tags(meta), marks=marks,
            cover=meta.cover,
        )  # fmt: skip
    return out


def book_cues(
    chapters: Sequence[ChapterAudio],
    *,
    sample_rate: int,
    chapter_pause: float,
    cues_of: Callable[[int], Iterable[Cue]] | None = None,
) -> Iterator[Cue]:
    """Every chapter's cues, moved to where the chapter starts in the book's file, one chapter
    at a time: `cues_of(i)` gives chapter i's (its `captions` otherwise), so a caller that
    makes them again from the parts never holds the whole book's."""
    starts = _chapter_starts(chapters, _samples(sample_rate, chapter_pause))
    for index, (audio, start) in enumerate(zip(chapters, starts, strict=True)):
        offset = start / sample_rate
        for cue in cues_of(index) if cues_of is not None else audio.captions:
            yield cue._replace(start=cue.start + offset, end=cue.end + offset)


def write_captions(cues: Iterable[Cue], out: Path) -> None:
    """The cues as SRT or WebVTT by `out`'s suffix (speakers as VTT voice tags), atomically."""
    write_caption_files(cues, [out])


def write_caption_files(cues: Iterable[Cue], outs: Sequence[Path]) -> None:
    """The cues into every file of `outs` (SRT or WebVTT by each one's suffix) as they come:
    a cue at a time, in one pass, each file atomically."""
    kinds = [out.suffix.lower() for out in outs]
    for out, kind in zip(outs, kinds, strict=True):
        if kind not in (".srt", ".vtt"):
            raise ValueError(f"captions are .srt or .vtt, not {out.name!r}")
    with contextlib.ExitStack() as stack:
        files = []
        for out in outs:
            temporary = stack.enter_context(atomic.replacing(out))
            files.append(stack.enter_context(temporary.open("w", encoding="utf-8")))
        for file, kind in zip(files, kinds, strict=True):
            if kind == ".vtt":
                file.write(captions.VTT_HEADER)
        for index, cue in enumerate(cues, start=1):
            for file, kind in zip(files, kinds, strict=True):
                if kind == ".vtt":
                    file.write(captions.CUE_SEPARATOR + captions.vtt_block(cue))
                else:
                    separator = captions.CUE_SEPARATOR if index > 1 else ""
                    file.write(separator + captions.srt_block(index, cue))


def _samples(sample_rate: int, seconds: float) -> int:
    if seconds < 0 or sample_rate <= 0:
        raise ValueError(f"a pause of {seconds} s at {sample_rate} Hz")
    return pcm_concat.samples_in(sample_rate, seconds)


def _ffmpeg(fmt: BookFormat, ffmpeg: str | None) -> str:
    check_format(fmt, ffmpeg)
    assert ffmpeg is not None
    return ffmpeg


def _tags(meta: BookMeta) -> dict[str, str]:
    """The book's tags as ffmpeg names them (MP4 atoms, ID3 frames): players show the title
    as the album, the author as its artist."""
    tags = {"title": meta.title, "album": meta.title}
    if meta.author:
        tags |= {"artist": meta.author, "album_artist": meta.author}
    if meta.language:
        tags["language"] = meta.language
    return tags


def _rebuilt(audio: ChapterAudio, given: ChapterInput) -> list[Piece]:
    """A chapter's pieces again from its parts; the pause between them is what its length says
    (its length less its parts' over the gaps between them), so the book matches the file."""
    parts = [pcm_concat.part(p.audio, p.digest) for p in given.parts]
    gaps = max(len(parts) - 1, 0)
    pauses = audio.samples - pcm_concat.length(parts)
    if pauses < 0 or (pauses if not gaps else pauses % gaps):
        raise OutputError(f"the parts of chapter {audio.title!r} changed after it was written")
    return pcm_concat.with_pauses(([p] for p in parts), pauses // gaps if gaps else 0)


def _chapter_starts(chapters: Sequence[ChapterAudio], pause: int) -> list[int]:
    """Where each chapter starts in the book, in samples: those before it and their pauses."""
    starts, at = [], 0
    for audio in chapters:
        starts.append(at)
        at += audio.samples + pause
    return starts


def _starts(pieces: Sequence[Piece]) -> list[int]:
    """Where each part among `pieces` starts, in samples from the first piece."""
    starts, at = [], 0
    for piece in pieces:
        if piece.audio is not None:
            starts.append(at)
        at += piece.samples
    return starts


def _write_wav(
    out: Path, pieces: Sequence[Piece], *, sample_rate: int, total: int, trailer: bytes = b""
) -> None:
    """A WAV of `pieces`, its sizes right from the start, `trailer` chunks after the audio."""
    layout = Layout(Encoding.PCM_S16LE, sample_rate)
    data = total * pcm_concat.BYTES_PER_SAMPLE
    if data + len(trailer) > layout.max_data:
        raise OutputError(f"{out.name}: a WAV file holds at most 4 GiB; use --format m4b or mp3")
    header = layout.header(data)
    # The RIFF size covers the chunks after the audio too (s16 data is never odd: no pad byte).
    riff = int.from_bytes(header[4:8], "little") + len(trailer)
    header = header[:4] + riff.to_bytes(4, "little") + header[8:]
    with atomic.replacing(out) as temporary, temporary.open("wb") as file:
        _write_all(file.fileno(), [header], pcm_concat.stream(pieces), [trailer])


def _write_all(fd: int, *chunks: Iterable[bytes]) -> None:
    for group in chunks:
        for chunk in group:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]


def _chapter_cues(
    parts: Sequence[Part], starts: Sequence[int], pieces: Sequence[Piece], sample_rate: int
) -> list[Cue]:
    """Each part's cues, moved to where the part starts in the chapter."""
    cues: list[Cue] = []
    for part, start, piece in zip(parts, starts, pieces, strict=True):
        offset = start / sample_rate
        for cue in _part_cues(part, piece.samples / sample_rate):
            cues.append(
                cue._replace(start=cue.start + offset, end=cue.end + offset, speaker=part.speaker)
            )
    return _no_overlap(cues)


def _part_cues(part: Part, seconds: float) -> list[Cue]:
    words = sorted((captions.Timed(*word) for word in part.words), key=lambda w: w.start)
    return captions.cues(captions.without_tags(words or _spread(part.text, seconds)))


def _spread(text: str, seconds: float) -> list[captions.Timed]:
    """Words without timestamps, timed by their share of the text's characters: a caption
    then shows about when it is said, which is better than none."""
    words = text.split()
    total = sum(len(word) for word in words) or 1
    timed, before = [], 0
    for word in words:
        start = seconds * before / total
        before += len(word)
        timed.append(captions.Timed(word, start, seconds * before / total))
    return timed


def _no_overlap(cues: list[Cue]) -> list[Cue]:
    """A cue kept up into the pause after its part ends before the next part's first cue."""
    return [
        cue._replace(end=min(cue.end, after.start)) if after.start > cue.start else cue
        for cue, after in itertools.pairwise(cues)
    ] + cues[-1:]
