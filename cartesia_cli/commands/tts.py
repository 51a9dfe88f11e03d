"""`cartesia-cli tts ...`: text-to-speech commands.

Only option declarations live here; the job is in `commands/_tts_job.py`,
imported inside each command so that `--help` and shell completion stay fast.
"""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

from enum import Enum
from typing import Annotated

import typer

from cartesia_cli import options
from cartesia_cli.formats import Container
from cartesia_cli.settings import spec

app = typer.Typer(
    help="Text to speech: tts sse streams raw PCM over SSE; tts bytes fetches a WAV, MP3 "
    "or raw file.",
    no_args_is_help=True,
    # Plain help: rich costs ~40 ms of imports on --help, more than the
    # whole request of a plain httpx script.
    rich_markup_mode=None,
)

EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 internal error · 2 usage · 3 authentication · "
    "4 request rejected (4xx) · 5 server error (5xx, error event) · "
    "6 network/stream (connect, timeout, cut short, malformed event) · 7 output not writable · "
    "129 SIGHUP · 130 Ctrl-C · 141 stdout closed · 143 SIGTERM"
)
TTS_SETTINGS = (*spec.VOICE_AND_MODEL, *spec.RAW_FORMAT, *spec.CONNECTION, *spec.CONTROLS)

ContainerOption = Annotated[
    Container,
    typer.Option("--container", help="wav and mp3 are files any player opens; raw is bare PCM."),
]


class StreamContainer(str, Enum):
    """What `tts sse` writes: the raw PCM it receives, or that PCM in a WAV made here."""

    RAW = "raw"
    WAV = "wav"


StreamContainerOption = Annotated[
    StreamContainer,
    typer.Option(
        "--container",
        help="raw is the PCM as it streams; wav wraps it in a header (sizes set on close).",
    ),
]


@app.command(epilog=EXIT_CODES_HELP)
@options.job_command(*TTS_SETTINGS)
def sse(
    container: StreamContainerOption = StreamContainer.RAW,
    *,
    job: options.JobOptions,
) -> None:
    """Stream speech over SSE to a raw PCM or WAV file, or to stdout.

    Audio is written as it arrives. Without -o it goes to a new
    timestamped .pcm (or .wav) file; the summary and a matching
    ffplay command follow on stderr.

    Examples:

    \b
        cartesia-cli tts sse --transcript "Hello, world!"
        cartesia-cli tts sse "Hello" -o - | ffplay -autoexit -nodisp -f f32le -ar 44100 -i -
        cartesia-cli tts sse "Hello" --container wav -e pcm_s16le -o hello.wav
        cartesia-cli tts sse "Hello" --play -o hello.pcm
        cartesia-cli tts sse "Hello, world." --container wav -o hi.wav --timestamps hi.srt
    """
    _speak("tts sse", job, Container(container.value))


@app.command("bytes", epilog=EXIT_CODES_HELP)
@options.job_command(*TTS_SETTINGS, spec.BIT_RATE)
def bytes_(
    container: ContainerOption = Container.WAV,
    *,
    job: options.JobOptions,
) -> None:
    """Fetch speech as a file made by the server: WAV, MP3 or raw PCM.

    The body is written as it arrives, never held whole in memory.
    Without -o it goes to a new timestamped .wav, .mp3 or .pcm
    file; --encoding and --sample-rate apply to wav and raw,
    --bit-rate to mp3.

    Examples:

    \b
        cartesia-cli tts bytes "Hello, world!"
        cartesia-cli tts bytes "Hello" --container mp3 --bit-rate 192000 -o hello.mp3
        cartesia-cli tts bytes "Hello" -o - | ffplay -autoexit -nodisp -i -
    """
    _speak("tts bytes", job, container)


def _speak(command: str, job: options.JobOptions, container: Container) -> None:
    from cartesia_cli.commands import _tts_job

    _tts_job.speak(_tts_job.TtsJob(command=command, options=job, container=container))
