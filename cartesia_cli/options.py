"""Options shared by commands: typer `Annotated` aliases, and the settings table's options.

`job_command(...)` gives a command the options every job takes (transcript,
output, --force, --quiet, --debug) and one option per row of the settings table
(settings/spec.py), and hands them to the command as one `JobOptions` record,
so each is declared once for every command that takes it.
"""

# No `from __future__ import annotations`: typer evaluates these annotations at
# run time, and string annotations would cost an eval per parameter.

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from cartesia_cli.jobs.job import JobOptions
from cartesia_cli.settings.spec import ALL, Setting

TranscriptArgument = Annotated[
    Optional[str],
    typer.Argument(
        metavar="[TRANSCRIPT]", help="Text to speak (or use --transcript).", show_default=False
    ),
]
WordsArgument = Annotated[
    Optional[list[str]],
    typer.Argument(
        metavar="[TEXT]...",
        help="Words to speak, joined by spaces (or use --transcript, or pipe text in).",
        show_default=False,
    ),
]
TranscriptOption = Annotated[
    Optional[str],
    typer.Option(
        "--transcript",
        "-t",
        metavar="TEXT",
        help="Text to speak; '-' reads stdin.",
        show_default=False,
    ),
]


def _output_option(help: str, default: str) -> Any:
    return Annotated[
        Optional[str],
        typer.Option("--output", "-o", metavar="PATH", help=help, show_default=default),
    ]


OutputOption = _output_option(
    "'-' for stdout, a directory for a timestamped file in it, or a file name.",
    "a new timestamped file in the current directory",
)
PlayedOutputOption = _output_option(  # say: the audio is played; a file only when asked
    "Also keep the audio: '-' for stdout, a directory, or a file name.", "no file: played only"
)
TimestampsOption = Annotated[
    Optional[str],
    typer.Option(
        "--timestamps",
        metavar="PATH",
        help="Subtitles from word timestamps: .srt, .vtt or .json (words and phonemes); "
        "'-' for stdout. Not for tts bytes: /tts/bytes sends none.",
        show_default=False,
    ),
]
WordsPerCueOption = Annotated[
    Optional[int],
    typer.Option(
        "--words-per-cue",
        metavar="N",
        help="Exactly N words per subtitle, instead of cues cut at sentences, ~42 chars or 7 s.",
        show_default=False,
    ),
]
# A voice named by its id or its name: Tab completes names from the name cache (cli.py
# knows these arguments by their metavar). For commands that take one voice, or several.
VoiceArgument = Annotated[
    str,
    typer.Argument(
        metavar="VOICE", help="The voice's id, or its name (any case).", show_default=False
    ),
]
VoicesArgument = Annotated[
    list[str],
    typer.Argument(metavar="VOICE...", help="Voice ids, or names (any case).", show_default=False),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]
PlayOption = Annotated[
    bool,
    typer.Option("--play", help="Hear it as it arrives (ffplay); with -o the file is written too."),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="One JSON object when the job ends, success or failure (keys in docs/usage.md): "
        "on stdout, or as the last line on stderr with -o -.",
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Print the request (key masked) and an equivalent curl command; send nothing "
        "(HTTP only: refused by tts ws).",
    ),
]
QuietOption = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress, summary or hint; errors still print."),
]
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug", help="Request/response details and tracebacks on stderr (key redacted)."
    ),
]


def _own(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


# JobOptions' fields before and after the command's own options and the settings.
_FIRST = [
    _own("transcript_arg", TranscriptArgument, None),
    _own("transcript", TranscriptOption, None),
    _own("output", OutputOption, None),
    _own("force", ForceOption, False),
]
# After the command's own options: what else the audio turns into.
_PLAY = _own("play", PlayOption, False)
_CAPTIONS = [
    _own("timestamps", TimestampsOption, None),
    _own("words_per_cue", WordsPerCueOption, None),
]
_LAST = [
    _own("json", JsonOption, False),
    _own("dry_run", DryRunOption, False),
    _own("quiet", QuietOption, False),
    _own("debug", DebugOption, False),
]


def job_command(
    *settings: Setting[object], words: bool = False
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give the decorated command the job options and one option per setting.

    The command declares only its own options and a keyword-only `job: JobOptions`.
    In --help: the transcript and output options, the command's own, the
    settings in table order, then --quiet and --debug. `words=True` takes the
    text as any number of arguments (`say Hello world`), joined by spaces, and
    always plays (no --play, and a file only with -o).
    """
    first, extra = _FIRST, [_PLAY, *_CAPTIONS]
    if words:
        first = [
            _own("transcript_arg", WordsArgument, None),
            _FIRST[1],
            _own("output", PlayedOutputOption, None),
            *_FIRST[3:],
        ]
        extra = _CAPTIONS

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)  # typer passes every value by name
            for p in inspect.signature(command).parameters.values()
            if p.name != "job"
        ]
        ranked = sorted(settings, key=_table_order)
        ordered = [*first, *own, *extra, *(_parameter(s) for s in ranked), *_LAST]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            given = {setting.name: _raw(values.pop(setting.name)) for setting in settings}
            if words:
                values["transcript_arg"] = " ".join(values["transcript_arg"] or []) or None
                values["play"] = True
            fields = {name: values.pop(name) for name in JobOptions._fields if name != "given"}
            command(**values, job=JobOptions(**fields, given=given))

        run.__signature__ = inspect.Signature(ordered)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in ordered}
        return run

    return decorate


def settings_command(
    *settings: Setting[object],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command that sends no job one option per setting, then --debug.

    The command declares its own options and keyword-only `given: Given` and
    `debug: bool`; the settings' raw flag values arrive in `given`.
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in inspect.signature(command).parameters.values()
            if p.name not in ("given", "debug")
        ]
        ranked = sorted(settings, key=_table_order)
        ordered = [*own, *(_parameter(s) for s in ranked), _LAST[-1]]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            given = {setting.name: _raw(values.pop(setting.name)) for setting in settings}
            command(**values, given=given)

        run.__signature__ = inspect.Signature(ordered)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in ordered}
        return run

    return decorate


def _table_order(setting: Setting[object]) -> int:
    return ALL.index(setting) if setting in ALL else len(ALL)


def _raw(value: str | bool | None) -> str | None:
    """A flag's value as the settings table parses it: an on/off flag's as true or false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _parameter(setting: Setting[object]) -> inspect.Parameter:
    if setting.switch:
        return _switch(setting)
    names = [setting.flag, *([setting.short] if setting.short else [])]
    option = typer.Option(
        *names,
        metavar=setting.metavar,
        help=_help(setting),
        show_default=_shown_default(setting),
        autocompletion=_completer(setting) if setting.choices or setting.completions else None,
    )
    return inspect.Parameter(
        setting.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[Optional[str], option],
    )


def _switch(setting: Setting[object]) -> inspect.Parameter:
    """An on/off flag: `--cache/--no-cache` (None when neither is given), or `--cache-aliases`."""
    if setting.negative is None:  # on only: not given is the default
        option = typer.Option(setting.flag, help=_help(setting))
        return _own(setting.name, Annotated[Optional[bool], option], None)
    option = typer.Option(
        f"{setting.flag}/{setting.negative}", help=_help(setting), show_default=False
    )
    return _own(setting.name, Annotated[Optional[bool], option], None)


def _help(setting: Setting[object]) -> str:
    sources = [f"env {setting.env}"] if setting.env else []
    sources += [f"config: {setting.name}"] if setting.configurable else []
    return f"{setting.help} ({'; '.join(sources)})" if sources else setting.help


def _shown_default(setting: Setting[object]) -> str | bool:
    default = setting.default
    if default is None or default == "":
        return False
    return str(getattr(default, "value", default))


def _completer(
    setting: Setting[object],
) -> Callable[[str], list[str] | list[tuple[str, str]]]:
    def complete(incomplete: str) -> list[str] | list[tuple[str, str]]:
        return setting.candidates(incomplete)

    return complete
