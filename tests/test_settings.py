"""Precedence (flag/env > config > default) and local validation, before any request."""

from __future__ import annotations

import pytest

from cartesia_cli.defaults import (
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_VOICE,
)
from cartesia_cli.errors import AuthError, UsageError
from cartesia_cli.formats import Encoding, SampleRate
from cartesia_cli.settings import (
    Given,
    insecure_url_warning,
    resolve_settings,
    validate_config_value,
)

KEY = Given(api_key="k")


def test_defaults_fill_unset_values() -> None:
    settings = resolve_settings(KEY, {})
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.api_version == DEFAULT_API_VERSION == "2026-08-14"
    assert settings.model == DEFAULT_MODEL == "sonic-3.5"
    assert settings.voice == DEFAULT_VOICE
    assert (settings.encoding, settings.sample_rate) == (Encoding.PCM_F32LE, 44100)


def test_config_beats_defaults_and_flags_beat_config() -> None:
    stored: dict[str, str | int] = {
        "voice": "v-conf",
        "model": "m-conf",
        "encoding": "pcm_alaw",
        "sample_rate": 8000,
        "base_url": "http://127.0.0.1:1",
        "api_key": "conf-key",
    }
    from_config = resolve_settings(Given(), stored)
    assert (from_config.voice, from_config.model, from_config.api_key) == (
        "v-conf",
        "m-conf",
        "conf-key",
    )
    assert (from_config.encoding, from_config.sample_rate) == (Encoding.PCM_ALAW, 8000)
    assert from_config.base_url == "http://127.0.0.1:1"
    flags = Given(
        "flag-key",
        "http://127.0.0.1:2",
        None,
        "m-flag",
        "v-flag",
        Encoding.PCM_S16LE,
        SampleRate.HZ_16000,
    )
    from_flags = resolve_settings(flags, stored)
    assert (from_flags.voice, from_flags.model, from_flags.api_key) == (
        "v-flag",
        "m-flag",
        "flag-key",
    )
    assert (from_flags.encoding, from_flags.sample_rate) == (Encoding.PCM_S16LE, 16000)
    assert from_flags.base_url == "http://127.0.0.1:2"


def test_base_url_trailing_slash_is_dropped() -> None:
    given = Given(api_key="k", base_url="http://127.0.0.1:9/")
    assert resolve_settings(given, {}).base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (Given(api_key="k", base_url="ftp://example.com"), "--base-url must be an http"),
        (Given(api_key="k", base_url="api.cartesia.ai"), "--base-url must be an http"),
        (Given(api_key="k", api_version="2026-8-14"), "--api-version must be a date"),
        (Given(api_key="k", api_version="2026-02-30"), "--api-version must be a date"),
        (Given(api_key="k", model="  "), "--model must not be empty"),
        (Given(api_key="k", voice=""), "--voice must not be empty"),
    ],
)
def test_bad_values_are_usage_errors(given: Given, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve_settings(given, {})


def test_bad_config_values_name_the_config_file() -> None:
    with pytest.raises(UsageError, match="encoding in the config file must be one of"):
        resolve_settings(KEY, {"encoding": "wav"})
    with pytest.raises(UsageError, match="sample_rate in the config file must be one of"):
        resolve_settings(KEY, {"sample_rate": 12345})


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_is_an_auth_error(key: str | None) -> None:
    with pytest.raises(AuthError, match="no API key") as caught:
        resolve_settings(Given(api_key=key), {})
    assert caught.value.exit_code == 3


def test_key_that_cannot_be_a_header_is_refused_without_echoing_it() -> None:
    with pytest.raises(AuthError) as caught:
        resolve_settings(Given(api_key="sk-abc\ndef"), {})
    assert "sk-abc" not in caught.value.message


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("sample_rate", "16000", 16000),
        ("encoding", "pcm_mulaw", "pcm_mulaw"),
        ("base_url", "https://x.test/", "https://x.test"),
        ("voice", " v1 ", "v1"),
    ],
)
def test_config_values_are_checked_like_flags(key: str, raw: str, stored: str | int) -> None:
    assert validate_config_value(key, raw) == stored


@pytest.mark.parametrize(
    ("key", "raw"),
    [("sample_rate", "fast"), ("encoding", "mp3"), ("base_url", "x"), ("model", " ")],
)
def test_bad_config_values_are_refused(key: str, raw: str) -> None:
    with pytest.raises(UsageError, match=key):
        validate_config_value(key, raw)


@pytest.mark.parametrize(
    ("url", "warned"),
    [
        ("https://api.cartesia.ai", False),
        ("http://127.0.0.1:8765", False),
        ("http://127.8.9.10", False),
        ("http://localhost:1", False),
        ("http://[::1]:80", False),
        ("http://api.example.com", True),
        ("http://10.0.0.5:8080", True),
    ],
)
def test_plain_http_to_another_machine_is_warned_about(url: str, warned: bool) -> None:
    assert (insecure_url_warning(url) is not None) == warned
