"""`narrate`'s output, step one: chapters as WAV (the parts and the pauses, byte for byte),
their captions, and the files' names. The book and the encoded formats: test_audiobook_book.py."""

from __future__ import annotations

import os
import struct
import tempfile
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.errors import OutputError
from cartesia_cli.formats import Encoding
from cartesia_cli.output import audiobook, book_names, captions, pcm_concat
from cartesia_cli.output.audiobook import ChapterInput, Cue, Part, Word
from cartesia_cli.output.wav import Layout

RATE = 8000


def pcm(samples: int, value: int = 1000) -> bytes:
    return struct.pack(f"<{samples}h", *([value] * samples))


def make_parts(folder: Path, *lengths: int) -> list[Part]:
    parts = []
    for index, samples in enumerate(lengths):
        path = folder / f"{index:04d}.pcm"
        path.write_bytes(pcm(samples, value=index + 1))
        parts.append(Part(path, None, f"Paragraph {index}.", []))
    return parts


def chapter(
    folder: Path, parts: list[Part], *, pause: float = 0.5, title: str = "One"
) -> audiobook.ChapterAudio:
    return audiobook.write_chapter(
        ChapterInput(title, parts),
        sample_rate=RATE,
        paragraph_pause=pause,
        out=folder / "01 - One.wav",
        fmt="wav",
        ffmpeg=None,
    )


def test_a_wav_chapter_is_the_parts_and_the_pauses_byte_for_byte(tmp_path: Path) -> None:
    parts = make_parts(tmp_path, 800, 1201, 400)
    written = chapter(tmp_path, parts, pause=0.5)
    gap = bytes(2 * 4000)
    data = b"".join([parts[0].audio.read_bytes(), gap, parts[1].audio.read_bytes(), gap,
                     parts[2].audio.read_bytes()])  # fmt: skip
    expected = Layout(Encoding.PCM_S16LE, RATE).header(len(data)) + data
    assert written.path.read_bytes() == expected
    assert written.samples == 800 + 4000 + 1201 + 4000 + 400 == len(data) // 2
    assert written.title == "One"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_no_pause_after_the_last_part_and_none_for_one_part(tmp_path: Path) -> None:
    (part,) = make_parts(tmp_path, 321)
    written = chapter(tmp_path, [part], pause=2.0)
    assert written.samples == 321
    assert written.path.read_bytes()[44:] == part.audio.read_bytes()


@given(
    rate=st.integers(min_value=1, max_value=200_000),
    seconds=st.floats(min_value=0, max_value=3, allow_nan=False),
)
def test_silence_is_exact_in_samples(rate: int, seconds: float) -> None:
    quiet = audiobook.silence(rate, seconds)
    assert len(quiet) == 2 * round(seconds * rate)
    assert not any(quiet)


@settings(max_examples=25)  # each example writes and syncs a file
@given(
    rate=st.sampled_from([7999, 8000, 11025, 22050, 44100, 48000]),
    pause=st.floats(min_value=0, max_value=0.3, allow_nan=False),
    lengths=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=4),
)
def test_a_chapter_s_length_is_its_parts_plus_exact_pauses(
    rate: int, pause: float, lengths: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        parts = make_parts(Path(folder), *lengths)
        written = audiobook.write_chapter(
            ChapterInput("x", parts), sample_rate=rate, paragraph_pause=pause,
            out=Path(folder) / "c.wav", fmt="wav", ffmpeg=None,
        )  # fmt: skip
        expected = sum(lengths) + (len(lengths) - 1) * round(pause * rate)
        assert written.samples == expected
        assert os.path.getsize(written.path) == 44 + 2 * expected


def test_captions_are_each_part_s_words_moved_to_where_the_part_starts(tmp_path: Path) -> None:
    first, second = make_parts(tmp_path, 8000, 4000)  # 1 s, then 0.5 s after a 0.5 s pause
    first = first._replace(words=[Word("Hello", 0.1, 0.4), Word("there.", 0.5, 0.9)])
    second = second._replace(speaker="Alice", words=[Word("Hi.", 0.0, 0.3)])
    written = chapter(tmp_path, [first, second], pause=0.5)
    assert written.captions == [
        Cue(0.1, 0.9, "Hello there.", None),
        Cue(1.5, 2.0, "Hi.", "Alice"),  # 1 s + 0.5 s of pause; shown half a second
    ]


def test_a_cue_shown_into_the_pause_ends_where_the_next_part_begins(tmp_path: Path) -> None:
    first, second = make_parts(tmp_path, 800, 800)
    first = first._replace(words=[Word("Yes.", 0.0, 0.1)])
    second = second._replace(words=[Word("No.", 0.0, 0.1)])
    written = chapter(tmp_path, [first, second], pause=0.0)
    assert [(c.start, c.end) for c in written.captions] == [(0.0, 0.1), (0.1, 0.6)]


def test_a_part_without_words_is_captioned_from_its_text_across_its_length(
    tmp_path: Path,
) -> None:
    (part,) = make_parts(tmp_path, 16000)  # 2 s
    part = part._replace(text="Call me Ishmael. Some years ago", speaker="Narrator")
    (one, two) = chapter(tmp_path, [part]).captions
    assert (one.text, two.text) == ("Call me Ishmael.", "Some years ago")
    assert one.start == 0.0 and two.end == pytest.approx(2.0)
    assert one.end == pytest.approx(two.start) and 0.5 < two.start < 1.5
    assert one.speaker == two.speaker == "Narrator"


def test_vtt_names_speakers_in_voice_tags_and_srt_has_the_text(tmp_path: Path) -> None:
    cues = [Cue(0.0, 1.0, "Call me <Ishmael>.", None), Cue(61.5, 62.25, "Hi & bye.", "Dr. <Who>")]
    audiobook.write_captions(cues, tmp_path / "c.vtt")
    audiobook.write_captions(cues, tmp_path / "c.srt")
    assert (tmp_path / "c.vtt").read_text() == (
        "WEBVTT\n\n"
        "00:00:00.000 --> 00:00:01.000\nCall me &lt;Ishmael&gt;.\n\n"
        "00:01:01.500 --> 00:01:02.250\n<v Dr. &lt;Who&gt;>Hi &amp; bye.\n"
    )
    assert (tmp_path / "c.srt").read_text() == (
        "1\n00:00:00,000 --> 00:00:01,000\nCall me <Ishmael>.\n\n"
        "2\n00:01:01,500 --> 00:01:02,250\nHi & bye.\n"
    )


def test_both_caption_files_are_written_in_one_pass_of_the_cues(tmp_path: Path) -> None:
    """A book's cues come from a generator (never held whole): both files from one pass,
    byte for byte what the whole-list functions give."""
    cues = [Cue(n * 1.5, n * 1.5 + 1.0, f"Line <{n}> & more.", "Ann" if n % 2 else None)
            for n in range(5)]  # fmt: skip
    outs = [tmp_path / "c.srt", tmp_path / "c.vtt"]
    audiobook.write_caption_files(iter(cues), outs)
    assert outs[0].read_text() == captions.srt(cues)
    assert outs[1].read_text() == captions.vtt(cues)
    audiobook.write_caption_files(iter([]), outs)  # no cue: what the functions give for none
    assert (outs[0].read_text(), outs[1].read_text()) == (captions.srt([]), captions.vtt([]))


def test_captions_that_fail_part_way_leave_the_old_files(tmp_path: Path) -> None:
    outs = [tmp_path / "c.srt", tmp_path / "c.vtt"]
    for out in outs:
        out.write_text("old")

    def failing() -> Iterator[Cue]:
        yield Cue(0.0, 1.0, "One.")
        raise OutputError("cannot read a part")

    with pytest.raises(OutputError):
        audiobook.write_caption_files(failing(), outs)
    assert [out.read_text() for out in outs] == ["old", "old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.srt", "c.vtt"]


def test_a_failed_chapter_leaves_the_old_file_and_no_partial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = make_parts(tmp_path, 100, 100)
    out = tmp_path / "01 - One.wav"
    out.write_bytes(b"the old chapter")
    counted = pcm_concat.part
    monkeypatch.setattr(
        pcm_concat, "part", lambda path, digest=None: counted(path)._replace(samples=999)
    )
    with pytest.raises(OutputError, match="got shorter"):
        chapter(tmp_path, parts)
    assert out.read_bytes() == b"the old chapter"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0000.pcm", "0001.pcm", out.name]


def test_a_long_chapter_is_streamed_not_held(tmp_path: Path) -> None:
    big = tmp_path / "big.pcm"
    with big.open("wb") as file:
        file.truncate(32 * 1024 * 1024)  # 32 MiB of zeros (sparse: made at once)
    tracemalloc.start()
    try:
        chapter(tmp_path, [Part(big, None, "", []), Part(big, None, "", [])])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024  # a few chunks of 64 KiB, never a part or the chapter
    assert os.path.getsize(tmp_path / "01 - One.wav") == 44 + 2 * 32 * 1024 * 1024 + 2 * 4000


def test_chapter_and_book_names() -> None:
    assert audiobook.chapter_file_name(1, "Loomings", "m4b") == "01 - Loomings.m4a"
    assert audiobook.chapter_file_name(12, "A/B: C?", "mp3") == "12 - A-B - C.mp3"
    assert audiobook.chapter_file_name(3, " \x00.. ", "wav") == "03 - Chapter 03.wav"
    assert audiobook.book_file_name("Moby-Dick; or, The Whale.", "m4b") == (
        "Moby-Dick; or, The Whale.m4b"
    )
    assert audiobook.book_file_name("con", "mp3") == "con_.mp3"
    assert audiobook.book_file_name("", "wav") == "Book.wav"
    assert audiobook.book_file_name("a\u202egpj.exe", "mp3") == "agpj.exe.mp3"


WINDOWS_FORBIDDEN = set('/\\:*?"<>|') | {chr(c) for c in range(32)} | {"\x7f"}


@given(title=st.text(), index=st.integers(min_value=1, max_value=999))
def test_any_title_makes_a_name_every_system_takes(title: str, index: int) -> None:
    for name, suffix in (
        (book_names.chapter_file_name(index, title, "m4b"), ".m4a"),
        (book_names.book_file_name(title, "wav"), ".wav"),
    ):
        stem = name.removesuffix(suffix)
        assert name.endswith(suffix) and stem
        assert not WINDOWS_FORBIDDEN & set(name)
        assert stem == stem.strip(" .")
        assert len(name.encode("utf-8")) <= 200
        assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
