"""`--timestamps`: SRT, WebVTT and JSON from the word timestamps the stream carries."""

from __future__ import annotations

import itertools
import json
import os
import pty
import re
import shutil
import subprocess
import threading
from datetime import datetime, tzinfo
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.server import RecordedRequest
from cartesia_cli.output import captions, sinks
from cartesia_cli.output.naming import timestamped_name

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env

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
         "--timestamps needs tts sse or say: /tts/bytes sends no timestamps"),
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


# --- outside text on a terminal ------------------------------------------------------------

HOSTILE = "Hello \x1b[2J there \u202egnirts \x9b31m end"  # the fake times the words it is sent


def _stdout_on_a_terminal(fake: FakeCartesia, cwd: Path, *args: str) -> bytes:
    """Run the CLI with stdout on a pseudo-terminal; what the terminal received."""
    main, child = pty.openpty()
    received: list[bytes] = []

    def drain() -> None:
        while data := _read(main):
            received.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), *args], stdin=subprocess.DEVNULL, stdout=child,
            stderr=subprocess.PIPE, cwd=cwd, timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
        )  # fmt: skip
    finally:
        os.close(child)
        reader.join(timeout=5)
        os.close(main)
    assert proc.returncode == 0, proc.stderr
    return b"".join(received)


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:  # EIO: the last writer closed the terminal
        return b""


def test_subtitles_on_a_terminal_show_the_servers_controls_escaped(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    screen = _stdout_on_a_terminal(
        fake, tmp_path, "tts", "sse", HOSTILE, "-o", "x.pcm", "--timestamps", "-"
    ).decode()
    assert "\x1b" not in screen and "\u202e" not in screen and "\x9b" not in screen
    assert "Hello \\x1b[2J there \\u202egnirts \\x9b31m end" in screen
    assert re.search(f"^1\r\n{SRT_TIME} --> {SRT_TIME}\r\n", screen)  # still lines of SRT


def test_subtitles_into_a_pipe_are_the_words_as_they_came(cli: RunCli) -> None:
    result = cli("tts", "sse", HOSTILE, "-o", "x.pcm", "--timestamps", "-")
    assert result.code == 0
    assert [text for _, _, text in srt_cues(result.stdout.decode())] == [HOSTILE]


# --- no output clobbers another ------------------------------------------------------------


def _link(tmp_path: Path, name: str, to: str, *, hard: bool = False) -> None:
    if hard:
        os.link(tmp_path / to, tmp_path / name)
    else:
        (tmp_path / name).symlink_to(to)


@pytest.mark.parametrize(
    ("audio", "stamps", "links"),
    [
        ("x.srt", "x.srt", []),
        ("x.srt", "./x.srt", []),
        ("x.json", "sub/../x.json", []),
        ("x.json", "link.json", [("link.json", "x.json")]),  # a link to a file not made yet
        ("link.srt", "x.srt", [("link.srt", "x.srt")]),
    ],
)  # fmt: skip
def test_audio_and_subtitles_naming_one_new_file_are_refused_before_any_request(
    cli: RunCli,
    fake: FakeCartesia,
    tmp_path: Path,
    audio: str,
    stamps: str,
    links: list[tuple[str, str]],
) -> None:
    (tmp_path / "sub").mkdir()
    for name, to in links:
        _link(tmp_path, name, to)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli("tts", "sse", TEXT, "-o", audio, "--timestamps", stamps, "--force")
    assert result.code == 2, result.stderr
    assert "are the same file: the subtitles would overwrite the audio" in result.stderr
    assert fake.requests == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, nothing lost


@pytest.mark.parametrize("hard", [False, True])
def test_an_existing_file_under_two_names_is_refused_even_with_force(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, hard: bool
) -> None:
    (tmp_path / "mine.srt").write_text("keep me")
    _link(tmp_path, "other.srt", "mine.srt", hard=hard)
    result = cli("tts", "sse", TEXT, "-o", "mine.srt", "--timestamps", "other.srt", "--force")
    assert result.code == 2 and "are the same file" in result.stderr
    assert (tmp_path / "mine.srt").read_text() == "keep me" and fake.requests == []


def test_subtitles_linked_to_the_audios_new_name_in_a_directory_are_refused(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """-o DIR: the audio's name is made at the claim; the files are compared once both exist."""
    now = datetime(2030, 1, 2, 3, 4, 5, 6000)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls.fromtimestamp(now.timestamp(), tz)

    monkeypatch.setattr(sinks, "datetime", Frozen)
    (tmp_path / "out").mkdir()
    name = timestamped_name(now, prefix="tts_sse", extension="pcm")
    _link(tmp_path, "x.srt", f"out/{name}")  # where the audio's new file will be
    result = cli("tts", "sse", TEXT, "-o", "out", "--timestamps", "x.srt", "--force")
    assert result.code == 2, result.stderr
    assert f"-o out/{name} and --timestamps x.srt are the same file" in result.stderr
    assert fake.requests == [] and list((tmp_path / "out").iterdir()) == []


def test_subtitles_on_the_file_stdin_holds_are_refused(tmp_path: Path) -> None:
    (tmp_path / "text.srt").write_text(TEXT)
    with (tmp_path / "text.srt").open("rb") as stdin:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", "-o", "x.pcm", "--timestamps", "text.srt", "--force"],
            stdin=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL="http://127.0.0.1:9"),
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--timestamps text.srt is the file on stdin" in proc.stderr
    assert (tmp_path / "text.srt").read_text() == TEXT and not (tmp_path / "x.pcm").exists()


def test_the_subtitle_file_is_claimed_before_the_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    seen: list[bool] = []
    record = fake.record

    def spy(request: RecordedRequest) -> None:
        seen.append((tmp_path / "x.srt").exists())
        record(request)

    fake.record = spy  # type: ignore[method-assign]
    assert cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt").code == 0
    assert seen == [True]
    assert srt_cues((tmp_path / "x.srt").read_text())


@pytest.mark.parametrize("scenario", ["error-before-audio", "http-500"])
def test_a_run_that_failed_before_any_timestamp_leaves_no_subtitle_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, scenario: str
) -> None:
    fake.queue(scenario)
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt", "--retries", "0")
    assert result.code == 5, result.stderr
    assert list(tmp_path.glob("x.*")) == []  # neither the audio's nor the subtitles' claim


def test_a_failed_run_leaves_an_existing_subtitle_file_as_it_was(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "x.vtt").write_text("mine")
    fake.queue("error-before-audio")
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.vtt", "--force")
    assert result.code == 5
    assert (tmp_path / "x.vtt").read_text() == "mine"


def test_subtitles_that_cannot_be_written_never_hide_the_streams_error(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "full.json").symlink_to("/dev/full")  # every write: no space left on device
    fake.queue("error-mid-stream")
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "full.json", "--force")
    assert result.code == 5, result.stderr  # the stream's failure, not the subtitles' (7)
    kept = (tmp_path / "x.pcm").stat().st_size
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("cartesia-cli: error: the server reported an error: ")
    assert result.stderr.endswith(
        f"; partial audio kept: x.pcm ({kept} bytes, 0.10 s); timestamps lost: "
        "could not write the timestamps to full.json: No space left on device\n"
    )


def test_a_stop_just_after_the_claims_removes_both_empty_files(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cartesia_cli.commands import _tts_job

    def stopped(*args: object) -> None:
        assert (tmp_path / "x.pcm").exists() and (tmp_path / "x.srt").exists()  # both claimed
        raise KeyboardInterrupt

    monkeypatch.setattr(_tts_job, "_stream", stopped)
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt")
    assert (result.code, result.stderr) == (130, "cartesia-cli: error: interrupted\n")
    assert list(tmp_path.glob("x.*")) == []
