"""Resolved settings for one run: every value picked by precedence and checked before a request.

Precedence: flag > environment > config file > built-in default. Flags and
environment variables arrive already merged by the CLI layer (typer's
`envvar=`); this module adds the config file and the defaults, and validates,
naming where a bad value came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import NamedTuple
from urllib.parse import urlsplit

from cartesia_cli import redact
from cartesia_cli.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_ENCODING,
    DEFAULT_MODEL,
    DEFAULT_SAMPLE_RATE,
    DEFAULT_VOICE,
)
from cartesia_cli.errors import AuthError, UsageError
from cartesia_cli.formats import Encoding, SampleRate

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Visible ASCII only: anything else cannot travel in an HTTP header, and the
# HTTP stack's error would echo the header value, i.e. the key.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


class Settings(NamedTuple):
    api_key: str
    base_url: str
    api_version: str
    model: str
    voice: str
    encoding: Encoding
    sample_rate: int


class Given(NamedTuple):
    """Values from flags or their environment variables; None where neither was given."""

    api_key: str | None = None
    base_url: str | None = None
    api_version: str | None = None
    model: str | None = None
    voice: str | None = None
    encoding: Encoding | None = None
    sample_rate: SampleRate | None = None


def resolve_settings(given: Given, config: Mapping[str, str | int]) -> Settings:
    """Apply precedence and validate; raises UsageError (2) or AuthError (3)."""

    def choose(value: object, key: str, flag: str, default: str) -> tuple[str, str]:
        if value is not None:
            return (value.value if isinstance(value, Enum) else str(value)), flag
        if key in config:
            return str(config[key]), f"{key} in the config file"
        return default, "the default"

    settings = Settings(
        api_key=choose(given.api_key, "api_key", "--api-key", "")[0].strip(),
        base_url=check_base_url(
            *choose(given.base_url, "base_url", "--base-url", DEFAULT_BASE_URL)
        ),
        api_version=check_api_version(given.api_version or DEFAULT_API_VERSION),
        model=require_text(*choose(given.model, "model", "--model", DEFAULT_MODEL)),
        voice=require_text(*choose(given.voice, "voice", "--voice", DEFAULT_VOICE)),
        encoding=check_encoding(
            *choose(given.encoding, "encoding", "--encoding", DEFAULT_ENCODING.value)
        ),
        sample_rate=check_sample_rate(
            *choose(given.sample_rate, "sample_rate", "--sample-rate", DEFAULT_SAMPLE_RATE.value)
        ),
    )
    check_api_key(settings.api_key)
    return settings


def validate_config_value(key: str, raw: str) -> str | int:
    """Check a value for `config set KEY VALUE` as strictly as a flag would be."""
    if key == "api_key":
        return check_api_key(raw.strip(), key)
    if key == "base_url":
        return check_base_url(raw, key)
    if key == "encoding":
        return check_encoding(raw, key).value
    if key == "sample_rate":
        return check_sample_rate(raw, key)
    return require_text(raw, key)


def require_text(value: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"{label} must not be empty")
    return value


def check_base_url(url: str, label: str = "--base-url") -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{label} must be an http:// or https:// URL, got {url!r}")
    return url.strip().rstrip("/")


def check_api_version(version: str, label: str = "--api-version") -> str:
    version = version.strip()
    try:
        if not _DATE.fullmatch(version):
            raise ValueError
        date.fromisoformat(version)
    except ValueError:
        raise UsageError(f"{label} must be a date like 2026-08-14, got {version!r}") from None
    return version


def check_encoding(value: str, label: str = "--encoding") -> Encoding:
    try:
        return Encoding(value)
    except ValueError:
        choices = ", ".join(e.value for e in Encoding)
        raise UsageError(f"{label} must be one of {choices}, got {value!r}") from None


def check_sample_rate(value: str, label: str = "--sample-rate") -> int:
    try:
        return SampleRate(value.strip()).hz
    except ValueError:
        choices = ", ".join(r.value for r in SampleRate)
        raise UsageError(f"{label} must be one of {choices}, got {value!r}") from None


def check_api_key(key: str, label: str = "--api-key") -> str:
    redact.remember(key)  # from whichever source, config file included
    if not key:
        raise AuthError(
            "no API key: set CARTESIA_API_KEY, pass --api-key, or run "
            "'cartesia-cli config set api_key'"
        )
    if not _HEADER_SAFE.fullmatch(key):
        raise AuthError(
            f"the API key ({label}) has spaces or characters an HTTP header cannot carry"
        )
    return key


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
