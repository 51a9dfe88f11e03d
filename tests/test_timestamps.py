"""`--timestamps`: SRT, WebVTT and JSON from the word timestamps the stream carries."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.input import sentences
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.output import captions

from .conftest import RunCli

TEXT = (
    "Hello there. This is a longer sentence that should be split into readable cues "
    "for the viewer! Is it? Yes, and then some more words without any end"
)
WORDS = TEXT.split()
SRT_TIME = r"\d\d:\d\d:\d\d,\d\d\d"
needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg not installed")


def srt_cues(text: str) -> list[tuple[str, str, str]]:
    """(start, end, text) of each block, checking the SRT syntax as it goes."""
    blocks = text.split("\n\n")
    assert "\r" not in text and text.endswith("\n")
    found = []
    for index, block in enumerate(blocks, start=1):
        number, timing, line = block.strip("\n").split("\n")
        assert number == str(index)
        match = re.fullmatch(f"({SRT_TIME}) --> ({SRT_TIME})", timing)
        assert match, timing
        found.append((match[1], match[2], line))
    return found


def seconds(clock: str) -> float:
    hours, minutes, rest = clock.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_srt_holds_every_word_in_order_in_readable_forward_cues(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt")
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["add_timestamps"] is True
    assert "add_phoneme_timestamps" not in fake.requests[-1].json()
    found = srt_cues((tmp_path / "x.srt").read_text())
    assert " ".join(text for _, _, text in found).split() == WORDS
    assert [text for _, _, text in found][:4] == [
        "Hello there.",
        "This is a longer sentence that should be",
        "split into readable cues for the viewer!",
        "Is it?",
    ]
    assert all(len(text) <= captions.MAX_CHARS for _, _, text in found)
    times = [(seconds(a), seconds(b)) for a, b, _ in found]
    assert all(start < end for start, end in times)
    assert all(end <= next_start for (_, end), (next_start, _) in itertools.pairwise(times))
    assert f"wrote x.srt ({len(found)} cues, {len(WORDS)} words)" in result.stderr


def test_vtt_has_its_header_and_dot_milliseconds(cli: RunCli, tmp_path: Path) -> None:
    assert cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.vtt").code == 0
    text = (tmp_path / "x.vtt").read_text()
    assert text.startswith("WEBVTT\n\n")
    timings = re.findall(r"^(\S+) --> (\S+)$", text, flags=re.MULTILINE)
    assert timings and all(
        re.fullmatch(r"\d\d:\d\d:\d\d\.\d\d\d", t) for pair in timings for t in pair
    )
    assert " ".join(re.sub(r"^.* --> .*$", "", text[8:], flags=re.MULTILINE).split()) == TEXT


@needs_ffprobe
@pytest.mark.parametrize("suffix", ["srt", "vtt"])
def test_ffmpeg_reads_the_subtitles(cli: RunCli, tmp_path: Path, suffix: str) -> None:
    assert cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", f"x.{suffix}").code == 0
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=pts_time", "-of", "csv=p=0",
         str(tmp_path / f"x.{suffix}")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    starts = [float(line) for line in probe.stdout.split()]
    assert len(starts) >= 5 and starts == sorted(starts)


def test_json_holds_every_word_and_phoneme_with_times(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    assert cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.json").code == 0
    assert fake.requests[-1].json()["add_phoneme_timestamps"] is True
    document = json.loads((tmp_path / "x.json").read_text())
    assert document["complete"] is True
    assert [w["word"] for w in document["words"]] == WORDS
    assert all(0 <= w["start"] <= w["end"] for w in document["words"])
    assert len(document["phonemes"]) >= len(WORDS)


def test_words_per_cue_asks_for_a_fixed_count(cli: RunCli, tmp_path: Path) -> None:
    args = ("--timestamps", "x.srt", "--words-per-cue", "1")
    assert cli("tts", "sse", TEXT, "-o", "x.pcm", *args).code == 0
    assert [text for _, _, text in srt_cues((tmp_path / "x.srt").read_text())] == WORDS


def test_timestamps_to_stdout_when_the_audio_goes_to_a_file(cli: RunCli) -> None:
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "-")
    assert result.code == 0
    assert srt_cues(result.stdout.decode())[0][2] == "Hello there."


def test_a_failed_stream_writes_what_arrived_and_says_so(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    fake.queue("error-mid-stream")  # after the first chunk, as the mock's default fault
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.json")
    assert result.code == 5
    document = json.loads((tmp_path / "x.json").read_text())
    assert document["complete"] is False
    got = [w["word"] for w in document["words"]]
    assert 0 < len(got) < len(WORDS) and got == WORDS[: len(got)]
    phonemes = len(document["phonemes"])
    counts = f"{len(got)} word{'s' * (len(got) != 1)}, {phonemes} phoneme{'s' * (phonemes != 1)}"
    assert result.stderr.rstrip().endswith(f"timestamps kept: x.json ({counts})")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tts", "bytes", TEXT, "--timestamps", "x.srt"),
         "/tts/bytes sends no timestamps: --timestamps needs tts sse, tts ws or say; for an MP3 "
         "and its subtitles: cartesia-cli tts sse TEXT -o x.mp3 --timestamps x.srt"),
        (("tts", "sse", TEXT, "--timestamps", "x.txt"),
         "--timestamps needs a .srt, .vtt or .json file name, got 'x.txt'"),
        (("tts", "sse", TEXT, "-o", "-", "--timestamps", "-"),
         "--timestamps - and -o - would share stdout; send one of them to a file"),
        (("tts", "sse", TEXT, "--words-per-cue", "3"),
         "--words-per-cue applies to --timestamps FILE.srt or FILE.vtt"),
        (("tts", "sse", TEXT, "--timestamps", "x.srt", "--words-per-cue", "0"),
         "--words-per-cue must be 1 or more, got 0"),
        (("tts", "sse", TEXT, "--timestamps", "nowhere/x.srt"),
         "directory for --timestamps does not exist: nowhere"),
    ],
)  # fmt: skip
def test_timestamps_that_cannot_work_are_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli(*args)
    assert (result.code, result.stderr) == (2, f"cartesia-cli: error: {message}\n")
    assert fake.requests == []
    assert list(tmp_path.glob("*.pcm")) == list(tmp_path.glob("*.wav")) == []


def test_an_existing_subtitle_file_needs_force(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "x.srt").write_text("mine")
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt")
    assert result.code == 2 and "x.srt already exists; use --force" in result.stderr
    assert (tmp_path / "x.srt").read_text() == "mine" and fake.requests == []


short_words = st.text(alphabet="abcdefghij", min_size=1, max_size=10)


@given(
    entries=st.lists(
        st.tuples(short_words, st.floats(0, 60), st.floats(0, 0.5)), min_size=1, max_size=60
    )
)
def test_cues_go_forward_keep_every_word_and_group_them(
    entries: list[tuple[str, float, float]],
) -> None:
    words = captions.in_order([([w for w, _, _ in entries], [s for _, s, _ in entries],
                                [s + d for _, s, d in entries])])  # fmt: skip
    all_cues = captions.cues(words)
    assert " ".join(c.text for c in all_cues).split() == [w.text for w in words]
    assert all(c.start < c.end for c in all_cues)
    assert all(a.end <= b.start for a, b in itertools.pairwise(all_cues))
    assert all(len(c.text) <= captions.MAX_CHARS for c in all_cues)
    # Not one word per cue: a cue is cut short only by the 7 s limit.
    for cue, after in itertools.pairwise(all_cues):
        if " " not in cue.text:
            assert (
                after.end - cue.start > captions.MAX_SECONDS
                or len(cue.text) + 1 + len(after.text.split()[0]) > captions.MAX_CHARS
            )


ABBREVIATED = "Mr. Smith met Dr. Jones at 5 p.m. today. The U.S. team won on Jan. 5. Yes."
ABBREVIATED_CUES = [
    "Mr. Smith met Dr. Jones at 5 p.m. today.",
    "The U.S. team won on Jan. 5.",
    "Yes.",
]


def test_cues_end_at_sentence_ends_not_at_abbreviations(cli: RunCli, tmp_path: Path) -> None:
    assert cli("tts", "sse", ABBREVIATED, "-o", "x.pcm", "--timestamps", "x.srt").code == 0
    cues_found = [text for _, _, text in srt_cues((tmp_path / "x.srt").read_text())]
    assert cues_found == ABBREVIATED_CUES  # a sentence of one word is a cue: no lone word


def timed(text: str, step: float = 0.3, span: float = 0.2) -> list[captions.Timed]:
    """`text`'s words, one every `step` seconds, each spoken for `span`."""
    return [captions.Timed(w, i * step, i * step + span) for i, w in enumerate(text.split())]


def test_a_sentence_s_last_word_is_not_left_alone_in_a_cue() -> None:
    texts = [c.text for c in captions.cues(timed(TEXT))]
    assert texts[-2:] == ["Yes, and then some more words without", "any end"]
    fits = "This is a longer sentence that should be split into readable cues for the viewer!"
    assert [c.text for c in captions.cues(timed(fits))] == [  # nothing to move: as it was
        "This is a longer sentence that should be",
        "split into readable cues for the viewer!",
    ]
    words = "one two three four five six seven eight nine ten eleven twelve thirteen."
    assert [c.text for c in captions.cues(timed(words))] == [
        "one two three four five six seven eight",
        "nine ten eleven twelve thirteen.",
    ]
    lone = "aaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbb cccccccccccccccccccc."
    assert [c.text for c in captions.cues(timed(lone))] == [
        "aaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbb",
        "cccccccccccccccccccc.",  # the cue before has no word to spare: it stays alone
    ]


def test_a_cue_stays_up_half_a_second_unless_the_next_one_starts() -> None:
    T = captions.Timed
    words = [
        T("Hi", 0.0, 0.05), T("you.", 0.05, 0.1),  # then silence: up for half a second
        T("Go", 1.0, 1.05), T("on.", 1.05, 1.1),  # the next cue starts 0.2 s later: until then
        T("Now", 1.3, 1.33), T("then.", 1.33, 1.35),  # the last: half a second
    ]  # fmt: skip
    assert captions.cues(words) == [
        captions.Cue(0.0, 0.5, "Hi you."),
        captions.Cue(1.0, 1.3, "Go on."),
        captions.Cue(1.3, 1.8, "Now then."),
    ]
    assert [(c.start, c.end) for c in captions.cues(words, words_per_cue=2)] == [
        (0.0, 0.5), (1.0, 1.3), (1.3, 1.8)
    ]  # fmt: skip


caption_words = st.one_of(
    st.sampled_from([f"{a}." for a in sorted(sentences.ABBREVIATIONS)] + ["U.S.", "p.m.", "e.g."]),
    st.text(alphabet="abcdefghij", min_size=1, max_size=12),
    st.sampled_from(["end.", "why?", "so!"]),
)


@given(
    texts=st.lists(caption_words, min_size=1, max_size=40),
    gaps=st.lists(st.floats(0, 2), min_size=40, max_size=40),
    spans=st.lists(st.floats(0, 1), min_size=40, max_size=40),
)
def test_cues_follow_sentences_and_stay_up_long_enough(
    texts: list[str], gaps: list[float], spans: list[float]
) -> None:
    words, at = [], 0.0
    for text, gap, span in zip(texts, gaps, spans, strict=False):
        words.append(captions.Timed(text, at + gap, at + gap + span))
        at += gap + span
    all_cues = captions.cues(words)
    assert " ".join(c.text for c in all_cues).split() == texts
    assert all(a.end <= b.start for a, b in itertools.pairwise(all_cues))
    for cue, after in itertools.pairwise(all_cues):
        assert cue.end - cue.start >= min(captions.MIN_SHOWN, after.start - cue.start) - 1e-9
    counts = [len(cue.text.split()) for cue in all_cues]
    groups = [words[sum(counts[:i]) : sum(counts[: i + 1])] for i in range(len(counts))]
    for group, following in itertools.pairwise(groups):
        if sentences.ends_sentence(group[-1].text):
            continue
        # Cut inside a sentence: by a limit, or to give its last word to the sentence's end.
        gave = len(following) == 2 and (
            sentences.ends_sentence(following[1].text) or following is groups[-1]
        )
        chars = sum(len(w.text) + 1 for w in group) + len(following[0].text)
        seconds = following[0].end - group[0].start
        assert gave or chars > captions.MAX_CHARS or seconds > captions.MAX_SECONDS
        lone = following[0]
        if len(following) == 1 and sentences.ends_sentence(lone.text):  # its last word alone:
            spare = group[-1]  # the cue before had no word to spare
            assert (
                len(group) <= 2
                or len(spare.text) + 1 + len(lone.text) > captions.MAX_CHARS
                or lone.end - spare.start > captions.MAX_SECONDS
            )
    assert all_cues[-1].end - all_cues[-1].start >= captions.MIN_SHOWN - 1e-9
