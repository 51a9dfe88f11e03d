"""A file that appears whole or not at all: made under a temporary name beside it, then renamed.

A failure part-way (ours, ffmpeg's, a Ctrl-C) removes the temporary file and
leaves whatever was at the name before untouched; success replaces it in one
rename, so a reader never sees a half-written chapter or book.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from cartesia_cli.errors import OutputError


@contextlib.contextmanager
def replacing(out: Path) -> Iterator[Path]:
    """A new empty file beside `out` to write; renamed over `out` when the block ends well."""
    import tempfile

    try:
        fd, name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name[:40]}.", suffix=".partial")
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        _sync(temporary)
        os.replace(temporary, out)  # a link at `out` is replaced, not followed
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(out: Path, text: str) -> None:
    """`text` as UTF-8 into `out`, atomically."""
    with replacing(out) as temporary:
        temporary.write_text(text, encoding="utf-8")


def _sync(path: Path) -> None:
    """On disk before the rename: a crash after it never leaves an empty file under the name."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
