"""`cartesia-cli say TEXT…`: speak now, like macOS `say`.

The `tts sse` job with the player on and no file unless -o; it returns when
playback has finished. Text piped in is spoken as it arrives, over the
WebSocket (the `tts ws` job); `-f FILE` reads a file. Options are declared
here, the job is `cartesia_cli/jobs/`.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import endpoints, options
from cartesia_cli.jobs.job import JobOptions, TtsJob
from cartesia_cli.settings import spec

SAY_SETTINGS = (
    *spec.VOICE_AND_MODEL,
    *spec.OUTPUT_FORMAT,
    *spec.RAW_FORMAT,
    *spec.CONNECTION,
    *spec.CONTROLS,
    *spec.PLAYBACK,
)
STDIN = "-"

FileOption = Annotated[
    Optional[str],
    typer.Option(
        "--file",
        "-f",
        metavar="FILE",
        help="Speak the text of FILE ('-' reads stdin), as macOS say -f does.",
        show_default=False,
    ),
]


@options.job_command(*SAY_SETTINGS, words=True)
def say(*, file: FileOption = None, job: JobOptions) -> None:
    """Speak now: stream the speech into a player as it arrives.

    No file is written unless -o names one; the command returns when
    playback has finished. Text comes from the arguments, --transcript,
    -f FILE, or piped stdin (spoken as it arrives, over the WebSocket).
    The player is the in-process one (pip install 'cartesia-cli[play]')
    or the first of ffplay, mpv, afplay, paplay, pw-play, aplay, play
    on PATH; --player picks one.

    Examples:

    \b
        cartesia-cli say Hello, world!
        git log -1 --format=%s | cartesia-cli say --speed 1.2
        cartesia-cli say -f notes.txt --player mpv
        cartesia-cli say "Build finished" -v VOICE_ID -o done.wav
    """
    from cartesia_cli.jobs import speak

    speak.speak(TtsJob(_endpoint(file, job), _with_file_text(file, job)))


def _with_file_text(file: Optional[str], job: JobOptions) -> JobOptions:
    """-f FILE's text as the transcript (read now: a missing file is refused before any request)."""
    if file is None or file == STDIN:
        return job if file is None else job._replace(transcript=job.transcript or STDIN)
    from cartesia_cli.errors import TWO_TRANSCRIPTS, UsageError
    from cartesia_cli.input.text_file import read_text_file

    if job.transcript is not None or job.transcript_arg is not None:
        raise UsageError("give either -f FILE or the text", kind=TWO_TRANSCRIPTS)
    return job._replace(transcript=read_text_file(file))


def _endpoint(file: Optional[str], job: JobOptions) -> endpoints.TtsEndpoint:
    """Text piped in goes over the WebSocket as it comes; text known up front, one SSE request."""
    from cartesia_cli.ui.console import isatty

    given = [text for text in (job.transcript, job.transcript_arg) if text is not None]
    from_stdin = file == STDIN or given == [STDIN] or (not given and file is None)
    if from_stdin and not isatty(0) and not job.dry_run:
        return endpoints.SAY_PIPED
    return endpoints.SAY
