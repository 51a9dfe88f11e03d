"""The config store: defaults in `config.toml`, file mode 0600.

Precedence, applied in resolve.py: flag > environment > this file > built-in default.
Read with tomllib; written by hand, which is enough for a flat table of strings and
numbers (a JSON string literal is a valid TOML basic string).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from cartesia_cli.errors import UsageError
from cartesia_cli.settings.spec import CONFIGURABLE

KEYS = tuple(setting.name for setting in CONFIGURABLE)

ConfigValues = dict[str, str | int | float]


class ConfigError(UsageError):
    """The config file or a value for it is unusable (exit 2); nothing is overwritten."""


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
    """Replace the file atomically, owner-only (0600) from the first byte.

    A `config.toml` that is a link (dotfiles kept elsewhere) is updated where it
    points, so the link stays. A directory made here is 0700 whatever the umask.
    """
    import tempfile  # only `config set/unset` write: keep it off the streaming path

    text = "".join(f"{key} = {_toml_value(values[key])}\n" for key in KEYS if key in values)
    target = Path(os.path.realpath(path))
    try:
        _make_private_dir(target.parent)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _make_private_dir(directory: Path) -> None:
    if directory.is_dir():
        return
    directory.mkdir(mode=0o700, parents=True)
    os.chmod(directory, 0o700)  # mkdir's mode is cut by the umask; chmod's is not


def exposure_warnings(path: Path, values: ConfigValues) -> list[str]:
    """What other users of this machine could do with the config, in words; [] if nothing.

    A directory others can write lets them replace the file (and the base URL
    the key is sent to); a key file others can read gives them the key.
    """
    warnings = []
    directory = Path(os.path.realpath(path)).parent
    try:
        mode = directory.stat().st_mode
        if mode & stat.S_IWOTH and not mode & stat.S_ISVTX:
            warnings.append(
                f"config directory {directory} is writable by other users, who could change "
                f"your settings; chmod 700 {directory}"
            )
        if "api_key" in values and path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
            warnings.append(
                f"config file {path} holds the API key and is readable by other users; "
                f"chmod 600 {path}"
            )
    except OSError:
        pass  # gone or unreadable since it was loaded: load() has said what matters
    return warnings


def mask_secret(value: str) -> str:
    """Enough of a key to recognise it, never enough to use it."""
    return f"****{value[-4:]}" if len(value) >= 12 else "****"


def _toml_value(value: str | int | float) -> str:
    import json

    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    return repr(value)  # an int, or a finite float (the parsers refuse nan and inf)
