"""`cartesia-cli voices list|get`: find a voice without leaving the terminal.

Option declarations here; the listing is paged by `api/voices.py` and shown by
`ui/voices_view.py`. Each listing refreshes the cache `--voice` completes from.
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

app = typer.Typer(
    help="Voices: list them (with filters) or show one.",
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
    *,
    given: Given,
    debug: bool,
) -> None:
    """List voices: a table on a terminal, tab-separated lines when piped.

    Follows the API's pages to the end (or to --limit). Each listing
    refreshes the cache that Tab completion of --voice reads.

    Examples:

    \b
        cartesia-cli voices list --language en --gender feminine
        cartesia-cli voices list --query narrator | cut -f1,2
        cartesia-cli voices list --json | jq -r '.[].name'
    """  # fmt: skip
    from cartesia_cli.commands import _voices

    if gender is not None and gender not in GENDERS:
        from cartesia_cli.errors import UsageError

        raise UsageError(f"--gender must be one of {', '.join(GENDERS)}, got {gender!r}")
    filters = _voices.Filters(query=query, gender=gender, language=language, limit=limit)
    _voices.list_voices(given, filters, as_json=as_json, debug=debug)


@app.command("get", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def get(
    voice: options.VoiceArgument,
    as_json: JsonListOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Show one voice, by its id or its name; an unknown id is exit 4 with the server's
    message, an unknown name exit 2.

    Examples:

    \b
        cartesia-cli voices get f786b574-daa5-4673-aa0c-cbe3e8534c02
        cartesia-cli voices get katie
        cartesia-cli voices get "$VOICE" --json | jq .description
    """
    from cartesia_cli.commands import _voices

    _voices.get_voice(given, voice, as_json=as_json, debug=debug)
