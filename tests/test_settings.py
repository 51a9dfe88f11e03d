"""Precedence (flag > env > config > default) over the settings table, and local validation."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from cartesia_cli.errors import AuthError, UsageError
from cartesia_cli.formats import Encoding
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import (
    Settings,
    insecure_url_warning,
    parse_config_value,
    resolve,
)

validate_config_value = parse_config_value


def resolve_settings(
    flags: Mapping[str, str | None],
    config: Mapping[str, str | int | float],
    env: Mapping[str, str] | None = None,
) -> Settings:
    return resolve(flags, env or {}, config)


def Given(**flags: str | None) -> dict[str, str | None]:
    return flags


KEY = Given(api_key="k")


def test_defaults_fill_unset_values() -> None:
    settings = resolve_settings(KEY, {})
    assert settings[spec.BASE_URL] == "https://api.cartesia.ai"
    assert settings[spec.API_VERSION] == "2026-08-14"
    assert settings[spec.MODEL] == "sonic-3.5"
    assert settings[spec.VOICE] == "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"
    assert (settings[spec.ENCODING], settings[spec.SAMPLE_RATE]) == (Encoding.PCM_F32LE, 44100)
    assert (settings[spec.RETRIES], settings[spec.IDLE_TIMEOUT]) == (2, 30.0)
    assert settings[spec.SPEED] is None
    assert settings.body_fields() == {}


def test_config_beats_defaults_and_flags_beat_config() -> None:
    stored: dict[str, str | int | float] = {
        "voice": "v-conf",
        "model": "m-conf",
        "encoding": "pcm_alaw",
        "sample_rate": 8000,
        "base_url": "http://127.0.0.1:1",
        "api_key": "conf-key",
    }
    stored["speed"] = 0.8
    from_config = resolve_settings(Given(), stored)
    assert [from_config[s] for s in (spec.VOICE, spec.MODEL, spec.API_KEY)] == [
        "v-conf",
        "m-conf",
        "conf-key",
    ]
    assert (from_config[spec.ENCODING], from_config[spec.SAMPLE_RATE]) == (Encoding.PCM_ALAW, 8000)
    assert from_config[spec.BASE_URL] == "http://127.0.0.1:1"
    assert from_config[spec.SPEED] == 0.8
    flags = Given(
        api_key="flag-key",
        base_url="http://127.0.0.1:2",
        model="m-flag",
        voice="v-flag",
        encoding="pcm_s16le",
        sample_rate="16000",
        speed="1.25",
    )
    env = {"CARTESIA_MODEL": "m-env", "CARTESIA_VOICE_ID": "v-env"}
    from_env = resolve_settings(Given(), stored, env)
    assert (from_env[spec.MODEL], from_env[spec.VOICE]) == ("m-env", "v-env")
    from_flags = resolve_settings(flags, stored, env)
    assert [from_flags[s] for s in (spec.VOICE, spec.MODEL, spec.API_KEY)] == [
        "v-flag",
        "m-flag",
        "flag-key",
    ]
    assert (from_flags[spec.ENCODING], from_flags[spec.SAMPLE_RATE]) == (Encoding.PCM_S16LE, 16000)
    assert from_flags[spec.BASE_URL] == "http://127.0.0.1:2"
    assert from_flags.body_fields() == {("generation_config", "speed"): 1.25}


def test_base_url_trailing_slash_is_dropped() -> None:
    given = Given(api_key="k", base_url="http://127.0.0.1:9/")
    assert resolve_settings(given, {})[spec.BASE_URL] == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (Given(api_key="k", base_url="ftp://example.com"), "--base-url must be an http"),
        (Given(api_key="k", base_url="api.cartesia.ai"), "--base-url must be an http"),
        (Given(api_key="k", api_version="2026-8-14"), "--api-version must be a date"),
        (Given(api_key="k", api_version="2026-02-30"), "--api-version must be a date"),
        (Given(api_key="k", model="  "), "--model must not be empty"),
        (Given(api_key="k", voice=""), "--voice must not be empty"),
        (Given(api_key="k", speed="2"), "--speed must be a number from 0.6 to 1.5, got '2'"),
        (Given(api_key="k", volume="0.49"), "--volume must be a number from 0.5 to 2, got"),
        (Given(api_key="k", volume="nan"), "--volume must be a number from 0.5 to 2, got 'nan'"),
        (Given(api_key="k", speed="inf"), "--speed must be a number"),
        (Given(api_key="k", speed="fast"), "--speed must be a number"),
        (Given(api_key="k", emotion=" "), "--emotion must not be empty"),
        (Given(api_key="k", retries="11"), "--retries must be from 0 to 10, got '11'"),
        (Given(api_key="k", idle_timeout="-1"), "--idle-timeout must be a number"),
    ],
)
def test_bad_values_are_usage_errors(given: dict[str, str | None], message: str) -> None:
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
        resolve_settings(Given(api_key="sk-abc def"), {})
    assert "sk-abc" not in caught.value.message


@pytest.mark.parametrize(
    ("key", "raw", "stored"),
    [
        ("sample_rate", "16000", 16000),
        ("encoding", "pcm_mulaw", "pcm_mulaw"),
        ("base_url", "https://x.test/", "https://x.test"),
        ("voice", " v1 ", "v1"),
        ("speed", "1.5", 1.5),
        ("volume", "0.5", 0.5),
        ("emotion", "calm", "calm"),
        ("language", "de", "de"),
    ],
)
def test_config_values_are_checked_like_flags(
    key: str, raw: str, stored: str | int | float
) -> None:
    assert validate_config_value(key, raw) == stored


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("sample_rate", "fast"),
        ("encoding", "mp3"),
        ("base_url", "x"),
        ("model", " "),
        ("speed", "9"),
        ("volume", "-inf"),
    ],
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


def test_controls_go_where_the_api_reads_them() -> None:
    flags = Given(
        api_key="k",
        language="de",
        speed="0.6",
        volume="2.0",
        emotion="excited",
        pronunciation_dict="pd-1",
        context_id="ctx-1",
    )
    assert resolve_settings(flags, {}).body_fields() == {
        ("language",): "de",
        ("generation_config", "speed"): 0.6,
        ("generation_config", "volume"): 2.0,
        ("generation_config", "emotion"): "excited",
        ("pronunciation_dict_id",): "pd-1",
        ("context_id",): "ctx-1",
    }


def test_every_config_key_is_a_setting_of_the_table() -> None:
    from cartesia_cli.settings import store

    assert tuple(s.name for s in spec.ALL if s.configurable) == store.KEYS
    assert {"language", "speed", "volume", "emotion"} <= set(store.KEYS)
    with pytest.raises(UsageError, match="unknown setting 'colour'"):
        spec.by_config_key("colour")


@for_all(st.floats(allow_nan=True, allow_infinity=True))
def test_a_bounded_number_is_accepted_exactly_when_finite_and_in_range(value: float) -> None:
    parse = spec.between(0.5, 2.0)
    if math.isfinite(value) and 0.5 <= value <= 2.0:
        assert parse(repr(value), "--volume") == value
    else:
        with pytest.raises(UsageError, match=r"^--volume must be a number from 0\.5 to 2, got"):
            parse(repr(value), "--volume")


@for_all(st.text())
def test_any_text_is_parsed_or_refused_with_a_usage_error(raw: str) -> None:
    for setting in spec.ALL:
        try:
            setting.parse(raw, setting.flag)
        except (UsageError, AuthError) as exc:
            assert exc.message.startswith(setting.flag) or "API key" in exc.message
