"""`cartesia-cli dicts …`: pronunciation dictionaries; here, `dicts try`.

Option declarations here; the work is `_audition.py`'s.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

app = typer.Typer(
    help="Pronunciation dictionaries: hear what one changes.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

# What the samples are said with: say's settings, but for the dictionary, which is --dict.
TRY_SETTINGS = tuple(
    setting
    for setting in (
        *spec.VOICE_AND_MODEL,
        *spec.RAW_FORMAT,
        *spec.CONNECTION,
        *spec.CONTROLS,
    )
    if setting is not spec.PRONUNCIATION_DICT
)
TRY_EXIT_CODES_HELP = (
    "Exit codes, as say's: 0 ok · 1 internal error · 2 usage (no ffplay, an unknown or "
    "ambiguous name) · 3 authentication · 4 rejected (4xx, 404 for an unknown id) · "
    "5 server error · 6 network/stream · 129 SIGHUP · 130 Ctrl-C · 143 SIGTERM"
)


@app.command("try", epilog=TRY_EXIT_CODES_HELP)
@options.settings_command(*TRY_SETTINGS)
def try_(
    word: Annotated[str, typer.Argument(metavar="WORD", help="A word (or a phrase) to hear.")],
    dictionary: Annotated[
        str,
        typer.Option(
            "--dict", metavar="ID|NAME", help="The dictionary: its id or name.", show_default=False
        ),
    ],
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Hear WORD said without a pronunciation dictionary, then with it.

    Both are played as `say` plays them (ffplay), each announced first. They
    are kept in the audio cache (see `voices try --help`): trying the same
    word again plays them from there; a dictionary changed since is heard anew.

    Examples:

    \b
        cartesia-cli dicts try tchoupitoulas --dict "New Orleans"
        cartesia-cli dicts try "Cartesia Sonic" --dict brand-names -v Katie
    """
    from cartesia_cli.commands import _audition
    from cartesia_cli.jobs.job import JobOptions

    job = JobOptions(
        transcript_arg=word, transcript=None, output=None, force=False, play=True,
        timestamps=None, words_per_cue=None, json=False, dry_run=False, quiet=quiet,
        debug=debug, given=given,
    )  # fmt: skip
    _audition.try_dictionary(word, dictionary, job)
