"""`narrate`'s parts: each paragraph's audio in a file of its own in `DIR/.parts/`, whole or absent.

A part is `<key>.pcm`, the raw PCM exactly as the API sent it, and `<key>.json`,
its word timestamps and the SHA-256 of its PCM as received. Its key is the hash
of its text and of every setting that reaches its request (jobs/narrate_plan.py),
so a part is reused only for the same paragraph said the same way. Both are
written to temporary names and renamed into place, the words first: a `.pcm`
under its own name is complete and has its words beside it. A crash leaves at
most temporary files, which the next run removes. One run at a time writes a
folder (an advisory lock).

Only audio received goes into a book: a part is never read through a link
(lstat, O_NOFOLLOW), and its bytes are checked against its digest whenever a
chapter or the book is made from it, which reads them anyway (output/pcm_concat.py);
a finished book that needs no new file reads no part at all.

Parts live in the book's folder, not in a cache that evicts: a book's parts
must stay until the book is done, and the folder is where the user looks for
what the book has cost.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, NamedTuple

from cartesia_cli.errors import OutputError, UsageError

PARTS = ".parts"
_TEMPORARY = "partial-"
_KEY = re.compile(r"[0-9a-f]{64}")
MAX_WORDS_FILE = 16 * 1024 * 1024


class Word(NamedTuple):
    text: str
    start: float  # seconds from the start of its part
    end: float


class PartRecord(NamedTuple):
    """What was recorded beside a part when it was written."""

    digest: str | None  # SHA-256 (hex) of its PCM as received; None: not recorded, not to trust
    words: list[Word]


def is_key(value: object) -> bool:
    return isinstance(value, str) and _KEY.fullmatch(value) is not None


class PartsFolder:
    """`DIR/.parts`: what has been said, by key."""

    def __init__(self, book_folder: Path) -> None:
        self.folder = book_folder / PARTS

    def audio(self, key: str) -> Path:
        return self.folder / f"{key}.pcm"

    def words_file(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def size(self, key: str) -> int | None:
        """The part's size in bytes, or None when it is not there as a regular file of its own
        (a link at its name is not a part: what it points to was never received)."""
        try:
            info = os.lstat(self.audio(key))
        except OSError:
            return None
        return info.st_size if _is_regular(info.st_mode) else None

    def words(self, key: str) -> list[Word]:
        """The part's word times; none when its file is missing or unreadable."""
        return self.record(key).words

    def record(self, key: str) -> PartRecord:
        """The part's digest and word times; neither when its file is missing, a link, or
        unreadable (the part is then not trusted: see narrate_assembly.py)."""
        try:
            fd = os.open(self.words_file(key), os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as file:
                if not _is_regular(os.fstat(file.fileno()).st_mode):
                    return PartRecord(None, [])
                data = json.loads(file.read(MAX_WORDS_FILE))
            words = [Word(str(t), float(s), float(e)) for t, s, e in data["words"]]
            digest = data.get("sha256")
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return PartRecord(None, [])
        return PartRecord(digest if is_key(digest) else None, words)

    def prepare(self) -> None:
        """The folder made (a real folder: never one a link points to)."""
        try:
            if self.folder.is_symlink():
                raise UsageError(f"{self.folder} is a link; narrate keeps its parts in a folder")
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write {self.folder}: {exc.strerror or exc}") from None

    def clean(self, names: Iterable[str] = ()) -> None:
        """What a stopped run left half-written removed (hold the lock): temporary parts, and
        in the book's folder the temporary files narrate makes beside `names` (its chapter,
        book, caption and manifest files) -- never another file."""
        book = self.folder.parent
        try:
            for leftover in self.folder.glob(f"{_TEMPORARY}*"):
                leftover.unlink(missing_ok=True)
            for entry in os.scandir(book):
                if entry.is_file(follow_symlinks=False) and is_temporary_of(entry.name, names):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
        except OSError as exc:
            raise OutputError(f"cannot write {book}: {exc.strerror or exc}") from None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Held while a run writes the folder: a second run on the same folder is refused."""
        import fcntl

        try:
            fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutputError(f"cannot write {self.folder}: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise UsageError(
                    f"another narrate is writing {self.folder.parent}; wait for it to finish"
                ) from None
            yield
        finally:
            os.close(fd)  # the lock goes with it

    def writer(self, key: str) -> PartWriter:
        return PartWriter(self, key)

    def remove(self, key: str) -> None:
        for path in (self.audio(key), self.words_file(key)):
            with contextlib.suppress(OSError):
                path.unlink()


class PartWriter:
    """One part being received: a temporary file until `commit` names it."""

    def __init__(self, parts: PartsFolder, key: str) -> None:
        self._parts = parts
        self.key = key
        self.size = 0
        self._file: IO[bytes] | None = None
        self._name = ""
        self.words: list[Word] = []
        self._digest = hashlib.sha256()

    def write(self, audio: bytes) -> None:
        try:
            if self._file is None:
                fd, self._name = tempfile.mkstemp(dir=self._parts.folder, prefix=_TEMPORARY)
                self._file = os.fdopen(fd, "wb")
            self._file.write(audio)
        except OSError as exc:
            raise _failure(self._parts.folder, exc) from None
        self._digest.update(audio)
        self.size += len(audio)

    def add_words(self, words: Sequence[Word]) -> None:
        self.words.extend(words)

    def commit(self) -> int:
        """The part complete: its words and digest, then its audio, under their names. Its size."""
        try:
            if self._file is None:  # a paragraph that made no sound: an empty part
                fd, self._name = tempfile.mkstemp(dir=self._parts.folder, prefix=_TEMPORARY)
                self._file = os.fdopen(fd, "wb")
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            record = {
                "sha256": self._digest.hexdigest(),
                "bytes": self.size,
                "words": [list(word) for word in self.words],
            }
            words_file = self._parts.words_file(self.key)
            _replace_whole(words_file, [json.dumps(record).encode()], prefix=_TEMPORARY)
            os.replace(self._name, self._parts.audio(self.key))
        except OSError as exc:
            self.abandon()
            raise _failure(self._parts.folder, exc) from None
        self._file = None
        return self.size

    def abandon(self) -> None:
        """Not complete: nothing of it is kept."""
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        if self._name:
            with contextlib.suppress(OSError):
                os.unlink(self._name)


_MKSTEMP_TAIL = r"[a-z0-9_]{8}"  # tempfile.mkstemp's random part
_ATOMIC_MAX = 40  # atomic.replacing keeps this much of the name in its temporary's


def is_temporary_of(name: str, names: Iterable[str]) -> bool:
    """Whether `name` is one of the temporary files made beside one of `names`: by
    `write_file_atomically` (`.NAME.partial-XXXXXXXX`) or by atomic.replacing
    (`.NAME[:40].XXXXXXXX.partial`)."""
    for own in names:
        if re.fullmatch(re.escape(f".{own}.{_TEMPORARY}") + _MKSTEMP_TAIL, name):
            return True
        ours = re.escape(f".{own[:_ATOMIC_MAX]}.") + _MKSTEMP_TAIL + re.escape(".partial")
        if re.fullmatch(ours, name):
            return True
    return False


def write_file_atomically(path: Path, data: Iterable[bytes]) -> None:
    """`path` replaced whole (a temporary file beside it, synced, renamed): old or new."""
    try:
        _replace_whole(path, data, prefix=f".{path.name}.{_TEMPORARY}")
    except OSError as exc:
        raise _failure(path.parent, exc) from None


def _replace_whole(path: Path, data: Iterable[bytes], *, prefix: str) -> None:
    """`path` written under a temporary name (`prefix`), synced, then renamed over it; the
    temporary is removed on any failure, which is raised as it came (an OSError)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as file:
            for chunk in data:
                file.write(chunk)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _failure(where: Path, exc: OSError) -> OutputError:
    return OutputError(f"could not write to {where}: {exc.strerror or exc}")


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)
