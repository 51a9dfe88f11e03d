"""Outputs that must not land on each other, and the subtitle file claimed like the audio.

Two names are one file when they lead to one inode (a hard link, a symbolic
link, `./x` and `x`), or, for names whose file does not exist yet, when they
resolve to one path. A text file (the subtitles) is claimed before the request
as the audio is: created exclusively, or, with `--force`, an existing one left
untouched until its new text is written whole at the end.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cartesia_cli.errors import OUTPUT_EXISTS, OutputError, UsageError
from cartesia_cli.output.sinks import USAGE_ERRNOS


def same_file(first: str | os.PathLike[str], second: str | os.PathLike[str]) -> bool:
    """Whether the two names lead to one file, or would once it is created."""
    try:
        one, other = os.stat(first), os.stat(second)
    except OSError:  # one of them is not there yet: where would it be created?
        return os.path.realpath(first) == os.path.realpath(second)
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


def is_open_regular_file(path: str | os.PathLike[str], fd: int) -> bool:
    """Whether `path` is the regular file open on descriptor `fd` (an input being read)."""
    try:
        held, named = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(held.st_mode):
        return False  # a pipe or a terminal: no file whose content could be lost
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


class ClaimedFile:
    """A text file claimed before the request and written, whole, once the run ends.

    A new file is created at once (O_EXCL), empty, so that nothing else takes the
    name meanwhile; if the run ends without writing it, `release` removes it. An
    existing file (only with `force`) is not touched until `write`, so a run
    that fails before writing leaves it as it was.
    """

    def __init__(self, path: Path, *, force: bool) -> None:
        self.path = path
        self._fd: int | None = None
        self._written = False
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            if not force:
                raise UsageError(f"{path} already exists", kind=OUTPUT_EXISTS) from None
            if os.path.exists(path) and not os.access(path, os.W_OK):
                raise UsageError(f"cannot write to {path}: permission denied") from None
        except OSError as exc:
            if exc.errno in USAGE_ERRNOS:
                raise UsageError(f"cannot create {path}: {exc.strerror}") from None
            raise OutputError(f"cannot create {path}: {exc.strerror}") from None

    def write(self, text: str) -> None:
        """Replace the file's content with `text` (UTF-8); OSError if it cannot.

        A lone surrogate (valid in a server's JSON, not in UTF-8) is written as its escape.
        """
        data = text.encode("utf-8", "backslashreplace")
        self._written = True
        if self._fd is not None:
            _write_all(self._fd, data)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)

    def release(self) -> None:
        """Close the claim; a file created by it and never written is removed."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        if not self._written:
            self.path.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
