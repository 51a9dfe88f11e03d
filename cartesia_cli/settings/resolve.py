"""Precedence over the settings table: flag > environment > config file > default.

Values arrive from the CLI layer as the raw text of each flag (None when not
given); the environment and the config file are read here, so an error can
name exactly where a bad value came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from cartesia_cli.errors import MISSING_KEY, AuthError
from cartesia_cli.settings import spec
from cartesia_cli.settings.spec import Given, Setting

T = TypeVar("T")
ConfigValues = Mapping[str, "str | int | float"]


class Settings:
    """The resolved value of every setting a command takes; `settings[spec.MODEL]`."""

    def __init__(self, values: Mapping[Setting[object], object]) -> None:
        self._values = dict(values)

    def __getitem__(self, setting: Setting[T]) -> T:
        return cast(T, self._values[setting])

    def replaced(self, changes: Mapping[Setting[object], object]) -> Settings:
        """These settings with some values changed (a voice's name by its id)."""
        return Settings({**self._values, **changes})

    def body_fields(self) -> dict[tuple[str, ...], Any]:
        """The set values that go into a request body, by their place in it."""
        return {s.body: value for s, value in self._values.items() if s.body and value is not None}


def resolve(
    given: Given, env: Mapping[str, str], config: ConfigValues, *, key_required: bool = True
) -> Settings:
    """Pick and parse every setting's value; raises UsageError (2) or AuthError (3).

    Settings a command does not take are not in `given` and resolve like unset flags.
    `key_required=False` (--dry-run, which sends nothing) lets the key be missing.
    """
    values = {setting: _resolve_one(setting, given, env, config) for setting in spec.ALL}
    resolved = Settings(values)
    if key_required and spec.API_KEY in values and not resolved[spec.API_KEY]:
        raise AuthError("no API key", kind=MISSING_KEY)
    return resolved


def _resolve_one(
    setting: Setting[object], given: Given, env: Mapping[str, str], config: ConfigValues
) -> object:
    raw = given.get(setting.name)
    if raw is not None:
        return setting.parse(raw, setting.flag)
    if setting.env and env.get(setting.env):
        return setting.parse(env[setting.env], setting.env)
    if setting.configurable and setting.name in config:
        return setting.parse(str(config[setting.name]), f"{setting.name} in the config file")
    return setting.default


def parse_config_value(key: str, raw: str) -> str | int | float:
    """Check a value for `config set KEY VALUE` as strictly as a flag would be."""
    value = spec.by_config_key(key).parse(raw, key)
    if key == spec.API_KEY.name and not value:
        raise AuthError("no API key given")  # no hint: the user is setting one right now
    if isinstance(value, Enum):
        return str(value.value)  # an Enum stores its value
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot store {key} = {value!r}")


def insecure_url_warning(base_url: str) -> str | None:
    """A warning when the key would travel unencrypted to another machine."""
    parts = urlsplit(base_url)
    if parts.scheme != "http" or _is_loopback(parts.hostname or ""):
        return None
    return f"{base_url} is plain http:// and not this machine: the API key travels unencrypted"


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress  # only on this path: keeps it off --help and completion

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
