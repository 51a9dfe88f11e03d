"""Options shared by commands: typer `Annotated` aliases, and the settings table's options.

`with_settings(...)` gives a command one option per row of the settings table
(settings/spec.py) and hands the command their raw values as `given`, so a
setting is declared once for every command that takes it.
"""

# No `from __future__ import annotations`: typer evaluates these annotations at
# run time, and string annotations would cost an eval per parameter.

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Optional

import typer

from cartesia_cli.settings.spec import Setting

Given = Mapping[str, Optional[str]]  # setting name -> the flag's raw text, None if not given

TranscriptArgument = Annotated[
    Optional[str],
    typer.Argument(
        metavar="[TRANSCRIPT]", help="Text to speak (or use --transcript).", show_default=False
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
OutputOption = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="'-' for stdout, a directory for a timestamped file in it, or a file name.",
        show_default="a new timestamped file in the current directory",
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Overwrite an existing output file.")]
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

# Own options a command keeps after the settings' options in --help.
_LAST = ("quiet", "debug")


def with_settings(
    *settings: Setting[object],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Add an option per setting to the decorated command; pass their values as `given`.

    The command declares its own parameters and a keyword-only `given: Given`;
    the settings' options go after its own, before --quiet and --debug.
    """

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        own = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)  # typer passes every value by name
            for p in inspect.signature(command).parameters.values()
            if p.name != "given"
        ]
        added = [_parameter(setting) for setting in settings]
        ordered = [p for p in own if p.name not in _LAST] + added
        ordered += [p for p in own if p.name in _LAST]

        @functools.wraps(command)
        def run(**values: Any) -> None:
            given = {setting.name: values.pop(setting.name) for setting in settings}
            command(**values, given=given)

        run.__signature__ = inspect.Signature(ordered)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in ordered}
        return run

    return decorate


def _parameter(setting: Setting[object]) -> inspect.Parameter:
    names = [setting.flag, *([setting.short] if setting.short else [])]
    option = typer.Option(
        *names,
        metavar=setting.metavar,
        help=_help(setting),
        show_default=_shown_default(setting),
        autocompletion=_completer(setting) if setting.choices else None,
    )
    return inspect.Parameter(
        setting.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[Optional[str], option],
    )


def _help(setting: Setting[object]) -> str:
    sources = [f"env {setting.env}"] if setting.env else []
    sources += [f"config: {setting.name}"] if setting.configurable else []
    return f"{setting.help} ({'; '.join(sources)})" if sources else setting.help


def _shown_default(setting: Setting[object]) -> str | bool:
    default = setting.default
    if default is None or default == "":
        return False
    return str(getattr(default, "value", default))


def _completer(setting: Setting[object]) -> Callable[[str], list[str]]:
    def complete(incomplete: str) -> list[str]:
        return setting.candidates(incomplete)

    return complete
