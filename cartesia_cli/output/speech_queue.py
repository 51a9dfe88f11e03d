"""The speech queue: `say` commands speak one after another, in the order they arrived.

Everything lives in one folder of the user's runtime directory, and every
promise rests on a lock the kernel drops when its holder dies, so a crashed
`say` (killed, out of memory) never blocks the next one:

- `counter` holds the number of the last ticket; it is locked (flock) only
  for the moment a ticket is taken, so numbers follow the order of arrival.
- A ticket is a file named by its place (`ticket_name`), locked by its owner
  from birth (made under another name, locked, then renamed) until it is
  removed. A ticket nobody holds any more is a crashed `say`'s: skipped, removed.
- `speaking` is locked by the one that speaks now, and says who that is
  (its pid and its ticket), so that `say --interrupt` can stop it. Its player
  holds the lock too (it inherits the descriptor): a `say` killed outright
  lets the next one go only once its player has ended as well (on Linux the
  player is told to end when its `say` dies).

A turn comes when no live ticket sorts before one's own and the `speaking`
lock is free. Interrupting tickets sort before every waiting one (the latest
first), and their owner stops the speaker whose ticket sorts after its own.
Every wait polls every POLL_SECONDS up to one deadline: a stop signal lands
in the sleep, and nothing waits for ever. POSIX only (fcntl.flock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from cartesia_cli import process
from cartesia_cli.errors import OutputError, StreamError

RUNTIME_DIR_VAR = "CARTESIA_CLI_RUNTIME_DIR"  # where the queue lives (tests point it anywhere)
QUEUE_FOLDER = "speech-queue"
COUNTER = "counter"
SPEAKING = "speaking"
POLL_SECONDS = 0.02  # how soon a waiting `say` sees that its turn has come
_NORMAL, _INTERRUPT = "n", "i"  # ticket name prefixes: "i" sorts first
_DIGITS = 12
_HOLDER_BYTES = 64  # the `speaking` file's one record, padded: written in one piece


class QueueTimeout(StreamError):
    """The speech before this one was still going when --queue-timeout ran out (exit 6)."""


class Ticket(NamedTuple):
    """A place in the queue: its file's name and the descriptor that holds its lock."""

    name: str
    fd: int

    @property
    def interrupts(self) -> bool:
        return self.name.startswith(_INTERRUPT)


def ticket_name(number: int, *, interrupt: bool) -> str:
    """The file name of ticket `number`; names sort in the order the turns come.

    Waiting tickets in the order they were taken; interrupting ones before them
    all, the latest first (it stops what speaks now, an earlier interrupter too).
    """
    if interrupt:
        return f"{_INTERRUPT}{10**_DIGITS - 1 - number:0{_DIGITS}d}"
    return f"{_NORMAL}{number:0{_DIGITS}d}"


def is_ticket_name(name: str) -> bool:
    return len(name) == _DIGITS + 1 and name[0] in (_NORMAL, _INTERRUPT) and name[1:].isdigit()


def runtime_dir(environ: dict[str, str] | os._Environ[str]) -> Path:
    """The user's runtime directory for the CLI, private to them, made if missing.

    CARTESIA_CLI_RUNTIME_DIR as given; else $XDG_RUNTIME_DIR/cartesia-cli (a
    per-user, per-login folder where it is set); else a folder of the temporary
    directory named after the user id (0700, checked to be theirs, as anyone
    may make a folder there first).
    """
    given = environ.get(RUNTIME_DIR_VAR)
    if given:
        return _private_folder(Path(given))
    xdg = environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return _private_folder(Path(xdg) / "cartesia-cli")
    import tempfile

    return _private_folder(Path(tempfile.gettempdir()) / f"cartesia-cli-{os.getuid()}")


def _private_folder(folder: Path) -> Path:
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError as exc:
        raise _unusable(folder, exc.strerror or str(exc)) from None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise _unusable(folder, "not a folder of yours")
    if info.st_mode & 0o077:
        raise _unusable(folder, f"open to others (mode {stat.S_IMODE(info.st_mode):o})")
    return folder


def _unusable(folder: Path, why: str) -> OutputError:
    failure = OutputError(f"cannot keep the speech queue in {folder}: {why}")
    failure.hint = f"set {RUNTIME_DIR_VAR} to a private folder (mode 0700)"
    return failure


class SpeechQueue:
    """The queue in `folder` (made if missing): tickets, turns, the speaker's record."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        try:
            folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise _unusable(folder, exc.strerror or str(exc)) from None

    def take(self, *, interrupt: bool, timeout: float) -> Ticket:
        """A new ticket, after every one taken before it; held until `release` (or death)."""
        counter = self._open(COUNTER)
        try:
            _lock(counter, fcntl.LOCK_EX, time.monotonic() + timeout, timeout)
            self._remove_unborn()
            number = int(os.pread(counter, 32, 0).strip() or b"0") + 1
            os.pwrite(counter, f"{number:<31}\n".encode(), 0)
            name = ticket_name(number, interrupt=interrupt)
            unborn = self.folder / f".new-{os.getpid()}"
            fd = os.open(unborn, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody else opens an unborn one
            os.write(fd, f"{os.getpid()}\n".encode())
            os.rename(unborn, self.folder / name)  # born locked: never seen unheld
            return Ticket(name, fd)
        finally:
            os.close(counter)  # the counter's lock goes with it

    def adopt(self, name: str, fd: int) -> Ticket | None:
        """The ticket a parent took and handed over (`say --no-wait`), if it is that file."""
        if not is_ticket_name(name):
            return None
        try:
            held, named = os.fstat(fd), (self.folder / name).stat()
        except OSError:
            return None
        if (held.st_dev, held.st_ino) != (named.st_dev, named.st_ino):
            return None
        os.set_inheritable(fd, False)  # a player started from here needs none of it
        return Ticket(name, fd)

    def wait_turn(self, ticket: Ticket, timeout: float, waiting: Callable[[], None]) -> int:
        """Wait, up to `timeout` seconds, until `ticket` may speak; hold `speaking` then.

        Returns the descriptor holding the `speaking` lock (for `release`). An
        interrupting ticket stops the speaker whose ticket sorts after its own.
        `waiting` is called once, when the turn is not there at once.
        """
        deadline = time.monotonic() + timeout
        speaking = self._open(SPEAKING)
        stopped: set[str] = set()  # speakers already asked to stop
        told = False
        try:
            while True:
                if not self._anyone_before(ticket) and _try_lock(speaking, fcntl.LOCK_EX):
                    if not self._anyone_before(ticket):  # one came while the lock was taken
                        _write_holder(speaking, ticket)
                        return speaking
                    fcntl.flock(speaking, fcntl.LOCK_UN)
                if ticket.interrupts:
                    self._stop_speaker_after(ticket, speaking, stopped)
                if time.monotonic() >= deadline:
                    raise QueueTimeout(
                        f"waited {timeout:g} s for the speech before this one; gave up"
                    )
                if not told:
                    told = True
                    waiting()
                time.sleep(POLL_SECONDS)
        except BaseException:
            os.close(speaking)
            raise

    def stop_speaker(self, ticket: Ticket) -> None:
        """One look: stop the speaker now if `ticket` goes before it (`say --interrupt`)."""
        speaking = self._open(SPEAKING)
        try:
            self._stop_speaker_after(ticket, speaking, set())
        finally:
            os.close(speaking)

    def release(self, ticket: Ticket, speaking: int | None = None) -> None:
        """Done: the ticket removed, then (if held) the `speaking` record cleared and unlocked."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.folder / ticket.name)
        os.close(ticket.fd)
        if speaking is not None:
            os.pwrite(speaking, b" " * (_HOLDER_BYTES - 1) + b"\n", 0)
            os.close(speaking)  # the lock goes with it

    def tickets(self) -> list[str]:
        """The tickets in the folder, in the order their turns come (dead ones included)."""
        return sorted(name for name in os.listdir(self.folder) if is_ticket_name(name))

    def _anyone_before(self, ticket: Ticket) -> bool:
        """Is a live ticket ahead of `ticket`? Dead ones met on the way are removed."""
        return any(self._alive(name) for name in self.tickets() if name < ticket.name)

    def _alive(self, name: str) -> bool:
        """Is ticket `name` still held? If not, its owner died: the file is removed."""
        try:
            fd = os.open(self.folder / name, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False  # released meanwhile
        try:
            if not _try_lock(fd, fcntl.LOCK_SH):
                return True
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.folder / name)  # a crashed owner's: names are never reused
            return False
        finally:
            os.close(fd)

    def _stop_speaker_after(self, ticket: Ticket, speaking: int, stopped: set[str]) -> None:
        """SIGTERM the speaker if its ticket sorts after `ticket`, once per speaker.

        The record is believed only while its ticket is alive: a crashed speaker's
        pid may belong to another process by now.
        """
        record = os.pread(speaking, _HOLDER_BYTES, 0).decode("ascii", "replace").split()
        if len(record) != 2 or not record[0].isdigit() or record[1] in stopped:
            return
        pid, name = int(record[0]), record[1]
        if is_ticket_name(name) and name > ticket.name and self._alive(name):
            stopped.add(name)
            process.terminate(pid)

    def _remove_unborn(self) -> None:
        """Tickets made but not renamed: left by a `say` that died while taking one.

        Called under the counter's lock, under which every ticket is made.
        """
        for name in os.listdir(self.folder):
            if name.startswith(".new-"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.folder / name)

    def _open(self, name: str) -> int:
        return os.open(self.folder / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _lock(fd: int, kind: int, deadline: float, timeout: float) -> None:
    """The lock, polled until `deadline`: the counter's holders keep it for a moment only."""
    while not _try_lock(fd, kind):
        if time.monotonic() >= deadline:
            raise QueueTimeout(f"waited {timeout:g} s for the speech queue's counter; gave up")
        time.sleep(POLL_SECONDS)


def _write_holder(speaking: int, ticket: Ticket) -> None:
    record = f"{os.getpid()} {ticket.name}".ljust(_HOLDER_BYTES - 1) + "\n"
    os.pwrite(speaking, record.encode("ascii"), 0)
