"""`cartesia-cli cache info | clear`: the audio cache that --cache (and `voices try`) keep."""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

from typing import Annotated

import typer

app = typer.Typer(
    help="The audio cache: audio already paid for, kept by --cache and voices try.",
    no_args_is_help=True,
    # Plain help: rich costs ~40 ms of imports on --help.
    rich_markup_mode=None,
)

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]


@app.command("info")
def info(as_json: JsonOption = False) -> None:
    """Where the audio cache is, how many entries it holds, its size and its cap.

    The cap is cache_max_mb in the config file (default 500); past it the
    least recently used audio is removed first.

    Examples:

    \b
        cartesia-cli cache info
        cartesia-cli cache info --json | jq .bytes
    """
    from cartesia_cli.commands import _cache

    _cache.info(as_json=as_json)


@app.command("clear")
def clear(as_json: JsonOption = False) -> None:
    """Remove every entry of the audio cache, and say what was removed.

    Nothing is asked: it is a cache, and every entry can be made again (at
    the price of its characters).

    Examples:

    \b
        cartesia-cli cache clear
        cartesia-cli cache clear --json
    """
    from cartesia_cli.commands import _cache

    _cache.clear(as_json=as_json)
