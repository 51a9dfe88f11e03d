"""One sample heard, as `say` plays it: from the audio cache with no request, or streamed and kept.

The output, the player and the stream are the job's own (`assembly.py`,
`run/pipeline.py`): the same player, flags, failures and exit codes as `say`,
and `-o FILE` keeps the audio too. Two things are added: cached audio is
replayed through the same sink, and the audio of a stream is written to the
cache's `keep` as it comes, put in place only once the stream ended as it
should, before the player is waited for; a stream that fails or is stopped
leaves no entry.
"""

from __future__ import annotations

from collections.abc import Generator

from cartesia_cli import process
from cartesia_cli.api.events import Event
from cartesia_cli.errors import CliError, Interrupted, StopRequested
from cartesia_cli.formats import OutputFormat
from cartesia_cli.jobs import assembly
from cartesia_cli.jobs.caching import keep as kept_in_cache
from cartesia_cli.jobs.caching import recorded
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.plan import Plan
from cartesia_cli.output.audio_cache import Writer
from cartesia_cli.output.playing_sink import PlayingSink
from cartesia_cli.run import pipeline
from cartesia_cli.run.pipeline import StreamResult, StreamStats
from cartesia_cli.ui import report
from cartesia_cli.ui.console import console


def hear(
    job: TtsJob,
    plan: Plan,
    events: Generator[Event, None, None],
    *,
    keep: Writer | None = None,
    note: str = "",
) -> bool:
    """Play `events` (and write -o's file); True when the player played it to the end.

    `keep`: the cache entry the audio is written to as it passes, put in place
    once the stream is complete. `note` ends the summary line. Raises a CliError on
    any failure, Interrupted (130, 143, 129) on a stop; every way out stops the player.
    """
    sink: PlayingSink | None = None
    result = StreamResult(StreamStats())
    audio = plan.audio.received
    try:
        with process.signals_held():  # a new file is always handed to its sink
            opened = assembly.open_sinks(job, plan)
        assert isinstance(opened, PlayingSink), "a sample is always played"
        sink = opened
        _stream(recorded(events, keep) if keep else events, sink, plan, result)
        if keep is not None:
            kept_in_cache(keep)  # stored whole, or not at all
        played = assembly.finish_playing(sink, audio)
    except (KeyboardInterrupt, StopRequested) as stop:  # before the stream, or just after it
        process.stop_taken()
        raise pipeline.stopped(stop, sink, audio) from None
    finally:
        with process.signals_held():  # a stop here must not leave an empty file behind
            if sink is not None:
                sink.close(keep=sink.bytes_written > 0)
                sink.player.stop()  # whatever happened, no player is left behind
    _report(sink, result, plan.audio, played=played, note=note)
    return played


def _stream(
    events: Generator[Event, None, None], sink: PlayingSink, plan: Plan, result: StreamResult
) -> None:
    try:
        pipeline.run(events, sink, plan.audio.received, result, console.debug_log())
    except CliError as exc:
        if isinstance(exc, Interrupted):
            process.stop_taken()  # the clean-up from here on runs with stops ignored
        raise


def _report(
    sink: PlayingSink, result: StreamResult, audio: OutputFormat, *, played: bool, note: str
) -> None:
    """The summary: `played: …`, `wrote FILE: …`, or `not played: …` when the player failed."""
    stats = result.stats
    seconds = pipeline.audio_seconds(sink, audio.received)
    label = sink.label if sink.keeps_audio else None
    written = pipeline.as_written(audio, sink)
    line = report.summary(
        label,
        sink.bytes_written,
        seconds,
        written,
        stats.time_to_first_audio(),
        stats.elapsed(),
        played=played,
    )
    console.info(line + note)
