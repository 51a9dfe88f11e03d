"""`cartesia-cli dicts …`: pronunciation dictionaries, kept as a file people commit.

Option declarations here; the glue is `_dicts.py`, the file format
`input/dict_file.py`, the wire shapes and the diff `api/dicts.py`.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

app = typer.Typer(
    help="Pronunciation dictionaries: list, show, create, update, delete, push, try a word.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 2 usage (a bad file: its line and column) · 3 authentication · "
    "4 rejected (4xx, 404 for an unknown id) · 5 server error · 6 network · "
    "7 output file · 130 Ctrl-C"
)

JsonOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
WantedArgument = Annotated[
    str, typer.Argument(metavar="DICT", help="The dictionary's id, or its name.")
]
FileArgument = Annotated[
    str, typer.Argument(metavar="FILE", help="A dictionary file: .toml or .csv.")
]
OutputOption = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write it as a file to push later: .toml or .csv (- with --format: stdout).",
        show_default=False,
    ),
]


def _formats(incomplete: str) -> list[str]:
    return [name for name in ("toml", "csv") if name.startswith(incomplete)]


FormatOption = Annotated[
    Optional[str],
    typer.Option(
        "--format",
        metavar="toml|csv",
        help="Write the dictionary as a file's text to stdout.",
        autocompletion=_formats,
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing -o file.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Delete without asking (needed when not on a terminal).")
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; send no change.")
]


@app.command("list", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def list_(as_json: JsonOption = False, *, given: Given, debug: bool) -> None:
    """List the account's pronunciation dictionaries: a table on a terminal, tab-separated
    lines when piped.

    Examples:

    \b
        cartesia-cli dicts list
        cartesia-cli dicts list | cut -f1,2
        cartesia-cli dicts list --json | jq -r '.[].name'
    """  # fmt: skip
    from cartesia_cli.commands import _dicts

    _dicts.list_dicts(given, as_json=as_json, debug=debug)


@app.command("get", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def get(
    wanted: WantedArgument,
    output: OutputOption = None,
    fmt: FormatOption = None,
    force: ForceOption = False,
    as_json: JsonOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Show a dictionary's words, or write it as a file (-o) that `dicts push` takes back.

    Examples:

    \b
        cartesia-cli dicts get "Brand names"
        cartesia-cli dicts get "Brand names" -o names.toml
        cartesia-cli dicts get "Brand names" --format csv > names.csv
        cartesia-cli dicts get "Brand names" --json | jq '.items | length'
    """
    from cartesia_cli.commands import _dicts

    _dicts.get_dict(
        given, wanted, output=output, fmt=fmt, force=force, as_json=as_json, debug=debug
    )


@app.command("create", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The new dictionary's name.")],
    file: Annotated[
        Optional[str],
        typer.Argument(metavar="[FILE]", help="Its words: .toml or .csv (none: empty)."),
    ] = None,
    as_json: JsonOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Create a dictionary, empty or with FILE's words; a name taken already is refused.

    Examples:

    \b
        cartesia-cli dicts create "Brand names" names.toml
        cartesia-cli dicts create Scratch --json | jq -r .id
    """
    from cartesia_cli.commands import _dicts

    _dicts.create_dict(given, name, file, as_json=as_json, debug=debug, quiet=quiet)


@app.command("update", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def update(
    wanted: WantedArgument,
    file: FileArgument,
    as_json: JsonOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Replace a dictionary's words with FILE's, all of them (the name stays).

    Examples:

    \b
        cartesia-cli dicts update "Brand names" names.toml
        cartesia-cli dicts update 3f8e0c52-1d7a-4e1b-9c55-2b8f7f1d2a10 names.csv
    """
    from cartesia_cli.commands import _dicts

    _dicts.update_dict(given, wanted, file, as_json=as_json, debug=debug, quiet=quiet)


@app.command("delete", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def delete(
    wanted: Annotated[
        list[str], typer.Argument(metavar="DICT...", help="The dictionaries' ids or names.")
    ],
    yes: YesOption = False,
    as_json: JsonOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Delete dictionaries, after asking; all are found first, so an unknown one deletes none.

    Examples:

    \b
        cartesia-cli dicts delete Scratch
        cartesia-cli dicts delete Scratch "Old names" --yes
    """
    from cartesia_cli.commands import _dicts

    _dicts.delete_dicts(given, wanted, yes=yes, as_json=as_json, debug=debug, quiet=quiet)


@app.command("push", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def push(
    file: FileArgument,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Make the dictionary FILE names equal to FILE: created if there is none, left alone if
    it is equal already; prints each word added, changed or removed.

    The dictionary is the one named by the file's `name = "…"` (in a CSV
    file, a first line `# name: …`) or, without one, by the file's name
    without its suffix.

    Examples:

    \b
        cartesia-cli dicts push names.toml --dry-run
        cartesia-cli dicts push names.toml
        git diff --quiet names.toml || cartesia-cli dicts push names.toml
    """  # fmt: skip
    from cartesia_cli.commands import _dicts

    _dicts.push_file(given, file, dry_run=dry_run, as_json=as_json, debug=debug, quiet=quiet)


# What the samples are said with: say's settings, but for the dictionary, which is --dict.
TRY_SETTINGS = tuple(
    setting
    for setting in (
        *spec.VOICE_AND_MODEL,
        *spec.RAW_FORMAT,
        *spec.CONNECTION,
        *spec.CONTROLS,
        *spec.PLAYBACK,
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
