"""Where the audio goes: a file (created exclusively) or stdout, written straight to the fd.

Rules: nothing that already exists is overwritten without `--force`; a failure
before any audio leaves no file behind; after audio, the file keeps exactly the
bytes received.
"""

from __future__ import annotations

import errno
import math
import os
import select
import stat
import time
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from cartesia_cli.errors import (
    AUDIO_TO_TERMINAL,
    OUTPUT_EXISTS,
    BrokenPipe,
    OutputError,
    UsageError,
)
from cartesia_cli.output import wav
from cartesia_cli.output.mp3_frames import Mp3Clock
from cartesia_cli.output.naming import timestamped_name

STDOUT = "-"
# Why a new file cannot be made that the user can fix by choosing another -o (exit 2).
USAGE_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG,
     errno.ELOOP, errno.EISDIR}
)  # fmt: skip
_MAX_SUFFIX = 1000


READER_WAIT = 10.0  # seconds a named pipe may stay without a reader; --idle-timeout sets it
HEAD_BYTES = 512  # kept from the start of the audio: enough for any WAV header


class Sink:
    """Writes audio bytes to one file descriptor and counts them, exactly.

    Exactly means under signals too. A signal handler that raises runs either
    inside `os.write` (only when the write was interrupted before it wrote a
    byte: EINTR) or between bytecodes after it returned. So each write's count
    is appended to `_counts` by `list.extend` over `map`, in C, as the write
    returns, before any bytecode (and so any handler) runs: a count is never
    lost, and a write interrupted before any byte counts nothing. Blocking
    writes stay interruptible (a stalled reader cannot hold Ctrl-C back), and
    the hot path is one `os.write` per chunk. A descriptor that is non-blocking
    (a named pipe we opened, or a stdout someone else made so) is waited on
    with poll() when full, instead of failing with EAGAIN.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.head = b""  # the first HEAD_BYTES written, for reading a container's header
        self._fd: int | None = None
        # Does the audio stay where it went, to be played again (not /dev/null, not a pipe)?
        self.is_regular_file = False
        self.keeps_audio = True  # False: the audio only passes through (a player)
        self._counts: list[int] = []  # one per write, folded into one after each chunk
        self._room: select.poll | None = None
        self._wav: wav.Layout | None = None  # set: a WAV header goes before the audio
        # Where the output starts in its file, when it can be patched there (a header's sizes).
        self._start: int | None = None
        self._mp3: Mp3Clock | None = None  # set: the audio is MP3, timed by its frames

    def frame_as_wav(self, layout: wav.Layout) -> None:
        """Put a WAV header before the audio, with its sizes patched on close where possible."""
        self._wav = layout

    def time_as_mp3(self) -> None:
        """Count the MP3 frames written, for `mp3_clock`."""
        self._mp3 = Mp3Clock()

    def mp3_clock(self) -> Mp3Clock | None:
        """The MP3 written so far, timed by its frames; None when not timed as MP3."""
        return self._mp3

    @property
    def is_stdout(self) -> bool:
        return False

    @property
    def bytes_written(self) -> int:
        return sum(self._counts)

    @property
    def audio_bytes(self) -> int:
        """Bytes of the audio received that reached the output; a header made here is not."""
        written = self.bytes_written
        return written if self._wav is None else max(0, written - self._wav.header_size)

    def write(self, data: bytes) -> None:
        fd = self._fd if self._fd is not None else self._open()
        if len(self.head) < HEAD_BYTES:  # the audio as received: a header made here is not in it
            self.head = (self.head + data)[:HEAD_BYTES]
        if not self._counts:
            self._start = _patchable_offset(fd)
        if self._wav is not None:
            data = self._framed(self._wav, data)
        view = memoryview(data)
        try:
            while view:
                view = view[self._write_once(fd, view) :]
        except BrokenPipeError:
            raise BrokenPipe() from None
        except OSError as exc:
            raise OutputError(f"could not write audio to {self.label}: {exc.strerror}") from None
        # One slice assignment: a signal lands before it or after it, and the sum holds.
        self._counts[:] = (sum(self._counts),)
        if self._mp3 is not None:
            self._mp3.feed(data)

    def _framed(self, layout: wav.Layout, data: bytes) -> bytes:
        written = self.bytes_written
        audio = written - layout.header_size if written else 0
        if audio + len(data) > layout.max_data:
            raise OutputError(
                "a WAV file holds at most 4 GiB of audio; use --container raw for longer streams"
            )
        if written:
            return data
        return layout.header() + data  # the header goes out with the first audio, never alone

    def _patch_wav(self) -> None:
        """Write the real sizes into the header of a seekable file (a partial run's too)."""
        layout = self._wav
        if layout is None or self.bytes_written < layout.header_size:
            return
        # Unpatched, the streaming sizes still read to the end.
        self.rewrite(0, layout.header(self.bytes_written - layout.header_size))

    def rewrite(self, offset: int, data: bytes) -> bool:
        """Write `data` over the output at `offset` from its start: a header's real figures.

        Only in a regular file opened here and not for appending (pwrite appends
        there); elsewhere (a pipe, a device) the output stays as streamed. Says
        whether it was rewritten.
        """
        at, fd = self._start, self._fd
        if at is None or fd is None or offset + len(data) > self.bytes_written:
            return False
        try:
            os.pwrite(fd, data, at + offset)
        except OSError:
            return False
        return True

    def finish(self) -> None:
        """No more audio comes: let what is still in flight land (an encoder's output).

        Raises what went wrong landing it; once. Plain sinks have nothing in flight.
        """

    def _write_once(self, fd: int, view: memoryview) -> int:
        counts = self._counts
        try:
            counts.extend(map(os.write, (fd,), (view,)))  # the count is kept as the write returns
        except BlockingIOError:  # non-blocking and full: wait for room (a signal may land)
            self._wait_for_room(fd)
            return 0
        return counts[-1]

    def _wait_for_room(self, fd: int, timeout: float | None = None) -> None:
        """Wait until `fd` takes more (or fails), for at most `timeout` s (None: no limit)."""
        self._room = self._room or _room_watcher(fd)
        self._room.poll(None if timeout is None else max(1, math.ceil(timeout * 1000)))

    def close(self, *, keep: bool) -> None:
        """Release the fd; `keep=False` removes a file this sink created and never filled."""
        self._patch_wav()

    def _open(self) -> int:
        raise NotImplementedError


def _patchable_offset(fd: int) -> int | None:
    """Where the next write lands in a regular file that pwrite can patch; None otherwise.

    Not for O_APPEND (`>>`): Linux's pwrite appends there instead of patching.
    """
    import fcntl

    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if not regular or fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_APPEND:
            return None
        return os.lseek(fd, 0, os.SEEK_CUR)
    except OSError:
        return None


def _room_watcher(fd: int) -> select.poll:
    watcher = select.poll()
    watcher.register(fd, select.POLLOUT)  # POLLERR and POLLHUP are always reported too
    return watcher


class StdoutSink(Sink):
    def __init__(self) -> None:
        super().__init__("stdout")

    @property
    def is_stdout(self) -> bool:
        return True

    def _open(self) -> int:
        self._fd = 1
        return 1


class FileSink(Sink):
    """A file sink. New files are created (O_EXCL) up front to claim the name;
    an existing file (only with --force) is truncated at the first audio byte,
    so a request that fails before audio leaves it untouched."""

    def __init__(
        self, path: Path, *, created_fd: int | None, reader_wait: float = READER_WAIT
    ) -> None:
        super().__init__(str(path))
        self.path = path
        self._fd = created_fd
        self._created = created_fd is not None
        self._reader_wait = reader_wait
        self._cut_on_close = False  # an existing file overwritten: drop its old tail on close

    def _open(self) -> int:
        try:
            if _is_fifo(self.path):
                self._fd = _open_fifo(self.path, self._reader_wait)
            else:
                # Not truncated here: a stop between this open and the first write would
                # leave an emptied file. The audio overwrites it from the start, and close
                # cuts it to the audio's length.
                self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o666)
                self._cut_on_close = stat.S_ISREG(os.fstat(self._fd).st_mode)
        except OSError as exc:
            raise OutputError(f"could not open {self.path}: {exc.strerror}") from None
        return self._fd

    def close(self, *, keep: bool) -> None:
        if self._fd is None:
            return
        if self._cut_on_close:
            os.ftruncate(self._fd, self.bytes_written)
        self._patch_wav()
        # The file's own size decides, not the counter: whatever happened to the
        # count, a file that holds audio is never deleted.
        status = os.fstat(self._fd)
        self.is_regular_file = stat.S_ISREG(status.st_mode)
        empty = status.st_size == 0
        os.close(self._fd)
        self._fd = None
        if self._created and not keep and empty:
            self.path.unlink(missing_ok=True)


def _is_fifo(path: Path) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except FileNotFoundError:  # a link to a file the first write creates
        return False


def _open_fifo(path: Path, wait: float) -> int:
    """Open a named pipe for writing once a process reads it, waiting `wait` seconds at most.

    A plain open would block until a reader comes, forever if none does. The
    descriptor stays non-blocking: it is our own, and the writes wait for room.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            if time.monotonic() >= deadline:
                raise OutputError(
                    f"no process opened the named pipe {_short(path)} for reading "
                    f"within {wait:g} s; start its reader first"
                ) from None
        time.sleep(0.05)


class NewFileName(NamedTuple):
    """How to name a new file when `--output` is a directory or not given."""

    prefix: str  # tts_sse, tts_bytes
    extension: str  # pcm, wav, mp3
    item: int | None = None  # a batch item's line number


def is_stdout(output: str | None) -> bool:
    """Whether `output` sends the audio to stdout: `-`, or another name for what fd 1 is open on.

    `/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`, or the very file `> x.wav` made:
    written as a file of its own, the --json object (on fd 1, at fd 1's offset)
    would land on the audio. So any of them is `-o -`.
    """
    return output == STDOUT or (output is not None and leads_to_descriptor(output, 1))


def names_stderr(output: str | None) -> bool:
    """Whether `output` is another name for what stderr (fd 2) is open on, and not stdout's.

    The lines for people go there: they would land on the audio.
    """
    return not is_stdout(output) and output is not None and leads_to_descriptor(output, 2)


def leads_to_descriptor(path: str, fd: int) -> bool:
    """Whether `path` leads to the file or pipe open on descriptor `fd`.

    A device is never such a file: /dev/null holds nothing to overwrite, and a
    terminal is refused as an output by its own check.
    """
    try:
        held, named = os.fstat(fd), os.stat(path)
    except (OSError, ValueError):  # fd closed, no such path, a NUL in the name
        return False
    if stat.S_ISCHR(held.st_mode):
        return False
    return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)


def write_stdout(text: str, *, end: str = "\n") -> None:
    """Text the user asked for (a --json object, a listing) and `end`, all of it, on fd 1.

    Straight to the descriptor in UTF-8, like the audio: a pipe may take it in
    parts. A lone surrogate (from a server's JSON) is written as its escape.
    BrokenPipeError goes to the caller: the reader left.
    """
    data = memoryview((text + end).encode("utf-8", "backslashreplace"))
    while data:
        data = data[os.write(1, data) :]


def open_sink(
    output: str | None,
    *,
    force: bool,
    stdout_is_tty: bool,
    new_name: NewFileName,
    now: datetime | None = None,
    reader_wait: float = READER_WAIT,
) -> Sink:
    """Resolve `--output` into a sink, failing with a usage error before any request.

    `reader_wait` bounds the wait for a reader when the output is a named pipe.
    A name for stdout's own file or pipe (`/dev/stdout`) is stdout, as `-` is.
    """
    if is_stdout(output):
        if stdout_is_tty:
            raise UsageError("refusing to write audio to a terminal", kind=AUDIO_TO_TERMINAL)
        return StdoutSink()
    if output == "":
        raise UsageError("-o needs a path: '-' for stdout, a directory, or a file name")
    if output and _is_terminal_device(output):  # -o /dev/stdout, /dev/tty, /dev/pts/N
        raise UsageError("refusing to write audio to a terminal", kind=AUDIO_TO_TERMINAL)
    target = Path(output) if output else Path(".")
    try:
        if target.is_dir():
            return _timestamped_file(target, new_name, now or datetime.now())
        if output and output.endswith(("/", os.sep)):
            # Path() drops the trailing slash: `-o newdir/` would quietly become a file `newdir`.
            raise UsageError(f"output directory does not exist: {output}")
        return _named_file(target, force=force, reader_wait=reader_wait)
    except OSError as exc:  # a name too long, a loop of links: seen before any request
        raise UsageError(f"cannot use {_short(target)} as the output: {exc.strerror}") from None


def check_output(output: str | None, *, force: bool, stdout_is_tty: bool) -> None:
    """Every check `open_sink` makes, without creating or opening anything (--dry-run)."""
    if is_stdout(output):
        if stdout_is_tty:
            raise UsageError("refusing to write audio to a terminal", kind=AUDIO_TO_TERMINAL)
        return
    if output == "":
        raise UsageError("-o needs a path: '-' for stdout, a directory, or a file name")
    if output and _is_terminal_device(output):
        raise UsageError("refusing to write audio to a terminal", kind=AUDIO_TO_TERMINAL)
    target = Path(output) if output else Path(".")
    try:
        if target.is_dir():
            if not os.access(target, os.W_OK | os.X_OK):
                raise UsageError(f"cannot write to {_short(target)}: permission denied")
            return
        if output and output.endswith(("/", os.sep)):
            raise UsageError(f"output directory does not exist: {output}")
        if not target.parent.is_dir():
            raise UsageError(f"output directory does not exist: {target.parent}")
        if target.is_file() and not force:
            raise UsageError(f"{target} already exists", kind=OUTPUT_EXISTS)
        if target.exists() and not os.access(target, os.W_OK):
            raise UsageError(f"cannot write to {target}: permission denied")
    except OSError as exc:
        raise UsageError(f"cannot use {_short(target)} as the output: {exc.strerror}") from None


def _is_terminal_device(output: str) -> bool:
    try:
        if not stat.S_ISCHR(os.stat(output).st_mode):
            # Only a character device can be a terminal. Opening anything else to find
            # out has effects: a named pipe's waiting reader would see end-of-file.
            return False
        fd = os.open(output, os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return False  # not there, or not openable now: the usual checks say why
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _short(path: Path) -> str:
    """A path for an error line: its start and end when it is very long."""
    text = str(path)
    return text if len(text) <= 120 else f"{text[:60]}…{text[-40:]}"


def _timestamped_file(directory: Path, name: NewFileName, now: datetime) -> FileSink:
    for suffix in range(1, _MAX_SUFFIX + 1):
        path = directory / timestamped_name(
            now, prefix=name.prefix, extension=name.extension, suffix=suffix, item=name.item
        )
        try:
            return FileSink(path, created_fd=_create_exclusive(path))
        except FileExistsError:
            continue
    raise OutputError(f"could not find a free file name in {directory}")


def _named_file(path: Path, *, force: bool, reader_wait: float) -> FileSink:
    if not path.parent.is_dir():
        raise UsageError(f"output directory does not exist: {path.parent}")
    if path.is_symlink() and not path.exists():
        return _through_dangling_link(path, force=force, reader_wait=reader_wait)
    if path.exists():
        # Devices and FIFOs (/dev/null, a named pipe) hold no data to lose.
        if path.is_file() and not force:
            raise UsageError(f"{path} already exists", kind=OUTPUT_EXISTS)
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write to {path}: permission denied")
        return FileSink(path, created_fd=None, reader_wait=reader_wait)
    try:
        return FileSink(path, created_fd=_create_exclusive(path))
    except FileExistsError:
        raise UsageError(f"{path} already exists", kind=OUTPUT_EXISTS) from None


def _through_dangling_link(path: Path, *, force: bool, reader_wait: float) -> FileSink:
    """A link to a file that does not exist yet: with --force, the audio makes that file.

    As `curl -o` or `ffmpeg -y` would: the link stays, its target is created at
    the first audio byte (not before, so a failed request leaves nothing).
    """
    target = Path(os.path.realpath(path))
    if not force:
        raise UsageError(
            f"{path} is a link to a missing file ({_short(target)})", kind=OUTPUT_EXISTS
        )
    if not target.parent.is_dir():
        raise UsageError(f"{path} links to {_short(target)}, whose directory does not exist")
    return FileSink(path, created_fd=None, reader_wait=reader_wait)


def _create_exclusive(path: Path) -> int:
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno in USAGE_ERRNOS:
            raise UsageError(f"cannot create {_short(path)}: {exc.strerror}") from None
        raise OutputError(f"cannot create {path}: {exc.strerror}") from None
