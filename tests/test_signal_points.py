"""SIGINT, SIGTERM and SIGHUP landed at many points of a stream, in real processes.

At every point the same invariants hold: the run ends with the signal's code
and one line; the bytes the note reports are exactly the bytes the file (or
the pipe's reader) holds, and they are what the server sent; no file that
holds audio is deleted; no empty file is left behind.
"""

from __future__ import annotations

import fcntl
import os
import random
import re
import signal
import subprocess
import sys
import termios
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.mock.scenarios import Scenario

from .conftest import API_KEY, ENTRY_POINT, clean_env
from .test_signals import start_cli, wait_for

CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGHUP: 129}
NOTE = re.compile(r"partial audio kept: (.+?) \((\d+) bytes")
SIGNALS = pytest.mark.parametrize("signum", list(CODES), ids=lambda s: signal.Signals(s).name)


def reference_audio(plan: AudioPlan, tmp_path: Path) -> bytes:
    """The whole stream, as the same request gets it without any signal."""
    with (
        FakeCartesia(api_key=API_KEY, plan=plan) as fake,
        start_cli(fake, tmp_path, "-o", "-") as proc,
    ):
        audio, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    return audio


def check_stopped_run(code: int, stderr: str, held: bytes, full: bytes, signum: int) -> None:
    """The invariants, whatever moment the signal landed at."""
    assert "Traceback" not in stderr, stderr
    if code == 0:  # the signal came after the last byte
        assert held == full
        return
    assert stderr.count("\n") == 1, stderr
    assert code == CODES[signum], stderr
    note = NOTE.search(stderr)
    reported = int(note.group(2)) if note else 0
    assert len(held) == reported, stderr  # exactly what the note says
    assert full.startswith(held)  # and exactly what the server sent


@SIGNALS
def test_a_signal_at_any_moment_of_a_large_first_chunk_keeps_exact_files(
    tmp_path: Path, signum: int
) -> None:
    # One-second chunks of 44.1 kHz float audio: each write is 176 kB, so many
    # signals land during or just after a write.
    plan = AudioPlan(chunk_seconds=1.0, audio_seconds=3.0)
    full = reference_audio(plan, tmp_path)
    runs = []
    with FakeCartesia(api_key=API_KEY, plan=plan, pace=0.5) as fake, ExitStack() as procs:
        for index, delay in enumerate(_delays(10, 0.0, 1.0, seed=signum)):
            cwd = tmp_path / f"run{index}"
            cwd.mkdir()
            runs.append((cwd, delay, procs.enter_context(start_cli(fake, cwd, "-o", "out.pcm"))))
        _signal_each(runs, signum, fake)
        outcomes = [(cwd, proc, proc.communicate(timeout=20)[1]) for cwd, _, proc in runs]
    for cwd, proc, err in outcomes:
        out = cwd / "out.pcm"
        note = NOTE.search(err.decode())
        if note or proc.returncode == 0:
            held = out.read_bytes()  # never deleted when it holds audio
        else:
            assert not out.exists(), f"an empty file was left behind: {proc.returncode} {err!r}"
            held = b""
        check_stopped_run(proc.returncode, err.decode(), held, full, signum)


def _bytes_in_pipe(fd: int) -> int:
    """What a pipe holds that nobody has read yet (FIONREAD)."""
    return int.from_bytes(fcntl.ioctl(fd, termios.FIONREAD, bytes(4)), sys.byteorder)


@SIGNALS
def test_a_signal_while_the_pipe_is_full_reports_exactly_what_the_reader_gets(
    tmp_path: Path, signum: int
) -> None:
    plan = AudioPlan(audio_seconds=3.0)  # 529 kB: far more than a pipe holds
    full = reference_audio(plan, tmp_path)
    with (
        FakeCartesia(api_key=API_KEY, plan=plan) as fake,
        start_cli(fake, tmp_path, "-o", "-") as proc,
    ):
        assert proc.stdout is not None
        reader = proc.stdout.fileno()
        # Nobody reads: once the pipe holds audio, the CLI soon waits for room in it.
        # (Waiting on the server's side alone let a loaded machine signal too early.)
        wait_for(lambda: _bytes_in_pipe(reader) > 0)
        time.sleep(0.3)
        proc.send_signal(signum)
        held, err = proc.communicate(timeout=20)
    assert 0 < len(held) < len(full)
    check_stopped_run(proc.returncode, err.decode(), held, full, signum)
    assert "on stdout" in err.decode()


@SIGNALS
def test_a_signal_at_any_moment_of_a_slowly_read_pipe_reports_exact_bytes(
    tmp_path: Path, signum: int
) -> None:
    plan = AudioPlan(audio_seconds=2.0)
    full = reference_audio(plan, tmp_path)
    runs = []
    with FakeCartesia(api_key=API_KEY, plan=plan, pace=0.2) as fake, ExitStack() as procs:
        for delay in _delays(8, 0.0, 0.4, seed=signum + 100):
            proc = procs.enter_context(start_cli(fake, tmp_path, "-o", "-"))
            runs.append((tmp_path, delay, proc))
        readers = [_SlowReader(proc) for _, _, proc in runs]
        _signal_each(runs, signum, fake)
        for (_, _, proc), reader in zip(runs, readers, strict=True):
            reader.join(timeout=20)
            assert proc.stderr is not None
            err = proc.stderr.read().decode()
            proc.wait(timeout=10)
            check_stopped_run(proc.returncode, err, bytes(reader.data), full, signum)


@SIGNALS
def test_a_signal_during_the_retry_wait_stops_at_once_and_leaves_no_file(
    tmp_path: Path, signum: int
) -> None:
    busy = Scenario.http_error(503, headers={"Retry-After": "30"})
    with FakeCartesia(api_key=API_KEY) as fake:
        fake.queue(busy)
        with start_cli(fake, tmp_path, "-o", "out.pcm", "--retries", "1") as proc:
            wait_for(lambda: bool(fake.requests))
            time.sleep(0.2)  # the answer is in: the run is sleeping before its retry
            started = time.monotonic()
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=20)
            stopped_after = time.monotonic() - started
    assert proc.returncode == CODES[signum], err
    assert err.decode().count("\n") == 1 and "Traceback" not in err.decode()
    assert stopped_after < 10  # not the 30 s the server asked for
    assert not (tmp_path / "out.pcm").exists()


class _SlowReader(threading.Thread):
    """Reads a process's stdout in small pieces with pauses, as a slow player would."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        super().__init__(daemon=True)
        self.proc = proc
        self.data = bytearray()
        self.start()

    def run(self) -> None:
        assert self.proc.stdout is not None
        while piece := os.read(self.proc.stdout.fileno(), 8192):
            self.data += piece
            time.sleep(0.002)


def _delays(count: int, low: float, high: float, *, seed: int) -> list[float]:
    rng = random.Random(seed)  # fixed: a failure can be replayed
    return sorted(rng.uniform(low, high) for _ in range(count))


def _signal_each(
    runs: list[tuple[Path, float, subprocess.Popen[bytes]]], signum: int, fake: FakeCartesia
) -> None:
    """Send `signum` to each run at its delay after every request reached the server.

    Counted from there, not from the spawn, so that the signals land in the
    stream however slowly a loaded machine starts the processes (a signal
    during Python's own start-up, before our code, is another test's business).
    """
    wait_for(lambda: len(fake.requests) >= len(runs), timeout=30)
    started = time.monotonic()
    for _, delay, proc in runs:
        time.sleep(max(0.0, started + delay - time.monotonic()))
        if proc.poll() is None:
            proc.send_signal(signum)


@pytest.mark.parametrize("gap", [0.0, 0.005, 0.05, 0.3])
def test_two_quick_ctrl_c_exit_130_with_one_line(tmp_path: Path, gap: float) -> None:
    plan = AudioPlan(audio_seconds=3.0)
    out = tmp_path / "out.pcm"
    fake = FakeCartesia(api_key=API_KEY, plan=plan, pace=1.0)
    with fake, start_cli(fake, tmp_path, "-o", "out.pcm") as proc:
        wait_for(lambda: out.exists() and out.stat().st_size > 0)
        proc.send_signal(signal.SIGINT)
        time.sleep(gap)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert err.decode().startswith("cartesia-cli: error: interrupted; partial audio kept")
    assert err.decode().count("\n") == 1 and "Traceback" not in err.decode()


def test_a_stop_swallowed_by_code_it_landed_in_is_raised_again(tmp_path: Path) -> None:
    # What a finaliser does to an exception a signal handler raises inside it:
    # prints it and goes on. One SIGTERM must still stop the process.
    script = (
        "import time\n"
        "from cartesia_cli import errors, process\n"
        "process.install_handlers()\n"
        "try:\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(30)\n"
        "except BaseException:\n"
        "    print('swallowed', flush=True)\n"
        "time.sleep(30)\n"
    )
    out, err = sigterm_once_ready(script)
    assert out == b"swallowed\n"
    assert b"StopRequested" in err  # raised again, into the second sleep


# --- outputs that can block: a named pipe, a non-blocking stdout ---------------------------


def test_a_named_pipe_nobody_reads_fails_at_the_idle_timeout(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    with FakeCartesia(api_key=API_KEY) as fake:
        started = time.monotonic()
        with start_cli(fake, tmp_path, "-o", "pipe", "--idle-timeout", "1") as proc:
            _, err = proc.communicate(timeout=20)
    assert proc.returncode == 7, err
    assert err.decode() == (
        "cartesia-cli: error: no process opened the named pipe pipe for reading within 1 s; "
        "start its reader first\n"
    )
    assert time.monotonic() - started < 10


def test_a_named_pipe_whose_reader_comes_late_gets_every_byte(tmp_path: Path) -> None:
    plan = AudioPlan(audio_seconds=1.0)
    full = reference_audio(plan, tmp_path)
    os.mkfifo(tmp_path / "pipe")
    fake = FakeCartesia(api_key=API_KEY, plan=plan)
    with fake, start_cli(fake, tmp_path, "-o", "pipe") as proc:
        time.sleep(0.5)  # the audio is ready before anyone reads the pipe
        with open(tmp_path / "pipe", "rb") as reader:
            held = reader.read()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert held == full


def test_a_non_blocking_stdout_with_a_slow_reader_gets_every_byte(tmp_path: Path) -> None:
    # Another program (node, say) left the shared pipe non-blocking: writes then fail
    # with EAGAIN whenever the pipe is full, and must wait instead of failing.
    plan = AudioPlan(audio_seconds=2.0)
    full = reference_audio(plan, tmp_path)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    env = clean_env(CARTESIA_API_KEY=API_KEY)
    with FakeCartesia(api_key=API_KEY, plan=plan) as fake:
        env["CARTESIA_BASE_URL"] = fake.url
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "sse", "Hello, world!", "-o", "-"],
            stdin=subprocess.DEVNULL, stdout=write_end, stderr=subprocess.PIPE, env=env,
        ) as proc:  # fmt: skip
            os.close(write_end)
            held = bytearray()
            with open(read_end, "rb", buffering=0) as reader:
                while piece := reader.read(4096):
                    held += piece
                    time.sleep(0.001)
            _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert bytes(held) == full


def test_a_stop_that_lands_in_a_finaliser_is_not_printed_and_still_stops(
    tmp_path: Path,
) -> None:
    # Python ignores an exception raised in __del__ (or a weakref callback, as seen in
    # importlib), printing "Exception ignored in ..." with a traceback.
    script = (
        "import time\n"
        "from cartesia_cli import errors, process\n"
        "process.install_handlers()\n"
        "class Slow:\n"
        "    def __del__(self):\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(30)\n"
        "try:\n"
        "    Slow()\n"
        "    time.sleep(30)\n"
        "except BaseException as stop:\n"
        "    print('stopped by', type(stop).__name__, flush=True)\n"
    )
    out, err = sigterm_once_ready(script)
    assert out == b"stopped by StopRequested\n"
    assert err == b""  # no "Exception ignored" traceback


def sigterm_once_ready(script: str) -> tuple[bytes, bytes]:
    """Run `script` with our handlers, send one SIGTERM when it prints `ready`; its output."""
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)  # one signal was enough, or this times out
    return out, err


def test_a_named_pipe_whose_reader_is_already_waiting_gets_every_byte(tmp_path: Path) -> None:
    plan = AudioPlan(audio_seconds=1.0)
    full = reference_audio(plan, tmp_path)
    os.mkfifo(tmp_path / "pipe")
    held = bytearray()

    def read_pipe() -> None:
        with open(tmp_path / "pipe", "rb") as reader:  # blocks until the CLI opens it
            held.extend(reader.read())

    reader = threading.Thread(target=read_pipe, daemon=True)
    reader.start()
    time.sleep(0.2)  # the reader is waiting before the command starts
    fake = FakeCartesia(api_key=API_KEY, plan=plan)
    with fake, start_cli(fake, tmp_path, "-o", "pipe", "--idle-timeout", "5") as proc:
        _, err = proc.communicate(timeout=20)
    reader.join(timeout=10)
    assert proc.returncode == 0, err
    assert bytes(held) == full


def test_force_over_a_longer_file_leaves_exactly_the_new_audio(tmp_path: Path) -> None:
    plan = AudioPlan(audio_seconds=0.5)
    full = reference_audio(plan, tmp_path)
    (tmp_path / "old.pcm").write_bytes(b"x" * (len(full) * 3))
    fake = FakeCartesia(api_key=API_KEY, plan=plan)
    with fake, start_cli(fake, tmp_path, "-o", "old.pcm", "--force") as proc:
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert (tmp_path / "old.pcm").read_bytes() == full
