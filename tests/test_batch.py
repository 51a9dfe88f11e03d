"""`--batch FILE`: many items, `--concurrency` at a time, each to its own file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api import retry
from cartesia_cli.input.batch_file import MAX_LINE, BadItem, Item, items, lines_from, parse_line
from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env
from .test_json_result import one_object

SETTINGS = frozenset({"voice", "model", "encoding", "sample_rate", "speed", "container"})


@pytest.fixture
def limited() -> Iterator[FakeCartesia]:
    """A fake that refuses a TTS request beyond three in flight, as a Pro plan does."""
    with FakeCartesia(api_key=API_KEY, concurrency_limit=3, pace=0.2) as server:
        yield server


def digests(blobs: list[bytes]) -> list[str]:
    return sorted(hashlib.sha256(blob).hexdigest() for blob in blobs)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_a_batch_at_the_plans_limit_with_one_failing_item(
    tmp_path: Path, limited: FakeCartesia
) -> None:
    lines = [f"Item number {n}, spoken on its own." for n in range(1, 23)]
    lines[6] = json.dumps({"transcript": "This item has a field no setting has.", "colour": "red"})
    write_lines(tmp_path / "in.txt", lines)
    (tmp_path / "out").mkdir()
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=limited.url)
    proc = subprocess.run(
        [str(ENTRY_POINT), "tts", "sse", "--batch", "in.txt", "--concurrency", "3", "-o", "out",
         "-e", "pcm_s16le", "--json"],
        capture_output=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr  # the one failure: a field no setting has
    assert "line 7: unknown field 'colour'" in stderr
    assert "batch: 22 items, 21 ok, 1 failed" in stderr
    files = sorted((tmp_path / "out").iterdir())
    assert len(files) == 21
    assert [f.name[-8:] for f in files] == [f"{n:04d}.pcm" for n in range(1, 23) if n != 7]
    sent = [bytes(t.audio) for t in limited.transmissions if t.finished]
    assert digests([f.read_bytes() for f in files]) == digests(sent)  # byte for byte
    assert limited.most_in_flight <= 3  # never over the plan's limit: no 429 was needed
    docs = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(docs) == 22 and sum(d["exit_code"] != 0 for d in docs) == 1
    assert all(list(d) == list(one_object(json.dumps(d))) for d in docs)


def test_more_concurrency_than_the_plan_allows_recovers_by_retrying(
    cli: RunCli, tmp_path: Path, limited: FakeCartesia
) -> None:
    write_lines(tmp_path / "in.txt", [f"Line {n}." for n in range(8)])
    result = cli(
        "tts", "bytes", "--batch", "in.txt", "--concurrency", "6",
        env={"CARTESIA_BASE_URL": limited.url},
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert len(list(tmp_path.glob("tts_bytes_*.wav"))) == 8
    statuses = [r for r in limited.requests if r.path == "/tts/bytes"]
    assert len(statuses) > 8  # some were refused with 429 and sent again


@pytest.mark.parametrize("retries", [None, "0"], ids=["default-retries", "no-retries"])
def test_far_above_the_plans_limit_the_batch_slows_down_and_every_item_succeeds(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retries: str | None
) -> None:
    """12 items at --concurrency 8 against a plan that allows 2: the refused ones go again
    under a lower limit, without spending --retries, and all 12 come out whole."""
    monkeypatch.setattr(retry, "INITIAL_DELAY", 0.005)  # the backoff's shape, quicker
    write_lines(tmp_path / "in.txt", [f"Item number {n}." for n in range(1, 13)])
    with FakeCartesia(api_key=API_KEY, concurrency_limit=2, pace=0.1) as fake:
        more = ("--retries", retries) if retries is not None else ()
        result = cli(
            "tts", "sse", "--batch", "in.txt", "--concurrency", "8", *more,
            env={"CARTESIA_BASE_URL": fake.url},
        )  # fmt: skip
    assert result.code == 0, result.stderr
    files = sorted(tmp_path.glob("tts_sse_*.pcm"))
    assert len(files) == 12
    sent = [bytes(t.audio) for t in fake.transmissions if t.finished]
    assert digests([f.read_bytes() for f in files]) == digests(sent)  # byte for byte
    refused = len(fake.requests) - len(fake.transmissions)
    assert 0 < refused < 2 * 8  # some were refused, and the gate bounds how many
    assert re.search(r"the batch went on [12] at a time \(--concurrency [12] starts", result.stderr)
    assert "batch: 12 items, 12 ok, 0 failed" in result.stderr


def test_the_most_severe_items_code_wins(cli: RunCli, tmp_path: Path) -> None:
    write_lines(
        tmp_path / "in.txt",
        [
            '{"transcript": "x", "encoding": "nope"}',
            '{"transcript": "y", "model": "no-such-model"}',
            "ok",
        ],
    )
    result = cli("tts", "sse", "--batch", "in.txt")
    assert result.code == 4, result.stderr  # rejected (4) outranks usage (2)
    assert "line 1: --encoding must be one of" in result.stderr


def test_items_from_stdin_and_a_per_item_output(cli: RunCli, tmp_path: Path) -> None:
    lines = ["First.", '{"transcript": "Second.", "output": "second.mp3", "container": "mp3"}']
    result = cli(
        "tts", "bytes", "--batch", "-", input="\n".join(lines).encode()
    )  # fmt: skip
    if result.code != 0 and "ffmpeg" in result.stderr:
        pytest.skip("the mock needs ffmpeg for mp3")
    assert result.code == 0, result.stderr
    assert (tmp_path / "second.mp3").read_bytes()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    assert len(list(tmp_path.glob("tts_bytes_*_0001.wav"))) == 1


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("Hello",), "drop a transcript"),
        (("-o", "-"), "give -o a directory"),
        (("-o", "file.pcm"), "existing directory"),
        (("--play",), "drop --play"),
        (("--timestamps", "t.srt"), "drop --timestamps"),
        (("--dry-run",), "drop --dry-run"),
    ],
)
def test_flags_that_do_not_fit_a_batch_are_refused_first(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, args: tuple[str, ...], why: str
) -> None:
    write_lines(tmp_path / "in.txt", ["Hi."])
    result = cli("tts", "sse", "--batch", "in.txt", *args)
    assert result.code == 2 and why in result.stderr
    assert fake.requests == []


def test_concurrency_needs_a_batch_and_a_missing_file_is_usage(cli: RunCli) -> None:
    assert cli("tts", "sse", "Hi", "--concurrency", "3").code == 2
    missing = cli("tts", "sse", "--batch", "no-such-file.txt")
    assert missing.code == 2 and "cannot read --batch no-such-file.txt" in missing.stderr


def test_items_are_read_as_they_come(fake: FakeCartesia, tmp_path: Path) -> None:
    """The first item is spoken while the input is still open: nothing waits for EOF."""
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with subprocess.Popen(
        [str(ENTRY_POINT), "tts", "sse", "--batch", "-", "-q"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(b"The first line.\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not any(t.finished for t in fake.transmissions) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fake.transmissions and fake.transmissions[0].finished  # before EOF
        assert proc.poll() is None
        proc.stdin.write(b"The second line.\n")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
    assert len(list(tmp_path.glob("*.pcm"))) == 2


def _writing(folder: Path, *items: str) -> bool:
    """Each of these items (by line number) has a file with audio in it."""
    return all(any(p.stat().st_size for p in folder.glob(f"*_{n}.pcm")) for n in items)


def test_ctrl_c_keeps_finished_files_and_reports_the_partial_ones(tmp_path: Path) -> None:
    with FakeCartesia(api_key=API_KEY, pace=1.0) as slow:
        write_lines(
            tmp_path / "in.txt", ["Short."] + ["A much longer line that takes a while."] * 4
        )
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=slow.url)
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "sse", "--batch", "in.txt", "--concurrency", "2", "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        ) as proc:  # fmt: skip
            deadline = time.monotonic() + 20
            # The short one done, two long ones under way and writing: signalled on the
            # server's side alone, a loaded machine had not yet written item 3's first byte.
            while not _writing(tmp_path, "0002", "0003") and time.monotonic() < deadline:
                time.sleep(0.02)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
    stderr = err.decode()
    assert proc.returncode == 130, stderr
    assert "interrupted: 1 items done" in stderr and "partial audio kept: " in stderr
    assert (tmp_path / next(iter(tmp_path.glob("*_0001.pcm"))).name).stat().st_size > 0
    docs = [json.loads(line) for line in out.decode().splitlines()]
    assert [d["exit_code"] for d in docs].count(0) == 1
    assert [d["exit_code"] for d in docs].count(130) == 2
    assert all(os.path.getsize(tmp_path / d["output"]) == d["bytes"] for d in docs if d["output"])


# --- reading the input -------------------------------------------------------------------


def test_lines_json_lines_and_bad_lines() -> None:
    lines = [
        b"plain text\n",
        b"\n",
        b'{"transcript": "j", "speed": 1.2}\n',
        b"{broken\n",
        b"\xff\n",
    ]
    got = list(items(lines, SETTINGS))
    assert got == [
        Item(1, "plain text", {}),
        Item(3, "j", {"speed": "1.2"}),
        BadItem(4, "starts with '{' but is not a JSON object"),
        BadItem(5, "not UTF-8"),
    ]
    assert parse_line(1, '{"transcript": "x", "volume": 2}', SETTINGS) == BadItem(
        1, "unknown field 'volume'"
    )


def test_a_huge_line_is_cut_not_held(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * (3 * MAX_LINE) + b"\nafter\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        got = list(items(lines_from(fd), SETTINGS))
    finally:
        os.close(fd)
    assert got == [BadItem(1, "longer than 1024 KB"), Item(2, "after", {})]


@given(st.text(max_size=300))
def test_any_line_is_an_item_or_a_bad_item(line: str) -> None:
    got = parse_line(1, line, SETTINGS)
    assert isinstance(got, Item | BadItem)
    if isinstance(got, Item):
        assert got.transcript.strip() and set(got.fields) <= SETTINGS


def test_one_live_line_for_the_batch_on_a_terminal(tmp_path: Path) -> None:
    from .test_cli_tts_sse import ANSI, run_with_terminal_stderr

    with FakeCartesia(api_key=API_KEY, pace=1.0) as paced:
        write_lines(tmp_path / "in.txt", ["One two three.", "Four five six.", "Seven."])
        screen = run_with_terminal_stderr(paced, tmp_path, "tts", "sse", "--batch", "in.txt")
    assert re.search(r"\d/[\d?]+\x1b\[0m items · 0 failed · [\d.]+ s audio", screen)  # live line
    assert ANSI.search(screen)
    assert "wrote " not in screen  # per-item lines would scroll under the live line
    assert "batch: 3 items, 3 ok, 0 failed" in screen


# --- found by an adversarial review ------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"transcript": "x", "output": "a\\u0000b.pcm"}', "output contains a NUL byte"),
        ('{"transcript": "x", "output": "a\\ud800b.pcm"}', "output is not valid UTF-8"),
        ('{"transcript": "x", "output": "-"}', "a batch cannot share stdout"),
    ],
)
def test_a_bad_output_fails_its_item_alone(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, line: str, why: str
) -> None:
    write_lines(tmp_path / "in.txt", ["Before.", line, "After."])
    result = cli("tts", "sse", "--batch", "in.txt", "--json")
    assert result.code == 2, result.stderr
    assert "line 2: " in result.stderr and why in result.stderr
    assert "line 2: line 2" not in result.stderr
    docs = [json.loads(x) for x in result.stdout.decode().splitlines()]
    assert sorted(d["exit_code"] for d in docs) == [0, 0, 2]  # the others went on
    assert len(list(tmp_path.glob("*.pcm"))) == 2


def test_two_items_never_write_one_file(cli: RunCli, tmp_path: Path) -> None:
    same = '{"transcript": "%s", "output": "same.pcm"}'
    write_lines(tmp_path / "in.txt", [same % "First.", same % "Second."])
    result = cli("tts", "sse", "--batch", "in.txt", "--force", "--concurrency", "1")
    assert result.code == 2 and "same.pcm is line 1's output already" in result.stderr


def test_many_items_may_write_to_dev_null(cli: RunCli, fake: FakeCartesia) -> None:
    line = '{"transcript": "Hi.", "output": "/dev/null"}'
    result = cli("tts", "sse", "--batch", "-", "-q", input=f"{line}\n{line}\n{line}\n".encode())
    assert result.code == 0, result.stderr
    assert len(fake.transmissions) == 3


def test_a_byte_order_mark_is_not_text(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_bytes(b'\xef\xbb\xbf{"transcript": "Hello", "output": "h.pcm"}\n')
    result = cli("tts", "sse", "--batch", "in.jsonl")
    assert result.code == 0, result.stderr
    assert fake.requests[-1].json()["transcript"] == "Hello"


def test_json_to_a_reader_that_leaves_stops_cleanly(fake: FakeCartesia, tmp_path: Path) -> None:
    write_lines(tmp_path / "in.txt", [f"Line {n}." for n in range(8)])
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    proc = subprocess.run(
        ["sh", "-c", f'"{ENTRY_POINT}" tts sse --batch in.txt --json | head -c 1 >/dev/null; '
         'echo "${PIPESTATUS:-}"'],
        capture_output=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert b"Traceback" not in proc.stderr and b"Exception" not in proc.stderr, proc.stderr


def test_a_stop_while_reading_a_pipe_is_clean(fake: FakeCartesia, tmp_path: Path) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url)
    with subprocess.Popen(
        [str(ENTRY_POINT), "tts", "sse", "--batch", "-"],
        stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(b"One.\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while not any(t.finished for t in fake.transmissions) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # the reader is blocked on the pipe
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert b"Fatal Python error" not in err and b"Traceback" not in err and b"Exception" not in err


def test_a_batch_that_fails_as_a_whole_still_gives_one_object(cli: RunCli, tmp_path: Path) -> None:
    write_lines(tmp_path / "in.txt", ["Hi."])
    for args, env in (
        (("--batch", "in.txt"), {"CARTESIA_API_KEY": ""}),
        (("--batch", "missing.txt"), {}),
        (("Hi", "--concurrency", "3"), {}),
    ):
        result = cli("tts", "sse", *args, "--json", env=env)
        assert result.code in (2, 3)
        assert one_object(result.stdout)["exit_code"] == result.code
