"""Shared fixtures: a fake Cartesia on loopback, and runners for the CLI.

`cli` runs the CLI in this process with its own descriptors 0-2 (fast);
`cli_process` runs the installed entry point as a real process, for what needs
one: signals, terminals, pipes, and one run of each command.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import pytest

from cartesia_cli import process
from cartesia_cli.mock import FakeCartesia

# A canary: every CLI run through the `cli` fixture asserts it never shows up.
API_KEY = "sk-canary-3f9a1c7e5b2d4e6f8a0b"
VOICE = "a0e99841-438c-4a64-b679-ae501e7d6091"
ENTRY_POINT = Path(sys.executable).with_name("cartesia-cli")


@dataclass
class Result:
    code: int
    stdout: bytes
    stderr: str


class RunCli(Protocol):
    def __call__(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        timeout: float = 30,
    ) -> Result: ...


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that would steer the CLI."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CARTESIA", "_CARTESIA")) and k not in ("NO_COLOR", "FORCE_COLOR")
    }
    # The player the tests' stand-ins answer to: `auto` would pick the in-process player
    # (installed with the dev extra), which would play out loud. Tests of `auto` say so.
    env["CARTESIA_PLAYER"] = "ffplay"
    env.update(extra)
    return env


def run_entry_point(
    args: tuple[str, ...],
    *,
    env: dict[str, str],
    cwd: Path,
    input: bytes | None = None,
    timeout: float = 30,
) -> Result:
    assert ENTRY_POINT.exists(), f"install the package first (pip install -e .): {ENTRY_POINT}"
    proc = subprocess.run(
        [str(ENTRY_POINT), *args],
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr.decode())


@pytest.fixture
def handlers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The entry point's handlers in this process, with the module's stop state fresh."""
    watched = (*process.STOP_SIGNALS, signal.SIGALRM)
    saved = {signum: signal.getsignal(signum) for signum in watched}
    fresh = [("_raised", None), ("_pending", None), ("_taken", False), ("_holding", False)]
    for name, value in fresh:
        monkeypatch.setattr(process, name, value)
    process.install_handlers()
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    monkeypatch.setattr(process, "_installed", False)


def stand_in(folder: Path, name: str, script: str) -> Path:
    """An executable `name` in `folder` (made if missing) running `script`: a program the CLI
    starts (ffplay, ffmpeg) played by a test. Returns the folder, to put first on PATH."""
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(script)
    (folder / name).chmod(0o755)
    return folder


@pytest.fixture
def fake() -> Iterator[FakeCartesia]:
    with FakeCartesia(api_key=API_KEY) as server:
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throw-away certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_fake(certificate: tuple[str, str]) -> Iterator[FakeCartesia]:
    """The fake over https, with `certificate`; trusted only through SSL_CERT_FILE."""
    with FakeCartesia(api_key=API_KEY, tls=certificate) as server:
        yield server


def run_in_process(
    args: tuple[str, ...], *, env: dict[str, str], cwd: Path, input: bytes | None = None
) -> Result:
    """`cli.run(args)` here, with descriptors 0-2, sys.std*, environment and cwd of its own.

    The CLI writes audio with os.write(1, ...), so descriptors are swapped, not
    just the sys streams.
    """
    from cartesia_cli.cli import run

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, _stdin(input) as inp:
        saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
        saved_streams = (sys.stdin, sys.stdout, sys.stderr)
        saved_env, saved_cwd = dict(os.environ), os.getcwd()
        try:
            for fd, target in zip((0, 1, 2), (inp, out, err), strict=True):
                os.dup2(target.fileno(), fd)
            sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "rb", closefd=False)))
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "wb", closefd=False), write_through=True)
            sys.stderr = io.TextIOWrapper(io.FileIO(2, "wb", closefd=False), write_through=True)
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            code = run(list(args))
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
            sys.stdin, sys.stdout, sys.stderr = saved_streams
            for fd, saved in zip((0, 1, 2), saved_fds, strict=True):
                os.dup2(saved, fd)
                os.close(saved)
        out.seek(0)
        err.seek(0)
        return Result(code, out.read(), err.read().decode())


def _stdin(data: bytes | None) -> IO[bytes]:
    """What the CLI reads on fd 0: the given bytes, or an empty file (like /dev/null)."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    handle.write(data or b"")
    handle.seek(0)
    return handle


def _runner(fake: FakeCartesia, tmp_path: Path, *, in_process: bool) -> RunCli:
    def run(
        *args: str,
        env: dict[str, str] | None = None,
        input: bytes | None = None,
        timeout: float = 30,
    ) -> Result:
        base = clean_env(
            CARTESIA_API_KEY=API_KEY,
            CARTESIA_BASE_URL=fake.url,
            CARTESIA_CLI_CONFIG_DIR=str(tmp_path / "config"),
            CARTESIA_CLI_CACHE_DIR=str(tmp_path / "cache"),  # names looked up: never the user's
            # say's speech queue: one per test, beside its folder (whose files tests count)
            CARTESIA_CLI_RUNTIME_DIR=str(tmp_path.with_name(f"{tmp_path.name}-run")),
        )
        base.update(env or {})
        if in_process:
            result = run_in_process(args, env=base, cwd=tmp_path, input=input)
        else:
            result = run_entry_point(args, env=base, cwd=tmp_path, input=input, timeout=timeout)
        assert_no_secret(result, base.get("CARTESIA_API_KEY"), *args)
        return result

    return run


@pytest.fixture
def cli(fake: FakeCartesia, tmp_path: Path) -> RunCli:
    """Run the CLI in this process in `tmp_path`, pointed at the fake server."""
    return _runner(fake, tmp_path, in_process=True)


@pytest.fixture
def cli_process(fake: FakeCartesia, tmp_path: Path) -> RunCli:
    """Run the installed `cartesia-cli` as a process in `tmp_path`, pointed at the fake."""
    return _runner(fake, tmp_path, in_process=False)


def assert_no_secret(result: Result, env_key: str | None, *args: str) -> None:
    """The key (from the environment or --api-key) appears in no output, --debug included."""
    secrets = {API_KEY, env_key or API_KEY}
    if "--api-key" in args:
        secrets.add(args[args.index("--api-key") + 1])
    for secret in filter(None, secrets):
        assert secret not in result.stderr, "the API key leaked to stderr"
        assert secret.encode() not in result.stdout, "the API key leaked to stdout"


def assert_one_error_line(stderr: str) -> None:
    """Failures print exactly one line, with the shared prefix and no traceback."""
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith("cartesia-cli: error: "), stderr
    assert "Traceback" not in stderr


def spoken_samples(transcript: str, rate: int, chunk_seconds: float = 0.1) -> int:
    """How many samples the fake speaks for `transcript`: its speech, padded to whole chunks."""
    from cartesia_cli.mock.speech import utterance

    speech = utterance(transcript, "pcm_s16le", rate, round(chunk_seconds * rate))
    return len(speech.cycle) // 2
