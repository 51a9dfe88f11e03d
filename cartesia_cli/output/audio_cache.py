"""The audio cache: audio already paid for, kept on disk, so the same request is never sent twice.

Each entry is one file, `<key>.audio`, named by the digest of everything that
shapes the audio (`key()`); it holds a header (a magic line, its key, the
audio's SHA-256) and the audio as the API sent it. The cache is bounded
(`max_bytes` in all; `max_entries` files, a generous bound): the least recently
used entries go first, a hit counting as a use (its modification time is set to now).

Rules that keep it safe to read and to share between runs:
- only complete audio goes in: a `Writer` streams the audio into a temporary
  file in the cache folder as it arrives (memory flat in its length) and renames
  it into place only when told the stream completed (`commit`); a stream that
  fails, a stop or a write that fails (a full disk) removes the temporary file,
  so a reader sees a whole entry or none. Two runs writing one key each write
  their own temporary file; the last rename wins, and both are whole;
- an entry whose header, key or digest does not match is ignored (a miss), and
  the next write for its key replaces it;
- only regular files are read: a named pipe, a device, a directory or a
  symbolic link at an entry's name is never opened as one (O_NOFOLLOW, and no
  read before fstat says it is a regular file), so it can neither hang a run
  nor lead a read elsewhere.

No terminal, no settings: the caller says where the cache is and reports failures.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

MAX_BYTES = 500 * 1024 * 1024  # the default cap (config `cache_max_mb`)
MAX_ENTRIES = 100_000  # generous: the cap in bytes is the bound that matters
SUFFIX = ".audio"
MAGIC = b"cartesia-cli audio 1\n"
_KEY_CHARS = frozenset("0123456789abcdef")
_TEMPORARY = ".partial-"
_DIGEST_AT = len(MAGIC) + 65  # the digest's place in the header, written once the audio is
STALE_SECONDS = 3600  # a temporary file this old was left by a run that was killed
READ_CHUNK = 64 * 1024  # a hit's audio goes to the sink in pieces like a stream's


def key(parts: Mapping[str, object]) -> str:
    """The key of the audio these parts make: a SHA-256 of their canonical JSON."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class Entry(NamedTuple):
    path: Path
    size: int
    used_ns: int  # when it was last stored or played (its modification time)


class Usage(NamedTuple):
    entries: int
    bytes: int


class Cached:
    """One entry found whole: its audio read in pieces from the open file. Close it."""

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self.size = size  # of the audio

    def chunks(self, size: int = READ_CHUNK) -> Iterator[bytes]:
        os.lseek(self._fd, header_size(), os.SEEK_SET)
        while chunk := os.read(self._fd, size):
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.chunks(1 << 20))

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Cached:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class AudioCache:
    """The entries in `folder`; made on the first write."""

    def __init__(
        self, folder: Path, *, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES
    ) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.max_entries = max_entries

    def open(self, wanted: str) -> Cached | None:
        """The entry stored under `wanted`, checked whole and marked as just used; None if none.

        Raises nothing for a missing, foreign, corrupt or non-regular entry: each is a miss.
        """
        if not _is_key(wanted):
            return None
        try:
            fd = os.open(self._path(wanted), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        try:
            size = _checked(fd, wanted, self.max_bytes)
            if size is None:
                os.close(fd)
                return None
            now = time.time_ns()
            os.utime(fd, ns=(now, now))  # used now: the last to be evicted
        except OSError:
            os.close(fd)
            return None
        return Cached(fd, size)

    def get(self, wanted: str) -> bytes | None:
        """The whole audio stored under `wanted` (see `open`); None when there is none."""
        found = self.open(wanted)
        if found is None:
            return None
        with found:
            try:
                return found.read()
            except OSError:
                return None

    def writer(self, wanted: str) -> Writer:
        """A new entry for `wanted`, written as the audio comes; in place only on `commit`."""
        if not _is_key(wanted):
            raise ValueError(f"not an audio cache key: {wanted!r}")
        return Writer(self, wanted)

    def put(self, wanted: str, audio: bytes) -> bool:
        """Store `audio` (whole, as received) under `wanted`, then evict to the bounds.

        False when it is not stored: empty, or larger than the cache may hold.
        Raises OSError when the folder or the file cannot be written.
        """
        with self.writer(wanted) as writer:
            writer.add(audio)
            stored = writer.commit()
        if writer.failure is not None:
            raise writer.failure
        return stored

    def entries(self) -> list[Entry]:
        """The entries (regular files named as entries), least recently used first."""
        found = []
        for item in self._listing():
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

    def usage(self) -> Usage:
        entries = self.entries()
        return Usage(len(entries), sum(entry.size for entry in entries))

    def evict(self) -> None:
        """Remove the least recently used entries until both bounds hold, and stale leftovers."""
        entries = self.entries()
        total = sum(entry.size for entry in entries)
        while entries and (len(entries) > self.max_entries or total > self.max_bytes):
            oldest = entries.pop(0)
            oldest.path.unlink(missing_ok=True)
            total -= oldest.size
        self._remove_temporaries(older_than=STALE_SECONDS)

    def clear(self) -> Usage:
        """Remove every entry (and leftover temporary files); what the entries were."""
        removed = [0, 0]
        for entry in self.entries():
            try:
                entry.path.unlink()
            except FileNotFoundError:  # removed by another run meanwhile
                continue
            removed[0] += 1
            removed[1] += entry.size
        self._remove_temporaries(older_than=0)
        return Usage(*removed)

    def _path(self, wanted: str) -> Path:
        return self.folder / f"{wanted}{SUFFIX}"

    def _listing(self) -> list[os.DirEntry[str]]:
        try:
            return list(os.scandir(self.folder))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def _remove_temporaries(self, *, older_than: float) -> None:
        """A temporary file left by a run killed mid-write (SIGKILL) would never go otherwise.

        `older_than=0` (clear) takes them all: one being written by a running job
        is then gone under it, and its commit fails quietly (no entry).
        """
        cutoff = time.time() - older_than
        for item in self._listing():
            if not item.name.startswith(_TEMPORARY):
                continue
            try:
                info = item.stat(follow_symlinks=False)
                if stat.S_ISREG(info.st_mode) and info.st_mtime <= cutoff:
                    os.unlink(item.path)
            except FileNotFoundError:
                continue


class Writer:
    """One entry being written as its audio arrives: a temporary file, renamed on `commit`.

    A failed write (a full disk, a folder that cannot be made) is kept in
    `failure`, the temporary file removed and the rest of the audio ignored:
    the run goes on without the entry. Audio past the cap is not kept either
    (`too_large`). Used as a context manager, anything not committed is removed.
    """

    def __init__(self, cache: AudioCache, wanted: str) -> None:
        self._cache = cache
        self._key = wanted
        self._fd = -1
        self._temporary: str | None = None
        self._digest = hashlib.sha256()
        self.size = 0  # of the audio written
        self.failure: OSError | None = None
        self.too_large = False

    @property
    def folder(self) -> Path:
        return self._cache.folder

    @property
    def dropped(self) -> bool:
        return self.failure is not None or self.too_large

    def add(self, audio: bytes) -> None:
        if self.dropped or not audio:
            return
        if header_size() + self.size + len(audio) > self._cache.max_bytes:
            self.too_large = True
            self.abort()
            return
        try:
            if self._fd < 0:
                self._start()
            _write_all(self._fd, audio)
        except OSError as exc:
            self.failure = exc
            self.abort()
            return
        self._digest.update(audio)
        self.size += len(audio)

    def commit(self) -> bool:
        """The audio is complete: put the entry in place (then evict); whether it is stored."""
        if self.dropped or self._fd < 0 or self._temporary is None:
            self.abort()
            return False
        try:
            os.pwrite(self._fd, self._digest.hexdigest().encode(), _DIGEST_AT)
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1
            # A named pipe or link at the entry's name is replaced, not followed.
            os.replace(self._temporary, self._cache._path(self._key))
        except OSError as exc:
            self.failure = exc
            self.abort()
            return False
        self._temporary = None
        with contextlib.suppress(OSError):  # the entry is in place; the next write evicts again
            self._cache.evict()
        return True

    def abort(self) -> None:
        """No entry: the temporary file (if any) removed."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._temporary is not None:
            Path(self._temporary).unlink(missing_ok=True)
            self._temporary = None

    def _start(self) -> None:
        import tempfile

        folder = self._cache.folder
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fd, self._temporary = tempfile.mkstemp(dir=folder, prefix=_TEMPORARY)
        header = b"".join((MAGIC, self._key.encode(), b"\n", b"0" * 64, b"\n"))
        _write_all(self._fd, header)

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.abort()  # after a commit there is nothing left to remove


def header_size() -> int:
    return len(MAGIC) + 2 * 65


def _is_key(text: str) -> bool:
    return len(text) == 64 and _KEY_CHARS.issuperset(text)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _checked(fd: int, wanted: str, limit: int) -> int | None:
    """The audio's size in the entry open on `fd` if it is ours, for this key, and whole.

    A regular file of at most `limit` bytes, its header right, its audio's
    digest the header's: read through once, in pieces, without keeping it.
    """
    info = os.fstat(fd)
    start = header_size()
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit or info.st_size <= start:
        return None
    header = os.pread(fd, start, 0)
    if not header.startswith(MAGIC):
        return None
    lines = header[len(MAGIC) :].split(b"\n")  # key, digest, and "" after the last line
    if len(lines) != 3 or lines[0] != wanted.encode() or lines[2] != b"":
        return None
    digest = hashlib.sha256()
    size = 0
    os.lseek(fd, start, os.SEEK_SET)
    while chunk := os.read(fd, 1 << 20):
        size += len(chunk)
        if start + size > limit:  # grew while read: not an entry of ours
            return None
        digest.update(chunk)
    return size if digest.hexdigest().encode() == lines[1] else None
