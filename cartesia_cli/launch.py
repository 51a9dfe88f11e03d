"""The console-script entry point: start what can overlap start-up, then run the CLI.

Kept free of typer and httpx imports so that the TLS prefetch (tls.py) begins
before those ~90 ms of imports rather than after them.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    if _will_stream_over_https(sys.argv[1:]):
        from cartesia_cli import tls

        tls.prefetch()
    from cartesia_cli.cli import main as cli_main

    cli_main()


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
