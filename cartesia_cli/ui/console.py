"""The one door to the terminal: every line for people goes to stderr through here.

Each line is redacted (no API key, whatever its source) and then made safe for a
terminal (control characters from servers, headers or file names are shown
escaped, never executed). The module also knows whether stderr is a terminal,
`--quiet`, `--debug` and `NO_COLOR`, and it makes the rich console the live
display draws on. No other module writes to stderr (tests/test_layers.py).
"""

from __future__ import annotations

import functools
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
# C0 controls, DEL and C1 controls: any of them can move the cursor, recolour,
# retitle or clear a terminal. Bidirectional embeddings, overrides and isolates
# can make a line read other than it is; the line and paragraph separators break
# it in two; a lone surrogate (a file name that is not UTF-8) cannot be encoded.
_UNSAFE = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
ONE_LINE = "\t"  # the controls `sanitize` leaves by default: a tab reads as space
LINES = "\t\n"  # for text of several lines (subtitles on a terminal)


@functools.cache
def _unsafe(keep: str) -> re.Pattern[str]:
    kept = "".join(re.escape(char) for char in keep)
    return re.compile(f"[{_UNSAFE}]" if not kept else f"(?![{kept}])[{_UNSAFE}]")


def sanitize(text: str, *, keep: str = ONE_LINE) -> str:
    """Show unsafe characters as escapes (`\\x1b`) instead of sending them to a terminal.

    `keep` names the controls shown as they are (only tab and newline may be kept).
    Without a newline in it, the text comes out as one line.
    """
    if not set(keep) <= set(LINES):
        raise ValueError("only a tab and a newline can be kept")
    return _unsafe(keep).sub(_escape, text)


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

    def traceback(self, exc: BaseException) -> None:
        """`exc`'s traceback for --debug: its frames line by line, each message on one line."""
        for line in traceback_lines(exc):
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


_LINKS = {
    "cause": "The above exception was the direct cause of the following exception:",
    "context": "During handling of the above exception, another exception occurred:",
}


def traceback_lines(exc: BaseException) -> list[str]:
    """The lines of `exc`'s traceback, oldest exception first, as Python prints them.

    Except that each exception's `Type: message` is one line, whatever newlines
    the message holds: a message can carry a server's or a file's text, and it
    must not pass for lines of the traceback.
    """
    import traceback

    chain: list[tuple[traceback.TracebackException, str | None]] = []
    link: traceback.TracebackException | None = traceback.TracebackException.from_exception(exc)
    how: str | None = None  # how the exception found next relates to the one before it
    while link is not None:
        chain.append((link, how))
        if link.__cause__ is not None:
            link, how = link.__cause__, "cause"
        elif link.__context__ is not None and not link.__suppress_context__:
            link, how = link.__context__, "context"
        else:
            link = None
    lines: list[str] = []
    for link, how in reversed(chain):
        if link.stack:
            lines.append("Traceback (most recent call last):")
            lines += "".join(link.stack.format()).rstrip("\n").split("\n")
        lines.append("".join(link.format_exception_only()).rstrip("\n"))
        if how is not None:
            lines += ["", _LINKS[how], ""]
    return lines


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
