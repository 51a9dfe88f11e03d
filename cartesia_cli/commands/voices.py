"""`cartesia-cli voices …`: find a voice, hear it, and manage your own voices.

Option declarations here; the listing is paged by `api/voices.py` and shown by
`ui/voices_view.py`. Each listing refreshes the cache `--voice` completes from.
`voices clone|localize|update|delete` hand their work to `_voice_admin.py`.
`voices try` and `voices list --try` play samples (`_audition.py`).
"""

# No `from __future__ import annotations` here: typer evaluates the annotations.

from typing import Annotated, Optional

import typer

from cartesia_cli import options
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given

app = typer.Typer(
    help="Voices: list, show, hear, clone, localize, update and delete them.",
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

        listed = _audition.plan_listed(given, debug=debug)  # the player found first
    filters = _voices.Filters(query=query, gender=gender, language=language, limit=limit)
    found = _voices.list_voices(given, filters, as_json=as_json, debug=debug)
    if try_them:
        _audition.try_listed(listed, found)


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


# --- hearing a voice before spending on it (`voices try`) ---------------------------------

TRY_SETTINGS = (
    *spec.PLAYBACK,
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
    voice: options.VoiceArgument,
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


# --- managing your voices: clone, localize, update, delete -------------------------------
# The work is commands/_voice_admin.py's; here the options and the help.

CREATING_HELP = (
    EXIT_CODES_HELP + ". A voice being made is never asked for twice: when the answer is lost,"
    " the error line says how to check whether it was made."
)
NameOption = Annotated[
    str, typer.Option("--name", metavar="NAME", help="The new voice's name.", show_default=False)
]
DescriptionOption = Annotated[
    Optional[str], typer.Option("--description", metavar="TEXT", help="What the voice is like.")
]
AccentIdOption = Annotated[
    Optional[str],
    typer.Option("--accent", metavar="ACCENT_ID", help="An accent id from the API's catalogue."),
]
JsonAnswerOption = Annotated[
    bool, typer.Option("--json", help="The API's answer, one JSON document on stdout.")
]
VoiceArgument = options.VoiceArgument


def _languages(incomplete: str) -> list[str]:
    from cartesia_cli.formats import LANGUAGES

    return [code for code in LANGUAGES if code.startswith(incomplete)]


@app.command("clone", epilog=CREATING_HELP)
@options.settings_command(*spec.CONNECTION)
def clone(
    clip: Annotated[
        str,
        typer.Argument(
            metavar="CLIP", help="A clip of the voice: WAV, MP3, FLAC, OGG, WebM or M4A."
        ),
    ],
    name: NameOption,
    language: Annotated[
        str,
        typer.Option(
            "--language",
            metavar="CODE",
            help="The clip's language (en, fr, …).",
            autocompletion=_languages,
            show_default=False,
        ),
    ],
    description: DescriptionOption = None,
    base_voice: Annotated[
        Optional[str],
        typer.Option("--base-voice", metavar="ID|NAME", help="A voice the clone is derived from."),
    ] = None,
    accent: AccentIdOption = None,
    as_json: JsonAnswerOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Clone a voice from a clip; prints the new voice's id on stdout.

    The clip is checked before anything is sent: an audio file of 2 s to
    5 minutes (about 10 s of clear speech is best), at most 16 MiB. Its length
    is read with ffprobe when installed. M4A, which the API does not take, is
    converted to WAV with ffmpeg. With --json, stdout has the API's answer
    instead of the id.

    Examples:

    \b
        cartesia-cli voices clone me.wav --name "My voice" --language en
        id=$(cartesia-cli voices clone me.m4a --name Narrator --language en)
        cartesia-cli voices clone me.wav --name Me --language en --json | jq .id
    """  # fmt: skip
    from cartesia_cli.commands import _voice_admin

    request = _voice_admin.CloneRequest(clip, name, language, description, base_voice, accent)
    _voice_admin.clone(given, request, as_json=as_json, debug=debug, quiet=quiet)


@app.command("localize", epilog=CREATING_HELP)
@options.settings_command(*spec.CONNECTION)
def localize(
    voice: VoiceArgument,
    language: Annotated[
        str,
        typer.Option(
            "--language",
            metavar="CODE",
            help="The language the new voice speaks.",
            show_default=False,
        ),
    ],
    name: NameOption,
    accent: Annotated[
        Optional[str],
        typer.Option(
            "--accent",
            metavar="ACCENT_ID",
            help="The accent to localize to (a catalogue id); default: the language's usual one.",
        ),
    ] = None,
    dialect: Annotated[
        Optional[str],
        typer.Option(
            "--dialect",
            metavar="D",
            help="en: us uk au in so; es: mx pe; pt: br eu; fr: eu ca.",
        ),
    ] = None,
    description: DescriptionOption = None,
    gender: Annotated[
        Optional[str],
        typer.Option("--gender", metavar="male|female", help="The original speaker's gender."),
    ] = None,
    as_json: JsonAnswerOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Make a new voice speaking another language; prints its id on stdout.

    The voice is kept: localizing makes a new one. Unless --accent names one,
    the accent is the language's usual one from the API's catalogue, and the
    line on stderr says which. Cartesia-Version 2025-11-04 has no accents and
    needs --description and --gender instead.

    Examples:

    \b
        cartesia-cli voices localize "My voice" --language fr --name "Ma voix"
        cartesia-cli voices localize "My voice" --language en --dialect uk --name "My voice (UK)"
        cartesia-cli voices localize "$ID" --language de --name Meine --accent high-german --json
    """  # fmt: skip
    from cartesia_cli.api.voice_admin import Localize
    from cartesia_cli.commands import _voice_admin

    wanted = Localize(voice, name, language, accent, dialect, description, gender)
    _voice_admin.localize(given, wanted, as_json=as_json, debug=debug, quiet=quiet)


def _genders_or_none(incomplete: str) -> list[str]:
    return [g for g in (*GENDERS, "none") if g.startswith(incomplete)]


@app.command("update", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def update(
    voice: VoiceArgument,
    name: Annotated[
        Optional[str], typer.Option("--name", metavar="NAME", help="A new name.")
    ] = None,
    description: DescriptionOption = None,
    gender: Annotated[
        Optional[str],
        typer.Option(
            "--gender",
            metavar="G|none",
            autocompletion=_genders_or_none,
            help="masculine, feminine, gender_neutral, or none (the default again).",
        ),
    ] = None,
    accent: Annotated[
        Optional[str],
        typer.Option(
            "--accent",
            metavar="ID|none",
            help="An accent id from the API's catalogue, or none (the default again).",
        ),
    ] = None,
    as_json: JsonAnswerOption = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Change a voice you own: only the fields given are sent.

    With --json, stdout has the updated voice as the API returns it.

    Examples:

    \b
        cartesia-cli voices update "My voice" --name "Narrator" --description "Calm, low"
        cartesia-cli voices update "$ID" --gender none --json | jq .gender
    """  # fmt: skip
    from cartesia_cli.commands import _voice_admin

    changes = _voice_admin.Changes(name, description, gender, accent)
    _voice_admin.update(given, voice, changes, as_json=as_json, debug=debug, quiet=quiet)


@app.command("delete", epilog=EXIT_CODES_HELP)
@options.settings_command(*spec.CONNECTION)
def delete(
    voices: options.VoicesArgument,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Delete without asking (needed when not on a terminal)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help='{"deleted": [{"id", "name"}, …]} on stdout.')
    ] = False,
    quiet: options.QuietOption = False,
    *,
    given: Given,
    debug: bool,
) -> None:
    """Delete voices you own, after checking that every one of them exists.

    An unknown one (exit 4) deletes none. On a terminal you are asked first;
    elsewhere --yes is needed. Each deleted voice is named on stderr.

    Examples:

    \b
        cartesia-cli voices delete "My voice"
        cartesia-cli voices delete "$ID1" "$ID2" --yes
    """  # fmt: skip
    from cartesia_cli.commands import _voice_admin

    _voice_admin.delete(given, voices, yes=yes, as_json=as_json, debug=debug, quiet=quiet)
