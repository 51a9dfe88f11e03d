"""No output clobbers another: audio, subtitles and the inputs they come from stay apart."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, tzinfo
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.mock.server import RecordedRequest
from cartesia_cli.output import sinks
from cartesia_cli.output.naming import timestamped_name

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env
from .test_batch import write_lines
from .test_timestamps import TEXT, srt_cues


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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-o", "text.srt"), "-o text.srt is the file on stdin: the audio would overwrite it"),
        (("-o", "x.pcm", "--timestamps", "text.srt"),
         "--timestamps text.srt is the file on stdin: it would be overwritten"),
    ],
)  # fmt: skip
def test_no_output_goes_over_the_file_on_stdin(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    """`... -o notes.txt --force < notes.txt`: the transcript read, then its file overwritten."""
    (tmp_path / "text.srt").write_text(TEXT)
    with (tmp_path / "text.srt").open("rb") as stdin:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", *args, "--force"],
            stdin=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL="http://127.0.0.1:9"),
        )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (2, f"cartesia-cli: error: {message}\n")
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
    from cartesia_cli.jobs import produce

    def stopped(*args: object) -> None:
        assert (tmp_path / "x.pcm").exists() and (tmp_path / "x.srt").exists()  # both claimed
        raise KeyboardInterrupt

    monkeypatch.setattr(produce, "stream_http", stopped)
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt")
    assert (result.code, result.stderr) == (130, "cartesia-cli: error: interrupted\n")
    assert list(tmp_path.glob("x.*")) == []


def test_an_item_never_writes_over_the_batch_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    lines = ["Before.", '{"transcript": "Over it.", "output": "./in.txt"}', "After."]
    batch_file = write_lines(tmp_path / "in.txt", lines)
    result = cli("tts", "sse", "--batch", "in.txt", "--force", "--concurrency", "1")
    assert result.code == 2, result.stderr
    assert "line 2: ./in.txt is the --batch file the items are read from" in result.stderr
    assert batch_file.read_text() == "".join(line + "\n" for line in lines)
    assert len(fake.transmissions) == 2 and len(list(tmp_path.glob("*.pcm"))) == 2


def test_an_item_never_writes_over_the_file_on_stdin(fake: FakeCartesia, tmp_path: Path) -> None:
    lines = ['{"transcript": "Over it.", "output": "link.txt"}', "After."]
    batch_file = write_lines(tmp_path / "in.txt", lines)
    (tmp_path / "link.txt").symlink_to("in.txt")
    with batch_file.open("rb") as stdin:
        proc = subprocess.run(
            [str(ENTRY_POINT), "tts", "sse", "--batch", "-", "--force", "--concurrency", "1"],
            stdin=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=30,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
        )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "line 1: link.txt is the --batch file the items are read from" in proc.stderr
    assert batch_file.read_text() == "".join(line + "\n" for line in lines)
    assert len(fake.transmissions) == 1


def test_an_audio_claim_refused_takes_the_subtitles_claim_back(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    (tmp_path / "x.pcm").write_bytes(b"mine")
    result = cli("tts", "sse", TEXT, "-o", "x.pcm", "--timestamps", "x.srt")
    assert result.code == 2 and "x.pcm already exists" in result.stderr
    assert not (tmp_path / "x.srt").exists() and fake.requests == []
