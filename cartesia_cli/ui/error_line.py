"""The one error line a failure prints: its facts, the hint that names a flag, what was kept.

`cartesia-cli: error: ` comes before it (ui/console.py); the facts are the error's
own, the hints are worded here, by the kind of failure, since they name the CLI's
flags and variables.
"""

from __future__ import annotations

from cartesia_cli import errors
from cartesia_cli.errors import CliError
from cartesia_cli.ui.report import kept_note

# Hints that name flags or variables, by the kind of failure.
HINTS = {
    errors.MISSING_KEY: (
        "set CARTESIA_API_KEY, pass --api-key, or run 'cartesia-cli config set api_key'"
    ),
    errors.AUTH_REJECTED: "check CARTESIA_API_KEY or --api-key",
    errors.CONNECT_TIMEOUT: "raise it with --connect-timeout",
    errors.IDLE_TIMEOUT: "raise it with --idle-timeout",
    errors.OUTPUT_EXISTS: "use --force to overwrite it",
    errors.TLS_SETUP: "check SSL_CERT_FILE / SSL_CERT_DIR",
    errors.NO_TRANSCRIPT: 'pass --transcript "TEXT", the text as an argument, or pipe it on stdin',
    errors.TWO_TRANSCRIPTS: "give either --transcript or the text as an argument",
    errors.STDIN_IS_TERMINAL: "'-' reads stdin: pipe text in",
    errors.NO_PLAYER: "install ffmpeg, which includes it (apt install ffmpeg, brew install ffmpeg)",
    errors.NO_ENCODER: "install ffmpeg (apt install ffmpeg, brew install ffmpeg), or write a .wav",
}


def error_line(exc: CliError) -> str:
    """The error's facts, then its hint, then what audio was kept."""
    hint = exc.hint or HINTS.get(exc.kind or "")
    return joined(exc.message, hint, kept_note(exc.kept), exc.also_kept)


def joined(*parts: str | None) -> str:
    """The parts that say something, one line, `; ` between them.

    A part's own closing full stop goes ("…a response.; the voice may…" reads as
    a typo); an ellipsis stays.
    """
    said = [part for part in parts if part]
    return "; ".join([_without_full_stop(part) for part in said[:-1]] + said[-1:])


def _without_full_stop(part: str) -> str:
    return part[:-1] if part.endswith(".") and not part.endswith("..") else part
