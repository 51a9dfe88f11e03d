"""Every setting, declared once: flag, environment variable, config key, default, parser,
completion, and where it goes in a request body.

The CLI layer builds the options from these rows (`options.py`), `resolve.py`
applies precedence (flag > environment > config file > default) over them, and
`store.py` takes its keys from them. Adding a setting is adding a row here and
using the value where it matters. Kept import-light: `--help` and completion
load this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import date
from typing import Generic, TypeVar

from cartesia_cli import base_url, redact
from cartesia_cli.errors import AuthError, UsageError
from cartesia_cli.formats import (
    DEFAULT_MP3_BIT_RATE,
    EMOTIONS,
    KNOWN_MODELS,
    LANGUAGES,
    LOCALE_MODELS,
    LOCALES,
    MODEL_ALIASES,
    MP3_BIT_RATES,
    NORMALIZATIONS,
    PLAYER_NAMES,
    SUFFIXES,
    Container,
    Encoding,
    SampleRate,
)

T = TypeVar("T")
Given = Mapping[str, str | None]  # setting name -> its flag's raw text, None if not given
T_co = TypeVar("T_co", covariant=True)
Parser = Callable[[str, str], T]  # (raw text, where it came from) -> value, or UsageError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Visible ASCII only: anything else cannot travel in an HTTP header, and the
# HTTP stack's error would echo the header value, i.e. the key.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")
SONIC_3 = "Honoured by sonic-3 models and later; older models ignore it."
SONIC_3_6 = f"Region codes need {', '.join(LOCALE_MODELS)} (--model); earlier models refuse them."


@dataclass(frozen=True, eq=False)
class Setting(Generic[T_co]):
    """One setting. `eq=False`: rows are compared and hashed by identity.

    Only the flag and the parser are positional (they cannot be swapped: one is a
    string, the other a function); every other field is given by keyword.
    """

    flag: str
    parse: Callable[[str, str], T_co]
    _: KW_ONLY
    help: str
    default: T_co
    short: str | None = None
    env: str | None = None
    configurable: bool = False
    choices: Sequence[str] = ()  # offered by completion; `parse` decides what is valid
    # Completion from elsewhere than `choices`: (value, description) pairs for what is typed.
    completions: Callable[[str], list[tuple[str, str]]] | None = None
    metavar: str | None = None
    body: tuple[str, ...] = ()  # where a set value goes in a TTS request body
    # An on/off flag, given without a value (`--cache`); `negative` is its off form.
    switch: bool = False
    negative: str | None = None

    @property
    def name(self) -> str:
        """`--sample-rate` -> `sample_rate`: the parameter name, and the config key."""
        return self.flag.lstrip("-").replace("-", "_")

    def candidates(self, incomplete: str) -> list[str] | list[tuple[str, str]]:
        if self.completions is not None:
            return self.completions(incomplete)
        return [choice for choice in self.choices if choice.startswith(incomplete)]


# -- parsers: each names where a bad value came from ------------------------------------


def text(raw: str, label: str) -> str:
    value = raw.strip()
    if not value:
        raise UsageError(f"{label} must not be empty")
    return value


_LOCALE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,2}")


def locale_code(raw: str, label: str) -> str:
    """A language, or a language and region: `en`, `en-GB`, `pt_BR`, `zh-Hans-CN`."""
    value = raw.strip()
    if not _LOCALE.fullmatch(value):
        raise UsageError(f"{label} must be a language or locale code like en or en-GB, got {raw!r}")
    return value


def normalization(raw: str, label: str) -> str:
    """`auto`, `off`, or a locale code that pins the normalizer."""
    value = raw.strip()
    return value if value in ("auto", "off") else locale_code(value, label)


def check_base_url(raw: str, label: str = "--base-url") -> str:
    parts = base_url.parts(raw)
    if base_url.has_userinfo(parts):
        # httpx would send them as Basic auth in place of the key, and print them in errors.
        shown = parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]).geturl()
        raise UsageError(f"{label} must not hold a user name or password, got {shown!r}")
    if parts.hostname and base_url.url_host(parts) is None:
        raise UsageError(
            f"{label} names a host no look-up can take (an empty label, one over 63"
            f" characters, a malformed xn-- name or IP address), got {raw!r}"
        )
    if not base_url.is_usable(raw):
        raise UsageError(
            f"{label} must be an http:// or https:// URL (a host, a port from 1 to 65535 if"
            f" any, no query or fragment), got {raw!r}"
        )
    # The scheme in lower case: `HTTPS://` is https everywhere below, TLS checks included.
    scheme, separator, rest = raw.strip().rstrip("/").partition("://")
    return scheme.lower() + separator + rest


def check_api_version(raw: str, label: str = "--api-version") -> str:
    version = raw.strip()
    try:
        if not _DATE.fullmatch(version):
            raise ValueError
        date.fromisoformat(version)
    except ValueError:
        raise UsageError(f"{label} must be a date like 2026-08-14, got {raw!r}") from None
    return version


def check_encoding(raw: str, label: str = "--encoding") -> Encoding:
    try:
        return Encoding(raw.strip())
    except ValueError:
        choices = ", ".join(e.value for e in Encoding)
        raise UsageError(f"{label} must be one of {choices}, got {raw!r}") from None


def check_container(raw: str, label: str = "--container") -> Container:
    try:
        return Container(raw.strip().lower())
    except ValueError:
        choices = ", ".join(c.value for c in Container)
        raise UsageError(f"{label} must be one of {choices}, got {raw!r}") from None


def check_sample_rate(raw: str, label: str = "--sample-rate") -> int:
    try:
        return SampleRate(raw.strip()).hz
    except ValueError:
        choices = ", ".join(r.value for r in SampleRate)
        failure = UsageError(f"{label} must be one of {choices}, got {raw!r}")
        number = raw.strip()
        if number.isascii() and number.isdigit() and int(number) < 1000:  # say -r: words/min
            failure.hint = "for words per minute (macOS say's -r), use --speed 0.6 to 1.5"
        raise failure from None


def check_api_key(raw: str, label: str = "--api-key") -> str:
    """A key fit for a header. Every key source passes here, so it is registered for masking."""
    key = raw.strip()
    redact.remember(key)
    if key and not _HEADER_SAFE.fullmatch(key):
        raise AuthError(
            f"the API key ({label}) has spaces or characters an HTTP header cannot carry"
        )
    return key


def check_player(raw: str, label: str = "--player") -> str:
    """`auto` or a player the CLI knows how to start."""
    name = raw.strip()
    if name not in PLAYER_NAMES:
        raise UsageError(f"{label} must be one of {', '.join(PLAYER_NAMES)}, got {raw!r}")
    return name


def between(low: float, high: float) -> Parser[float]:
    """A finite number in [low, high]."""

    def parse(raw: str, label: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise UsageError(f"{label} must be a number from {low:g} to {high:g}, got {raw!r}")
        return value

    return parse


def whole(low: int, high: int) -> Parser[int]:
    """A whole number in [low, high]."""

    def parse(raw: str, label: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise UsageError(f"{label} must be a whole number, got {raw!r}") from None
        if not low <= value <= high:
            raise UsageError(f"{label} must be from {low} to {high}, got {raw!r}")
        return value

    return parse


MAX_SECONDS = 1_000_000  # ~11.6 days: beyond ~9e9 s the socket layer overflows


def seconds(raw: str, label: str) -> float:
    """A number of seconds from 0.01 to MAX_SECONDS."""
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.01 <= value <= MAX_SECONDS):
        raise UsageError(
            f"{label} must be a number of seconds from 0.01 to {MAX_SECONDS}, got {raw!r}"
        )
    return value


_YES = ("true", "yes", "on", "1")
_NO = ("false", "no", "off", "0")


def yes_no(raw: str, label: str) -> bool:
    """An on/off value: true, yes, on, 1 or false, no, off, 0, in any letter case."""
    value = raw.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise UsageError(f"{label} must be true or false, got {raw!r}")


def one_of(choices: tuple[int, ...]) -> Parser[int]:
    """One of a few whole numbers."""

    def parse(raw: str, label: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = -1
        if value not in choices:
            listed = ", ".join(map(str, choices))
            raise UsageError(f"{label} must be one of {listed}, got {raw!r}")
        return value

    return parse


# -- the table ---------------------------------------------------------------------------
# One row per setting, laid out by hand as a table (ruff format would give each argument
# its own line). `help` is the --help text; env var and config key are added to it.

ENCODINGS = tuple(e.value for e in Encoding)
CONTAINERS = tuple(c.value for c in Container)
NAMED_BY = ", ".join(f"{suffix} {container.value}" for suffix, container in SUFFIXES.items())
RATES = tuple(r.value for r in SampleRate)
BIT_RATES = tuple(map(str, MP3_BIT_RATES))

# fmt: off
API_KEY: Setting[str] = Setting(
    "--api-key", check_api_key, default="", env="CARTESIA_API_KEY", configurable=True,
    metavar="KEY", help="API key. Prefer the environment variable: flags end up in shell history.",
)
BASE_URL: Setting[str] = Setting(
    "--base-url", check_base_url, help="API root URL.", default="https://api.cartesia.ai",
    env="CARTESIA_BASE_URL", configurable=True, metavar="URL",
)
API_VERSION: Setting[str] = Setting(
    "--api-version", check_api_version, help="Cartesia-Version header (YYYY-MM-DD).",
    default="2026-08-14", env="CARTESIA_VERSION", metavar="DATE",
)
MODEL: Setting[str] = Setting(
    "--model", text, help="Model id; any id is sent as given.", default="sonic-3.5", short="-m",
    env="CARTESIA_MODEL", configurable=True, choices=KNOWN_MODELS, metavar="ID",
)
VOICE: Setting[str] = Setting(
    "--voice", text, default="6ccbfb76-1fc6-48f7-b71d-91ac6298247b", short="-v",
    help="Voice id, or name (any case; looked up once, cached). Tab completes names.",
    env="CARTESIA_VOICE_ID", configurable=True, metavar="ID|NAME",
)
ENCODING: Setting[Encoding] = Setting(
    "--encoding", check_encoding, help="Audio encoding: " + ", ".join(ENCODINGS) + ".",
    default=Encoding.PCM_F32LE, short="-e", configurable=True, choices=ENCODINGS,
    metavar="ENCODING",
)
CONTAINER: Setting[Container | None] = Setting(
    "--container", check_container, metavar="NAME", choices=CONTAINERS, configurable=True,
    default=None,
    help="What the audio is written as: raw PCM, or a wav, mp3, flac or ogg (Opus) file; "
    f"default raw (tts bytes: wav). A file name's suffix picks it ({NAMED_BY}).",
)
SAMPLE_RATE: Setting[int] = Setting(
    "--sample-rate", check_sample_rate, metavar="HZ", short="-r", default=44100,
    help="Sample rate in Hz: " + ", ".join(RATES) + ".", choices=RATES, configurable=True,
)
BIT_RATE: Setting[int | None] = Setting(
    "--bit-rate", one_of(MP3_BIT_RATES), default=None, metavar="BPS", choices=BIT_RATES,
    help=f"MP3 bit rate: {', '.join(BIT_RATES)} (default {DEFAULT_MP3_BIT_RATE}).",
)
PLAYER: Setting[str] = Setting(
    "--player", check_player, metavar="auto|NAME", default="auto", env="CARTESIA_PLAYER",
    configurable=True, choices=PLAYER_NAMES,
    help="What plays the audio, and what the play-it hint names: auto (the first installed, in"
    " this order) or one of " + ", ".join(PLAYER_NAMES[1:]) + ".",
)
RETRIES: Setting[int] = Setting(
    "--retries", whole(0, 10), default=2, metavar="N",
    help="Retries for connection failures, 408, 409, 429 and 5xx, before any audio.",
)
CONNECT_TIMEOUT: Setting[float] = Setting(
    "--connect-timeout", seconds, help="Seconds to connect.", default=10.0, metavar="S",
)
IDLE_TIMEOUT: Setting[float] = Setting(
    "--idle-timeout", seconds, default=30.0, metavar="S",
    help="Longest wait in seconds for more from the server (keep-alives do not count).",
)
LANGUAGE: Setting[str | None] = Setting(
    "--language", text, help="Language code of the transcript, e.g. en, de, ja.", default=None,
    configurable=True, choices=LANGUAGES, metavar="CODE", body=("language",),
)
LOCALE: Setting[str | None] = Setting(
    "--locale", locale_code, metavar="CODE", configurable=True, choices=LOCALES, body=("locale",),
    default=None,
    help=f"Language and region, e.g. en-US, en-GB, pt-BR; not with --language. {SONIC_3_6}",
)
NORMALIZATION: Setting[str | None] = Setting(
    "--normalization", normalization, metavar="auto|off|CODE", configurable=True,
    choices=NORMALIZATIONS, default=None, body=("normalization",),
    help=f"How numbers, dates and units are read: auto, off, or a locale (en-IN). {SONIC_3_6}",
)
SPEED: Setting[float | None] = Setting(
    "--speed", between(0.6, 1.5), help=f"Speaking speed, 0.6 to 1.5 (1.0 is normal). {SONIC_3}",
    default=None, configurable=True, metavar="X", body=("generation_config", "speed"),
)
VOLUME: Setting[float | None] = Setting(
    "--volume", between(0.5, 2.0), body=("generation_config", "volume"), default=None,
    help=f"Volume, 0.5 to 2.0 (1.0 is normal). {SONIC_3}", metavar="X", configurable=True,
)
EMOTION: Setting[str | None] = Setting(
    "--emotion", text, choices=EMOTIONS, metavar="NAME", configurable=True,
    help=f"Emotion, e.g. neutral, calm, excited, sad; any name is sent. {SONIC_3}", default=None,
    body=("generation_config", "emotion"),
)
PRONUNCIATION_DICT: Setting[str | None] = Setting(
    "--pronunciation-dict", text, default=None, metavar="ID|NAME", body=("pronunciation_dict_id",),
    help=f"Pronunciation dictionary id, or name (looked up like --voice). {SONIC_3}",
)
CONTEXT_ID: Setting[str | None] = Setting(
    "--context-id", text, help="Context id, sent with the request and echoed back in events.",
    default=None, metavar="ID", body=("context_id",),
)
CACHE: Setting[bool] = Setting(
    "--cache", yes_no, negative="--no-cache", switch=True, default=False, env="CARTESIA_CACHE",
    configurable=True,
    help="Keep the audio in the audio cache, and take it from there when the same request comes "
    "again: no request, nothing billed (not with --timestamps).",
)
CACHE_ALIASES: Setting[bool] = Setting(
    "--cache-aliases", yes_no, switch=True, default=False,
    help=f"Cache models named by an alias that changes without notice ({', '.join(MODEL_ALIASES)}) "
    "too.",
)
CACHE_MAX_MB: Setting[int] = Setting(
    "--cache-max-mb", whole(1, 10_000_000), default=500, configurable=True, metavar="MB",
    help="The audio cache's size cap in MB; the least recently used audio goes first.",
)
# fmt: on

# What the TTS commands take, in --help order.
CONNECTION: tuple[Setting[object], ...] = (
    API_KEY,
    BASE_URL,
    API_VERSION,
    RETRIES,
    CONNECT_TIMEOUT,
    IDLE_TIMEOUT,
)
VOICE_AND_MODEL: tuple[Setting[object], ...] = (MODEL, VOICE)
RAW_FORMAT: tuple[Setting[object], ...] = (ENCODING, SAMPLE_RATE)
PLAYBACK: tuple[Setting[object], ...] = (PLAYER,)
# What is written: the container, and an MP3's bit rate.
OUTPUT_FORMAT: tuple[Setting[object], ...] = (CONTAINER, BIT_RATE)
CONTROLS: tuple[Setting[object], ...] = (
    LANGUAGE,
    LOCALE,
    NORMALIZATION,
    SPEED,
    VOLUME,
    EMOTION,
    PRONUNCIATION_DICT,
    CONTEXT_ID,
)
# The audio cache, for the HTTP commands (`tts ws`'s text streams in: never cached).
CACHING: tuple[Setting[object], ...] = (CACHE, CACHE_ALIASES)
ALL: tuple[Setting[object], ...] = (
    *VOICE_AND_MODEL,
    *RAW_FORMAT,
    CONTAINER,
    BIT_RATE,
    *CONNECTION,
    *CONTROLS,
    *CACHING,
    CACHE_MAX_MB,  # config only: no command takes it as a flag
    PLAYER,
)
CONFIGURABLE: tuple[Setting[object], ...] = tuple(s for s in ALL if s.configurable)


def by_config_key(key: str) -> Setting[object]:
    """The configurable setting named `key`; a UsageError names the valid keys."""
    for setting in CONFIGURABLE:
        if setting.name == key:
            return setting
    names = ", ".join(s.name for s in CONFIGURABLE)
    raise UsageError(f"unknown setting {key!r}; the keys are: {names}")
