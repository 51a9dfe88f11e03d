"""Defaults and local validation of settings, before any request."""

from __future__ import annotations

import pytest

from cartesia_cli.errors import AuthError, UsageError
from cartesia_cli.settings import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_VOICE,
    resolve_settings,
)

GOOD = {"api_key": "k", "base_url": None, "api_version": None, "model": None, "voice": None}


def test_defaults_fill_unset_values() -> None:
    settings = resolve_settings(**GOOD)
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.api_version == DEFAULT_API_VERSION == "2026-08-14"
    assert settings.model == DEFAULT_MODEL == "sonic-3.5"
    assert settings.voice == DEFAULT_VOICE


def test_base_url_trailing_slash_is_dropped() -> None:
    assert resolve_settings(**{**GOOD, "base_url": "http://127.0.0.1:9/"}).base_url == (
        "http://127.0.0.1:9"
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("base_url", "ftp://example.com", "--base-url must be an http"),
        ("base_url", "api.cartesia.ai", "--base-url must be an http"),
        ("api_version", "2026-8-14", "--api-version must be a date"),
        ("api_version", "2026-02-30", "--api-version must be a date"),
        ("model", "  ", "--model must not be empty"),
        ("voice", "", "--voice must not be empty"),
    ],
)
def test_bad_values_are_usage_errors(field: str, value: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_settings(**{**GOOD, field: value})


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_is_an_auth_error(key: str | None) -> None:
    with pytest.raises(AuthError, match="no API key") as caught:
        resolve_settings(**{**GOOD, "api_key": key})
    assert caught.value.exit_code == 3


def test_key_that_cannot_be_a_header_is_refused_without_echoing_it() -> None:
    with pytest.raises(AuthError) as caught:
        resolve_settings(**{**GOOD, "api_key": "sk-abc\ndef"})
    assert "sk-abc" not in caught.value.message
