"""`cartesia-cli config ...`: stored defaults in config.toml (mode 0600)."""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

import sys
from typing import Annotated, Any, Optional

import typer

from cartesia_cli.errors import UsageError
from cartesia_cli.jobs.context import config_file, load_config, warn_if_exposed
from cartesia_cli.settings import spec, store
from cartesia_cli.ui.console import LINES, console, isatty, sanitize

app = typer.Typer(
    help="Stored defaults: " + ", ".join(s.name for s in spec.CONFIGURABLE) + ".",
    no_args_is_help=True,
    # Plain help: rich costs ~40 ms of imports on --help, more than the
    # whole request of a plain httpx script.
    rich_markup_mode=None,
)


def _complete_key(incomplete: str) -> list[str]:
    return [s.name for s in spec.CONFIGURABLE if s.name.startswith(incomplete)]


def _key_argument(help: str) -> Any:
    return typer.Argument(
        metavar="KEY", help=help, show_default=False, autocompletion=_complete_key
    )


KeyArgument = Annotated[str, _key_argument("The setting.")]
SomeKeyArgument = Annotated[Optional[str], _key_argument("One setting; all when omitted.")]


@app.command("set")
def set_value(
    key: KeyArgument,
    value: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[VALUE]",
            help="The value; for api_key, omit it to be prompted.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Store a default; flags and environment variables still win over it. A voice given
    by name is stored as its id (an unknown or ambiguous name stores nothing).

    Examples:

    \b
        cartesia-cli config set voice 6ccbfb76-1fc6-48f7-b71d-91ac6298247b
        cartesia-cli config set voice katie     # stored as Katie's id
        cartesia-cli config set speed 1.2
        cartesia-cli config set api_key          # prompts, without echo
        printenv MY_KEY | cartesia-cli config set api_key
    """
    from cartesia_cli.settings.resolve import parse_config_value

    spec.by_config_key(key)
    if value is None:
        if key != spec.API_KEY.name:
            raise UsageError(f"give a value: cartesia-cli config set {key} VALUE")
        value = _read_secret()
    stored = parse_config_value(key, value)
    path = config_file()
    values = store.load(path)  # a broken file stops here, untouched
    name = None
    if key in NAMED and isinstance(stored, str):  # a name is stored as the id it names now
        stored, name = _named(NAMED[key], stored, values)
    values[key] = stored
    store.save(path, values)
    said = f" ({name})" if name and name != stored else ""
    console.note(f"saved {key} = {_shown(key, stored)}{said} in {path}")
    warn_if_exposed(path, values)


# The keys whose value may be given by name, and what they name.
NAMED = {spec.VOICE.name: "voice", spec.PRONUNCIATION_DICT.name: "dictionary"}


def _named(what: str, wanted: str, stored: store.ConfigValues) -> tuple[str, str | None]:
    """The id a name names (the cache first, else one listing), with the name; an id as is."""
    import os

    from cartesia_cli.jobs import names
    from cartesia_cli.jobs.context import api_config
    from cartesia_cli.settings.resolve import resolve

    kind = names.VOICE if what == "voice" else names.DICTIONARY
    # The connection as a run would have it; an id needs no request, so no key either.
    settings = resolve({}, os.environ, stored, key_required=not names.is_id(wanted))
    named = names.Resolver(api_config(settings), cache_only=False).named(kind, wanted)
    return named.id, named.name


@app.command("get")
def get_value(key: SomeKeyArgument = None) -> None:
    """Print stored defaults (the API key masked) to stdout.

    Examples:

    \b
        cartesia-cli config get
        cartesia-cli config get voice
    """
    if key is not None:
        spec.by_config_key(key)
    values = load_config(config_file())
    if key is not None:
        if key in values:
            _emit(f"{_shown(key, values[key])}\n")
        else:
            console.note(f"{key} is not set")
        return
    for name in store.KEYS:
        if name in values:
            _emit(f"{name} = {_shown(name, values[name])}\n")


@app.command("unset")
def unset_value(key: KeyArgument) -> None:
    """Remove a stored default.

    Examples:

    \b
        cartesia-cli config unset api_key
    """
    spec.by_config_key(key)
    path = config_file()
    values = store.load(path)
    if values.pop(key, None) is None:
        console.note(f"{key} was not set")
        return
    store.save(path, values)
    console.note(f"removed {key} from {path}")
    warn_if_exposed(path, values)


@app.command("path")
def show_path() -> None:
    """Print where the config file is (it may not exist yet).

    Examples:

    \b
        cartesia-cli config path
    """
    _emit(f"{config_file()}\n")


def _emit(text: str) -> None:
    """A line of data on stdout, in whatever encoding stdout has (ASCII included).

    On a terminal, a control character in a value (the file is text anyone may
    have edited) is shown escaped; into a pipe, the value is written as it is.
    """
    if isatty(1):
        text = sanitize(text, keep=LINES)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _shown(key: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"  # as the file says it
    return store.mask_secret(str(value)) if key == spec.API_KEY.name else str(value)


def _read_secret() -> str:
    """The key from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
        # The one line for people that does not go through ui/console: typer's
        # prompt owns the terminal while it hides what is typed.
        secret: str = typer.prompt("API key", hide_input=True, err=True)
        return secret
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise UsageError("no API key given: type it at the prompt or pipe it on stdin")
    return line
