"""`cartesia-cli tts ...`: text-to-speech commands.

Only option parsing lives here; the work is in `cartesia_cli.tts_sse`, imported
inside the command so that `--help` and shell completion stay fast.
"""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

from typing import Annotated

import typer

from cartesia_cli.commands import config_file
from cartesia_cli.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_ENCODING,
    DEFAULT_MODEL,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_VOICE,
)
from cartesia_cli.formats import KNOWN_MODELS, Encoding, SampleRate

app = typer.Typer(
    help="Text to speech: tts sse streams speech to a file or stdout.",
    no_args_is_help=True,
    # Plain help: rich costs ~40 ms of imports on --help, more than the
    # whole request of a plain httpx script (performance target, issue #5).
    rich_markup_mode=None,
)

EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 1 internal error · 2 usage · 3 authentication · "
    "4 request rejected (4xx) · 5 server error (5xx, error event) · "
    "6 network/stream (connect, timeout, no done, malformed event) · 7 output not writable · "
    "130 Ctrl-C · 141 stdout closed · 143 SIGTERM"
)


def _complete_model(incomplete: str) -> list[str]:
    return [model for model in KNOWN_MODELS if model.startswith(incomplete)]


@app.command(epilog=EXIT_CODES_HELP)
def sse(
    transcript_arg: Annotated[
        str | None,
        typer.Argument(
            metavar="[TRANSCRIPT]", help="Text to speak (or use --transcript).", show_default=False
        ),
    ] = None,
    transcript: Annotated[
        str | None,
        typer.Option(
            "--transcript", "-t", help="Text to speak; '-' reads stdin.", show_default=False
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            envvar="CARTESIA_MODEL",
            autocompletion=_complete_model,
            help="Model id (config: model).",
            show_default=DEFAULT_MODEL,
        ),
    ] = None,
    voice: Annotated[
        str | None,
        typer.Option(
            "--voice",
            "-v",
            envvar="CARTESIA_VOICE_ID",
            help="Voice id (config: voice).",
            show_default=DEFAULT_VOICE,
        ),
    ] = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option(
            "--encoding",
            "-e",
            help="Raw audio encoding (config: encoding).",
            show_default=DEFAULT_ENCODING.value,
        ),
    ] = None,
    sample_rate: Annotated[
        SampleRate | None,
        typer.Option(
            "--sample-rate",
            "-r",
            help="Sample rate in Hz (config: sample_rate).",
            show_default=DEFAULT_SAMPLE_RATE.value,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="'-' for stdout, a directory for a timestamped file in it, or a file name.",
            show_default="tts_sse_YYYYMMDD_HHMMSS_mmm.pcm in the current directory",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing output file.")
    ] = False,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="CARTESIA_API_KEY",
            show_default=False,
            help="API key (config: api_key). Prefer the environment variable: "
            "flags end up in shell history.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="CARTESIA_BASE_URL",
            help="API root URL (config: base_url).",
            show_default=DEFAULT_BASE_URL,
        ),
    ] = None,
    api_version: Annotated[
        str | None,
        typer.Option(
            "--api-version",
            envvar="CARTESIA_VERSION",
            help="Cartesia-Version header (YYYY-MM-DD).",
            show_default=DEFAULT_API_VERSION,
        ),
    ] = None,
    retries: Annotated[
        int,
        typer.Option(
            "--retries",
            min=0,
            max=10,
            help="Retries for connection failures, 408, 409, 429 and 5xx, before any audio.",
        ),
    ] = 2,
    connect_timeout: Annotated[
        float,
        typer.Option("--connect-timeout", min=0.01, metavar="S", help="Seconds to connect."),
    ] = 10.0,
    idle_timeout: Annotated[
        float,
        typer.Option(
            "--idle-timeout",
            min=0.01,
            metavar="S",
            help="Longest wait in seconds for the next event (keep-alives do not count).",
        ),
    ] = 30.0,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress, summary or hint; errors still print."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Request/response details and tracebacks on stderr (key redacted)."
        ),
    ] = False,
) -> None:
    """Stream speech over SSE to a raw PCM file or to stdout.

    Audio is written as it arrives. Without -o it goes to a new
    timestamped .pcm file; the summary and a matching ffplay
    command follow on stderr.

    Examples:

    \b
        cartesia-cli tts sse --transcript "Hello, world!"
        cartesia-cli tts sse "Hello" -o - | ffplay -autoexit -nodisp -f f32le -ar 44100 -i -
        echo "Hi from CI" | cartesia-cli tts sse -q -e pcm_s16le -r 16000 -o out.pcm
    """
    from cartesia_cli import tts_sse
    from cartesia_cli.settings import Given

    given = Given(api_key, base_url, api_version, model, voice, encoding, sample_rate)
    tts_sse.run(
        tts_sse.SseOptions(
            given=given,
            transcript=transcript,
            transcript_arg=transcript_arg,
            output=output,
            force=force,
            retries=retries,
            connect_timeout=connect_timeout,
            idle_timeout=idle_timeout,
            quiet=quiet,
            debug=debug,
            config_file=config_file(),
        )
    )
