"""`--batch FILE`: many transcripts, `--concurrency` at a time, each to its own file.

One async client (one connection pool) for the whole batch; each item is
planned like a single run (its own settings over the command's, the same
checks), claims its own file, retries on its own, and reports on its own: a
failing item never stops the others. The exit code is the most severe item's.
Above the plan's concurrency limit the client lowers the batch's concurrency
and sends the refused items again, so they succeed later instead of failing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli import process
from cartesia_cli.errors import (
    CliError,
    ExitCode,
    Interrupted,
    StopRequested,
    UsageError,
    internal_error,
    stop_word,
)
from cartesia_cli.input.batch_file import BadItem, Item, items, lines_from, one_item_per_line
from cartesia_cli.jobs import caching, names
from cartesia_cli.jobs.assembly import made_here
from cartesia_cli.jobs.context import api_config, config_file, load_config
from cartesia_cli.jobs.facts import JobFacts, emit_result
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.names import Resolver, after_failure
from cartesia_cli.jobs.plan import Plan, audio_format, encoder_for, request_for
from cartesia_cli.output.claims import is_open_regular_file
from cartesia_cli.output.sinks import (
    STDOUT,
    NewFileName,
    Sink,
    is_stdout,
    names_stderr,
    open_sink,
)
from cartesia_cli.run import batch, pipeline
from cartesia_cli.run.pipeline import StreamResult, StreamStats
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, insecure_url_warning, resolve
from cartesia_cli.ui import report
from cartesia_cli.ui.console import console, isatty

if TYPE_CHECKING:
    from cartesia_cli.api.async_client import AsyncCartesiaClient

# Which failure decides the batch's exit code: a bug first, then what stops every item.
SEVERITY = (
    ExitCode.INTERNAL,
    ExitCode.AUTH,
    ExitCode.OUTPUT,
    ExitCode.SERVER,
    ExitCode.STREAM,
    ExitCode.REJECTED,
    ExitCode.USAGE,
)
# Per-item fields: the settings an item may change (not where or how to connect).
FIXED = {setting.name for setting in spec.CONNECTION}


class Batch(NamedTuple):
    job: TtsJob
    settings: Settings  # the command's own, which items override
    given: dict[str, str | None]
    config: dict[str, str | int | float]
    directory: Path
    started: datetime  # names every new file: they sort by line within one batch
    progress: batch.BatchProgress
    codes: list[int]  # each failed item's exit code
    partial: list[str]  # what items cut short by a stop left: "file (N bytes)"
    outputs: dict[str, int]  # items' own output files (real paths) -> the line that named one
    source: int  # the descriptor the items are read from: no item may write over its file
    names: Resolver  # voice and dictionary names to ids, each distinct name looked up once
    dictionaries: caching.Dictionaries  # their words, for the cache's keys: each read once


def run(job: TtsJob, source: str, concurrency: int) -> None:
    """The whole batch; raises a CliError (the most severe item's code) if any item failed."""
    console.configure(quiet=job.options.quiet, debug=job.options.debug)
    _check_flags(job)
    config = dict(load_config(config_file()))
    settings = resolve(job.options.given, os.environ, config)
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    directory = Path(job.options.output or ".")
    resolver = Resolver(api_config(settings), cache_only=False)
    resolver.settings(settings)  # the command's own names: a wrong one stops the batch here
    with _input(source) as fd:
        state = Batch(
            job,
            settings,
            dict(job.options.given),
            config,
            directory,
            datetime.now(),
            batch.BatchProgress(),
            [],
            [],
            {},
            fd,
            resolver,
            caching.Dictionaries(),
        )
        allowed = frozenset(set(job.options.given) - FIXED)  # --container's too
        try:
            _resolve_ahead(fd, resolver, allowed)
            # Read before any request: a whole-file JSON document is refused, not spoken.
            lines = one_item_per_line(lines_from(fd), source)
            stopped = asyncio.run(_run_all(state, items(lines, allowed), concurrency))
        except (KeyboardInterrupt, StopRequested) as stop:  # raised: outside the pool's watch
            process.stop_taken()
            code = stop.exit_code if isinstance(stop, StopRequested) else ExitCode.INTERRUPTED
            raise _stopped(state, code) from None
        except _ReaderGone as gone:
            process.stop_taken()
            if gone.failure is not None:
                raise gone.failure from None
            raise Interrupted(
                f"stdout was closed by its reader after {state.progress.done} items; stopped",
                ExitCode.BROKEN_PIPE,
            ) from None
        except OSError as exc:
            raise UsageError(f"cannot read --batch {source}: {exc.strerror}") from None
    if stopped:  # every item that had started has reported
        process.stop_taken()
        raise _stopped(state, ExitCode(process.stop_exit_code()))
    _finish(state)


def _resolve_ahead(fd: int, resolver: Resolver, allowed: frozenset[str]) -> None:
    """Every distinct voice and dictionary name of a batch file looked up before the first
    item is sent: an unknown or ambiguous one stops the batch (exit 2) before any speech is
    paid for. One pass over the file (the names only are kept), then back to where it was.
    A pipe (`--batch -` from another program) cannot be read twice: its names are looked
    up as its items come, and a bad one fails its item alone."""
    import stat

    if not stat.S_ISREG(os.fstat(fd).st_mode):
        return
    start = os.lseek(fd, 0, os.SEEK_CUR)
    try:
        for item in items(lines_from(fd), allowed):
            if isinstance(item, Item):
                _resolve_item(resolver, item)
    finally:
        os.lseek(fd, start, os.SEEK_SET)


def _resolve_item(resolver: Resolver, item: Item) -> None:
    """The item's voice and dictionary names as ids (each distinct name looked up once)."""
    kinds = ((spec.VOICE.name, names.VOICE), (spec.PRONUNCIATION_DICT.name, names.DICTIONARY))
    for field, kind in kinds:
        wanted = item.fields.get(field)
        if wanted is None:
            continue
        try:
            resolver.named(kind, wanted)
        except UsageError as exc:
            said = f"line {item.number}: {exc.message}; no item was sent"
            raise UsageError(said) from None


def _check_flags(job: TtsJob) -> None:
    options = job.options
    refused = [
        ("a transcript", options.transcript is not None or options.transcript_arg is not None),
        ("--play", options.play),
        ("--timestamps", options.timestamps is not None),
        ("--dry-run", options.dry_run),
    ]
    for what, given in refused:
        if given:
            raise UsageError(f"--batch takes its transcripts from the file; drop {what}")
    if options.output == STDOUT:
        raise UsageError("--batch writes one file per item: give -o a directory, not '-'")
    if options.output is not None and not Path(options.output).is_dir():
        raise UsageError(f"--batch needs -o to be an existing directory: {options.output}")


@contextmanager
def _input(source: str) -> Iterator[int]:
    """The descriptor the items are read from: stdin's, or the file's."""
    if source == "-":
        if 0 in process.closed_at_start():
            raise UsageError("--batch - reads stdin, and stdin was closed when the command started")
        if isatty(0):
            raise UsageError("--batch - reads stdin: pipe the lines in")
        yield 0
        return
    try:
        fd = os.open(source, os.O_RDONLY)
    except OSError as exc:
        raise UsageError(f"cannot read --batch {source}: {exc.strerror}") from None
    try:
        yield fd
    finally:
        os.close(fd)


async def _run_all(state: Batch, work: Iterator[Item | BadItem], concurrency: int) -> bool:
    """Every item, or those started before a stop (True): each has reported either way."""
    from cartesia_cli.api.async_client import AsyncCartesiaClient

    config = api_config(state.settings)
    async with AsyncCartesiaClient(
        config, concurrency=concurrency, debug=console.debug_log()
    ) as client:
        with _display(state.progress):

            async def one(item: Item | BadItem) -> None:
                await _one(state, client, item)

            def counted(total: int) -> None:
                state.progress.total = total

            stopped = await _watched(
                lambda stop: batch.run_all(
                    work,
                    one,
                    concurrency=concurrency,
                    start_thread=process.start_thread,
                    stop=stop,
                    on_end=counted,
                )
            )
        if not stopped:
            _mention_lowered(client.gate.limit, concurrency)
    state.progress.total = state.progress.done
    return stopped


async def _watched(pool: Callable[[asyncio.Event], Awaitable[bool]]) -> bool:
    """Run the pool with stop signals told to the loop, not raised where they land.

    Raised, a Ctrl-C ends the task it lands in and, through it, the loop, with
    the other items still under way: they were destroyed with the loop, without
    their --json object or their partial file named. A SIGTERM landing in one of
    the loop's callbacks was logged by asyncio, with a traceback, and lost. Told,
    a stop sets the pool's `stop`: every item is cancelled at an await point and
    reports, and the pool ends only once all have.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signalled = False

    def take_stop() -> None:  # in the loop, at its next turn
        process.stop_taken()  # ours now: a second Ctrl-C cannot cut the reports short
        stop.set()

    def notice() -> None:  # in the signal handler: it only schedules
        nonlocal signalled
        signalled = True
        with contextlib.suppress(RuntimeError):  # the loop closing: the pool has ended
            loop.call_soon_threadsafe(take_stop)

    with process.stops_watched(notice):
        stopped = await pool(stop)
    return stopped or signalled


def _mention_lowered(limit: int, concurrency: int) -> None:
    """Say once, at the end, that the server's limit slowed the batch (and what fits it)."""
    if limit < concurrency:
        console.info(
            f"the server refused requests over its concurrency limit: the batch went on "
            f"{limit} at a time (--concurrency {limit} starts there)"
        )


async def _one(state: Batch, client: AsyncCartesiaClient, item: Item | BadItem) -> None:
    """One item, start to end: every failure reported here, none raised."""
    job = state.job
    output = item.output if isinstance(item, Item) else None
    facts = JobFacts(job._replace(options=job.options._replace(output=output)))
    sink: Sink | None = None
    try:
        if isinstance(item, BadItem):
            raise UsageError(item.message)
        _check_not_the_source(state, item)  # before its name is judged as audio's
        _check_not_a_stream(item)
        item_job, plan, settings = _plan(state, item)
        facts.job, facts.plan = item_job, plan
        cache = (
            caching.use(job.endpoint.path, plan, settings, state.dictionaries)
            if settings[spec.CACHE]
            else None
        )
        _claim_name(state, item)
        with process.signals_held():
            sink = facts.sink = _claim(state, item_job, plan, item.number)
        result = facts.result = StreamResult(StreamStats())
        if cache is None:
            await batch.pump(client.stream(job.endpoint.path, plan.request), sink, result)
        else:
            facts.cached = await _through_cache(cache, client, job, plan, sink, result)
    except CliError as exc:
        _failed(state, facts, item, exc, sink)
    except _ReaderGone:
        raise
    except Exception as exc:  # a bug, met by this item alone: the others go on
        _failed(state, facts, item, internal_error(exc), sink)
    except (asyncio.CancelledError, KeyboardInterrupt, StopRequested):
        process.stop_taken()  # the stop is ours now: it must not cut the clean-up short
        _interrupted(state, facts, sink)
        raise
    else:
        _succeeded(state, facts, sink)
    finally:
        if sink is not None:
            with process.signals_held():
                sink.close(keep=sink.bytes_written > 0)


async def _through_cache(
    cache: caching.CacheUse,
    client: AsyncCartesiaClient,
    job: TtsJob,
    plan: Plan,
    sink: Sink,
    result: StreamResult,
) -> bool:
    """An item's audio from the audio cache (True: no request), or streamed and kept there."""
    found = cache.cache.open(cache.key)
    if found is not None:
        with found:  # a local file: read straight through, as fast as it reads
            pipeline.pump(caching.replayed(found), sink, result)
        return True
    with cache.cache.writer(cache.key) as writer:  # removed unless kept
        events = client.stream(job.endpoint.path, plan.request)
        await batch.pump(caching.recorded_async(events, writer), sink, result)
        caching.keep(writer)
    return False


def _plan(state: Batch, item: Item) -> tuple[TtsJob, Plan, Settings]:
    """The item as a job of its own: its fields over the command's flags, checked as flags."""
    job = state.job
    options = job.options._replace(given={**state.given, **item.fields}, output=item.output)
    item_job = job._replace(options=options)
    settings = resolve(options.given, os.environ, state.config)
    audio = audio_format(item_job, settings)  # its `output`'s suffix picks its container
    encoder = encoder_for(item_job, audio)
    # In the loop, and so one lookup at a time: a name new to the batch (and the cache)
    # holds the other items up for one listing request, once.
    settings, voice = state.names.settings(settings)
    request = request_for(settings, audio.received, item.transcript)
    api = api_config(settings)
    planned = Plan(audio, request, api, None, None, 0.0, encoder=encoder, voice=voice)
    return item_job, planned, settings


def _check_not_the_source(state: Batch, item: Item) -> None:
    """An item never writes over the batch file it comes from (under any name).

    With --force it would cut the lines not read yet.
    """
    if item.output is not None and is_open_regular_file(item.output, state.source):
        raise UsageError(f"{item.output} is the --batch file the items are read from")


def _check_not_a_stream(item: Item) -> None:
    """An item never writes into stdout's or stderr's file (`/dev/stdout`, the file `>` made).

    The --json objects go to one, the lines for people to the other: either would
    land on the item's audio.
    """
    if item.output is None:
        return
    if is_stdout(item.output):
        raise UsageError(f"{item.output} is stdout's file: a batch cannot share stdout")
    if names_stderr(item.output):
        raise UsageError(
            f"{item.output} is stderr's file: the lines for people would land in the audio"
        )


def _claim_name(state: Batch, item: Item) -> None:
    """Two items of one batch never write one file: the second is refused.

    Devices and named pipes (`/dev/null`) hold no file to lose: any number may use one.
    """
    if item.output is None or os.path.isdir(item.output):
        return
    if os.path.exists(item.output) and not os.path.isfile(item.output):
        return
    path = os.path.realpath(item.output)
    first = state.outputs.setdefault(path, item.number)
    if first != item.number:
        raise UsageError(f"{item.output} is line {first}'s output already")


def _claim(state: Batch, job: TtsJob, plan: Plan, number: int) -> Sink:
    """The item's own file: its `output`, else a new timestamped name in the batch's directory."""
    name = NewFileName(job.endpoint.file_prefix, plan.audio.extension, item=number)
    sink = open_sink(
        job.options.output or str(state.directory),
        force=job.options.force,
        stdout_is_tty=False,
        new_name=name,
        now=state.started,
    )
    return made_here(sink, plan.audio, plan.encoder)


def _succeeded(state: Batch, facts: JobFacts, sink: Sink | None) -> None:
    progress = state.progress
    progress.done += 1
    if sink is not None and facts.plan is not None and facts.result is not None:
        seconds = pipeline.audio_seconds(sink, facts.plan.audio.received)
        progress.audio_seconds += seconds
        stats = facts.result.stats
        if not console.wants_live_display():
            console.info(
                report.summary(
                    sink.label, sink.bytes_written, seconds,
                    pipeline.as_written(facts.plan.audio, sink),
                    stats.time_to_first_audio(), stats.elapsed(),
                    voice=facts.plan.voice.shown() if facts.plan.voice is not None else None,
                    cached=facts.cached,
                )
            )  # fmt: skip
    if state.job.options.json:
        _emit(facts.success())


def _failed(
    state: Batch, facts: JobFacts, item: Item | BadItem, exc: CliError, sink: Sink | None
) -> None:
    from cartesia_cli.ui.error_line import error_line

    progress = state.progress
    progress.done += 1
    progress.failed += 1
    state.codes.append(int(exc.exit_code))
    if sink is not None and facts.plan is not None:
        exc.kept = pipeline.kept_audio(sink, facts.plan.audio.received)
    if facts.plan is not None:
        after_failure(exc, [facts.plan.voice])
    console.error(f"line {item.number}: {error_line(exc)}")
    if state.job.options.json:
        exc.message = f"line {item.number}: {exc.message}"  # which input line, for scripts
        _emit(facts.failure(exc))


def _interrupted(state: Batch, facts: JobFacts, sink: Sink | None) -> None:
    """An item cut short by a stop: its partial file is kept (and said), its JSON written."""
    code = ExitCode(process.stop_exit_code())
    if sink is not None and facts.plan is not None:
        # Finished first (an encoder writes out what it holds): the figures are the file's.
        kept = pipeline.kept_audio(sink, facts.plan.audio.received)
        if kept is not None:
            state.partial.append(f"{sink.label} ({kept.bytes} bytes)")
    if state.job.options.json:
        with contextlib.suppress(_ReaderGone):
            _emit(facts.failure(Interrupted(stop_word(code), code)))


def _finish(state: Batch) -> None:
    progress = state.progress
    console.info(report.batch_summary(progress.done, progress.failed, progress.audio_seconds,
                                      progress.elapsed()))  # fmt: skip
    if state.codes:
        worst = min(state.codes, key=_rank)
        failure = _BatchFailed(f"{progress.failed} of {progress.done} items failed")
        failure.exit_code = ExitCode(worst)
        raise failure


class _ReaderGone(Exception):
    """stdout's reader left while --json objects were being written: the batch stops.

    `failure`: stdout failed otherwise (a closed terminal: hang-up), and this is the error.
    """

    def __init__(self, failure: CliError | None = None) -> None:
        super().__init__()
        self.failure = failure


def _emit(result: tuple[str, bool]) -> None:
    """An item's --json object, on stdout: a batch never writes audio there.

    Not where a single run would put it: an item refused for naming stdout's
    file (`"output": "/dev/stdout"`) still has its object among the others.
    """
    try:
        emit_result(result[0], True)
    except BrokenPipeError:
        process.silence_stdout()
        raise _ReaderGone from None
    except CliError as failure:
        process.silence_stdout()
        raise _ReaderGone(failure) from None


class _BatchFailed(CliError):
    """Some items failed; each said why on its own line (and in its own --json object)."""


def items_reported(failure: CliError) -> bool:
    """Whether the items have said it already: a batch that ran, whole or stopped."""
    return isinstance(failure, _BatchFailed | Interrupted)


def _rank(code: int) -> int:
    return SEVERITY.index(ExitCode(code)) if code in SEVERITY else len(SEVERITY)


def _stopped(state: Batch, code: ExitCode) -> Interrupted:
    progress = state.progress
    ok = progress.done - progress.failed
    failure = Interrupted(
        f"{stop_word(code)}: {ok} items done, {progress.failed} failed before the stop", code
    )
    if state.partial:
        failure.also_kept = "partial audio kept: " + ", ".join(state.partial)
    return failure


@contextmanager
def _display(progress: batch.BatchProgress) -> Iterator[None]:
    if not console.wants_live_display():
        yield
        return
    from cartesia_cli.ui.batch_display import batch_display

    with console.live_console() as rich_console, batch_display(progress, rich_console):
        yield
