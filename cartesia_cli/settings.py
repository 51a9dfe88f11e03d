"""Resolved settings for one run: defaults filled in, every value checked before a request.

Flags and environment variables arrive already merged (flag > env) from the CLI
layer; this module adds the defaults and validates, so bad input fails fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from cartesia_cli.errors import AuthError, UsageError

DEFAULT_MODEL = "sonic-3.5"
DEFAULT_VOICE = "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
DEFAULT_BASE_URL = "https://api.cartesia.ai"
DEFAULT_API_VERSION = "2026-08-14"

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Visible ASCII only: anything else cannot travel in an HTTP header, and the
# HTTP stack's error would echo the header value, i.e. the key.
_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Settings:
    api_key: str
    base_url: str
    api_version: str
    model: str
    voice: str


def resolve_settings(
    *,
    api_key: str | None,
    base_url: str | None,
    api_version: str | None,
    model: str | None,
    voice: str | None,
) -> Settings:
    """Fill in defaults and validate; raises UsageError (2) or AuthError (3)."""
    settings = Settings(
        api_key=(api_key or "").strip(),
        base_url=_check_base_url(base_url or DEFAULT_BASE_URL),
        api_version=_check_api_version(api_version or DEFAULT_API_VERSION),
        model=_require_text(DEFAULT_MODEL if model is None else model, "--model"),
        voice=_require_text(DEFAULT_VOICE if voice is None else voice, "--voice"),
    )
    _check_api_key(settings.api_key)
    return settings


def _require_text(value: str, flag: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"{flag} must not be empty")
    return value


def _check_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url must be an http:// or https:// URL, got {url!r}")
    return url.strip().rstrip("/")


def _check_api_version(version: str) -> str:
    version = version.strip()
    try:
        if not _DATE.fullmatch(version):
            raise ValueError
        date.fromisoformat(version)
    except ValueError:
        raise UsageError(f"--api-version must be a date like 2026-08-14, got {version!r}") from None
    return version


def _check_api_key(key: str) -> None:
    if not key:
        raise AuthError("no API key: set CARTESIA_API_KEY or pass --api-key")
    if not _HEADER_SAFE.fullmatch(key):
        raise AuthError("the API key contains spaces or characters an HTTP header cannot carry")
