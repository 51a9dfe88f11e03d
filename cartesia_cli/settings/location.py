"""Where `config.toml` lives, and how it is read, without typer: launch.py reads it first.

The same folder typer's `get_app_dir` gives (tests/test_config.py holds the two
together): the platform's per-user config folder, unless $CARTESIA_CLI_CONFIG_DIR
names another. Our files (the config, the voice cache) are read by
`read_regular_file`, which opens nothing but a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Mapping

APP_NAME = "cartesia-cli"
CONFIG_DIR_ENV = "CARTESIA_CLI_CONFIG_DIR"
FILE_NAME = "config.toml"


def app_dir(env: Mapping[str, str] = os.environ) -> str:
    """The platform's per-user config folder for this program."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return os.path.join(env.get("APPDATA") or os.path.expanduser("~"), APP_NAME)
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        return os.path.join(os.path.expanduser("~/Library/Application Support"), APP_NAME)
    home = env.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    return os.path.join(home, APP_NAME)


def config_file(env: Mapping[str, str] = os.environ) -> str:
    """`$CARTESIA_CLI_CONFIG_DIR/config.toml`, else `config.toml` in the app folder."""
    return os.path.join(env.get(CONFIG_DIR_ENV) or app_dir(env), FILE_NAME)


# Non-blocking: a FIFO swapped in after the check must not hang the open or the read.
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)


class NotRegularFile(OSError):
    """A named pipe, device, directory or socket where one of our files should be."""

    def __init__(self, mode: int) -> None:
        super().__init__(errno.EINVAL, f"it is {_kind(mode)}, not a regular file")


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes | None:
    """Up to `limit` + 1 bytes of the file (more than `limit` means too large); None if absent.

    Links are followed. Anything but a regular file raises NotRegularFile before
    it is opened, so a named pipe cannot hang the read nor a device be woken by
    it; the open is non-blocking and checked again (the path may change between).
    Other failures raise OSError.
    """
    try:
        if not stat.S_ISREG(mode := os.stat(path).st_mode):
            raise NotRegularFile(mode)
        fd = os.open(path, _READ_FLAGS)
    except FileNotFoundError:
        return None
    try:
        if not stat.S_ISREG(mode := os.fstat(fd).st_mode):
            raise NotRegularFile(mode)
        chunks: list[bytes] = []
        size = 0
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def writable_target(path: str | os.PathLike[str]) -> str:
    """Where a write to `path` should go: where its links lead (so they stay links).

    Only a regular file there may be replaced, or nothing yet (a link to a file not
    made yet is made where it points); anything else raises NotRegularFile, with the
    path as its filename. os.stat follows links as the kernel does, /proc's
    included: a link to /dev/stdout is the terminal or pipe it names.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        error = NotRegularFile(mode)
        error.filename = os.fspath(path)
        raise error
    return os.path.realpath(path)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "of another kind"
