"""The console-script entry point: the process set-up, then the CLI.

Process concerns live here and in process.py: the TLS prefetch that overlaps
start-up, SIGTERM turned into an orderly stop (exit 143, partial audio kept),
and freezing the start-up heap for the garbage collector. Kept free of typer
and httpx imports so that the TLS prefetch begins before those ~90 ms of
imports rather than after them.
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
    except BaseException as exc:
        stop_code = _stop_request_code(exc)
        if stop_code is None:
            raise
        process.stop_taken()  # a SIGTERM or SIGHUP outside the CLI's own boundary
        code = _stopped(stop_code)
    sys.exit(code)


def _run() -> int:
    if _will_stream_over_https(sys.argv[1:]):
        from cartesia_cli.api import tls

        tls.prefetch()
    from cartesia_cli.cli import run

    # Everything imported so far lives until exit: freezing it keeps the
    # collector from rescanning typer's objects while chunks flow.
    gc.freeze()
    return run(sys.argv[1:])


def _stop_request_code(exc: BaseException) -> int | None:
    """The exit code a StopRequested carries; None for any other exception."""
    from cartesia_cli.errors import StopRequested

    return int(exc.exit_code) if isinstance(exc, StopRequested) else None


def _stopped(code: int) -> int:
    from cartesia_cli.errors import ExitCode, stop_word
    from cartesia_cli.ui.console import console

    console.error(stop_word(ExitCode(code)))
    return code


def _will_stream_over_https(args: list[str]) -> bool:
    """A cheap guess, before parsing: is this a `tts` request that may use https?

    A wrong guess costs nothing but the prefetch's CPU on another core, or the
    ordinary synchronous load.
    """
    if "tts" not in args or "--help" in args or "-h" in args:
        return False
    if os.environ.get("_CARTESIA_CLI_COMPLETE"):
        return False
    base_url = os.environ.get("CARTESIA_BASE_URL", "")
    for index, arg in enumerate(args):
        if arg == "--base-url" and index + 1 < len(args):
            base_url = args[index + 1]
        elif arg.startswith("--base-url="):
            base_url = arg.partition("=")[2]
    return not base_url.startswith("http://")
