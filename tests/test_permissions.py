"""Permission problems met as an unprivileged user: one line, exit 2, before any request.

CI runs as root, for whom most permission checks pass, so these runs drop to
`nobody` with setpriv. They are skipped, with the reason, only where that
cannot work: no setpriv, not root, or an interpreter `nobody` cannot run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, ENTRY_POINT, clean_env

NOBODY = ["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups"]
HELLO = "Hello, world!"


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root, to become nobody"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    probe = subprocess.run([*NOBODY, str(ENTRY_POINT), "--version"], capture_output=True)
    if probe.returncode != 0:
        return f"nobody cannot run {ENTRY_POINT}: {probe.stderr.decode().strip()[:200]}"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))


@pytest.fixture
def home() -> Iterator[Path]:
    """A directory nobody can use (pytest's own tmp_path is root's, 0700)."""
    path = Path(tempfile.mkdtemp(prefix="cartesia-nobody-"))
    path.chmod(0o755)
    os.chown(path, 65534, 65534)
    yield path
    shutil.rmtree(path)


def as_nobody(fake: FakeCartesia, home: Path, *args: str) -> tuple[int, str]:
    env = clean_env(
        CARTESIA_API_KEY=API_KEY,
        CARTESIA_BASE_URL=fake.url,
        CARTESIA_CLI_CONFIG_DIR=str(home / "config"),
        HOME=str(home),
    )
    proc = subprocess.run(
        [*NOBODY, str(ENTRY_POINT), *args],
        stdin=subprocess.DEVNULL, capture_output=True, env=env, cwd=home, timeout=30,
    )  # fmt: skip
    return proc.returncode, proc.stderr.decode()


def owned_by_root(path: Path, mode: int) -> Path:
    path.mkdir()
    path.chmod(mode)
    return path


def test_an_output_directory_nobody_may_write_to(fake: FakeCartesia, home: Path) -> None:
    locked = owned_by_root(home / "locked", 0o755)
    for output in (str(locked), f"{locked}/out.pcm"):
        code, stderr = as_nobody(fake, home, "tts", "sse", HELLO, "-o", output)
        assert code == 2, stderr
        assert stderr.startswith("cartesia-cli: error: cannot create ")
        assert stderr.endswith(": Permission denied\n") and stderr.count("\n") == 1
    assert fake.requests == []
    assert list(locked.iterdir()) == []


def test_an_output_directory_without_search_permission(fake: FakeCartesia, home: Path) -> None:
    unsearchable = home / "unsearchable"
    unsearchable.mkdir()
    os.chown(unsearchable, 65534, 65534)
    unsearchable.chmod(0o666)  # readable and writable, but no x: no name inside can be reached
    code, stderr = as_nobody(fake, home, "tts", "sse", HELLO, "-o", f"{unsearchable}/out.pcm")
    assert code == 2, stderr
    assert "Permission denied" in stderr and stderr.count("\n") == 1
    assert fake.requests == []


def test_an_existing_file_nobody_may_write_even_with_force(fake: FakeCartesia, home: Path) -> None:
    (home / "old.pcm").write_bytes(b"precious")  # root's, 0644
    code, stderr = as_nobody(fake, home, "tts", "sse", HELLO, "-o", "old.pcm", "--force")
    assert code == 2
    assert stderr == "cartesia-cli: error: cannot write to old.pcm: permission denied\n"
    assert (home / "old.pcm").read_bytes() == b"precious"
    assert fake.requests == []


def test_a_config_directory_nobody_may_write_to(fake: FakeCartesia, home: Path) -> None:
    owned_by_root(home / "config", 0o755)
    code, stderr = as_nobody(fake, home, "config", "set", "speed", "1.1")
    assert code == 2, stderr
    assert stderr.startswith("cartesia-cli: error: cannot write config file ")
    assert stderr.endswith("Permission denied\n")


def test_a_config_file_nobody_may_read(fake: FakeCartesia, home: Path) -> None:
    config = owned_by_root(home / "config", 0o755)
    (config / "config.toml").write_text('voice = "v1"\n')
    (config / "config.toml").chmod(0o600)
    for args in (("config", "get"), ("tts", "sse", HELLO, "-o", "out.pcm")):
        code, stderr = as_nobody(fake, home, *args)
        assert (code, stderr) == (
            2,
            f"cartesia-cli: error: cannot read config file {config}/config.toml: "
            "Permission denied\n",
        )
    assert fake.requests == []
    assert not (home / "out.pcm").exists()
