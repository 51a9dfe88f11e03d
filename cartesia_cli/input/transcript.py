"""Where the text comes from: `--transcript`, the positional argument, or stdin."""

from __future__ import annotations

from typing import BinaryIO

from cartesia_cli.errors import NO_TRANSCRIPT, STDIN_IS_TERMINAL, TWO_TRANSCRIPTS, UsageError

STDIN = "-"


def resolve_transcript(
    flag: str | None, positional: str | None, stdin: BinaryIO | None, stdin_is_tty: bool
) -> str:
    """Pick the one transcript source and return non-empty text.

    Stdin is read for `-`, or when no text was given and stdin is not a
    terminal. A terminal stdin is never read: that would hang a CI job.
    """
    if flag is not None and positional is not None:
        raise UsageError("the transcript was given twice", kind=TWO_TRANSCRIPTS)
    given = flag if flag is not None else positional
    if given is None or given == STDIN:
        text = _read_stdin(stdin, stdin_is_tty, asked=given == STDIN)
    else:
        text = _checked_argument(given)
    if not text.strip():
        raise UsageError("the transcript is empty; give some text to speak")
    return text


def _checked_argument(text: str) -> str:
    """Text from the command line, refused as stdin is when its bytes are not UTF-8.

    Python hands undecodable argument bytes over as lone surrogates, which would be
    sent to the API as something nobody typed.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(
            f"the transcript is not valid UTF-8 text (character {exc.start})"
        ) from None
    return text


def _read_stdin(stdin: BinaryIO | None, is_tty: bool, *, asked: bool) -> str:
    if stdin is None or is_tty:
        if asked:
            raise UsageError("stdin is a terminal", kind=STDIN_IS_TERMINAL)
        raise UsageError("no transcript", kind=NO_TRANSCRIPT)
    data = stdin.read()
    try:
        # A trailing newline from `echo` or a file is not part of what to say.
        return data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"stdin is not valid UTF-8 text (byte {exc.start})") from None
