"""Output sinks: exclusive creation, timestamped names, --force, cleanup rules."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import pytest

from cartesia_cli.errors import AUDIO_TO_TERMINAL, OUTPUT_EXISTS, ExitCode, UsageError
from cartesia_cli.output.naming import timestamped_name
from cartesia_cli.output.sinks import FileSink, NewFileName, StdoutSink, open_sink

SSE_NAME = NewFileName("tts_sse", "pcm")

WHEN = datetime(2026, 11, 25, 10, 15, 0, 123456)


def sink_for(output: str | None, *, force: bool = False, tty: bool = False) -> FileSink:
    sink = open_sink(output, force=force, stdout_is_tty=tty, new_name=SSE_NAME, now=WHEN)
    assert isinstance(sink, FileSink)
    return sink


def test_timestamped_name_has_local_time_and_milliseconds() -> None:
    assert timestamped_name(WHEN, prefix="tts_sse", extension="pcm") == (
        "tts_sse_20261125_101500_123.pcm"
    )
    assert timestamped_name(WHEN, prefix="tts_bytes", extension="wav", suffix=3) == (
        "tts_bytes_20261125_101500_123-3.wav"
    )


def test_directory_output_gets_a_timestamped_file(tmp_path: Path) -> None:
    sink = sink_for(str(tmp_path))
    assert sink.path == tmp_path / "tts_sse_20261125_101500_123.pcm"
    assert sink.path.exists()  # claimed up front with O_EXCL
    sink.close(keep=True)


def test_name_clash_gets_the_next_free_suffix(tmp_path: Path) -> None:
    (tmp_path / "tts_sse_20261125_101500_123.pcm").write_bytes(b"first")
    (tmp_path / "tts_sse_20261125_101500_123-2.pcm").write_bytes(b"second")
    sink = sink_for(str(tmp_path))
    assert sink.path.name == "tts_sse_20261125_101500_123-3.pcm"
    sink.close(keep=False)
    assert (tmp_path / "tts_sse_20261125_101500_123.pcm").read_bytes() == b"first"


def test_default_output_is_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sink = sink_for(None)
    assert re.fullmatch(r"tts_sse_\d{8}_\d{6}_\d{3}\.pcm", sink.path.name)
    sink.close(keep=False)


def test_created_file_is_removed_when_no_audio_arrived(tmp_path: Path) -> None:
    sink = sink_for(str(tmp_path / "out.pcm"))
    sink.close(keep=False)
    assert not (tmp_path / "out.pcm").exists()


def test_written_bytes_are_kept_exactly(tmp_path: Path) -> None:
    sink = sink_for(str(tmp_path / "out.pcm"))
    sink.write(b"abc")
    sink.write(b"def")
    sink.close(keep=True)
    assert (tmp_path / "out.pcm").read_bytes() == b"abcdef"
    assert sink.bytes_written == 6


def test_existing_file_is_refused_without_force(tmp_path: Path) -> None:
    target = tmp_path / "out.pcm"
    target.write_bytes(b"precious")
    with pytest.raises(UsageError, match=r"out\.pcm already exists$") as caught:
        sink_for(str(target))
    assert (caught.value.exit_code, caught.value.kind) == (ExitCode.USAGE, OUTPUT_EXISTS)
    assert target.read_bytes() == b"precious"


def test_force_truncates_only_when_audio_arrives(tmp_path: Path) -> None:
    target = tmp_path / "out.pcm"
    target.write_bytes(b"precious")
    failed = sink_for(str(target), force=True)
    failed.close(keep=False)
    assert target.read_bytes() == b"precious"
    replaced = sink_for(str(target), force=True)
    replaced.write(b"new")
    replaced.close(keep=True)
    assert target.read_bytes() == b"new"


def test_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="output directory does not exist"):
        sink_for(str(tmp_path / "nope" / "out.pcm"))


def test_devices_need_no_force() -> None:
    sink = sink_for("/dev/null")  # exists, yet no --force needed: a device holds nothing to lose
    sink.write(b"xyz")
    sink.close(keep=True)
    assert sink.bytes_written == 3
    assert Path("/dev/null").is_char_device()  # written through, not replaced by a file


def test_stdout_sink_and_terminal_refusal() -> None:
    sink = open_sink("-", force=False, stdout_is_tty=False, new_name=SSE_NAME)
    assert isinstance(sink, StdoutSink)
    with pytest.raises(UsageError, match=r"^refusing to write audio to a terminal$") as caught:
        open_sink("-", force=False, stdout_is_tty=True, new_name=SSE_NAME)
    assert caught.value.kind == AUDIO_TO_TERMINAL


def test_a_file_that_holds_audio_is_never_removed(tmp_path: Path) -> None:
    # As if a signal landed between a write and its count: the counter says 0 bytes,
    # the file says otherwise, and the file wins.
    sink = sink_for(str(tmp_path / "out.pcm"))
    other = os.open(sink.path, os.O_WRONLY)
    os.write(other, b"audio")
    os.close(other)
    assert sink.bytes_written == 0
    sink.close(keep=False)
    assert sink.path.read_bytes() == b"audio"
