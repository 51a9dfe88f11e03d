"""`cartesia-cli say TEXT…`: speak now, like macOS `say`.

The `tts sse` job with the player on and no file unless -o; it returns when
playback has finished. `say` commands take turns (`jobs/queued.py`): one speaks
at a time, in the order they came. Options are declared here, the job is
`cartesia_cli/jobs/`.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated

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
)
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


@options.job_command(*SAY_SETTINGS, words=True)
def say(
    ctx: typer.Context,
    interrupt: InterruptOption = False,
    no_wait: NoWaitOption = False,
    queue_timeout: QueueTimeoutOption = DEFAULT_QUEUE_TIMEOUT,
    *,
    job: JobOptions,
) -> None:
    """Speak now: stream the speech into ffplay as it arrives.

    No file is written unless -o names one; the command returns when
    playback has finished. Text comes from the arguments, --transcript,
    or piped stdin. Needs ffplay (part of ffmpeg) on PATH.

    Several say commands at once speak one after another, in the order
    they started, never over each other.

    Examples:

    \b
        cartesia-cli say Hello, world!
        git log -1 --format=%s | cartesia-cli say --speed 1.2
        cartesia-cli say "Build finished" -v VOICE_ID -o done.wav
        cartesia-cli say --no-wait "Task finished"
        cartesia-cli say --interrupt "Stop: the tests failed"
    """
    from cartesia_cli.jobs import queued, speak

    tts_job = TtsJob(endpoints.SAY, job)
    queueing = queued.Queueing(interrupt, no_wait, queue_timeout)
    argv = ctx.find_root().obj  # the arguments as given (cli.py): the --no-wait copy's
    speak.speak(tts_job, turn=queued.turn(tts_job, queueing, argv))
