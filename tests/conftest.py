"""Shared fixtures: a fake Cartesia on loopback and a runner for the installed CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

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
def fake() -> Iterator[FakeCartesia]:
    with FakeCartesia(api_key=API_KEY) as server:
        yield server


@pytest.fixture
def cli(fake: FakeCartesia, tmp_path: Path) -> RunCli:
    """Run `cartesia-cli` in a subprocess in `tmp_path`, pointed at the fake server."""

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
        )
        base.update(env or {})
        result = run_entry_point(args, env=base, cwd=tmp_path, input=input, timeout=timeout)
        assert_no_secret(result, base.get("CARTESIA_API_KEY"), *args)
        return result

    return run


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
