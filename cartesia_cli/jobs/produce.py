"""A planned job run: the output claimed, the audio streamed into it, played, summed up.

Every way out closes the sink, and removes a file that got no audio; a stop
before the stream, or just after it, is reported with what was kept. The
stream itself is `run/pipeline.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from cartesia_cli import process
from cartesia_cli.endpoints import WEBSOCKET
from cartesia_cli.errors import CliError, Interrupted, OutputError, StopRequested
from cartesia_cli.formats import RequestedFormat
from cartesia_cli.jobs import assembly
from cartesia_cli.jobs.facts import JobFacts
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.plan import Plan
from cartesia_cli.jobs.timestamps import Captions
from cartesia_cli.output.playing_sink import PlayingSink
from cartesia_cli.output.sinks import Sink
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult, StreamStats
from cartesia_cli.ui import report
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.api_config import ApiConfig
    from cartesia_cli.api.protocol import TtsRequest
    from cartesia_cli.jobs.caching import CacheUse
    from cartesia_cli.output.audio_cache import Writer


def produce(
    job: TtsJob,
    plan: Plan,
    facts: JobFacts,
    captions: Captions | None,
    cache: CacheUse | None = None,
) -> StreamResult:
    """Claim the output, stream into it, play it; every way out closes (and cleans) it.

    With `cache`, the audio comes from the audio cache when it is there (no
    request at all), else the stream's goes into it once complete.
    """
    process.imports_done()
    sink: Sink | None = None
    result = facts.result = StreamResult(StreamStats())
    try:
        with process.signals_held():  # a new file is always handed to its sink
            sink = facts.sink = assembly.open_sinks(job, plan)
        if captions is not None:
            captions.check_apart_from(assembly.audio_file(sink))
        if job.endpoint.transport is WEBSOCKET:
            stream_websocket(job, plan, sink, result, facts, captions)
        elif cache is not None:
            facts.cached = stream_cached(job.endpoint.path, plan, cache, sink, result, captions)
        else:
            received = plan.audio.received
            stream_http(job.endpoint.path, plan.api, plan.request, sink, received, result, captions)
        if isinstance(sink, PlayingSink):
            assembly.finish_playing(sink, plan.audio.received)
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
    _report(job, result, sink, plan, cached=facts.cached)
    return result


def stream_cached(
    path: str,
    plan: Plan,
    cache: CacheUse,
    sink: Sink,
    result: StreamResult,
    captions: Captions | None,
) -> bool:
    """The audio from the cache into `sink` (True), or streamed and kept there (False)."""
    from cartesia_cli.jobs import caching

    received = plan.audio.received
    found = cache.cache.open(cache.key)
    if found is not None:
        with found, _display(result.stats, sink, received):
            pipeline.run(caching.replayed(found), sink, received, result, console.debug_log())
        return True
    with cache.cache.writer(cache.key) as writer:  # removed unless kept: a failure keeps nothing
        stream_http(path, plan.api, plan.request, sink, received, result, captions, writer)
        caching.keep(writer)
    return False


def stream_http(
    path: str,
    api: ApiConfig,
    request: TtsRequest,
    sink: Sink,
    audio: RequestedFormat,
    result: StreamResult,
    captions: Captions | None,
    keeping: Writer | None = None,
) -> None:
    """Stream `request` into `sink`, figures into `result`; `audio` is the format received.

    A failed stream still writes the timestamps that arrived, and says so.
    `keeping`: the audio is written there too, as it comes (the audio cache).
    """
    from cartesia_cli.api.client import CartesiaClient

    debug = console.debug_log()
    with CartesiaClient(api, debug=debug) as client:  # a proxy httpx refuses stops here
        _mention_proxy(api.base_url)
        with _display(result.stats, sink, audio):
            try:
                events = client.stream(path, request)
                if keeping is not None:
                    from cartesia_cli.jobs.caching import recorded

                    events = recorded(events, keeping)
                pipeline.run(events, sink, audio, result, debug)
            except CliError as exc:
                _failed_stream(exc, captions, result)
                raise


def stream_websocket(
    job: TtsJob,
    plan: Plan,
    sink: Sink,
    result: StreamResult,
    facts: JobFacts,
    captions: Captions | None,
) -> None:
    """The text into one WebSocket context as it comes, the audio out as it comes."""
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


def _failed_stream(exc: CliError, captions: Captions | None, result: StreamResult) -> None:
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


def _report(
    job: TtsJob, result: StreamResult, sink: Sink, plan: Plan, *, cached: bool = False
) -> None:
    audio = plan.audio
    stats = result.stats
    seconds = pipeline.audio_seconds(sink, audio.received)  # of the audio received
    first, elapsed = stats.time_to_first_audio(), stats.elapsed()
    label = sink.label if sink.keeps_audio else None
    audio = pipeline.as_written(audio, sink)  # an MP3's bit rate: an encoder may lower it
    # The bytes where they went (a WAV's header too), as --json and the file's size say.
    voice = plan.voice.shown() if plan.voice is not None else None
    line = report.summary(
        label, sink.bytes_written, seconds, audio, first, elapsed, voice=voice, cached=cached
    )
    console.info(line)
    if job.options.play:
        return  # heard already
    # A file only: not /dev/null or a named pipe (no replay), nor stdout (piped already).
    if sink.is_regular_file and not sink.is_stdout:
        console.info(report.play_hint(audio, job.command, sink.label, plan.player_name))


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
