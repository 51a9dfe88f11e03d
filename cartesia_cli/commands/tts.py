"""`cartesia-cli tts ...`: text-to-speech commands.

Only option declarations live here; the job is `cartesia_cli/jobs/`, imported
inside each command so that `--help` and shell completion stay fast.
"""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

from typing import Annotated, Optional

import typer

from cartesia_cli import endpoints, options
from cartesia_cli.endpoints import TtsEndpoint
from cartesia_cli.jobs.job import JobOptions, TtsJob
from cartesia_cli.settings import spec

app = typer.Typer(
    help="Text to speech: tts sse streams raw PCM over SSE; tts bytes fetches a WAV, MP3 "
    "or raw file; tts ws speaks text while it is being written.",
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
TTS_SETTINGS = (
    *spec.VOICE_AND_MODEL,
    *spec.OUTPUT_FORMAT,
    *spec.RAW_FORMAT,
    *spec.CONNECTION,
    *spec.CONTROLS,
    *spec.PLAYBACK,
)

BatchOption = Annotated[
    Optional[str],
    typer.Option(
        "--batch",
        metavar="FILE",
        help="Many transcripts: one per line, or JSON Lines with per-item fields; '-' reads "
        "stdin. Each goes to its own file (in the -o directory).",
        show_default=False,
    ),
]
ConcurrencyOption = Annotated[
    Optional[int],
    typer.Option(
        "--concurrency",
        metavar="N",
        min=1,
        max=64,
        help="--batch items in flight at once (your plan's limit: Free 2, Pro 3, Startup 5, "
        "Scale 15).",
        show_default="2",
    ),
]


def _http_command(tts: TtsEndpoint, help: str) -> None:
    """Add one of the HTTP commands: a job, or with --batch many of them (one request each).

    `tts sse` and `tts bytes` take the same options; their endpoint's row says the rest.
    """

    @app.command(tts.words[-1], help=help, epilog=EXIT_CODES_HELP)
    @options.job_command(*TTS_SETTINGS, *spec.CACHING)
    def command(
        batch: BatchOption = None,
        concurrency: ConcurrencyOption = None,
        *,
        job: JobOptions,
    ) -> None:
        _speak(tts, job, batch, concurrency)


_http_command(
    endpoints.TTS_SSE,
    """Stream speech over SSE to a file (raw PCM, WAV, MP3, FLAC, Ogg Opus) or stdout.

    Audio is written as it arrives; the file name's suffix picks the
    container (mp3, flac and ogg are encoded here by ffmpeg). Without -o
    it goes to a new timestamped .pcm (or --container) file; the summary
    and a matching ffplay command follow on stderr.

    Examples:

    \b
        cartesia-cli tts sse --transcript "Hello, world!"
        cartesia-cli tts sse "Hello" -o - | ffplay -autoexit -nodisp -f f32le -ar 44100 -i -
        cartesia-cli tts sse "Hello" -e pcm_s16le -o hello.wav
        cartesia-cli tts sse "Hello" --play -o hello.pcm
        cartesia-cli tts sse "Hello, world." -o hi.mp3 --timestamps hi.srt
        cartesia-cli tts sse --batch lines.txt --concurrency 3 -o out/
    """,
)
_http_command(
    endpoints.TTS_BYTES,
    """Fetch speech as a file made by the server: WAV, MP3 or raw PCM.

    The body is written as it arrives, never held whole in memory.
    The file name's suffix picks the container; FLAC and Ogg Opus are
    encoded here from raw PCM (ffmpeg). Without -o it goes to a new
    timestamped .wav (or --container) file; --encoding and
    --sample-rate apply to wav and raw, --bit-rate to mp3.

    Examples:

    \b
        cartesia-cli tts bytes "Hello, world!"
        cartesia-cli tts bytes "Hello" --bit-rate 192000 -o hello.mp3
        cartesia-cli tts bytes "Hello" -o - | ffplay -autoexit -nodisp -i -
        cartesia-cli tts bytes --batch items.jsonl --container mp3 -o out/ --json
    """,
)


BufferOption = Annotated[
    int,
    typer.Option(
        "--buffer-ms",
        metavar="MS",
        min=0,
        max=5000,
        help="max_buffer_delay_ms, always sent (the server's own default is 3000). 0: each "
        "sentence is spoken as soon as it is cut, the fastest first audio; more: the server "
        "waits up to MS for more text, smoother across pieces but later.",
    ),
]


@app.command("ws", epilog=EXIT_CODES_HELP)
@options.job_command(*TTS_SETTINGS)
def ws(
    buffer_ms: BufferOption = 0,
    *,
    job: JobOptions,
) -> None:
    """Speak text while it is still being written, over the TTS WebSocket.

    Text from a pipe or a redirected file is read as it arrives, cut at
    sentence ends and sent as one context, so sound starts with the first
    sentence and the whole text is one continuous performance. Text can
    also come from the arguments or --transcript.

    Examples:

    \b
        llm "Tell me a story" | cartesia-cli tts ws --play
        cartesia-cli tts ws < book.txt -o book.mp3 --timestamps book.srt
        cartesia-cli tts ws "Hello there. How are you?" --buffer-ms 500 -o hi.pcm
    """
    from cartesia_cli.jobs import speak

    speak.speak(TtsJob(endpoints.TTS_WS, job, buffer_ms=buffer_ms))


DEFAULT_CONCURRENCY = 2  # the Free plan's limit: more would be refused with HTTP 429


def _speak(
    endpoint: TtsEndpoint,
    job: JobOptions,
    batch: Optional[str],
    concurrency: Optional[int],
) -> None:
    from cartesia_cli.jobs import speak

    tts_job = TtsJob(endpoint, job)
    if batch is None:
        if concurrency is not None:
            from cartesia_cli.errors import UsageError

            speak.refuse(tts_job, UsageError("--concurrency applies to --batch"))
        speak.speak(tts_job)
        return
    from cartesia_cli.commands import _batch
    from cartesia_cli.errors import CliError, internal_error

    try:
        _batch.run(tts_job, batch, concurrency or DEFAULT_CONCURRENCY)
    except CliError as failure:
        if failure.result_json is None and not _batch.items_reported(failure):
            speak.refuse(tts_job, failure)  # a batch that failed as a whole: one object
        raise
    except Exception as exc:  # a bug outside any item: still the one object
        speak.refuse(tts_job, internal_error(exc))
