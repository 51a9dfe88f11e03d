"""`cartesia-cli config ...`: stored defaults in config.toml (mode 0600)."""

# No `from __future__ import annotations` here: typer would have to eval every
# string annotation when it builds the commands (~8 ms of a ~150 ms run).

import sys
from typing import Annotated

import typer

from cartesia_cli import config
from cartesia_cli.commands import config_file
from cartesia_cli.config import ConfigKey
from cartesia_cli.errors import UsageError

app = typer.Typer(
    help="Stored defaults: api_key, voice, model, base_url, encoding, sample_rate.",
    no_args_is_help=True,
    # Plain help: rich costs ~40 ms of imports on --help, more than the
    # whole request of a plain httpx script (performance target, issue #5).
    rich_markup_mode=None,
)

KeyArgument = Annotated[
    ConfigKey, typer.Argument(metavar="KEY", help="The setting.", show_default=False)
]


@app.command("set")
def set_value(
    key: KeyArgument,
    value: Annotated[
        str | None,
        typer.Argument(
            metavar="[VALUE]",
            help="The value; for api_key, omit it to be prompted.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Store a default; flags and environment variables still win over it.

    Examples:

    \b
        cartesia-cli config set voice 6ccbfb76-1fc6-48f7-b71d-91ac6298247b
        cartesia-cli config set api_key          # prompts, without echo
        printenv MY_KEY | cartesia-cli config set api_key
    """
    from cartesia_cli.settings import validate_config_value

    if value is None:
        if key is not ConfigKey.API_KEY:
            raise UsageError(f"give a value: cartesia-cli config set {key.value} VALUE")
        value = _read_secret()
    stored = validate_config_value(key.value, value)
    path = config_file()
    values = config.load(path)  # a broken file stops here, untouched
    values[key.value] = stored
    config.save(path, values)
    shown = config.mask_secret(str(stored)) if key is ConfigKey.API_KEY else stored
    sys.stderr.write(f"saved {key.value} = {shown} in {path}\n")


@app.command("get")
def get_value(
    key: Annotated[
        ConfigKey | None,
        typer.Argument(metavar="[KEY]", help="One setting; all when omitted.", show_default=False),
    ] = None,
) -> None:
    """Print stored defaults (the API key masked) to stdout.

    Examples:

    \b
        cartesia-cli config get
        cartesia-cli config get voice
    """
    values = config.load(config_file())
    if key is not None:
        if key.value in values:
            sys.stdout.write(f"{_shown(key.value, values[key.value])}\n")
        else:
            sys.stderr.write(f"{key.value} is not set\n")
        return
    for name in config.KEYS:
        if name in values:
            sys.stdout.write(f"{name} = {_shown(name, values[name])}\n")


@app.command("unset")
def unset_value(key: KeyArgument) -> None:
    """Remove a stored default.

    Examples:

    \b
        cartesia-cli config unset api_key
    """
    path = config_file()
    values = config.load(path)
    if values.pop(key.value, None) is None:
        sys.stderr.write(f"{key.value} was not set\n")
        return
    config.save(path, values)
    sys.stderr.write(f"removed {key.value} from {path}\n")


@app.command("path")
def show_path() -> None:
    """Print where the config file is (it may not exist yet).

    Examples:

    \b
        cartesia-cli config path
    """
    sys.stdout.write(f"{config_file()}\n")


def _shown(key: str, value: str | int) -> str:
    return config.mask_secret(str(value)) if key == ConfigKey.API_KEY.value else str(value)


def _read_secret() -> str:
    """The key from a hidden prompt on a terminal, else the first line of stdin."""
    if sys.stdin is not None and sys.stdin.isatty():
        secret: str = typer.prompt("API key", hide_input=True, err=True)
        return secret
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line.strip():
        raise UsageError("no API key given: type it at the prompt or pipe it on stdin")
    return line
