"""A TTS job from parsed options to audio on disk or stdout: the glue of the CLI layer.

Order matters: everything that can be checked locally is checked before a
request is sent, and the output file is claimed last, so a usage error leaves
nothing behind. The run itself is `run/pipeline.py`; every line for people goes
through `ui/console.py`. No typer here: typer has already parsed the options.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli import process
from cartesia_cli.api.protocol import BYTES_PATH, SSE_PATH, WS_PATH, TtsRequest
from cartesia_cli.commands import (
    _dry_run,
    _timestamps,
    api_config,
    config_file,
    emit_result,
    load_config,
)
from cartesia_cli.errors import (
    AUDIO_TO_TERMINAL,
    STDIN_IS_TERMINAL,
    TWO_TRANSCRIPTS,
    CliError,
    ExitCode,
    Interrupted,
    OutputError,
    RequestRejected,
    StopRequested,
    UsageError,
    internal_error,
    stop_word,
)
from cartesia_cli.formats import (
    DEFAULT_MP3_BIT_RATE,
    LOCALE_MODELS,
    PLAYER,
    SERVER_FILES,
    STREAMED,
    SUFFIXES,
    Container,
    OutputFormat,
    RequestedFormat,
    is_region_code,
    player_args,
)
from cartesia_cli.input.transcript import STDIN, resolve_transcript
from cartesia_cli.options import JobOptions
from cartesia_cli.output import result_json, wav
from cartesia_cli.output.claims import is_open_regular_file
from cartesia_cli.output.player import Player, PlayingSink, find_player, stall_message
from cartesia_cli.output.sinks import STDOUT, NewFileName, Sink, check_output, open_sink
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult, StreamStats
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, insecure_url_warning, resolve
from cartesia_cli.ui import report
from cartesia_cli.ui.console import console, isatty

if TYPE_CHECKING:
    from cartesia_cli.api.contract import ApiConfig

PATHS = {"tts sse": SSE_PATH, "tts bytes": BYTES_PATH, "say": SSE_PATH, "tts ws": WS_PATH}
# The endpoints that stream raw PCM (any other container is made here) and carry timestamps.
STREAMING = (SSE_PATH, WS_PATH)


class TtsJob(NamedTuple):
    """A TTS command's parsed options."""

    command: str  # "tts sse", "tts bytes", "say", "tts ws": the endpoint, file prefix, hints
    options: JobOptions
    default_container: Container  # without --container, config or a suffix that says otherwise
    buffer_ms: int = 0  # tts ws: max_buffer_delay_ms


class Plan(NamedTuple):
    """A job with everything checked that can be checked before a request is sent."""

    audio: OutputFormat  # what is written, and what the request asks for (`audio.received`)
    request: TtsRequest
    api: ApiConfig
    player: str | None  # ffplay's path, with --play
    stamps: _timestamps.Timestamps | None
    reader_wait: float  # how long a named pipe may wait for its reader
    pieces: Iterable[str] | None = None  # tts ws: the text, as it comes
    encoder: str | None = None  # ffmpeg's path, when the container is encoded here


def refuse(job: TtsJob, failure: CliError) -> None:
    """Fail `job` before it starts, with its --json object when asked for one."""
    if job.options.json:
        failure.result_json = JobFacts(job).failure(failure)
    raise failure


def speak(job: TtsJob) -> None:
    """Run `job`; raise a CliError (with its exit code) on any failure.

    With --json the failure carries its JSON object for the CLI boundary to print
    after the error line; on success it is printed here, last.
    """
    console.configure(quiet=job.options.quiet, debug=job.options.debug)
    facts = JobFacts(job)
    try:
        _speak(job, facts)
    except (KeyboardInterrupt, StopRequested) as stop:  # before the job had a sink
        process.stop_taken()
        code = stop.exit_code if isinstance(stop, StopRequested) else ExitCode.INTERRUPTED
        failure = Interrupted(stop_word(code), code)
        if job.options.json:
            failure.result_json = facts.failure(failure)
        raise failure from None
    except CliError as exc:
        if job.options.json:
            exc.result_json = facts.failure(exc)
        raise
    except Exception as exc:  # a bug: still one line, and the --json object scripts wait for
        bug = internal_error(exc)
        if job.options.json:
            bug.result_json = facts.failure(bug)
        raise bug from exc
    if job.options.json and not job.options.dry_run:
        emit_result(*facts.success())


def _speak(job: TtsJob, facts: JobFacts) -> None:
    dry_run = job.options.dry_run
    settings = resolve(
        job.options.given, os.environ, load_config(config_file()), key_required=not dry_run
    )
    if dry_run and PATHS[job.command] == WS_PATH:
        raise UsageError("--dry-run shows an HTTP request; tts ws speaks over a WebSocket")
    plan = _plan(job, settings)
    facts.plan = plan
    if dry_run:
        if job.options.output is not None or not job.options.play:
            check_output(job.options.output, force=job.options.force, stdout_is_tty=isatty(1))
        _show_request(job, plan)
        return
    with _claimed_captions(job, plan) as captions:
        try:
            result = _produce(job, plan, facts, captions)
        except RequestRejected as exc:
            exc.hint = exc.hint or locale_hint(settings)
            raise
        if captions is not None:
            console.info(f"wrote {captions.write(result, complete=True)}")


@contextmanager
def _claimed_captions(job: TtsJob, plan: Plan) -> Iterator[_timestamps.Captions | None]:
    """The --timestamps file, claimed before the audio's; removed again if never written."""
    if plan.stamps is None:
        yield None
        return
    with process.signals_held():  # a new file is always handed to its claim
        captions = _timestamps.Captions(plan.stamps, force=job.options.force)
    try:
        yield captions
    finally:
        with process.signals_held():
            captions.release()


def _show_request(job: TtsJob, plan: Plan) -> None:
    output = job.options.output
    _dry_run.show(
        PATHS[job.command],
        plan.api.base_url,
        plan.api.api_version,
        plan.request,
        output=None if output is None or os.path.isdir(output) else output,
        as_json=job.options.json,
    )


class JobFacts:
    """What a job has come to know, for its --json object: filled in as it goes."""

    def __init__(self, job: TtsJob) -> None:
        self.job = job
        self.plan: Plan | None = None
        self.sink: Sink | None = None
        self.result: StreamResult | None = None
        self.characters: int | None = None  # tts ws: what was sent, known as it goes

    def success(self) -> tuple[str, bool]:
        return self._encoded(ExitCode.OK, None)

    def failure(self, exc: CliError) -> tuple[str, bool]:
        error = result_json.error_object(
            kind=ExitCode(exc.exit_code).name.lower(),
            title=exc.title,
            message=exc.message,
            status=exc.status,
            request_id=exc.request_id,
        )
        return self._encoded(exc.exit_code, error, request_id=exc.request_id)

    def _encoded(
        self, code: int, error: dict[str, object] | None, request_id: str | None = None
    ) -> tuple[str, bool]:
        doc = result_json.document(
            error,
            command=self.job.command,
            output=self._output(),
            exit_code=int(code),
            request_id=request_id,
            **self._format(),
            **self._figures(),
        )
        # With the audio on stdout, the object is the last line on stderr.
        return result_json.encode(doc), self.job.options.output != STDOUT

    def _output(self) -> str | None:
        sink = self.sink
        if sink is None:  # the output was never claimed: no file of ours is there
            return None
        if sink.is_stdout:
            return STDOUT
        # A file left empty is removed: there is nothing to point a script at.
        return sink.label if sink.keeps_audio and sink.bytes_written else None

    def _format(self) -> dict[str, object]:
        if self.plan is None:
            return {}
        audio = self.plan.audio
        return {
            "container": audio.container.value,
            "encoding": audio.encoding.value if audio.encoding is not None else None,
            "sample_rate": audio.sample_rate,
            "characters": (
                self.characters
                if self.characters is not None
                else len(self.plan.request.transcript)
            ),
        }

    def _figures(self) -> dict[str, object]:
        if self.sink is None or self.result is None or self.plan is None:
            return {}
        stats = self.result.stats
        first = stats.time_to_first_audio()
        return {
            "bytes": self.sink.bytes_written,
            "audio_seconds": round(pipeline.audio_seconds(self.sink, self.plan.audio.received), 3),
            "chunks": stats.chunks,
            "first_audio_ms": None if first is None else round(first * 1000, 1),
            "total_ms": round(stats.elapsed() * 1000, 1),
        }


def _plan(job: TtsJob, settings: Settings) -> Plan:
    """Every local check, in the order a user fixes them; usage errors leave nothing behind."""
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    player = find_player() if job.options.play else None  # exit 2, before any request
    _check_stdout_claims(job)
    _check_stdin_kept(job)
    stamps = _timestamps.checked(
        job.options.timestamps,
        job.options.words_per_cue,
        streams=PATHS[job.command] in STREAMING,
        output=job.options.output,
        force=job.options.force,
    )
    # After the checks that keep one file from going over another: they say more.
    audio = audio_format(job, settings)
    encoder = encoder_for(job, audio)
    if PATHS[job.command] == WS_PATH:
        request, pieces = _ws_request(job, settings, audio, stamps)
    else:
        request, pieces = _request(job, settings, audio, stamps), None
    # httpx (~40 ms) is imported here, before the output file is claimed, so that the
    # claim and the stream follow each other.
    api = api_config(settings)
    return Plan(audio, request, api, player, stamps, settings[spec.IDLE_TIMEOUT], pieces, encoder)


def encoder_for(job: TtsJob, audio: OutputFormat) -> str | None:
    """ffmpeg's path when a file or stdout gets a container made here (say alone plays PCM)."""
    keeps_audio = job.options.output is not None or not job.options.play
    if not (audio.encoded_here and keeps_audio):
        return None
    from cartesia_cli.output.encoder import find_encoder

    return find_encoder(audio.container)  # exit 2, before any request


def _ws_request(
    job: TtsJob, settings: Settings, audio: OutputFormat, stamps: _timestamps.Timestamps | None
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
    if options.json and options.timestamps == STDOUT and options.output != STDOUT:
        raise UsageError(
            "--json and --timestamps - would share stdout; send the subtitles to a file "
            "(--timestamps FILE.srt)"
        )


def _check_stdin_kept(job: TtsJob) -> None:
    """The audio never goes over the file stdin holds (the transcript, read from it)."""
    output = job.options.output
    if output not in (None, STDOUT) and is_open_regular_file(output, 0):
        raise UsageError(f"-o {output} is the file on stdin: the audio would overwrite it")


def _produce(
    job: TtsJob, plan: Plan, facts: JobFacts, captions: _timestamps.Captions | None
) -> StreamResult:
    """Claim the output, stream into it, play it; every way out closes (and cleans) it."""
    process.imports_done()
    sink: Sink | None = None
    result = facts.result = StreamResult(StreamStats())
    try:
        with process.signals_held():  # a new file is always handed to its sink
            sink = facts.sink = _open_sinks(job, plan)
        if captions is not None:
            captions.check_apart_from(_audio_file(sink))
        path = PATHS[job.command]
        if path == WS_PATH:
            _stream_ws(job, plan, sink, result, facts, captions)
        else:
            _stream(path, plan.api, plan.request, sink, plan.audio.received, result, captions)
        if isinstance(sink, PlayingSink):
            _finish_playing(sink, plan.audio.received)
        process.stop_taken()  # the audio is all there: no signal may cut the summary or the exit
    except (KeyboardInterrupt, StopRequested) as stop:  # before the stream, or just after it
        process.stop_taken()
        raise pipeline.stopped(stop, sink, plan.audio.received) from None
    finally:
        with process.signals_held():  # a stop here must not leave an empty file behind
            if sink is not None:
                sink.close(keep=sink.bytes_written > 0)
            if isinstance(sink, PlayingSink):
                sink.player.stop()  # whatever happened, no player is left behind
    _report(job, result, sink, plan.audio)
    return result


def _request(
    job: TtsJob, settings: Settings, audio: OutputFormat, stamps: _timestamps.Timestamps | None
) -> TtsRequest:
    """The request, with the transcript read (stdin included) and every setting checked."""
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    text = resolve_transcript(job.options.transcript, job.options.transcript_arg, stdin, isatty(0))
    return request_for(settings, audio.received, text, stamps)


def request_for(
    settings: Settings,
    asked: RequestedFormat,
    text: str,
    stamps: _timestamps.Timestamps | None = None,
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


def locale_hint(settings: Settings) -> str | None:
    """Why a request was refused, when it asked for a region code on a model without them."""
    model = settings[spec.MODEL]
    codes = [settings[s] for s in (spec.LOCALE, spec.NORMALIZATION)]
    if model in LOCALE_MODELS or not any(c and is_region_code(c) for c in codes):
        return None
    return f"region codes in --locale and --normalization need {', '.join(LOCALE_MODELS)} (--model)"


def _mention_proxy(base_url: str) -> None:
    from cartesia_cli.api.client import environment_proxy

    proxy = environment_proxy(base_url)
    console.debug_line(f"proxy: {proxy or 'none'} (from the environment)")
    if proxy and base_url.startswith("http://"):
        console.warning(f"the API key travels unencrypted to the proxy {proxy} (plain http://)")


def _mention_ws_proxy(base_url: str) -> None:
    """As `_mention_proxy`, for the proxy the WebSocket tunnels through."""
    from cartesia_cli.api import ws_proxy
    from cartesia_cli.api.ws_client import ws_target

    proxy = ws_proxy.environment_proxy(ws_target(base_url).http_url)
    if proxy and base_url.lower().startswith("http://"):
        console.warning(
            f"the API key travels unencrypted through the proxy {proxy.shown} (plain http://)"
        )


def output_container(job: TtsJob, settings: Settings) -> Container:
    """What to write: the output name's suffix picks it; else --container, config, the default.

    A --container that disagrees with the suffix is refused, as is a suffix no
    container has. `-o -`, a directory, a device or named pipe, and a name
    without a suffix leave it to --container (or the config, or the default).
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
    return named or chosen or job.default_container


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
            f"-o {output}: cannot write a {suffix} file; the name's suffix picks the container: "
            f"{names} (or a name without a suffix, with --container)"
        )
    return SUFFIXES[suffix]


def audio_format(job: TtsJob, settings: Settings) -> OutputFormat:
    """What is written and what is asked of the API, refusing flags that do not apply.

    The endpoint makes what it can (/tts/bytes: wav, mp3); anything else is
    made here from the raw PCM asked for: a WAV framed, an mp3, flac or ogg
    encoded.
    """
    container = output_container(job, settings)
    sent = STREAMED if PATHS[job.command] in STREAMING else SERVER_FILES
    rate = settings[spec.SAMPLE_RATE]
    bit_rate = settings[spec.BIT_RATE]
    if container is not Container.MP3 and bit_rate is not None:
        raise UsageError("--bit-rate applies to --container mp3 only")
    if container is Container.MP3:
        bit_rate = bit_rate or DEFAULT_MP3_BIT_RATE
    if container in sent and container is Container.MP3:  # the server's own MP3
        if job.options.given.get(spec.ENCODING.name) is not None:
            raise UsageError("--encoding does not apply to --container mp3")
        return OutputFormat(container, RequestedFormat(container, None, rate, bit_rate), bit_rate)
    asked = container if container in sent else Container.RAW
    return OutputFormat(container, RequestedFormat(asked, settings[spec.ENCODING], rate), bit_rate)


def _open_output(job: TtsJob, plan: Plan) -> Sink:
    if job.options.output == STDOUT and 1 in process.closed_at_start():
        raise UsageError("stdout was closed when the command started; write a file with -o FILE")
    audio = plan.audio
    new_name = NewFileName(prefix=job.command.replace(" ", "_"), extension=audio.extension)
    try:
        sink = open_sink(
            job.options.output,
            force=job.options.force,
            stdout_is_tty=isatty(1),
            new_name=new_name,
            reader_wait=plan.reader_wait,  # a named pipe's reader: as long as for the server
        )
    except UsageError as exc:
        if exc.kind == AUDIO_TO_TERMINAL:
            player = report.play_command(audio, None)
            pipe = f"cartesia-cli {job.command} ... -o - | {player}"
            exc.hint = f"pipe it ({pipe}) or write a file with -o FILE"
        raise
    return made_here(sink, audio, plan.encoder)


def made_here(sink: Sink, audio: OutputFormat, encoder: str | None) -> Sink:
    """The sink that writes `audio`'s container: as received, framed as a WAV, or encoded."""
    if audio.framed_here and audio.encoding is not None:
        sink.frame_as_wav(wav.Layout(audio.encoding, audio.sample_rate))
    elif audio.encoded_here:
        from cartesia_cli.output.encoder import EncoderSink

        assert encoder is not None, "the plan found the encoder"
        return EncoderSink(encoder, audio, sink)
    elif audio.received.container is Container.MP3:  # the server's: its bit rate may differ
        sink.time_as_mp3()
    return sink


def played(audio: OutputFormat) -> OutputFormat:
    """What the player is fed: what is written, but PCM in place of a container encoded here."""
    return OutputFormat(Container.RAW, audio.received) if audio.encoded_here else audio


def _open_sinks(job: TtsJob, plan: Plan) -> Sink:
    """The output file (or stdout) and, with --play, the player beside it."""
    if plan.player is None:
        return _open_output(job, plan)
    kept = None if job.options.output is None else _open_output(job, plan)
    heard = played(plan.audio)
    try:
        playing = PlayingSink(Player(plan.player, player_args(heard, None)), kept)
    except OSError as exc:
        if kept is not None:
            kept.close(keep=False)
        raise UsageError(f"cannot start {PLAYER}: {exc.strerror}") from None
    made_here(playing.player.sink, heard, None)
    return playing


PLAYBACK_SLACK = 30.0  # seconds a player may take beyond the audio's own length


def _finish_playing(sink: PlayingSink, audio: RequestedFormat) -> None:
    """Wait for the player to play what it was given, bounded; say if it quit early.

    A player given up for not reading (stopped already) is one warning: the file
    has every byte, so the run is not failed for it.
    """
    if sink.player_stalled:
        console.warning(stall_message(sink.player.sink.stall_after))
        return
    seconds = pipeline.audio_seconds(sink.player.sink, audio)
    code = sink.player.finish(timeout=seconds + PLAYBACK_SLACK)
    if code is None:
        console.warning(
            f"{PLAYER} had not finished after {seconds + PLAYBACK_SLACK:.0f} s; stopped it"
        )
    elif sink.player_quit or code != 0:
        said = f": {sink.player.last_line}" if sink.player.last_line else ""
        how = f"killed by signal {-code}" if code < 0 else f"exit {code}"
        console.warning(f"{PLAYER} quit before the end of the audio ({how}){said}")


def _stream(
    path: str,
    api: ApiConfig,
    request: TtsRequest,
    sink: Sink,
    audio: RequestedFormat,
    result: StreamResult,
    captions: _timestamps.Captions | None,
) -> None:
    """Stream `request` into `sink`, figures into `result`; `audio` is the format received.

    A failed stream still writes the timestamps that arrived, and says so.
    """
    from cartesia_cli.api.client import CartesiaClient

    debug = console.debug_log()
    with CartesiaClient(api, debug=debug) as client:  # a proxy httpx refuses stops here
        _mention_proxy(api.base_url)
        with _display(result.stats, sink, audio):
            try:
                pipeline.run(client.stream(path, request), sink, audio, result, debug)
            except CliError as exc:
                _failed_stream(exc, captions, result)
                raise


def _stream_ws(
    job: TtsJob,
    plan: Plan,
    sink: Sink,
    result: StreamResult,
    facts: JobFacts,
    captions: _timestamps.Captions | None,
) -> None:
    """`tts ws`: the text into one WebSocket context as it comes, the audio out as it comes."""
    from cartesia_cli.api.ws_client import WsClient

    assert plan.pieces is not None
    _mention_ws_proxy(plan.api.base_url)  # a proxy it cannot use stops here (exit 2)
    client = WsClient(plan.api, buffer_ms=job.buffer_ms, debug=console.debug_log())
    sender = client.sender

    def text_figures() -> str:
        spoken = "" if job.buffer_ms else f", {sender.characters_spoken:,} spoken"
        return f"text {sender.characters:,} received{spoken}"

    try:
        with _display(result.stats, sink, plan.audio.received, text_figures):
            events = client.stream(plan.request, plan.pieces)
            pipeline.run(events, sink, plan.audio.received, result, console.debug_log())
    except CliError as exc:
        _failed_stream(exc, captions, result)
        raise
    finally:
        facts.characters = client.sender.characters


def _failed_stream(
    exc: CliError, captions: _timestamps.Captions | None, result: StreamResult
) -> None:
    """A stream that failed: stops ignored from here on, and the timestamps that came kept.

    The stream's failure stays the one reported (and its exit code the run's):
    a failure to write the timestamps is added to it, never put in its place.
    """
    if isinstance(exc, Interrupted):
        process.stop_taken()  # the clean-up from here on runs with stops ignored
    if captions is None or not result.word_timestamps:
        return  # none came: a file claimed for them is removed, as an empty audio file is
    try:
        exc.also_kept = "timestamps kept: " + captions.write(result, complete=False)
    except OutputError as failure:
        exc.also_kept = f"timestamps lost: {failure.message}"


def _audio_file(sink: Sink) -> str | None:
    """The file the audio is kept in (with --play, the one beside the player), if any."""
    return sink.label if sink.keeps_audio and not sink.is_stdout else None


def _report(job: TtsJob, result: StreamResult, sink: Sink, audio: OutputFormat) -> None:
    stats = result.stats
    seconds = pipeline.audio_seconds(sink, audio.received)  # of the audio received
    first, elapsed = stats.time_to_first_audio(), stats.elapsed()
    label = sink.label if sink.keeps_audio else None
    clock = sink.mp3_clock()
    if clock is not None and clock.bit_rate is not None:  # the server's encoder may lower it
        rate = clock.bit_rate
        audio = audio._replace(bit_rate=rate, received=audio.received._replace(bit_rate=rate))
    # The bytes where they went (a WAV's header too), as --json and the file's size say.
    console.info(report.summary(label, sink.bytes_written, seconds, audio, first, elapsed))
    if job.options.play:
        return  # heard already
    if sink.is_stdout or sink.is_regular_file:  # not for /dev/null or a named pipe: no replay
        console.info(report.play_hint(audio, job.command, None if sink.is_stdout else sink.label))


@contextmanager
def _display(
    stats: StreamStats, sink: Sink, audio: RequestedFormat, more: Callable[[], str] | None = None
) -> Iterator[None]:
    """The live display while streaming, on a terminal only (rich is not imported otherwise)."""
    if not console.wants_live_display():
        yield
        return
    from cartesia_cli.ui.display import live_display

    def seconds() -> float:
        return pipeline.audio_seconds(sink, audio)

    with (
        console.live_console() as rich_console,
        live_display(stats, seconds, rich_console, more),
    ):
        yield
