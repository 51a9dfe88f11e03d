"""`narrate`'s whole book: the chapters and the pauses between them, with chapter marks that
read back (a WAV's cue points parsed here; an MP3's and an M4B's by ffprobe), and captions
that line up with the chapters' starts."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from cartesia_cli.errors import OutputError
from cartesia_cli.output import audiobook
from cartesia_cli.output.audiobook import BookMeta, ChapterAudio, ChapterInput, Cue, Part, Word

RATE = 8000
PARAGRAPH, CHAPTER = 0.25, 1.0  # pauses in seconds: 2000 and 8000 samples at 8 kHz
TITLES = ["Loomings", "The Carpet-Bag; or = #2", "Ünïcode ☃"]
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg not installed")


def make_book(folder: Path, fmt: audiobook.BookFormat = "wav") -> tuple[
    list[ChapterInput], list[ChapterAudio]
]:  # fmt: skip
    """Three chapters of 2, 1 and 3 parts (values 1.., one per part), each written as `fmt`."""
    shapes = [[4000, 2400], [6000], [1600, 800, 3200]]
    inputs, written, value = [], [], 0
    for number, (title, lengths) in enumerate(zip(TITLES, shapes, strict=True), start=1):
        parts = []
        for samples in lengths:
            value += 1
            path = folder / f"part{value}.pcm"
            path.write_bytes(struct.pack("<h", value * 100) * samples)
            words = [Word(f"Word{value}.", 0.1, 0.3)]
            parts.append(Part(path, "Alice" if value == 2 else None, "", words))
        given = ChapterInput(title, parts)
        out = folder / audiobook.chapter_file_name(number, title, fmt)
        inputs.append(given)
        written.append(
            audiobook.write_chapter(given, sample_rate=RATE, paragraph_pause=PARAGRAPH,
                                    out=out, fmt=fmt, ffmpeg=shutil.which("ffmpeg"))
        )  # fmt: skip
    return inputs, written


def write_book(folder: Path, fmt: audiobook.BookFormat, meta: BookMeta | None = None) -> Path:
    inputs, written = make_book(folder, fmt)
    meta = meta or BookMeta("Moby Dick", "Herman Melville", "en", None, None)
    return audiobook.write_book(
        written, sample_rate=RATE, chapter_pause=CHAPTER, meta=meta,
        out=folder / audiobook.book_file_name(meta.title, fmt), fmt=fmt,
        ffmpeg=shutil.which("ffmpeg"), parts_of=inputs,
    )  # fmt: skip


# Chapter starts in samples: 4000+2000+2400 = 8400 (+8000), 6000 (+8000), 1600+2000+800+2000+3200.
STARTS = [0, 8400 + 8000, 8400 + 8000 + 6000 + 8000]
TOTAL = STARTS[2] + 9600


def riff_chunks(data: bytes) -> dict[bytes, bytes]:
    """Every top-level chunk of a RIFF/WAVE file, checking its sizes and padding as it goes."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack_from("<I", data, 4)[0] == len(data) - 8
    chunks, at = {}, 12
    while at < len(data):
        name, size = data[at : at + 4], struct.unpack_from("<I", data, at + 4)[0]
        chunks[name] = data[at + 8 : at + 8 + size]
        at += 8 + size + size % 2
    assert at == len(data)
    return chunks


def cue_points(data: bytes) -> list[tuple[int, str]]:
    chunks = riff_chunks(data)
    cue = chunks[b"cue "]
    (count,) = struct.unpack_from("<I", cue)
    points = {}
    for index in range(count):
        ident, position, chunk, _, _, offset = struct.unpack_from("<II4sIII", cue, 4 + 24 * index)
        assert chunk == b"data" and position == offset
        points[ident] = offset
    assert chunks[b"LIST"][:4] == b"adtl"
    labels, at, adtl = {}, 4, chunks[b"LIST"]
    while at < len(adtl):
        size = struct.unpack_from("<I", adtl, at + 4)[0]
        assert adtl[at : at + 4] == b"labl"
        (ident,) = struct.unpack_from("<I", adtl, at + 8)
        labels[ident] = adtl[at + 12 : at + 8 + size].rstrip(b"\0").decode("utf-8")
        at += 8 + size + size % 2
    return [(points[ident], labels[ident]) for ident in sorted(points)]


def test_the_wav_book_is_the_chapters_and_pauses_with_cue_points(tmp_path: Path) -> None:
    book = write_book(tmp_path, "wav")
    assert book.name == "Moby Dick.wav"
    data = book.read_bytes()
    audio = riff_chunks(data)[b"data"]
    gap = bytes(2 * 8000)
    chapters = [p.read_bytes()[44:] for p in sorted(tmp_path.glob("0? - *.wav"))]
    assert audio == gap.join(chapters)
    assert len(audio) == 2 * TOTAL
    assert cue_points(data) == list(zip(STARTS, TITLES, strict=True))


@needs_ffmpeg
def test_ffprobe_reads_the_wav_book_s_audio_to_its_end(tmp_path: Path) -> None:
    book = write_book(tmp_path, "wav")
    probe = ffprobe(book, "-show_format", "-show_streams")
    assert float(probe["format"]["duration"]) == pytest.approx(TOTAL / RATE, abs=1e-3)
    assert probe["streams"][0]["codec_name"] == "pcm_s16le"


def test_book_captions_are_each_chapter_s_moved_to_its_start(tmp_path: Path) -> None:
    _, written = make_book(tmp_path)
    cues = audiobook.book_cues(written, sample_rate=RATE, chapter_pause=CHAPTER)
    # One cue per part, each 0.1 s into its part: part starts in the chapter, plus its start.
    part_starts = [0, 6000, 0, 0, 3600, 6400]
    chapter_of = [0, 0, 1, 2, 2, 2]
    expected = [(STARTS[c] + p) / RATE + 0.1 for c, p in zip(chapter_of, part_starts, strict=True)]
    assert [cue.start for cue in cues] == pytest.approx(expected)
    assert [cue.text for cue in cues] == [f"Word{n}." for n in range(1, 7)]
    assert [cue.speaker for cue in cues] == [None, "Alice", None, None, None, None]
    # Shown half a second, into the pause: the first cue of a part 0.1 s in, ends 0.6 s in.
    assert cues[1] == Cue(0.85, 1.35, "Word2.", "Alice")


def test_a_book_whose_parts_changed_since_its_chapters_is_refused(tmp_path: Path) -> None:
    inputs, written = make_book(tmp_path)
    inputs[0].parts[1].audio.write_bytes(b"\0\0" * 9000)  # longer than its whole chapter
    with pytest.raises(OutputError, match="parts of chapter 'Loomings' changed"):
        audiobook.write_book(
            written, sample_rate=RATE, chapter_pause=CHAPTER,
            meta=BookMeta("B", None, None, None, None), out=tmp_path / "B.wav", fmt="wav",
            ffmpeg=None, parts_of=inputs,
        )  # fmt: skip
    assert not (tmp_path / "B.wav").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def ffprobe(path: Path, *what: str) -> dict:  # type: ignore[type-arg]
    found = subprocess.run(
        ["ffprobe", "-v", "error", *what, "-print_format", "json", str(path)],
        capture_output=True, check=True, timeout=30,
    )  # fmt: skip
    return json.loads(found.stdout)  # type: ignore[no-any-return]
