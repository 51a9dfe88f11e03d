"""`cartesia-cli voices list|get|try`: find a voice, and hear it, without leaving the terminal.

Option declarations here; the listing is paged by `api/voices.py` and shown by
`ui/voices_view.py`. Each listing refreshes the cache `--voice` completes from.
`voices try` and `voices list --try` play samples (`_audition.py`).
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

app = typer.Typer(
    help="Voices: list them (with filters), show one, or hear one.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
EXIT_CODES_HELP = (
    "Exit codes: 0 ok · 2 usage · 3 authentication · 4 rejected (4xx, 404 for an unknown id) · "
    "5 server error · 6 network · 130 Ctrl-C"
)
GENDERS = ("masculine", "feminine", "gender_neutral")

JsonListOption = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
QUERY_HELP = "Names and descriptions containing TEXT."
QueryOption = Annotated[Optional[str], typer.Option("--query", metavar="TEXT", help=QUERY_HELP)]
LANGUAGE_HELP = "A language code (en: every English accent) or a locale (en-GB)."
LanguageOption = Annotated[
    Optional[str], typer.Option("--language", metavar="CODE", help=LANGUAGE_HELP)
]
LimitOption = Annotated[
    Optional[int],
    typer.Option("--limit", metavar="N", min=1, help="At most N voices.", show_default="all"),
]


def _genders(incomplete: str) -> list[str]:
    return [g for g in GENDERS if g.startswith(incomplete)]


TryThemOption = Annotated[
    bool,
    typer.Option(
        "--try",
        help="Then hear each voice listed say a sample (from the audio cache when it has it; "
        "Ctrl-C stops). Pair it with --limit.",
    ),
]
GenderOption = Annotated[
    Optional[str],
    typer.Option(
        "--gender",
        metavar="G",
        help="masculine, feminine or gender_neutral.",
        autocompletion=_genders,
    ),
]


@app.command("list", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def list_(
    query: QueryOption = None,
    gender: GenderOption = None,
    language: LanguageOption = None,
    limit: LimitOption = None,
    as_json: JsonListOption = False,
    try_them: TryThemOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """List voices: a table on a terminal, tab-separated lines when piped.

    Follows the API's pages to the end (or to --limit). Each listing
    refreshes the cache that Tab completion of --voice reads. With --try,
    each voice listed then says its sample sentence (see `voices try`).

    Examples:

    \b
        cartesia-cli voices list --language en --gender feminine
        cartesia-cli voices list --query narrator | cut -f1,2
        cartesia-cli voices list --json | jq -r '.[].name'
        cartesia-cli voices list --language fr --limit 3 --try
    """  # fmt: skip
    from cartesia_cli.commands import _voices

    if gender is not None and gender not in GENDERS:
        from cartesia_cli.errors import UsageError

        raise UsageError(f"--gender must be one of {', '.join(GENDERS)}, got {gender!r}")
    if try_them:
        from cartesia_cli.commands import _audition

        _audition.check_player()  # before the listing is paid for
    filters = _voices.Filters(query=query, gender=gender, language=language, limit=limit)
    found = _voices.list_voices(given, filters, as_json=as_json, debug=debug)
    if try_them:
        _audition.try_listed(given, found, debug=debug)


@app.command("get", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def get(
    voice_id: Annotated[str, typer.Argument(metavar="ID", help="The voice's id.")],
    as_json: JsonListOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Show one voice; an unknown id is exit 4 with the server's message.

    Examples:

    \b
        cartesia-cli voices get f786b574-daa5-4673-aa0c-cbe3e8534c02
        cartesia-cli voices get "$VOICE" --json | jq .description
    """
    from cartesia_cli.commands import _voices

    _voices.get_voice(given, voice_id, as_json=as_json, debug=debug)


# --- hearing a voice before spending on it (`voices try`) ---------------------------------

TRY_SETTINGS = (
    spec.MODEL,
    *spec.OUTPUT_FORMAT,
    *spec.RAW_FORMAT,
    *spec.CONNECTION,
    *spec.CONTROLS,
)
STORE_HELP = (
    "Samples are kept in the audio cache (always; see cartesia-cli cache info), but for a "
    "model alias (sonic-latest, sonic-3-latest, sonic-preview): at most cache_max_mb "
    "(default 500 MB), the least recently used removed first."
)


TRY_EXIT_CODES_HELP = (
    "Exit codes, as say's: 0 ok · 1 internal error · 2 usage (no ffplay, an unknown or "
    "ambiguous name) · 3 authentication · 4 rejected (4xx, 404 for an unknown id) · "
    "5 server error · 6 network/stream · 7 output not writable · 129 SIGHUP · 130 Ctrl-C · "
    "143 SIGTERM"
)


@app.command("try", epilog=f"{STORE_HELP}\n\n{TRY_EXIT_CODES_HELP}")
@options.settings_command(*TRY_SETTINGS)
def try_(
    voice: Annotated[str, typer.Argument(metavar="ID|NAME", help="The voice: its id or name.")],
    text: Annotated[
        Optional[list[str]],
        typer.Argument(
            metavar="[TEXT]...",
            help="Words to say, joined by spaces; default: a sample sentence in the voice's "
            "language.",
            show_default=False,
        ),
    ] = None,
    output: options.PlayedOutputOption = None,
    force: options.ForceOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Hear a voice before spending on it: it says TEXT, or a sample sentence.

    Played as `say` plays (ffplay); -o keeps the audio too, its suffix
    picking the format. A sample is kept in the audio cache: trying the
    same voice with the same text and settings again plays it from there,
    with no request and no credits spent. Without TEXT the voice speaks its
    own language (asked of the API once, with the first try).

    Examples:

    \b
        cartesia-cli voices try Katie
        cartesia-cli voices try f786b574-daa5-4673-aa0c-cbe3e8534c02 "Your order has shipped."
        cartesia-cli voices try Katie --speed 1.2 -o katie.wav
    """
    from cartesia_cli.commands import _audition
    from cartesia_cli.jobs.job import JobOptions

    job = JobOptions(
        transcript_arg=None, transcript=None, output=output, force=force, play=True,
        timestamps=None, words_per_cue=None, json=False, dry_run=False, quiet=quiet,
        debug=debug, given=given,
    )  # fmt: skip
    _audition.try_voice(voice, " ".join(text) if text else None, job)
