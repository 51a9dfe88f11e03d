"""The config store: defaults in `config.toml`, file mode 0600.

Precedence, applied in resolve.py: flag > environment > this file > built-in default.
Read with tomllib; written by hand, which is enough for a flat table of strings and
numbers (every value written reads back equal, or is refused before writing).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from cartesia_cli.errors import UsageError
from cartesia_cli.settings import location, spec
from cartesia_cli.settings.spec import CONFIGURABLE

KEYS = tuple(setting.name for setting in CONFIGURABLE)
MAX_BYTES = 1 << 20  # a config file is a few lines: anything this large is not one

ConfigValues = dict[str, str | int | float]


class ConfigError(UsageError):
    """The config file or a value for it is unusable (exit 2); nothing is overwritten."""


def load(path: Path) -> ConfigValues:
    """The stored values; a missing file is an empty config, a broken one an error."""
    try:
        raw = location.read_regular_file(path, MAX_BYTES)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    if raw is None:
        return {}
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"config file {path} is over {MAX_BYTES // 1024} KiB: not a config file")
    # Imported only once there is a file to parse (~1-3 ms): most runs have none.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses once per level of `[[[[...`
        raise ConfigError(f"config file {path} is not valid TOML: nested too deeply") from None
    values: ConfigValues = {}
    for key, value in data.items():
        if key not in KEYS:
            raise ConfigError(f"config file {path} has an unknown key {key!r}")
        if isinstance(value, bool) and spec.by_config_key(key).switch:
            values[key] = value  # `cache = true`: an on/off setting
            continue
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ConfigError(f"config file {path}: {key} must be a string or a number")
        values[key] = value
    return values


def save(path: Path, values: ConfigValues) -> None:
    """Replace the file atomically, owner-only (0600) from the first byte.

    A `config.toml` that is a link (dotfiles kept elsewhere) is updated where it
    points, so the link stays, but only a regular file is ever replaced: a named
    pipe, device or directory there is an error (exit 2), left as it is. A
    directory made here is 0700 whatever the umask.
    """
    import tempfile  # only `config set/unset` write: keep it off the streaming path

    text = "".join(f"{key} = {_toml_value(key, values[key])}\n" for key in KEYS if key in values)
    try:
        target = Path(location.writable_target(path))
        _make_private_dir(target.parent)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=target.parent)
    except OSError as exc:
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o600)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write config file {path}: {exc.strerror}") from None
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


def _toml_value(key: str, value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _toml_string(key, value)
    return repr(value)  # an int, or a finite float (the parsers refuse nan and inf)


# What a TOML basic string must escape: quote, backslash, and control characters (C1
# too, so that the file reads plainly). Everything else is written as it is.
_TOML_ESCAPES = {'"': '\\"', "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"}
_TOML_ESCAPES.update(
    (chr(c), f"\\u{c:04x}")
    for c in (*range(0x20), *range(0x7F, 0xA0))
    if chr(c) not in _TOML_ESCAPES
)


def _toml_string(key: str, value: str) -> str:
    """`value` as a TOML basic string that tomllib reads back equal; ConfigError if none can.

    A lone surrogate (bytes that were not UTF-8 on the command line) has no
    UTF-8 form and no TOML escape: it is refused before anything is written.
    """
    if any("\ud800" <= char <= "\udfff" for char in value):
        raise ConfigError(f"{key} must be text (UTF-8): the value has bytes that are not")
    return '"' + "".join(_TOML_ESCAPES.get(char, char) for char in value) + '"'
