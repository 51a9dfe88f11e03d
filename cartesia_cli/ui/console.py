"""The one door to the terminal: every line for people goes to stderr through here.

Each line is redacted (no API key, whatever its source) and then made safe for a
terminal (control characters from servers, headers or file names are shown
escaped, never executed). The module also knows whether stderr is a terminal,
`--quiet`, `--debug` and `NO_COLOR`, and it makes the rich console the live
display draws on. No other module writes to stderr (tests/test_layers.py).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, TextIO, cast

from cartesia_cli import redact

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

PROG = "cartesia-cli"
# C0 controls but tab, DEL, and C1 controls: any of them can move the cursor,
# recolour, retitle or clear a terminal. Bidirectional overrides and isolates can
# make a line read other than it is.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def sanitize(text: str) -> str:
    """Show control characters as escapes (`\\x1b`) instead of sending them to a terminal."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


MAX_LINE = 1000  # characters of one line, after escaping: a hostile header cannot flood


def safe(text: str) -> str:
    """Redact first (an escape or a cut must not split a key), neutralise controls, then cap."""
    text = sanitize(redact.redact(text))
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


class Console:
    """stderr for people. `quiet` silences progress and summaries, never errors."""

    def __init__(self) -> None:
        self.quiet = False
        self.debug = False

    def configure(self, *, quiet: bool, debug: bool) -> None:
        self.quiet, self.debug = quiet, debug

    def error(self, message: str) -> None:
        self._write(f"{PROG}: error: {message}")

    def warning(self, message: str) -> None:
        self._write(f"{PROG}: warning: {message}")

    def info(self, line: str) -> None:
        """A summary or hint line: shown unless --quiet."""
        if not self.quiet:
            self._write(line)

    def note(self, line: str) -> None:
        """A line that answers a command the user typed (config set …): always shown."""
        self._write(line)

    def machine_line(self, line: str) -> None:
        """A line for programs (a --json object): always shown, redacted, never cut.

        It must be ASCII JSON, which has no control character to neutralise.
        """
        if not line.isascii() or not line.isprintable():
            raise ValueError("a machine line must be printable ASCII")
        self._emit(redact.redact(line) + "\n")

    def debug_line(self, line: str) -> None:
        if self.debug:
            self._write(f"debug: {line}")

    def debug_log(self) -> Callable[[str], None] | None:
        """A sink for --debug lines, or None when --debug is off (callers skip the work)."""
        return self.debug_line if self.debug else None

    def traceback(self, text: str) -> None:
        for line in text.rstrip("\n").split("\n"):
            self._write(line)

    def is_terminal(self) -> bool:
        return isatty(2)

    def wants_live_display(self) -> bool:
        return not self.quiet and self.is_terminal()

    @contextmanager
    def live_console(self) -> Iterator[RichConsole]:
        """The rich console on stderr that the live display draws on.

        It writes through `TerminalFile`: a terminal lost mid-run is a hang-up, not a crash.
        """
        from rich.console import Console as RichConsole  # ~40 ms: only for a terminal

        from cartesia_cli import process

        terminal = TerminalFile(sys.stderr, on_lost=process.hang_up)
        # A file to rich: it writes, flushes and asks isatty() and fileno(), no more.
        yield RichConsole(file=cast("IO[str]", terminal))  # rich itself honours NO_COLOR

    def _write(self, line: str) -> None:
        self._emit(safe(line) + "\n")  # made safe first: a bug there must not pass silently

    def _emit(self, text: str) -> None:
        stream = sys.stderr
        if stream is None:  # no stderr at all (closed by the parent): nowhere to say it
            return
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):
            pass  # stderr went away; the exit code still tells the story


class TerminalFile:
    """stderr for the live display, which notices when the terminal is gone.

    A closed pseudo-terminal fails every write with EIO, and its `isatty()` turns
    false (the terminal query fails the same way), which rich takes as "stop
    drawing" and would never mention. Either sign is reported once (`on_lost`) and
    every later write is dropped: nothing can reach that terminal again, and no
    write may raise.
    """

    def __init__(self, stream: TextIO, on_lost: Callable[[], None]) -> None:
        self._stream = stream
        self._on_lost = on_lost
        self.lost = False
        self.encoding = getattr(stream, "encoding", None) or "utf-8"
        self._was_terminal = self._is_terminal()

    def write(self, text: str) -> int:
        self._attempt(lambda: self._stream.write(text))
        return len(text)

    def flush(self) -> None:
        self._attempt(self._stream.flush)

    def isatty(self) -> bool:
        if self.lost:
            return False
        if self._is_terminal():
            return True
        if self._was_terminal:  # a terminal does not stop being one: it has gone away
            self._lose()
        return False

    def _is_terminal(self) -> bool:
        try:
            return self._stream.isatty()
        except (OSError, ValueError):
            return False

    def fileno(self) -> int:
        return self._stream.fileno()

    def _attempt(self, action: Callable[[], object]) -> None:
        if self.lost:
            return
        try:
            action()
        except (OSError, ValueError):  # ValueError: the stream was closed under us
            self._lose()

    def _lose(self) -> None:
        if not self.lost:
            self.lost = True
            self._on_lost()


def isatty(fd: int) -> bool:
    """Whether descriptor `fd` is a terminal (False when it is closed)."""
    try:
        return os.isatty(fd)
    except OSError:
        return False


console = Console()
