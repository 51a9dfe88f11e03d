"""The console-script entry point: the process set-up, then the CLI.

Process concerns live here and in process.py: the connection (TCP, TLS)
opened while the rest of start-up goes on, SIGTERM turned into an orderly stop
(exit 143, partial audio kept), and freezing the start-up heap for the garbage
collector. Kept free of typer and httpx imports so that the connection begins
before those ~90 ms of imports rather than after them.
"""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    from cartesia_cli import process  # os, signal and sys only: the handlers come first

    process.open_standard_descriptors()  # before any file or socket can take 0, 1 or 2
    process.install_handlers()  # then: a signal during the imports below is orderly too
    try:
        code = _run()
        # Python puts the default action back on its handlers as it shuts down: a
        # signal then would kill a run that succeeded. Ignored, it changes nothing.
        process.stop_taken()
    except KeyboardInterrupt:  # a stop while the CLI was still being imported (any signal)
        process.stop_taken()
        code = _stopped(process.stop_exit_code())
    except Exception as exc:  # a bug outside the CLI's own boundary (the early connect, say)
        code = _internal(exc)
    except BaseException as exc:
        stop_code = _stop_request_code(exc)
        if stop_code is None:
            raise
        process.stop_taken()  # a SIGTERM or SIGHUP outside the CLI's own boundary
        code = _stopped(stop_code)
    sys.exit(code)


def _run() -> int:
    # Start-up allocates a great deal and frees almost nothing: collections during the
    # imports find no garbage and cost ~8 % of them (10 ms of typer + httpx).
    gc.disable()
    streaming = _connect_early(sys.argv[1:])
    from cartesia_cli.cli import run

    # Everything imported so far lives until exit: freezing it keeps the
    # collector from rescanning typer's objects while chunks flow.
    gc.freeze()
    if not streaming:  # a stream turns it back on once its own imports are done
        gc.enable()
    try:
        return run(sys.argv[1:])
    finally:
        if streaming:
            _discard_early()


def _connect_early(args: list[str]) -> bool:
    """When a stream is coming, connect (and build the TLS context) while the CLI loads;
    for a run the audio cache may answer, only once it misses.

    A shortcut only: whatever goes wrong here leaves the run to connect as usual
    and to report the problem itself, if it is one.
    """
    try:
        from cartesia_cli import stream_target

        target, held = stream_target.start_up(args, os.environ)
        if target is None:
            return False
        if held:
            stream_target.hold(target)  # a hit sends nothing: a miss connects (jobs/speak.py)
            return True
        from cartesia_cli.api import preconnect

        preconnect.begin(target.endpoint, tls=target.tls)
    except Exception:
        return False
    return True


def _discard_early() -> None:
    """Close a start-up connection the run did not use (a usage error, say)."""
    preconnect = sys.modules.get("cartesia_cli.api.preconnect")
    if preconnect is not None:  # not imported (a cache hit): no connection was made
        preconnect.discard()


def _internal(exc: Exception) -> int:
    """The boundary's report of a bug (one line, the --json object, exit 1), not a traceback.

    Should importing the CLI fail as well, that failure's traceback is all there is to show.
    """
    from cartesia_cli.cli import internal_failure

    return internal_failure(exc, sys.argv[1:])


def _stop_request_code(exc: BaseException) -> int | None:
    """The exit code a StopRequested carries; None for any other exception."""
    from cartesia_cli.errors import StopRequested

    return int(exc.exit_code) if isinstance(exc, StopRequested) else None


def _stopped(code: int) -> int:
    from cartesia_cli.errors import ExitCode, stop_word
    from cartesia_cli.ui.console import console

    console.error(stop_word(ExitCode(code)))
    return code
