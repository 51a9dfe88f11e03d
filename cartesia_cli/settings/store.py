"""The config store: defaults in `config.toml`, file mode 0600.

Precedence, applied in resolve.py: flag > environment > this file > built-in default.
Read with tomllib; written by hand, which is enough for a flat table of strings and
numbers (a JSON string literal is a valid TOML basic string).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cartesia_cli.errors import UsageError
from cartesia_cli.settings.spec import CONFIGURABLE

CONFIG_DIR_ENV = "CARTESIA_CLI_CONFIG_DIR"
FILE_NAME = "config.toml"
KEYS = tuple(setting.name for setting in CONFIGURABLE)

ConfigValues = dict[str, str | int | float]


class ConfigError(UsageError):
    """The config file or a value for it is unusable (exit 2); nothing is overwritten."""


def config_path(app_dir: Path) -> Path:
    """`$CARTESIA_CLI_CONFIG_DIR/config.toml`, else `config.toml` in the platform app dir."""
    override = os.environ.get(CONFIG_DIR_ENV)
    return (Path(override) if override else app_dir) / FILE_NAME


def load(path: Path) -> ConfigValues:
    """The stored values; a missing file is an empty config, a broken one an error."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    # Imported only once there is a file to parse (~1-3 ms): most runs have none.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    values: ConfigValues = {}
    for key, value in data.items():
        if key not in KEYS:
            raise ConfigError(f"config file {path} has an unknown key {key!r}")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"config file {path}: {key} must be a string or a number")
        values[key] = value
    return values


def save(path: Path, values: ConfigValues) -> None:
    """Replace the file atomically, owner-only (0600) from the first byte."""
    import tempfile  # only `config set/unset` write: keep it off the streaming path

    text = "".join(f"{key} = {_toml_value(values[key])}\n" for key in KEYS if key in values)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def mask_secret(value: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    return f"****{value[-4:]}" if len(value) >= 12 else "****"


def _toml_value(value: str | int | float) -> str:
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)  # an int, or a finite float (the parsers refuse nan and inf)
