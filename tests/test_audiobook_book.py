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

from cartesia_cli.errors import OutputError, UsageError
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
    inputs, written = make_book(folder)  # the book is made from the parts: chapters as WAV
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
    cues = list(audiobook.book_cues(written, sample_rate=RATE, chapter_pause=CHAPTER))
    # One cue per part, each 0.1 s into its part: part starts in the chapter, plus its start.
    part_starts = [0, 6000, 0, 0, 3600, 6400]
    chapter_of = [0, 0, 1, 2, 2, 2]
    expected = [(STARTS[c] + p) / RATE + 0.1 for c, p in zip(chapter_of, part_starts, strict=True)]
    assert [cue.start for cue in cues] == pytest.approx(expected)
    assert [cue.text for cue in cues] == [f"Word{n}." for n in range(1, 7)]
    assert [cue.speaker for cue in cues] == [None, "Alice", None, None, None, None]
    # Shown half a second, into the pause: the first cue of a part 0.1 s in, ends 0.6 s in.
    assert cues[1] == Cue(0.85, 1.35, "Word2.", "Alice")


def test_book_captions_made_again_a_chapter_at_a_time_are_the_chapters_own(
    tmp_path: Path,
) -> None:
    """The book's captions from each chapter's parts again (`cues_of`, one chapter at a time,
    in order) are those from the chapters' kept captions: nothing need hold them all."""
    inputs, written = make_book(tmp_path)
    asked: list[int] = []

    def again(index: int) -> list[Cue]:
        asked.append(index)
        return audiobook.chapter_cues(inputs[index], sample_rate=RATE, paragraph_pause=PARAGRAPH)

    light = [audio._replace(captions=()) for audio in written]
    cues = audiobook.book_cues(light, sample_rate=RATE, chapter_pause=CHAPTER, cues_of=again)
    assert asked == []  # a generator: nothing made before it is read
    kept = audiobook.book_cues(written, sample_rate=RATE, chapter_pause=CHAPTER)
    assert list(cues) == list(kept) and len(written[2].captions) == 3
    assert asked == [0, 1, 2]


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


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["m4b", "mp3"])
def test_ffprobe_reads_the_chapters_titles_and_starts(tmp_path: Path, fmt: str) -> None:
    book = write_book(tmp_path, fmt)  # type: ignore[arg-type]
    assert book.name == f"Moby Dick.{fmt}"
    probe = ffprobe(book, "-show_chapters", "-show_format")
    chapters = probe["chapters"]
    assert [c["tags"]["title"] for c in chapters] == TITLES
    frame = 1152 / RATE  # one codec frame (AAC's 1024 samples are fewer)
    for found, start, end in zip(chapters, STARTS, [*STARTS[1:], TOTAL], strict=True):
        assert float(found["start_time"]) == pytest.approx(start / RATE, abs=frame)
        assert float(found["end_time"]) == pytest.approx(end / RATE, abs=frame)
    assert float(probe["format"]["duration"]) == pytest.approx(TOTAL / RATE, abs=2 * frame)
    tags = {key.lower(): value for key, value in probe["format"]["tags"].items()}
    assert tags["title"] == tags["album"] == "Moby Dick"
    assert tags["artist"] == "Herman Melville"


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A tiny JPEG and PNG, made once."""
    folder = tmp_path_factory.mktemp("pictures")
    made = {}
    for kind in ("jpg", "png"):
        image = folder / f"cover.{kind}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=red:s=16x16", "-frames:v", "1",
             str(image)], check=True, timeout=30,
        )  # fmt: skip
        made[kind] = image.read_bytes()
    return made


@needs_ffmpeg
@pytest.mark.parametrize(("fmt", "kind"), [("m4b", "jpg"), ("mp3", "png"), ("m4b", "png")])
def test_the_cover_is_an_attached_picture(
    tmp_path: Path, pictures: dict[str, bytes], fmt: str, kind: str
) -> None:
    meta = BookMeta("Moby Dick", None, None, pictures[kind], f"image/{kind}")
    book = write_book(tmp_path, fmt, meta)  # type: ignore[arg-type]
    streams = ffprobe(book, "-show_streams")["streams"]
    pictures_found = [s for s in streams if s["disposition"]["attached_pic"]]
    assert [s["codec_name"] for s in pictures_found] == ["mjpeg" if kind == "jpg" else "png"]


@needs_ffmpeg
def test_a_cover_of_another_kind_is_left_out(tmp_path: Path) -> None:
    meta = BookMeta("Moby Dick", None, None, b"GIF89a not a cover MP4 takes", "image/gif")
    book = write_book(tmp_path, "m4b", meta)
    assert [s["codec_type"] for s in ffprobe(book, "-show_streams")["streams"]] == ["audio", "data"]


@needs_ffmpeg
@pytest.mark.parametrize(
    ("fmt", "codec", "suffix"), [("m4b", "aac", ".m4a"), ("mp3", "mp3", ".mp3")]
)
def test_an_encoded_chapter_is_as_long_as_its_parts_and_pauses(
    tmp_path: Path, fmt: audiobook.BookFormat, codec: str, suffix: str
) -> None:
    inputs, _ = make_book(tmp_path)
    out = tmp_path / audiobook.chapter_file_name(3, inputs[2].title, fmt)
    assert out.name == "03 - Ünïcode ☃" + suffix
    chapter = audiobook.write_chapter(
        inputs[2], sample_rate=RATE, paragraph_pause=PARAGRAPH, out=out, fmt=fmt,
        ffmpeg=shutil.which("ffmpeg"),
    )  # fmt: skip
    assert chapter.samples == 9600 and chapter.path == out
    probe = ffprobe(out, "-show_format", "-show_streams", "-show_chapters")
    assert probe["streams"][0]["codec_name"] == codec
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(out), "-f", "s16le", "-"],
        capture_output=True, check=True, timeout=30,
    ).stdout  # fmt: skip
    # LAME's delay and padding are marked in the file and dropped: the samples, exactly.
    # AAC's last frame is decoded whole (1024 samples).
    assert len(decoded) // 2 - 9600 in ((0,) if fmt == "mp3" else range(1024))
    assert probe["format"]["tags"]["title"] == "Ünïcode ☃"
    assert probe["chapters"] == []  # a chapter's file has no marks: the book has them


def test_mp3_and_m4b_need_ffmpeg_and_say_so_before_anything() -> None:
    assert audiobook.check_format("wav", None) == "wav"
    assert audiobook.check_format("m4b", "/usr/bin/ffmpeg") == "m4b"
    for fmt in ("m4b", "mp3"):
        with pytest.raises(UsageError, match=f"--format {fmt} needs ffmpeg") as refused:
            audiobook.check_format(fmt, None)
        assert refused.value.exit_code == 2
    with pytest.raises(UsageError, match="one of m4b, mp3, wav, not 'ogg'"):
        audiobook.check_format("ogg", "/usr/bin/ffmpeg")


def test_a_failing_ffmpeg_is_an_output_error_with_its_last_line_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    fake = tmp_path / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\necho 'working...' >&2\necho 'Unknown encoder libmp3lame' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    inputs, written = make_book(tmp_path, "wav")
    with pytest.raises(OutputError, match=r"ffmpeg .*Moby Dick\.mp3 \(exit 1\): Unknown encoder"):
        audiobook.write_book(
            written, sample_rate=RATE, chapter_pause=CHAPTER,
            meta=BookMeta("Moby Dick", None, None, None, None), out=tmp_path / "Moby Dick.mp3",
            fmt="mp3", ffmpeg=str(fake), parts_of=inputs,
        )  # fmt: skip
    assert not (tmp_path / "Moby Dick.mp3").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
