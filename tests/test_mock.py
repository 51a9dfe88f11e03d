"""The fake server itself: audio encoders, request validation, SSE framing over real HTTP."""

from __future__ import annotations

import json
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from cartesia_cli.mock import FakeCartesia, Scenario
from cartesia_cli.mock.audio import alaw_byte, encode, mulaw_byte

from .conftest import API_KEY, VOICE, assert_no_secret, clean_env, run_entry_point, spoken_samples

GOOD_BODY = {
    "model_id": "sonic-3.5",
    "transcript": "Hello world",
    "voice": {"mode": "id", "id": VOICE},
    "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000},
}
HEADERS = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": "2026-08-14"}


def post(fake: FakeCartesia, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    # verify=False: plain http, and no TLS context (~20 ms) to build per request.
    with httpx.Client(verify=False, timeout=10) as client:
        return client.post(f"{fake.url}/tts/sse", json=body, headers=headers or HEADERS)


def test_g711_reference_values() -> None:
    # ITU-T G.711 code words for silence and the extremes.
    assert [mulaw_byte(v) for v in (0, -1, 32767, -32768)] == [0xFF, 0x7F, 0x80, 0x00]
    assert [alaw_byte(v) for v in (0, -1, 32767, -32768)] == [0xD5, 0x55, 0xAA, 0x2A]


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize(("encoding", "fmt"), [("pcm_mulaw", "mulaw"), ("pcm_alaw", "alaw")])
def test_g711_encoders_agree_with_ffmpeg(encoding: str, fmt: str) -> None:
    samples = [i / 400 - 1 for i in range(800)]
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", fmt, "-ar", "8000", "-i", "-", "-f", "s16le", "-"],
        input=encode(samples, encoding),
        capture_output=True,
        check=True,
    ).stdout
    values = struct.unpack(f"<{len(decoded) // 2}h", decoded)
    assert len(values) == len(samples)
    # G.711 keeps ~3 significant bits per segment: within 1/16 of full scale plus a little.
    for original, back in zip(samples, values, strict=True):
        assert abs(original * 32767 - back) <= abs(original) * 32767 / 16 + 40


def test_stream_is_framed_like_the_real_api(fake: FakeCartesia) -> None:
    response = post(fake, {**GOOD_BODY, "add_timestamps": True, "context_id": "c1"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["transfer-encoding"] == "chunked"
    blocks = response.text.split("\n\n")
    assert blocks[-1] == ""
    names = []
    for block in blocks[:-1]:
        event_line, data_line = block.split("\n")
        name = event_line.removeprefix("event: ")
        payload = json.loads(data_line.removeprefix("data: "))
        assert payload["type"] == name
        assert payload["context_id"] == "c1"
        names.append(name)
    assert names[-1] == "done"
    assert "timestamps" in names
    assert names.count("chunk") >= 2


def test_sent_audio_is_recorded(fake: FakeCartesia) -> None:
    post(fake, GOOD_BODY)
    sent = fake.transmissions[-1]
    assert sent.finished
    assert len(sent.audio) == sent.length == spoken_samples("Hello world", 8000) * 2


@pytest.mark.parametrize(
    ("change", "status", "text"),
    [
        ({"transcript": " ?! "}, 400, "only punctuation"),
        (
            {"output_format": {"container": "wav", "encoding": "pcm_s16le", "sample_rate": 8000}},
            400,
            "container",
        ),
        (
            {"output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 12345}},
            400,
            "sample_rate",
        ),
        ({"model_id": "sonic-english"}, 400, "sunsetted"),
        ({"voice": {"mode": "id", "id": "not-a-uuid"}}, 404, "No voice"),
    ],
)
def test_invalid_requests_are_rejected(
    fake: FakeCartesia, change: dict[str, object], status: int, text: str
) -> None:
    response = post(fake, {**GOOD_BODY, **change})
    assert response.status_code == status
    assert text in response.json()["message"]
    assert response.json()["request_id"]


def test_auth_and_version_are_required(fake: FakeCartesia) -> None:
    assert post(fake, GOOD_BODY, {**HEADERS, "Authorization": "Bearer wrong"}).status_code == 401
    no_version = {"Authorization": HEADERS["Authorization"]}
    assert post(fake, GOOD_BODY, no_version).status_code == 400


def test_legacy_versions_get_plain_text_errors(fake: FakeCartesia) -> None:
    response = post(
        fake, GOOD_BODY, {**HEADERS, "Authorization": "Bearer x", "Cartesia-Version": "2025-11-04"}
    )
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Unauthorized: Invalid API key."


def test_unknown_model_is_an_error_event(fake: FakeCartesia) -> None:
    response = post(fake, {**GOOD_BODY, "model_id": "sonic-9"})
    assert response.status_code == 200
    assert response.text.startswith("event: error\n")
    assert '"error_code":"model_not_found"' in response.text


def test_queued_scenarios_apply_in_order(fake: FakeCartesia) -> None:
    fake.queue("http-429", Scenario.http_error(503, headers={"Retry-After": "1"}))
    first, second, third = (post(fake, GOOD_BODY) for _ in range(3))
    assert first.status_code == 429
    assert first.json()["error_code"] == "concurrency_limited"
    assert second.status_code == 503
    assert second.headers["retry-after"] == "1"
    assert third.status_code == 200


def test_scenario_names_parse() -> None:
    assert Scenario.parse("http-500-text") == Scenario("http-500-text", 500, text_body=True)
    assert Scenario.parse("cut").name == "cut"
    with pytest.raises(ValueError, match="unknown scenario"):
        Scenario.parse("explode")


def test_module_entry_point_serves_until_interrupted(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "cartesia_cli.mock", "--scenario", "http-402"],
        stdout=subprocess.PIPE,
        env=clean_env(),
    ) as server:
        _drive_module_server(server, tmp_path)


def _drive_module_server(server: subprocess.Popen[bytes], tmp_path: Path) -> None:
    try:
        assert server.stdout is not None
        url = server.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        result = run_entry_point(
            ("tts", "sse", "Hi", "--base-url", url),
            env=clean_env(CARTESIA_API_KEY=API_KEY),
            cwd=tmp_path,
        )
        assert result.code == 4
        assert "HTTP 402" in result.stderr
        assert_no_secret(result, API_KEY)
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
