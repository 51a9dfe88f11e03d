"""Choosing the transcript source without ever blocking on a terminal."""

from __future__ import annotations

import io

import pytest

from cartesia_cli.errors import UsageError
from cartesia_cli.input.transcript import resolve_transcript


def stdin(data: bytes) -> io.BytesIO:
    return io.BytesIO(data)


def test_flag_and_positional() -> None:
    assert resolve_transcript("Hi", None, None, stdin_is_tty=True) == "Hi"
    assert resolve_transcript(None, "Yo", None, stdin_is_tty=True) == "Yo"


def test_dash_and_implicit_pipe_read_stdin() -> None:
    assert resolve_transcript("-", None, stdin(b"piped\n"), stdin_is_tty=False) == "piped"
    assert resolve_transcript(None, "-", stdin(b"dash"), stdin_is_tty=False) == "dash"
    assert resolve_transcript(None, None, stdin("héllo".encode()), stdin_is_tty=False) == "héllo"


def test_given_text_does_not_touch_stdin() -> None:
    untouched = stdin(b"ignored")
    assert resolve_transcript("Hi", None, untouched, stdin_is_tty=False) == "Hi"
    assert untouched.tell() == 0


@pytest.mark.parametrize(
    ("flag", "positional", "data", "tty", "message"),
    [
        ("a", "b", b"", False, "the transcript was given twice"),
        (None, None, b"", True, "no transcript"),
        ("-", None, b"", True, "stdin is a terminal"),
        ("   ", None, b"", True, "transcript is empty"),
        (None, None, b"\n\n", False, "transcript is empty"),
        (None, None, b"\xff\xfe", False, "not valid UTF-8"),
    ],
)
def test_bad_sources_are_usage_errors(
    flag: str | None, positional: str | None, data: bytes, tty: bool, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_transcript(flag, positional, stdin(data), stdin_is_tty=tty)


def test_closed_stdin_is_no_transcript() -> None:
    with pytest.raises(UsageError, match="no transcript"):
        resolve_transcript(None, None, None, stdin_is_tty=False)
