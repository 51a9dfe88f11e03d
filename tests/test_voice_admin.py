"""`voices clone|localize|update|delete`: local checks before any request, the bodies sent,
and the commands end to end against the fake server."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import subprocess
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

from .conftest import API_KEY, ENTRY_POINT, RunCli, assert_one_error_line, clean_env

OLD = "2025-11-04"
KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"  # in the fake's catalogue
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


@settings(max_examples=100)
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


# --- asking on a terminal ---------------------------------------------------------------


def on_a_terminal(fake: FakeCartesia, tmp_path: Path, answer: bytes, *args: str) -> tuple[int, str]:
    """Run the entry point with stdin and stderr on a terminal that has `answer` typed."""
    main, child = pty.openpty()
    os.write(main, answer)
    try:
        proc = subprocess.run(
            [str(ENTRY_POINT), *args], stdin=child, stdout=subprocess.PIPE, stderr=child,
            env=clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=fake.url),
            cwd=tmp_path, timeout=30,
        )  # fmt: skip
    finally:
        os.close(child)
    screen = b""
    with contextlib.suppress(OSError):  # EIO once the terminal's other end is closed
        while chunk := os.read(main, 4096):
            screen += chunk
    os.close(main)
    assert proc.stdout == b""
    return proc.returncode, screen.decode().replace("\r\n", "\n")


def test_a_no_on_the_terminal_deletes_nothing(fake: FakeCartesia, tmp_path: Path) -> None:
    code, screen = on_a_terminal(fake, tmp_path, b"n\n", "voices", "delete", KATIE)
    assert code == 0, screen
    assert f'  "Katie" ({KATIE})\nDelete this? [y/N]\n' in screen
    assert screen.endswith("Nothing was deleted.\n")
    assert [r.method for r in fake.requests] == ["GET"]  # looked up, never deleted


# --- end to end against the fake ----------------------------------------------------------


def clone(cli: RunCli, clip: Path, name: str = "Me", *extra: str) -> str:
    result = cli("voices", "clone", str(clip), "--name", name, "--language", "en", *extra)
    assert result.code == 0, result.stderr
    made = result.stdout.decode()
    assert made.endswith("\n") and made.count("\n") == 1
    return made.strip()


def requests(fake: FakeCartesia) -> list[tuple[str, str]]:
    return [(r.method, r.path.partition("?")[0]) for r in fake.requests]


def test_clone_then_speak_with_it_then_delete_it(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    result = cli("voices", "clone", str(clip), "--name", "My voice", "--language", "en")
    assert result.code == 0, result.stderr
    made = result.stdout.decode().strip()
    assert (
        result.stderr == f"Cloned voice \"My voice\" ({made}); speak with it: --voice 'My voice'\n"
    )
    upload = fake.requests[-2]  # then one search for other voices of that name
    assert (upload.method, upload.path) == ("POST", "/voices/clone")
    assert requests(fake)[-1] == ("GET", "/voices") and "q=My+voice" in fake.requests[-1].path
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="clip"; filename="me.wav"' in upload.body and clip.read_bytes() in upload.body

    # The new voice speaks what the fake makes for any voice, byte for byte.
    assert cli("tts", "sse", "Hello there.", "--voice", made, "-o", "mine.pcm").code == 0
    assert cli("tts", "sse", "Hello there.", "-o", "default.pcm").code == 0
    assert Path(clip.parent / "mine.pcm").read_bytes() == (clip.parent / "default.pcm").read_bytes()

    got = cli("voices", "get", made, "--json")
    assert got.code == 0 and json.loads(got.stdout)["name"] == "My voice"
    gone = cli("voices", "delete", made, "--yes")
    assert gone.code == 0, gone.stderr
    assert gone.stderr == f'Deleted voice "My voice" ({made})\n' and gone.stdout == b""
    assert requests(fake)[-2:] == [("GET", f"/voices/{made}"), ("DELETE", f"/voices/{made}")]
    assert cli("voices", "get", made).code == 4


def test_clone_json_is_the_apis_answer(cli_process: RunCli, fake: FakeCartesia, clip: Path) -> None:
    result = cli_process(
        "voices", "clone", str(clip), "--name", "Me", "--language", "en",
        "--description", "Calm", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    made = json.loads(result.stdout)
    assert (made["name"], made["language"], made["description"]) == ("Me", "en", "Calm")
    assert "speak with it: --voice Me" in result.stderr


def test_clone_derives_from_a_base_voice_named_by_name(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    clone(cli, clip, "Me", "--base-voice", "katie")
    assert requests(fake) == [("GET", "/voices"), ("POST", "/voices/clone"), ("GET", "/voices")]
    assert "q=katie" in fake.requests[0].path and "q=Me" in fake.requests[2].path
    assert b'name="base_voice_id"\r\n\r\n' + KATIE.encode() in fake.requests[1].body


@pytest.mark.parametrize(
    ("scenario", "code", "said"),
    [("http-500", 5, "HTTP 500"), ("drop", 6, "connection to the server failed")],
)
def test_a_clone_whose_answer_is_lost_is_not_sent_again_and_says_how_to_check(
    cli: RunCli, fake: FakeCartesia, clip: Path, scenario: str, code: int, said: str
) -> None:
    fake.queue(scenario, "ok")  # the first request only: a second would be answered
    result = cli("voices", "clone", str(clip), "--name", "Maybe me", "--language", "en")
    assert result.code == code
    assert_one_error_line(result.stderr)
    assert said in result.stderr and ".;" not in result.stderr  # "…a response.; the voice"
    assert result.stderr.endswith(
        "the voice may have been made all the same: check with"
        " `cartesia-cli voices list --query 'Maybe me'`\n"
    )
    assert requests(fake) == [("POST", "/voices/clone")]  # exactly one


def test_a_clone_that_never_reached_a_server_says_nothing_was_made(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    import socket

    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    result = cli(
        "voices", "clone", str(clip), "--name", "Me", "--language", "en",
        "--base-url", f"http://127.0.0.1:{port}", "--retries", "0",
    )  # fmt: skip
    assert result.code == 6 and "could not connect" in result.stderr
    assert "may have been made" not in result.stderr


def test_localize_goes_to_the_languages_usual_accent(
    cli: RunCli, cli_process: RunCli, fake: FakeCartesia
) -> None:
    result = cli_process("voices", "localize", "Katie", "--language", "en", "--name", "Katie UK",
                         "--dialect", "uk")  # fmt: skip
    assert result.code == 0, result.stderr
    made = result.stdout.decode().strip()
    assert "localizing to accent british (British English, en-GB)" in result.stderr
    assert requests(fake) == [
        ("GET", "/voices"), ("GET", "/accents"), ("POST", "/voices/localize"), ("GET", "/voices"),
    ]  # fmt: skip
    assert fake.requests[-2].json() == {
        "voice_id": KATIE, "name": "Katie UK", "language": "en", "accent": "british",
        "dialect": "uk",
    }  # fmt: skip
    assert cli("voices", "get", made).code == 0


def test_localize_with_an_accent_asks_for_no_catalogue(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("voices", "localize", KATIE, "--language", "fr", "--name", "Katie FR",
                 "--accent", "canadian-french", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "Katie FR"
    assert requests(fake) == [("POST", "/voices/localize"), ("GET", "/voices")]  # the name's check


def test_a_localization_whose_answer_is_lost_is_not_sent_again(
    cli: RunCli, fake: FakeCartesia
) -> None:
    fake.queue("http-503", "ok")
    result = cli("voices", "localize", KATIE, "--language", "fr", "--name", "Katie FR",
                 "--accent", "parisian")  # fmt: skip
    assert result.code == 5 and result.stdout == b""
    assert result.stderr.endswith("check with `cartesia-cli voices list --query 'Katie FR'`\n")
    assert requests(fake) == [("POST", "/voices/localize")]


def test_localize_under_the_old_version_sends_the_old_shape(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli(
        "voices", "localize", KATIE, "--language", "de", "--name", "Katja",
        "--description", "German Katie", "--gender", "female", "--api-version", OLD,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert fake.requests[-2].json() == {
        "voice_id": KATIE, "name": "Katja", "language": "de", "description": "German Katie",
        "original_speaker_gender": "female",
    }  # fmt: skip


def test_update_sends_only_what_is_given(
    cli: RunCli, cli_process: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    made = clone(cli, clip)
    result = cli_process("voices", "update", "me", "--description", "Low and slow",
                         "--gender", "none", "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    # The clone put its name in the name cache: "me" is found there, with no listing.
    assert requests(fake)[-3:] == [
        ("POST", "/voices/clone"), ("GET", "/voices"), ("PATCH", f"/voices/{made}"),
    ]  # fmt: skip
    assert fake.requests[-1].json() == {"description": "Low and slow", "gender": None}
    voice = json.loads(result.stdout)
    assert (voice["id"], voice["description"], voice.get("gender")) == (made, "Low and slow", None)
    assert result.stderr == f'Updated voice "Me" ({made}): description, gender\n'


def test_delete_checks_every_voice_first_and_deletes_none_if_one_is_unknown(
    cli: RunCli, cli_process: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    made = clone(cli, clip)
    result = cli_process("voices", "delete", made, UNKNOWN, "--yes")
    assert result.code == 4
    assert_one_error_line(result.stderr)
    assert "404" in result.stderr and result.stderr.endswith("; nothing was deleted\n")
    assert "DELETE" not in [method for method, _ in requests(fake)]
    assert cli("voices", "get", made).code == 0


def test_delete_several_by_name_and_id_with_json(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    one, two = clone(cli, clip, "One"), clone(cli, clip, "Two")
    result = cli("voices", "delete", "one", two, one, "--yes", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "deleted": [{"id": one, "name": "One"}, {"id": two, "name": "Two"}]
    }
    assert result.stderr == f'Deleted voice "One" ({one})\nDeleted voice "Two" ({two})\n'


def test_a_delete_whose_answer_is_lost_is_not_sent_again_and_names_what_is_left(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    one, two = clone(cli, clip, "One"), clone(cli, clip, "Two")
    fake.queue("ok", "ok", "http-500")  # the two look-ups, then the first DELETE
    result = cli("voices", "delete", one, two, "--yes")
    assert result.code == 5
    assert f'"One" ({one}) may have been deleted: check with `cartesia-cli voices get {one}`' in (
        result.stderr
    )
    assert result.stderr.endswith(f'; not deleted: "Two" ({two})\n')
    assert [m for m, _ in requests(fake)].count("DELETE") == 1


def test_quiet_leaves_only_the_answer_and_errors(
    cli: RunCli, fake: FakeCartesia, clip: Path
) -> None:
    made = cli("voices", "clone", str(clip), "--name", "Me", "--language", "en", "-q")
    assert made.code == 0 and made.stderr == "", made.stderr
    voice = made.stdout.decode().strip()
    assert cli("voices", "update", voice, "--name", "Me too", "--quiet").stderr == ""
    localized = cli("voices", "localize", voice, "--language", "de", "--name", "Ich", "-q")
    assert localized.code == 0 and localized.stderr == "", localized.stderr
    gone = cli("voices", "delete", voice, "--yes", "-q", "--json")
    assert gone.code == 0 and gone.stderr == ""
    assert json.loads(gone.stdout) == {"deleted": [{"id": voice, "name": "Me too"}]}
    assert cli("voices", "delete", voice, "--yes", "-q").code == 4


def test_a_yes_on_the_terminal_deletes(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, clip: Path
) -> None:
    made = clone(cli, clip)
    code, screen = on_a_terminal(fake, tmp_path, b"y\n", "voices", "delete", "Me")
    assert code == 0, screen
    assert screen.endswith(f'Delete this? [y/N]\nDeleted voice "Me" ({made})\n')
    assert cli("voices", "get", made).code == 4
