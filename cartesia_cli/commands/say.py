"""`cartesia-cli say TEXT…`: speak now, like macOS `say`.

The `tts sse` job with the player on and no file unless -o; it returns when
playback has finished. Text piped in is spoken as it arrives, over the
WebSocket (the `tts ws` job); `-f FILE` reads a file. `say` commands take
turns (`jobs/queued.py`): one speaks at a time, in the order they came.
Options are declared here, the job is `cartesia_cli/jobs/`.
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
    *spec.CACHING,
    *spec.PLAYBACK,
)
STDIN = "-"
# Seconds a say waits for the speech before it: generous (a queue of long speeches),
# yet bounded, as every wait is.
DEFAULT_QUEUE_TIMEOUT = 300.0

InterruptOption = Annotated[
    bool,
    typer.Option(
        "--interrupt",
        help="Stop the say speaking now (it exits 143) and speak at once, before those waiting.",
    ),
]
NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="Return once the text is taken; it waits its turn and plays in the background "
        "(its messages go to say.log in the runtime folder).",
    ),
]
QueueTimeoutOption = Annotated[
    float,
    typer.Option(
        "--queue-timeout",
        metavar="S",
        min=0,
        help="Give up (exit 6, nothing played) after waiting S seconds for the speech before.",
    ),
]


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
def say(
    ctx: typer.Context,
    file: FileOption = None,
    interrupt: InterruptOption = False,
    no_wait: NoWaitOption = False,
    queue_timeout: QueueTimeoutOption = DEFAULT_QUEUE_TIMEOUT,
    *,
    job: JobOptions,
) -> None:
    """Speak now: stream the speech into a player as it arrives.

    No file is written unless -o names one; the command returns when
    playback has finished. Text comes from the arguments, --transcript,
    -f FILE, or piped stdin (spoken as it arrives, over the WebSocket).
    The player is the in-process one (pip install 'cartesia-cli[play]')
    or the first of ffplay, mpv, afplay, paplay, pw-play, aplay, play
    on PATH; --player picks one.

    Several say commands at once speak one after another, in the order
    they started, never over each other.

    Examples:

    \b
        cartesia-cli say Hello, world!
        git log -1 --format=%s | cartesia-cli say --speed 1.2
        cartesia-cli say -f notes.txt --player mpv
        cartesia-cli say "Build finished" -v VOICE_ID -o done.wav
        cartesia-cli say --no-wait "Task finished"
        cartesia-cli say --interrupt "Stop: the tests failed"
    """
    from cartesia_cli.jobs import queued, speak

    tts_job = TtsJob(_endpoint(file, job), _with_file_text(file, job))
    queueing = queued.Queueing(interrupt, no_wait, queue_timeout)
    argv = ctx.find_root().obj  # the arguments as given (cli.py): the --no-wait copy's
    speak.speak(tts_job, turn=queued.turn(tts_job, queueing, argv))


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
