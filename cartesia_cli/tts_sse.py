"""`tts sse` from resolved options to audio on disk or stdout (no typer here).

Order matters: everything that can be checked locally is checked before a
request is sent, and the output file is claimed last, so a usage error
leaves nothing behind.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass
from types import FrameType

from cartesia_cli import report
from cartesia_cli.api import ApiConfig, CartesiaClient, TtsRequest
from cartesia_cli.errors import (
    BrokenPipe,
    CliError,
    ExitCode,
    Interrupted,
    StopRequested,
)
from cartesia_cli.formats import Encoding, SampleRate
from cartesia_cli.settings import Settings, resolve_settings
from cartesia_cli.sinks import Sink, open_sink
from cartesia_cli.stream import StreamResult, StreamStats, pump
from cartesia_cli.transcript import resolve_transcript


@dataclass(frozen=True)
class SseOptions:
    transcript: str | None
    transcript_arg: str | None
    model: str | None
    voice: str | None
    encoding: Encoding
    sample_rate: SampleRate
    output: str | None
    force: bool
    api_key: str | None
    base_url: str | None
    api_version: str | None
    quiet: bool
    debug: bool


def run(opts: SseOptions) -> None:
    """Stream speech for `opts`; raise a CliError (with its exit code) on any failure."""
    settings = resolve_settings(
        api_key=opts.api_key,
        base_url=opts.base_url,
        api_version=opts.api_version,
        model=opts.model,
        voice=opts.voice,
    )
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    text = resolve_transcript(opts.transcript, opts.transcript_arg, stdin, _isatty(0))
    rate = opts.sample_rate.hz
    sink = open_sink(
        opts.output,
        force=opts.force,
        stdout_is_tty=_isatty(1),
        play_hint=report.play_command(opts.encoding, rate, None),
    )
    request = TtsRequest(settings.model, text, settings.voice, opts.encoding.value, rate)
    result = _stream_to_sink(settings, request, sink, opts)
    if not opts.quiet:
        _say(report.summary(result.stats, sink, opts.encoding, rate))
        _say("play it: " + report.play_hint(opts.encoding, rate, sink))


def _stream_to_sink(
    settings: Settings, request: TtsRequest, sink: Sink, opts: SseOptions
) -> StreamResult:
    result = StreamResult(StreamStats())
    debug = _debug_line if opts.debug else None
    config = ApiConfig(settings.base_url, settings.api_key, settings.api_version)
    try:
        with (
            _stop_on_sigterm(),
            CartesiaClient(config, debug=debug) as client,
            _display(result.stats, opts),
            closing(client.stream_tts_sse(request)) as events,
        ):
            pump(events, sink, result, debug)
    except CliError as exc:
        exc.message += report.partial_note(sink, opts.encoding, request.sample_rate)
        raise
    except BrokenPipe:
        raise Interrupted(
            f"stdout was closed by the reader after {sink.bytes_written} bytes; stopped",
            ExitCode.BROKEN_PIPE,
        ) from None
    except (KeyboardInterrupt, StopRequested) as exc:
        code = exc.exit_code if isinstance(exc, StopRequested) else ExitCode.INTERRUPTED
        word = "terminated" if code == ExitCode.TERMINATED else "interrupted"
        note = report.partial_note(sink, opts.encoding, request.sample_rate)
        raise Interrupted(word + note, code) from None
    finally:
        sink.close(keep=sink.bytes_written > 0)
    return result


def _display(stats: StreamStats, opts: SseOptions) -> AbstractContextManager[object]:
    if opts.quiet or not _isatty(2):
        return nullcontext()
    from cartesia_cli.display import LiveDisplay  # rich costs ~40 ms: only for a terminal

    return LiveDisplay(stats, opts.encoding, opts.sample_rate.hz)


@contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM into an exception so it unwinds like Ctrl-C (partial file kept, 143)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise StopRequested(ExitCode.TERMINATED)

    previous: Callable[[int, FrameType | None], object] | int | None
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _debug_line(line: str) -> None:
    _say(f"debug: {line}")
