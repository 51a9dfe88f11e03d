"""`cartesia-cli say TEXT…`: speak now, like macOS `say`.

The `tts sse` job with the player on and no file unless -o; it returns when
playback has finished. Options are declared here, the job is `cartesia_cli/jobs/`.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

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
)


@options.job_command(*SAY_SETTINGS, words=True)
def say(*, job: JobOptions) -> None:
    """Speak now: stream the speech into ffplay as it arrives.

    No file is written unless -o names one; the command returns when
    playback has finished. Text comes from the arguments, --transcript,
    or piped stdin. Needs ffplay (part of ffmpeg) on PATH.

    Examples:

    \b
        cartesia-cli say Hello, world!
        git log -1 --format=%s | cartesia-cli say --speed 1.2
        cartesia-cli say "Build finished" -v VOICE_ID -o done.wav
    """
    from cartesia_cli.jobs import speak

    speak.speak(TtsJob(endpoints.SAY, job))
