"""Exit codes and the exceptions that carry them.

Every failure a user can meet is a `CliError` with a one-line message of facts;
the CLI boundary adds the hint that names a flag (`cli.py`), the note about any
audio kept (`ui/report.py`), and exits with the error's code. Anything else is a
bug (exit 1).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class ExitCode(IntEnum):
    """Process exit codes; scripts rely on these numbers (README, docs/behaviour.md)."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    AUTH = 3
    REJECTED = 4
    SERVER = 5
    STREAM = 6
    OUTPUT = 7
    HANGUP = 129
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


class KeptAudio(NamedTuple):
    """What a failed run leaves the user: where the audio went and how much of it."""

    where: str
    is_stdout: bool
    bytes: int
    seconds: float | None


# Why a failure happened, when the CLI layer has a hint for it (and scripts a name).
MISSING_KEY = "missing_key"  # no key from any source
AUTH_REJECTED = "auth_rejected"  # HTTP 401 or 403
CONNECT_TIMEOUT = "connect_timeout"  # no connection within --connect-timeout
IDLE_TIMEOUT = "idle_timeout"  # nothing from the server within --idle-timeout
OUTPUT_EXISTS = "output_exists"  # the output file exists and --force was not given
AUDIO_TO_TERMINAL = "audio_to_terminal"  # `-o -` with stdout on a terminal
TLS_SETUP = "tls_setup"  # the trust store could not be loaded
NO_TRANSCRIPT = "no_transcript"  # no text from any source
TWO_TRANSCRIPTS = "two_transcripts"  # --transcript and the argument both given
STDIN_IS_TERMINAL = "stdin_is_terminal"  # `-t -` with stdin on a terminal
NO_PLAYER = "no_player"  # --play or say without ffplay on PATH
NO_ENCODER = "no_encoder"  # an mp3, flac or ogg to make here without ffmpeg on PATH


class CliError(Exception):
    """A failure with a user-facing one-line message, an exit code, and maybe a `kind`."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init_subclass__(cls, exit_code: ExitCode | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if exit_code is not None:
            cls.exit_code = exit_code

    def __init__(self, message: str, *, kind: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        # Set by the layers above the one that raised: a hint worded by the CLI
        # layer, and the audio a failed run kept.
        self.hint: str | None = None
        self.kept: KeptAudio | None = None
        self.also_kept: str | None = None  # other output a failed run left (timestamps)
        # What the server said, when it said it: for --json (`error.status` and so on).
        self.status: int | None = None
        self.title: str | None = None
        self.request_id: str | None = None
        # The --json object of a failed job, and whether it goes to stdout (else stderr,
        # after the error line): printed by the CLI boundary, last.
        self.result_json: tuple[str, bool] | None = None

    def with_server_facts(
        self, *, status: int | None, title: str | None, request_id: str | None
    ) -> CliError:
        self.status, self.title, self.request_id = status, title, request_id
        return self


class UsageError(CliError, exit_code=ExitCode.USAGE):
    """A bad flag or value, no transcript, audio to a terminal, an existing output file."""


class AuthError(CliError, exit_code=ExitCode.AUTH):
    """No API key, or the server refused it (HTTP 401, 403)."""


class RequestRejected(CliError, exit_code=ExitCode.REJECTED):
    """Any other HTTP 4xx, and 429 after the retries."""


class ServerError(CliError, exit_code=ExitCode.SERVER):
    """HTTP 5xx after the retries, or an error event in the stream."""


class StreamError(CliError, exit_code=ExitCode.STREAM):
    """Network or stream failure: connect error, timeout, truncated or malformed stream."""


class OutputError(CliError, exit_code=ExitCode.OUTPUT):
    """The audio could not be written (disk full, I/O error)."""


class InternalError(CliError, exit_code=ExitCode.INTERNAL):
    """A bug of ours met during a job: reported like any failure (one line, --json), exit 1.

    Raised `from` the original exception, whose traceback --debug shows.
    """


def internal_error(exc: BaseException) -> InternalError:
    """The one line a bug is reported with: what broke, and how to see where."""
    return InternalError(
        f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)"
    )


class StopRequested(BaseException):
    """Raised from a signal handler (SIGTERM, SIGHUP) to unwind the run like Ctrl-C.

    A BaseException, like KeyboardInterrupt, so that no `except Exception`
    on the way up swallows it.
    """

    def __init__(self, exit_code: ExitCode) -> None:
        super().__init__(exit_code.name)
        self.exit_code = exit_code


def stop_word(code: ExitCode) -> str:
    """How a stop by signal is reported: `interrupted`, `terminated`, `hung up`."""
    return {ExitCode.TERMINATED: "terminated", ExitCode.HANGUP: "hung up"}.get(code, "interrupted")


class BrokenPipe(Exception):
    """The reader of our stdout went away (e.g. ffplay quit)."""


class Interrupted(CliError):
    """The run was stopped: Ctrl-C (130), SIGTERM (143), SIGHUP (129) or a closed stdout (141)."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code
