"""Sonic 3.6 and the 2026-08-14 surface: models, --locale, --normalization, the voice's shape,
and `voices list --language` filtered here whether or not a server honours it."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.api.voices import speaks
from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import spec

from .conftest import API_KEY, VOICE, RunCli

MODELS_3_6 = ("sonic-3.6", "sonic-3.6-2026-08-27", "sonic-preview")


def sent(fake: FakeCartesia) -> dict[str, Any]:
    """The body of the last TTS request: the HTTP body, or the WebSocket's first message."""
    request = fake.requests[-1]
    if request.path.endswith("/tts/websocket"):
        return dict(json.loads(fake.transmissions[-1].messages[0]))
    return dict(request.json())


@pytest.mark.parametrize("model", MODELS_3_6)
def test_the_sonic_3_6_ids_speak_and_complete(cli: RunCli, fake: FakeCartesia, model: str) -> None:
    result = cli("tts", "sse", "Hello.", "-m", model, "-o", "out.pcm")
    assert result.code == 0, result.stderr
    assert sent(fake)["model_id"] == model
    assert model in spec.MODEL.candidates("sonic-")
    assert spec.MODEL.default == "sonic-3.5"


@pytest.mark.parametrize("command", ["sse", "bytes", "ws"])
def test_locale_and_normalization_reach_every_command(
    cli: RunCli, fake: FakeCartesia, command: str
) -> None:
    flags = ("--locale", "en-GB", "--normalization", "en-IN", "-m", "sonic-3.6")
    result = cli("tts", command, "It is 05/04/2026.", "-o", "out.raw", *flags)
    assert result.code == 0, result.stderr
    body = sent(fake)
    assert (body["locale"], body["normalization"]) == ("en-GB", "en-IN")
    assert "language" not in body


def test_a_batch_item_may_set_its_own_locale(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('{"transcript": "Cheerio.", "locale": "en-GB", "model": "sonic-3.6"}\n')
    result = cli("tts", "sse", "--batch", str(items), "-o", str(tmp_path))
    assert result.code == 0, result.stderr
    assert sent(fake)["locale"] == "en-GB"


def test_a_region_code_on_an_older_model_is_refused_and_the_line_names_the_models(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("tts", "sse", "Hello.", "--locale", "en-GB", "-o", "out.pcm")
    assert result.code == 4
    line = result.stderr.strip().splitlines()[-1]
    assert "not supported by sonic-3.5" in line  # the server's words
    assert "need sonic-3.6, sonic-3.6-2026-08-27, sonic-preview (--model)" in line
    assert not Path("out.pcm").exists()
    result = cli("tts", "sse", "Hello.", "--normalization", "off", "-o", "ok.pcm")
    assert result.code == 0, result.stderr  # auto, off and bare languages work on 3.5


def test_language_and_locale_together_are_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("tts", "sse", "Hi.", "--language", "en", "--locale", "en-GB", "-o", "x.pcm")
    assert result.code == 2
    assert "--language and --locale cannot be combined" in result.stderr
    assert fake.requests == []


@pytest.mark.parametrize(
    "flags",
    [
        ("--locale", "\x1b[31m"),
        ("--locale", "x" * 100),
        ("--normalization", "loud"),
        ("--locale", ""),
    ],
)
def test_a_locale_that_is_no_code_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, flags: tuple[str, str]
) -> None:
    result = cli("tts", "sse", "Hi.", *flags, "-o", "x.pcm")
    assert result.code == 2, result.stderr
    assert fake.requests == []


def test_no_locale_hint_when_the_server_refuses_the_model(cli: RunCli, fake: FakeCartesia) -> None:
    result = cli("tts", "sse", "Hello.", "--locale", "en-GB", "-m", "sonic-9", "-o", "x.pcm")
    assert result.code == 4
    assert "Invalid model" in result.stderr and "region codes" not in result.stderr


def test_locale_is_a_config_key(cli: RunCli, fake: FakeCartesia) -> None:
    assert cli("config", "set", "locale", "pt-BR").code == 0
    assert cli("config", "set", "normalization", "auto").code == 0
    assert cli("tts", "sse", "Olá.", "-m", "sonic-3.6", "-o", "out.pcm").code == 0
    assert (sent(fake)["locale"], sent(fake)["normalization"]) == ("pt-BR", "auto")


@pytest.mark.parametrize(
    ("version", "shape"),
    [("2026-08-14", VOICE), ("2026-03-01", {"mode": "id", "id": VOICE})],
)
def test_the_voice_goes_out_in_the_versions_shape(
    cli: RunCli, fake: FakeCartesia, version: str, shape: object
) -> None:
    for command in ("sse", "bytes"):
        args = ("tts", command, "Hi.", "-v", VOICE, "--api-version", version, "-o", "-")
        assert cli(*args).code == 0
        assert sent(fake)["voice"] == shape


def _post(fake: FakeCartesia, version: str, voice: object) -> int:
    body = {
        "model_id": "sonic-3.5",
        "transcript": "Hi.",
        "voice": voice,
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000},
    }
    request = urllib.request.Request(
        f"{fake.url}/tts/bytes",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": version},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_mock_checks_the_voices_shape_per_version(fake: FakeCartesia) -> None:
    legacy = {"mode": "id", "id": VOICE}
    assert _post(fake, "2026-08-14", VOICE) == 200
    assert _post(fake, "2026-08-14", {"id": VOICE}) == 200
    assert _post(fake, "2026-08-14", legacy) == 200  # still type-checks in the SDKs
    assert _post(fake, "2026-03-01", legacy) == 200
    assert _post(fake, "2026-03-01", VOICE) == 400
    assert _post(fake, "2025-11-04", {"id": VOICE}) == 400


def _listed(stdout: bytes) -> list[dict[str, Any]]:
    return list(json.loads(stdout))


def test_voices_list_language_is_filtered_here_when_the_server_ignores_it(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("voices", "list", "--language", "en-GB", "--json")
    assert result.code == 0, result.stderr
    assert {v["name"] for v in _listed(result.stdout)} == {"Oliver", "Grace"}
    assert all("language=" not in r.path for r in fake.requests)  # 2026-08-14: not documented
    english = _listed(cli("voices", "list", "--language", "en", "--json").stdout)
    assert {"Katie", "Oliver", "Noah", "Rowan"} <= {v["name"] for v in english}
    assert all(speaks(v, "en") for v in english)


def test_voices_list_language_is_sent_where_the_version_documents_it(
    cli: RunCli, fake: FakeCartesia
) -> None:
    args = ("voices", "list", "--language", "fr_CA", "--api-version", "2025-11-04", "--json")
    result = cli(*args)
    assert result.code == 0, result.stderr
    assert [v["name"] for v in _listed(result.stdout)] == ["Théo"]
    assert "language=fr_CA" in fake.requests[-1].path


def test_voices_list_language_with_a_limit_counts_only_matches(
    cli: RunCli, fake: FakeCartesia
) -> None:
    result = cli("voices", "list", "--language", "ja", "--limit", "2", "--json")
    assert {v["name"] for v in _listed(result.stdout)} == {"Yuki", "Haruto"}


@pytest.mark.parametrize(
    ("voice", "code", "expected"),
    [
        ({"language": "en", "locales": [{"locale": "en-GB"}]}, "en", True),
        ({"language": "en", "locales": [{"locale": "en-GB"}]}, "EN_gb", True),
        ({"language": "en", "locales": [{"locale": "en-GB"}]}, "en-US", False),
        ({"language": "english", "locales": []}, "en", False),
        ({"language": "pt", "locales": None}, "pt", True),
        ({"locales": [{"locale": 7}, "x"]}, "en", False),
    ],
)
def test_speaks(voice: dict[str, Any], code: str, expected: bool) -> None:
    assert speaks(voice, code) is expected
