"""Where a run will stream from, guessed from argv, the environment and the config file.

launch.py asks before the CLI is imported, to open the connection meanwhile
(api/preconnect.py). The guess follows the settings table's precedence for the
base URL (flag > environment > config file > default) and answers None whenever
the run may send nothing: help, completion, --dry-run, --batch (its own
client), no API key anywhere, a proxy in the environment for its host (httpx
would connect to the proxy instead; read as httpx reads it, api/proxy.py), or
one the run will refuse, a base URL the table would refuse. A wrong guess costs
one unused connection, closed without a byte of HTTP; the names below are held
to the table's by tests/test_preconnect.py.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli import endpoints

if TYPE_CHECKING:  # imported by `guess` once the command is one that streams
    from cartesia_cli.base_url import Endpoint

BASE_URL_FLAG, BASE_URL_ENV, BASE_URL_KEY = "--base-url", "CARTESIA_BASE_URL", "base_url"
DEFAULT_BASE_URL = "https://api.cartesia.ai"
API_KEY_FLAG, API_KEY_ENV, API_KEY_KEY = "--api-key", "CARTESIA_API_KEY", "api_key"
CACHE_FLAG, NO_CACHE_FLAG, CACHE_ENV, CACHE_KEY = "--cache", "--no-cache", "CARTESIA_CACHE", "cache"
ON = ("true", "yes", "on", "1")  # the values settings/spec.py's yes_no reads as on
COMPLETE_VAR = "_CARTESIA_CLI_COMPLETE"
SENDS_NOTHING = frozenset({"--help", "-h", "--dry-run", "--batch"})
CONFIG_LIMIT = 1 << 20  # a config file is a few lines; anything bigger is left to the CLI


class Target(NamedTuple):
    endpoint: Endpoint
    tls: bool  # True: complete the TLS handshake too


_held: Target | None = None  # `hold`'s, until the run takes it


def hold(target: Target) -> None:
    """Keep `target` for the run to connect to only once it knows it will ask (`take_held`).

    For a run the audio cache may answer: a hit sends nothing, and a connection
    made for it would cost its start-up the connecting module's imports and a
    thread, and the server a socket opened for nothing. Kept here, not in
    api/preconnect.py, so that a hit never imports it.
    """
    global _held
    _held = target


def take_held() -> Target | None:
    """The target `hold` kept (once): a miss connects to it before importing httpx."""
    global _held
    held, _held = _held, None
    return held


class _ConfigFile:
    """The config file's table, read at most once for the start-up's two questions."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        self._read = False
        self._table: Mapping[str, object] | None = None

    def table(self) -> Mapping[str, object] | None:
        if not self._read:
            self._table, self._read = _config(self._env), True
        return self._table


def start_up(args: Sequence[str], env: Mapping[str, str]) -> tuple[Target | None, bool]:
    """`guess` and, for a target, `may_be_cached`, with the config file read once."""
    config = _ConfigFile(env)
    target = guess(args, env, config)
    return target, target is not None and may_be_cached(args, env, config)


def guess(
    args: Sequence[str], env: Mapping[str, str], file: _ConfigFile | None = None
) -> Target | None:
    """The endpoint this run will stream from, or None when it may not stream at all."""
    file = file or _ConfigFile(env)
    tts = endpoints.in_argv(args)  # a command that streams speech
    if tts is None or env.get(COMPLETE_VAR):
        return None
    flags, values = _scan(args[len(tts.words) :])
    if flags & SENDS_NOTHING:
        return None
    config: Mapping[str, object] = {}
    url_outside = BASE_URL_FLAG in values or bool(env.get(BASE_URL_ENV))
    key_outside = _key_outside(values, env)
    if not (url_outside and key_outside):
        read = file.table()
        if read is None:
            return None
        config = read
    if not key_outside and not str(config.get(API_KEY_KEY, "")).strip():
        return None  # exit 3 before any request
    from cartesia_cli import base_url

    raw_url = _base_url(values, env, config)
    endpoint = base_url.endpoint(raw_url)  # an international name IDNA-encoded, as httpx does
    if endpoint is None or _proxied(raw_url, env):
        return None
    return Target(endpoint, tls=tts.tls_at_start and endpoint.scheme == "https")


def may_be_cached(
    args: Sequence[str], env: Mapping[str, str], file: _ConfigFile | None = None
) -> bool:
    """Might the audio cache answer this run, sending nothing? Then launch.py holds the
    connection back until the run misses (api/preconnect.py's `defer`).

    The cache setting's precedence: --cache or --no-cache (the last given), else
    CARTESIA_CACHE, else the config file's `cache`. Whether the request's audio is
    in the cache is not guessed: its key is the whole resolved request. A WebSocket
    command is never answered from it.
    """
    tts = endpoints.in_argv(args)
    if tts is None or tts.transport is endpoints.WEBSOCKET:
        return False
    _, values = _scan(args[len(tts.words) :])
    if CACHE_FLAG in values:
        return values[CACHE_FLAG] == CACHE_FLAG
    if env.get(CACHE_ENV):
        return _on(env[CACHE_ENV])
    config = (file or _ConfigFile(env)).table() or {}  # unusable: the run reports it, or not
    return _on(config.get(CACHE_KEY, False))


def _on(value: object) -> bool:
    return str(value).strip().lower() in ON


def _scan(rest: Sequence[str]) -> tuple[set[str], dict[str, str]]:
    """The option names given before any `--`, and the last value of the two we read
    (the last of --cache and --no-cache kept under --cache)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    index = 0
    while index < len(rest) and not _ends_options(rest, index):
        name, equals, value = rest[index].partition("=")
        if name in (BASE_URL_FLAG, API_KEY_FLAG):
            if not equals:
                index += 1
                value = rest[index] if index < len(rest) else ""
            values[name] = value
        elif name in (CACHE_FLAG, NO_CACHE_FLAG) and not equals:
            values[CACHE_FLAG] = name
        flags.add(name)
        index += 1
    return flags, values


def _ends_options(rest: Sequence[str], index: int) -> bool:
    """A `--` ends the options, unless it may be the value of the option before it.

    click gives an option that takes a value the next word whatever it is: in
    `-t -- --dry-run` the transcript is `--` and --dry-run is an option. When the
    word before may be such an option, scanning goes on (at worst, no connection).
    """
    if rest[index] != "--":
        return False
    before = rest[index - 1] if index else ""
    return not (before.startswith("-") and before != "--" and "=" not in before)


def _key_outside(values: Mapping[str, str], env: Mapping[str, str]) -> bool:
    """A key from the flag or the environment (the config file is read only if needed)."""
    if API_KEY_FLAG in values:
        return bool(values[API_KEY_FLAG].strip())
    return bool(env.get(API_KEY_ENV, "").strip())


def _base_url(
    values: Mapping[str, str], env: Mapping[str, str], config: Mapping[str, object]
) -> str:
    if BASE_URL_FLAG in values:
        return values[BASE_URL_FLAG]
    if env.get(BASE_URL_ENV):
        return env[BASE_URL_ENV]
    return str(config.get(BASE_URL_KEY, DEFAULT_BASE_URL))


def _proxied(url: str, env: Mapping[str, str]) -> bool:
    """Would the run go through a proxy (or stop at one it refuses)? Any letter case."""
    from cartesia_cli.api import proxy

    try:
        return proxy.proxy_for(url, env) is not None
    except proxy.ProxyError:  # the run stops with a usage error naming the variable
        return True


def _config(env: Mapping[str, str]) -> Mapping[str, object] | None:
    """The config file's table: empty when there is none, None when it cannot be used."""
    from cartesia_cli.settings import location

    try:  # a regular file only, never blocking: a FIFO in its place must not hang the start
        raw = location.read_regular_file(location.config_file(env), CONFIG_LIMIT)
    except OSError:
        return None
    if raw is None:
        return {}
    if len(raw) > CONFIG_LIMIT:
        return None
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
