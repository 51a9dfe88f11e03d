"""One TTS job, start to end: settings, plan, then the request shown (--dry-run) or made.

Order matters: everything that can be checked locally is checked before a
request is sent, and the output file is claimed last, so a usage error leaves
nothing behind. Every failure leaves here as a CliError, with its --json
object when one was asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext

from cartesia_cli import process, stream_target
from cartesia_cli.endpoints import WEBSOCKET
from cartesia_cli.errors import (
    CliError,
    ExitCode,
    Interrupted,
    RequestRejected,
    StopRequested,
    UsageError,
    internal_error,
    stop_word,
)
from cartesia_cli.jobs import caching, dry_run, plan, produce
from cartesia_cli.jobs.context import config_file, load_config
from cartesia_cli.jobs.facts import JobFacts, emit_result
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.timestamps import Captions
from cartesia_cli.output.sinks import check_output
from cartesia_cli.settings.resolve import Settings, resolve
from cartesia_cli.ui.console import console, isatty


def refuse(job: TtsJob, failure: CliError) -> None:
    """Fail `job` before it starts, with its --json object when asked for one."""
    if job.options.json:
        failure.result_json = JobFacts(job).failure(failure)
    raise failure


# Entered once the job is planned; yields whether to speak here (`say`'s queue, jobs/queued.py).
Turn = Callable[[], AbstractContextManager[bool]]


def speak(job: TtsJob, *, turn: Turn | None = None) -> None:
    """Run `job`; raise a CliError (with its exit code) on any failure.

    With --json the failure carries its JSON object for the CLI boundary to print
    after the error line; on success it is printed here, last. `turn` is waited
    for after every local check, before the request (`say`'s speech queue).
    """
    console.configure(quiet=job.options.quiet, debug=job.options.debug)
    facts = JobFacts(job)
    try:
        _speak(job, facts, turn)
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


def _speak(job: TtsJob, facts: JobFacts, turn: Turn | None) -> None:
    options = job.options
    settings = resolve(
        options.given, os.environ, load_config(config_file()), key_required=not options.dry_run
    )
    if options.dry_run and job.endpoint.transport is WEBSOCKET:
        raise UsageError(f"--dry-run shows an HTTP request; {job.command} speaks over a WebSocket")
    planned = facts.plan = plan.plan(job, settings)
    if options.dry_run:
        if options.output is not None or not options.play:
            check_output(options.output, force=options.force, stdout_is_tty=isatty(1))
        _show_request(job, planned)
        cache_line = caching.dry_run_line(job, planned, settings)
        if cache_line:
            console.info(cache_line)
        return
    cache = caching.use_for(job, planned, settings)
    with turn() if turn is not None else nullcontext(True) as speaks_here:
        if speaks_here:  # else handed to a process of its own (say --no-wait)
            _produce(job, facts, settings, planned, cache)


def _produce(
    job: TtsJob,
    facts: JobFacts,
    settings: Settings,
    planned: plan.Plan,
    cache: caching.CacheUse | None,
) -> None:
    if not caching.stored(cache):
        _ready_to_ask()
    with _claimed_captions(job, planned) as captions:
        try:
            result = produce.produce(job, planned, facts, captions, cache)
        except RequestRejected as exc:
            exc.hint = exc.hint or plan.locale_hint(settings, exc)  # a stale name: cli.py
            raise
        if captions is not None:
            console.info(f"wrote {captions.write(result, complete=True)}")


def _ready_to_ask() -> None:
    """A request is coming: the start-up connection held back for a cache lookup begins
    (launch.py), and httpx (~40 ms) is imported while it connects, before the output is
    claimed, so that the claim and the stream follow each other. A hit does neither."""
    held = stream_target.take_held()
    if held is not None:
        from cartesia_cli.api import preconnect

        preconnect.begin(held.endpoint, tls=held.tls)
    import cartesia_cli.api.contract  # noqa: F401  (httpx, for the client about to be made)


@contextmanager
def _claimed_captions(job: TtsJob, planned: plan.Plan) -> Iterator[Captions | None]:
    """The --timestamps file, claimed before the audio's; removed again if never written."""
    if planned.stamps is None:
        yield None
        return
    with process.signals_held():  # a new file is always handed to its claim
        captions = Captions(planned.stamps, force=job.options.force)
    try:
        yield captions
    finally:
        with process.signals_held():
            captions.release()


def _show_request(job: TtsJob, planned: plan.Plan) -> None:
    output = job.options.output
    dry_run.show(
        job.endpoint,
        planned.api.base_url,
        planned.api.api_version,
        planned.request,
        output=None if output is None or os.path.isdir(output) else output,
        as_json=job.options.json,
    )
