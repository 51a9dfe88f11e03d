"""`voices clone|localize|update|delete`: local checks before any request, the bodies sent,
and the commands end to end against the fake server."""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.api import voice_admin
from cartesia_cli.api.voice_admin import Localize
from cartesia_cli.errors import UsageError
from cartesia_cli.mock import FakeCartesia

from .conftest import RunCli, assert_one_error_line

OLD = "2025-11-04"
UNKNOWN = "0b5d7a4e-1c2f-4e3a-9b8c-7d6e5f4a3b2c"  # a well-formed id the fake does not have


def wav_clip(seconds: float = 6.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x01" * int(seconds * rate))
    return out.getvalue()


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    (tmp_path / "me.wav").write_bytes(wav_clip())
    return tmp_path / "me.wav"


def refused_locally(result: Any, fake: FakeCartesia, said: str) -> None:
    """Exit 2 with one line saying `said`, and nothing sent."""
    assert result.code == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert said in result.stderr, result.stderr
    assert result.stdout == b"" and fake.requests == []


# --- refused before any request ----------------------------------------------------------


def test_clone_checks_the_language_locally(cli: RunCli, fake: FakeCartesia, clip: Path) -> None:
    result = cli("voices", "clone", str(clip), "--name", "Me", "--language", "english")
    refused_locally(result, fake, "--language 'english' is not a language code the API knows")


def test_clone_checks_the_clip_locally(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not audio at all\n")
    result = cli("voices", "clone", "notes.txt", "--name", "Me", "--language", "en")
    refused_locally(result, fake, "'notes.txt' is not audio")


def test_clone_refuses_a_clip_too_short(cli: RunCli, fake: FakeCartesia, tmp_path: Path) -> None:
    (tmp_path / "short.wav").write_bytes(wav_clip(1.0))
    result = cli("voices", "clone", "short.wav", "--name", "Me", "--language", "en")
    refused_locally(result, fake, "'short.wav' is 1.0 s long; a clone needs at least 2 s")


def test_clone_needs_a_name(cli: RunCli, fake: FakeCartesia, clip: Path) -> None:
    result = cli("voices", "clone", str(clip), "--language", "en")
    assert result.code == 2 and "--name" in result.stderr and fake.requests == []
    result = cli("voices", "clone", str(clip), "--name", " ", "--language", "en")
    refused_locally(result, fake, "--name cannot be empty")


def test_clone_takes_no_accent_before_accents_existed(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    args = ("voices", "clone", str(clip), "--name", "Me", "--language", "en", "--accent", "british")
    result = cli(*args, "--api-version", OLD)
    refused_locally(result, fake, "--accent needs Cartesia-Version 2026-08-14 or later")


def test_localize_under_the_old_version_asks_for_what_it_needs(
    cli: RunCli, fake: FakeCartesia
) -> None:
    args = ("voices", "localize", UNKNOWN, "--language", "fr", "--name", "Ma voix")
    result = cli(*args, "--api-version", OLD)
    refused_locally(
        result,
        fake,
        "under Cartesia-Version 2025-11-04, localize also needs --description and"
        " --gender male|female",
    )
    result = cli(*args, "--api-version", OLD, "--gender", "female")
    refused_locally(result, fake, "localize also needs --description\n")


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (("--language", "xx"), "--language 'xx' cannot be localized to; one of: en de es"),
        (("--language", "en", "--dialect", "mx"), "--dialect 'mx' does not fit --language en"),
        (("--language", "de", "--dialect", "uk"), "does not fit --language de: none"),
        (("--language", "en", "--gender", "masculine"), "--gender must be male or female"),
    ],
)
def test_localize_refuses_values_that_cannot_be(
    cli: RunCli, fake: FakeCartesia, extra: tuple[str, ...], said: str
) -> None:
    result = cli("voices", "localize", UNKNOWN, "--name", "L", *extra)
    refused_locally(result, fake, said)


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ((), "nothing to update: give --name, --description, --gender or --accent"),
        (("--gender", "female"), "--gender must be one of masculine, feminine, gender_neutral"),
        (("--name", ""), "--name cannot be empty"),
        (("--accent", "british", "--api-version", OLD), "--accent needs Cartesia-Version"),
    ],
)
def test_update_refuses_before_any_request(
    cli: RunCli, fake: FakeCartesia, extra: tuple[str, ...], said: str
) -> None:
    refused_locally(cli("voices", "update", UNKNOWN, *extra), fake, said)


def test_delete_off_a_terminal_needs_yes_before_any_request(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("voices", "delete", UNKNOWN)
    refused_locally(result, fake, "deleting needs --yes when not on a terminal")


# --- the bodies ---------------------------------------------------------------------------


def test_clone_sends_only_the_fields_given() -> None:
    fields = voice_admin.clone_fields(
        name="Me", language="en", description=None, base_voice="v0", accent=None
    )
    assert fields == {"name": "Me", "language": "en", "base_voice_id": "v0"}


def test_update_sends_only_what_was_given_and_none_as_null() -> None:
    body = voice_admin.update_body(
        name=None, description="", gender="none", accent="none", api_version="2026-08-14"
    )
    assert body == {"description": "", "gender": None, "accent": None}


WANTED = Localize("v1", "L", "en", None, None, None, None)


def test_localize_bodies_per_version() -> None:
    assert voice_admin.localize_body(WANTED, "british") == {
        "voice_id": "v1",
        "name": "L",
        "language": "en",
        "accent": "british",
    }
    old = WANTED._replace(description="D", gender="female", dialect="uk")
    assert voice_admin.localize_body(old, None) == {
        "voice_id": "v1",
        "name": "L",
        "language": "en",
        "description": "D",
        "dialect": "uk",
        "original_speaker_gender": "female",
    }


def accent(id_: str, language: str, locale: str, *, default: bool, localizable: bool = True) -> Any:
    return {
        "id": id_,
        "name": id_.title(),
        "language": language,
        "locale": locale,
        "is_locale_default": default,
        "is_localizable": localizable,
    }


CATALOGUE = [  # sorted by id, as the API sends it
    accent("australian", "en", "en-AU", default=True),
    accent("british", "en", "en-GB", default=True),
    accent("canadian-french", "fr", "fr-CA", default=True),
    accent("general-american", "en", "en-US", default=True),
    accent("parisian", "fr", "fr-FR", default=True),
    accent("southern-us", "en", "en-US", default=False),
    accent("urdu", "ur", "ur-PK", default=True, localizable=False),
]


@pytest.mark.parametrize(
    ("language", "dialect", "chosen"),
    [
        ("en", None, "general-american"),
        ("en", "uk", "british"),
        ("en", "au", "australian"),
        ("en", "so", "general-american"),  # a dialect with no locale of its own
        ("fr", None, "parisian"),
        ("fr", "ca", "canadian-french"),
        ("ur", None, None),  # not localizable
        ("de", None, None),
    ],
)
def test_the_default_accent_of_a_language(
    language: str, dialect: str | None, chosen: str | None
) -> None:
    found = voice_admin.default_accent(CATALOGUE, language, dialect)
    assert (found["id"] if found else None) == chosen


@settings(max_examples=200)
@given(
    st.lists(
        st.builds(
            accent,
            st.text("abcdefgh-", min_size=1, max_size=8),
            st.sampled_from(["en", "fr", "es", "de"]),
            st.sampled_from(["en-US", "en-GB", "fr-FR", "fr-CA", "es-MX", "de-DE", "xx-YY"]),
            default=st.booleans(),
            localizable=st.booleans(),
        ),
        max_size=12,
    ),
    st.sampled_from(["en", "fr", "es", "de"]),
    st.sampled_from([None, "uk", "us", "ca", "mx"]),
)
def test_the_default_accent_is_always_a_localizable_one_of_that_language(
    catalogue: list[Any], language: str, dialect: str | None
) -> None:
    found = voice_admin.default_accent(catalogue, language, dialect)
    fits = [a for a in catalogue if a["language"] == language and a["is_localizable"]]
    assert (found is None) == (not fits)
    if found is not None:
        assert found in fits
        if any(a["is_locale_default"] for a in fits) and dialect is None:
            assert found["is_locale_default"]


def test_accents_of_refuses_a_malformed_catalogue() -> None:
    from cartesia_cli.errors import StreamError

    with pytest.raises(StreamError):
        voice_admin.accents_of({"data": []})
    assert voice_admin.accents_of({"accents": [{"id": "a"}, {"id": 3}, "x"]}) == [{"id": "a"}]


def test_localize_checks_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--accent needs"):
        voice_admin.checked_localize(WANTED._replace(accent="british"), OLD)
    voice_admin.checked_localize(WANTED, "2026-08-14")  # nothing more needed
    voice_admin.checked_localize(WANTED._replace(description="D", gender="male"), OLD)


def test_every_command_has_examples_in_its_help(cli: RunCli) -> None:
    for command in ("clone", "localize", "update", "delete"):
        result = cli("voices", command, "--help")
        assert result.code == 0 and b"Examples:" in result.stdout, command
