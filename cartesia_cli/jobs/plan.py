"""A job's plan: its settings turned into a request and an output, every local check made.

The checks run in the order a user fixes them, and before any request is sent
or any file claimed: a usage error here leaves nothing behind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.endpoints import WEBSOCKET, TtsEndpoint
from cartesia_cli.errors import STDIN_IS_TERMINAL, TWO_TRANSCRIPTS, CliError, UsageError
from cartesia_cli.formats import (
    DEFAULT_MP3_BIT_RATE,
    LOCALE_MODELS,
    SUFFIXES,
    Container,
    OutputFormat,
    RequestedFormat,
    is_region_code,
)
from cartesia_cli.input.transcript import STDIN, resolve_transcript
from cartesia_cli.jobs import timestamps
from cartesia_cli.jobs.context import api_config
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.names import Named, Resolver
from cartesia_cli.output import players
from cartesia_cli.output.claims import is_open_regular_file
from cartesia_cli.output.sinks import STDOUT, is_stdout, names_stderr
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, insecure_url_warning
from cartesia_cli.ui.console import console, isatty

if TYPE_CHECKING:
    from cartesia_cli.api.api_config import ApiConfig


class Plan(NamedTuple):
    """A job with everything checked that can be checked before a request is sent."""

    audio: OutputFormat  # what is written, and what the request asks for (`audio.received`)
    request: TtsRequest
    api: ApiConfig
    player: players.Choice | None  # what plays it, with --play
    stamps: timestamps.Timestamps | None
    reader_wait: float  # how long a named pipe may wait for its reader
    pieces: Iterable[str] | None = None  # over a WebSocket: the text, as it comes
    encoder: str | None = None  # ffmpeg's path, when the container is encoded here
    player_name: str = players.AUTO  # --player: also the one the play-it hint names
    voice: Named | None = None  # the voice the request names, by id (and name when known)


def plan(job: TtsJob, settings: Settings) -> Plan:
    """Every local check, in the order a user fixes them; usage errors leave nothing behind."""
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    _check_stdout_claims(job)
    _check_stdin_kept(job)
    _check_stderr_kept(job)
    stamps = timestamps.checked(
        job.options.timestamps,
        job.options.words_per_cue,
        endpoint=job.endpoint,
        output=job.options.output,
        force=job.options.force,
    )
    # After the checks that keep one file from going over another: they say more.
    audio = audio_format(job, settings)
    player = player_for(job, settings, audio)  # exit 2, before any request
    encoder = encoder_for(job, audio)
    # No httpx yet: a cache hit sends nothing (jobs/speak.py imports it for a request).
    api = api_config(settings)
    # Names to ids, once the local checks are made: a name may cost a listing request.
    settings, voice = Resolver(api, cache_only=job.options.dry_run).settings(settings)
    if job.endpoint.transport is WEBSOCKET:
        request, pieces = _text_as_it_comes(job, settings, audio, stamps)
    else:
        request, pieces = _request(job, settings, audio, stamps), None
    reader_wait = settings[spec.IDLE_TIMEOUT]
    named = settings[spec.PLAYER]
    return Plan(audio, request, api, player, stamps, reader_wait, pieces, encoder, named, voice)


def player_for(job: TtsJob, settings: Settings, audio: OutputFormat) -> players.Choice | None:
    """With --play (and for say), the player `--player` names, or `auto`'s pick."""
    if not job.options.play:
        return None
    try:
        return players.choose(settings[spec.PLAYER], played(audio))
    except UsageError as exc:
        name = settings[spec.PLAYER]
        if name == players.AUTO:
            exc.hint = f"install one: {players.what_to_install()}"
        elif name == players.IN_PROCESS and not players.in_process_available():
            exc.hint = f"install it: {players.EXTRA}"
        else:
            exc.hint = exc.hint or "install it, or use --player auto"
        raise


def played(audio: OutputFormat) -> OutputFormat:
    """What the player is fed: what is written, but PCM in place of a container encoded here."""
    return OutputFormat(Container.RAW, audio.received) if audio.encoded_here else audio


def encoder_for(job: TtsJob, audio: OutputFormat) -> str | None:
    """ffmpeg's path when a file or stdout gets a container made here (say alone plays PCM)."""
    keeps_audio = job.options.output is not None or not job.options.play
    if not (audio.encoded_here and keeps_audio):
        return None
    from cartesia_cli.output.encoder import find_encoder

    return find_encoder(audio.container)  # exit 2, before any request


def _text_as_it_comes(
    job: TtsJob, settings: Settings, audio: OutputFormat, stamps: timestamps.Timestamps | None
) -> tuple[TtsRequest, Iterable[str]]:
    """The context's settings, and its text: the arguments' whole, or stdin's as it comes."""
    from cartesia_cli.input import text_stream

    options = job.options
    given = options.transcript if options.transcript is not None else options.transcript_arg
    from_arguments = given is not None and given != STDIN
    if from_arguments or (given is None and isatty(0)):  # text, or the usual "no transcript"
        text = resolve_transcript(options.transcript, options.transcript_arg, None, isatty(0))
        pieces: Iterable[str] = text_stream.pieces_of(text)
    else:
        if options.transcript is not None and options.transcript_arg is not None:
            raise UsageError("the transcript was given twice", kind=TWO_TRANSCRIPTS)
        if isatty(0) or sys.stdin is None:
            raise UsageError("stdin is a terminal", kind=STDIN_IS_TERMINAL)
        pieces = text_stream.pieces_from(0)
    return request_for(settings, audio.received, "", stamps), pieces


def _check_stdout_claims(job: TtsJob) -> None:
    """Audio (-o -), the --json object and --timestamps - each want stdout to themselves."""
    options = job.options
    if options.json and is_stdout(options.timestamps) and not is_stdout(options.output):
        raise UsageError(
            "--json and --timestamps - would share stdout; send the subtitles to a file "
            "(--timestamps FILE.srt)"
        )


def _check_stdin_kept(job: TtsJob) -> None:
    """The audio never goes over the file stdin holds (the transcript, read from it)."""
    output = job.options.output
    if output not in (None, STDOUT) and is_open_regular_file(output, 0):
        raise UsageError(f"-o {output} is the file on stdin: the audio would overwrite it")


def _check_stderr_kept(job: TtsJob) -> None:
    """Neither the audio nor the subtitles go where the lines for people go (stderr's file).

    `-o /dev/stderr 2> x.wav` would put `wrote …` over the audio's header.
    """
    options = job.options
    named = (("-o", "audio", options.output), ("--timestamps", "subtitles", options.timestamps))
    for flag, what, path in named:
        if names_stderr(path):
            raise UsageError(
                f"{flag} {path} is stderr's file: the lines for people would land in the {what};"
                f" write it to a file of its own, or to stdout ({flag} -)"
            )


def _request(
    job: TtsJob, settings: Settings, audio: OutputFormat, stamps: timestamps.Timestamps | None
) -> TtsRequest:
    """The request, with the transcript read (stdin included) and every setting checked."""
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    text = resolve_transcript(job.options.transcript, job.options.transcript_arg, stdin, isatty(0))
    return request_for(settings, audio.received, text, stamps)


def request_for(
    settings: Settings,
    asked: RequestedFormat,
    text: str,
    stamps: timestamps.Timestamps | None = None,
) -> TtsRequest:
    """The request that speaks `text` with these settings, asking for audio as `asked`."""
    if settings[spec.LANGUAGE] is not None and settings[spec.LOCALE] is not None:
        raise UsageError("--language and --locale cannot be combined; a locale names the language")
    return TtsRequest(
        model_id=settings[spec.MODEL],
        transcript=text,
        voice_id=settings[spec.VOICE],
        audio=asked,
        fields={**settings.body_fields(), **(stamps.request_fields() if stamps else {})},
        api_version=settings[spec.API_VERSION],
    )


def locale_hint(settings: Settings, refusal: CliError) -> str | None:
    """Why a request was refused, when it asked for a region code on a model without them.

    Not when the server named another cause: an unknown or retired model is its own story.
    """
    model = settings[spec.MODEL]
    codes = [settings[s] for s in (spec.LOCALE, spec.NORMALIZATION)]
    about_the_model = "model" in (refusal.title or "").lower()
    if about_the_model or model in LOCALE_MODELS or not any(c and is_region_code(c) for c in codes):
        return None
    return f"region codes in --locale and --normalization need {', '.join(LOCALE_MODELS)} (--model)"


def output_container(job: TtsJob, settings: Settings) -> Container:
    """What to write: the output name's suffix picks it; else --container, config, the default.

    A --container that disagrees with the suffix is refused, as is a suffix no
    container has. `-o -`, a directory, a device or named pipe, and a name
    without a suffix leave it to --container (or the config, or the command's default).
    """
    output = job.options.output
    flag = job.options.given.get(spec.CONTAINER.name)
    chosen = settings[spec.CONTAINER]
    named = container_named_by(output)
    if named is not None and flag is not None and chosen is not named:
        assert chosen is not None and output is not None  # a given flag resolves to its value
        raise UsageError(
            f"-o {output} asks for {named.value} by its name, --container for {chosen.value}: "
            "drop --container, or change the name"
        )
    return named or chosen or Container(job.endpoint.default_container)


def container_named_by(output: str | None) -> Container | None:
    """The container an output file's name asks for (`x.mp3`); None when the name says none."""
    if output is None or output == STDOUT or output.endswith(("/", os.sep)):
        return None
    if os.path.exists(output) and not os.path.isfile(output):
        return None  # a directory, a device, a named pipe: no file of ours to name
    suffix = os.path.splitext(os.path.basename(output))[1].lower()
    if suffix in ("", "."):
        return None
    if suffix not in SUFFIXES:
        names = ", ".join(SUFFIXES)
        raise UsageError(
            f"{output}: cannot write a {suffix} file; the name's suffix picks the container: "
            f"{names} (or a name without a suffix, with --container)"
        )
    return SUFFIXES[suffix]


def server_containers(endpoint: TtsEndpoint) -> tuple[Container, ...]:
    """What the endpoint sends as it is; any other container is made here from raw PCM."""
    return tuple(Container(name) for name in endpoint.containers)


def audio_format(job: TtsJob, settings: Settings) -> OutputFormat:
    """What is written and what is asked of the API, refusing flags that do not apply.

    The endpoint makes what it can (/tts/bytes: wav, mp3); anything else is
    made here from the raw PCM asked for: a WAV framed, an mp3, flac or ogg
    encoded.
    """
    container = output_container(job, settings)
    sent = server_containers(job.endpoint)
    rate = settings[spec.SAMPLE_RATE]
    bit_rate = settings[spec.BIT_RATE]
    if container is not Container.MP3 and bit_rate is not None:
        raise UsageError("--bit-rate applies to an MP3 only (-o x.mp3, or --container mp3)")
    if container is Container.MP3:
        bit_rate = bit_rate or DEFAULT_MP3_BIT_RATE
    if container in sent and container is Container.MP3:  # the server's own MP3
        if job.options.given.get(spec.ENCODING.name) is not None:
            raise UsageError(
                "--encoding does not apply to the MP3 /tts/bytes makes (it has no PCM encoding);"
                " drop it, or use tts sse to encode the PCM here"
            )
        return OutputFormat(container, RequestedFormat(container, None, rate, bit_rate), bit_rate)
    asked = container if container in sent else Container.RAW
    return OutputFormat(container, RequestedFormat(asked, settings[spec.ENCODING], rate), bit_rate)
