"""A small local store of audio already paid for: a voice tried twice is fetched once.

Each entry is one file, `<key>.sample`, named by the digest of everything that
shapes the audio (`key()`); it holds a header (a magic line, its key, the
audio's SHA-256) and the audio as the API sent it. The store is bounded
(MAX_ENTRIES files, MAX_BYTES in all): the least recently used entries go
first, a hit counting as a use (its modification time is set to now).

Rules that keep it safe to read and to share between runs:
- only complete audio goes in (`put` is given it after the stream ended as it
  should), written to a temporary file and renamed into place, so a reader sees
  a whole entry or none, and an interrupted write leaves no entry;
- an entry whose header, key or digest does not match is ignored (a miss), and
  the next `put` for its key replaces it;
- only regular files are read: a named pipe, a device, a directory or a
  symbolic link at an entry's name is never opened as one (O_NOFOLLOW, and no
  read before fstat says it is a regular file), so it can neither hang a run
  nor lead a read elsewhere.

No terminal, no settings: the caller says where the store is and reports failures.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

MAX_ENTRIES = 100
MAX_BYTES = 50 * 1024 * 1024
SUFFIX = ".sample"
MAGIC = b"cartesia-cli sample 1\n"
_KEY_CHARS = frozenset("0123456789abcdef")
_TEMPORARY = ".partial-"
STALE_SECONDS = 3600  # a temporary file this old was left by a run that was killed


def key(parts: Mapping[str, object]) -> str:
    """The key of the audio these parts make: a SHA-256 of their canonical JSON."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Entry(NamedTuple):
    path: Path
    size: int
    used_ns: int  # when it was last stored or played (its modification time)


class Recording:
    """The audio of one stream as it passes, up to `limit` bytes; past that, none of it."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._parts: list[bytes] | None = []
        self._size = 0

    def add(self, data: bytes) -> None:
        if self._parts is None:
            return
        self._size += len(data)
        if self._size > self._limit:
            self._parts = None  # too large to keep: the memory goes back at once
            return
        self._parts.append(data)

    @property
    def audio(self) -> bytes | None:
        """What was recorded; None when it outgrew the limit."""
        return None if self._parts is None else b"".join(self._parts)


class SampleStore:
    """The entries in `folder`; made on the first `put`."""

    def __init__(
        self, folder: Path, *, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES
    ) -> None:
        self.folder = folder
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def recording(self) -> Recording:
        """A recording bounded by what one entry may hold."""
        return Recording(self.max_bytes - _header_size())

    def get(self, wanted: str) -> bytes | None:
        """The audio stored under `wanted`, marked as just used; None when there is none.

        Raises nothing for a missing, foreign, corrupt or non-regular entry: each is a miss.
        """
        if not _is_key(wanted):
            return None
        try:
            fd = os.open(self._path(wanted), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            data = _read_regular(fd, self.max_bytes)
            audio = None if data is None else _audio_in(data, wanted)
            if audio is not None:
                now = time.time_ns()
                os.utime(fd, ns=(now, now))  # used now: the last to be evicted
            return audio
        except OSError:
            return None
        finally:
            os.close(fd)

    def put(self, wanted: str, audio: bytes) -> bool:
        """Store `audio` (whole, as received) under `wanted`, then evict to the bounds.

        False when it is not stored: empty, or larger than the store may hold.
        Raises OSError when the folder or the file cannot be written.
        """
        if not _is_key(wanted):
            raise ValueError(f"not a sample key: {wanted!r}")
        data = _entry(wanted, audio)
        if not audio or len(data) > self.max_bytes:
            return False
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_atomically(self._path(wanted), data)
        self.evict()
        return True

    def entries(self) -> list[Entry]:
        """The entries (regular files named as entries), least recently used first."""
        found = []
        try:
            listing = list(os.scandir(self.folder))
        except (FileNotFoundError, NotADirectoryError):
            return []
        for item in listing:
            name = item.name
            if not (name.endswith(SUFFIX) and _is_key(name[: -len(SUFFIX)])):
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:  # evicted by another run meanwhile
                continue
            if stat.S_ISREG(info.st_mode):
                found.append(Entry(Path(item.path), info.st_size, info.st_mtime_ns))
        return sorted(found, key=lambda entry: (entry.used_ns, entry.path.name))

    def evict(self) -> None:
        """Remove the least recently used entries until both bounds hold, and stale leftovers."""
        entries = self.entries()
        total = sum(entry.size for entry in entries)
        while entries and (len(entries) > self.max_entries or total > self.max_bytes):
            oldest = entries.pop(0)
            oldest.path.unlink(missing_ok=True)
            total -= oldest.size
        self._remove_stale_temporaries()

    def _path(self, wanted: str) -> Path:
        return self.folder / f"{wanted}{SUFFIX}"

    def _remove_stale_temporaries(self) -> None:
        """A temporary file left by a run killed mid-write (SIGKILL) would never go otherwise."""
        cutoff = time.time() - STALE_SECONDS
        try:
            listing = list(os.scandir(self.folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for item in listing:
            if not item.name.startswith(_TEMPORARY):
                continue
            try:
                info = item.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                    os.unlink(item.path)
            except FileNotFoundError:
                continue


def _is_key(text: str) -> bool:
    return len(text) == 64 and _KEY_CHARS.issuperset(text)


def _header_size() -> int:
    return len(MAGIC) + 2 * 65


def _entry(wanted: str, audio: bytes) -> bytes:
    digest = hashlib.sha256(audio).hexdigest()
    return b"".join((MAGIC, wanted.encode(), b"\n", digest.encode(), b"\n", audio))


def _audio_in(data: bytes, wanted: str) -> bytes | None:
    """The audio of an entry that is ours, for this key, and whole; else None."""
    start = _header_size()
    if len(data) <= start or not data.startswith(MAGIC):
        return None
    header = data[len(MAGIC) : start].split(b"\n")  # key, digest, and "" after the last line
    if len(header) != 3 or header[0] != wanted.encode() or header[2] != b"":
        return None
    audio = data[start:]
    return audio if hashlib.sha256(audio).hexdigest().encode() == header[1] else None


def _read_regular(fd: int, limit: int) -> bytes | None:
    """The whole file open on `fd` if it is a regular file of at most `limit` bytes."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        return None
    chunks = []
    size = 0
    while chunk := os.read(fd, 1 << 20):
        size += len(chunk)
        if size > limit:  # grew while read: not an entry of ours
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _write_atomically(path: Path, data: bytes) -> None:
    """A new file beside `path`, written whole and synced, then renamed over it."""
    import tempfile

    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMPORARY)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)  # a named pipe or link at `path` is replaced, not followed
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
