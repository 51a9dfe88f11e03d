"""`-o /dev/stdout`, `-o /dev/stderr` and their other names: no output lands on another.

Each case runs a real process with stdout or stderr redirected to a regular file
(as `> f` does) or to a pipe, since what those names lead to is the process's own
descriptors.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import IO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.cli import _output_argument
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, clean_env
from .test_batch import write_lines

TEXT = "Hello there, world."
PIPE = subprocess.PIPE


def _run(
    fake: FakeCartesia, cwd: Path, *args: str, stdout: IO[bytes] | int, stderr: IO[bytes] | int
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
        cwd=cwd,
        timeout=30,
    )


def _last_object(text: str) -> dict[str, object]:
    doc = json.loads(text.splitlines()[-1])
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "out.raw"])
def test_a_name_for_the_file_stdout_writes_is_stdout(
    fake: FakeCartesia, tmp_path: Path, name: str
) -> None:
    """`-o /dev/stdout --json > out.raw`: the audio whole, the object on stderr; no --force."""
    with (tmp_path / "out.raw").open("wb") as out:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", name, "--container", "raw",
                    "--json", stdout=out, stderr=PIPE)  # fmt: skip
    stderr = proc.stderr.decode()
    assert proc.returncode == 0, stderr
    audio = bytes(fake.transmissions[-1].audio)
    assert audio and (tmp_path / "out.raw").read_bytes() == audio  # nothing over its start
    doc = _last_object(stderr)  # the last line on stderr, as with -o -
    assert (doc["output"], doc["exit_code"], doc["bytes"]) == ("-", 0, len(audio))
    assert "wrote stdout:" in stderr
    assert "play it:" not in stderr  # it went to stdout: a hint would only repeat the pipe


def test_a_wav_through_dev_stdout_into_a_file_keeps_its_header(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    """The reviewer's run: `-o /dev/stdout --container wav --json --force > f.wav`."""
    with (tmp_path / "f.wav").open("wb") as out:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", "/dev/stdout", "--container",
                    "wav", "--json", "--force", stdout=out, stderr=PIPE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    data, audio = (tmp_path / "f.wav").read_bytes(), bytes(fake.transmissions[-1].audio)
    assert data[:4] == b"RIFF" and data.endswith(audio)
    assert int.from_bytes(data[4:8], "little") == len(data) - 8  # the sizes patched in place
    assert _last_object(proc.stderr.decode())["bytes"] == len(data)


def test_a_name_for_the_pipe_stdout_writes_is_stdout(fake: FakeCartesia, tmp_path: Path) -> None:
    """`-o /dev/stdout --json | player`: the pipe gets the audio alone, not the object after it."""
    proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", "/dev/stdout", "--container", "raw",
                "--json", stdout=PIPE, stderr=PIPE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout == bytes(fake.transmissions[-1].audio)
    assert _last_object(proc.stderr.decode())["output"] == "-"


def test_a_name_for_stdout_in_a_refused_command_line_sends_the_object_to_stderr(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    """A flag typer refuses: the --json object still keeps out of the audio's file."""
    with (tmp_path / "f.raw").open("wb") as out:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "--output=/dev/stdout", "--json",
                    "--no-such-flag", stdout=out, stderr=PIPE)  # fmt: skip
    assert proc.returncode == 2
    assert (tmp_path / "f.raw").read_bytes() == b""
    assert _last_object(proc.stderr.decode())["exit_code"] == 2


@pytest.mark.parametrize(
    ("name", "into"),
    [("/dev/stderr", "file"), ("/dev/fd/2", "file"), ("err.log", "file"), ("/dev/stderr", "pipe")],
)
def test_a_name_for_stderrs_file_or_pipe_is_refused_before_any_request(
    fake: FakeCartesia, tmp_path: Path, name: str, into: str
) -> None:
    """`-o /dev/stderr 2> x.wav`: the lines for people would go over the audio's header."""
    log = tmp_path / "err.log"
    with log.open("wb") as err:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", name, "--force", "--json",
                    stdout=PIPE, stderr=err if into == "file" else PIPE)  # fmt: skip
    stderr = log.read_text() if into == "file" else proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert stderr.splitlines() == [
        f"cartesia-cli: error: -o {name} is stderr's file: the lines for people would land in "
        "the audio; write it to a file of its own, or to stdout (-o -)"
    ]
    assert fake.requests == []
    assert _last_object(proc.stdout.decode())["exit_code"] == 2  # on stdout: no audio there


def test_subtitles_named_as_stdouts_file_go_to_stdout(fake: FakeCartesia, tmp_path: Path) -> None:
    """`--timestamps subs.srt > subs.srt` is `--timestamps -`: no --force, written once."""
    with (tmp_path / "subs.srt").open("wb") as out:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", "a.raw", "--timestamps",
                    "subs.srt", stdout=out, stderr=PIPE)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    srt = "1\n00:00:00,050 --> 00:00:01,120\nHello there, world.\n"
    assert (tmp_path / "subs.srt").read_text() == srt  # the whole text, once
    assert (tmp_path / "a.raw").read_bytes() == bytes(fake.transmissions[-1].audio)


def test_subtitles_named_as_stderrs_file_are_refused(fake: FakeCartesia, tmp_path: Path) -> None:
    with (tmp_path / "log.srt").open("wb") as err:
        proc = _run(fake, tmp_path, "tts", "sse", TEXT, "-o", "a.raw", "--timestamps",
                    "log.srt", "--force", stdout=PIPE, stderr=err)  # fmt: skip
    assert proc.returncode == 2
    assert "--timestamps log.srt is stderr's file" in (tmp_path / "log.srt").read_text()
    assert fake.requests == [] and not (tmp_path / "a.raw").exists()


@pytest.mark.parametrize("into", ["file", "pipe"])
def test_batch_items_naming_stdouts_or_stderrs_file_fail_alone(
    fake: FakeCartesia, tmp_path: Path, into: str
) -> None:
    """Their audio would land on the --json objects or on the lines for people."""
    item = {"transcript": "Item two.", "output": "/dev/stdout"}
    write_lines(tmp_path / "in.txt", [
        "Item one.", json.dumps(item), json.dumps({**item, "output": "/dev/stderr"}),
    ])  # fmt: skip
    (tmp_path / "out").mkdir()
    args = ("tts", "sse", "--batch", "in.txt", "-o", "out", "--container", "raw", "--json")
    if into == "file":
        with (tmp_path / "objects").open("wb") as out, (tmp_path / "lines").open("wb") as err:
            proc = _run(fake, tmp_path, *args, "--force", stdout=out, stderr=err)
        stdout, stderr = (tmp_path / "objects").read_text(), (tmp_path / "lines").read_text()
    else:
        proc = _run(fake, tmp_path, *args, "--force", stdout=PIPE, stderr=PIPE)
        stdout, stderr = proc.stdout.decode(), proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "line 2: /dev/stdout is stdout's file: a batch cannot share stdout" in stderr
    assert "line 3: /dev/stderr is stderr's file: the lines for people would land" in stderr
    docs = sorted((json.loads(line) for line in stdout.splitlines()), key=lambda d: d["bytes"] or 0)
    assert [d["exit_code"] for d in docs] == [2, 2, 0]  # every line an object, whole
    [kept] = (tmp_path / "out").iterdir()
    assert len(fake.requests) == 1 and kept.read_bytes() == bytes(fake.transmissions[-1].audio)


@given(st.text(min_size=1).filter(lambda v: v != "--"), st.sampled_from(["-o", "--output", "-qo"]))
def test_the_output_argument_is_read_as_typed(value: str, flag: str) -> None:
    """Before typer parses anything, -o's value is found in each spelling."""
    assert _output_argument(["tts", "sse", "Hi.", flag, value, "--json"]) == value
    assert _output_argument(["tts", "sse", "Hi.", f"--output={value}"]) == value
    assert _output_argument(["tts", "sse", "--", "-o", value]) is None
