"""The fake's `/tts/bytes`: raw, WAV and MP3 bodies over real HTTP, its faults, and the
generation controls both TTS endpoints validate."""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.mock import BYTES_FAULTS, AudioPlan, FakeCartesia, Scenario
from cartesia_cli.mock.audio import BYTES_PER_SAMPLE
from cartesia_cli.mock.bytes_body import split_evenly
from cartesia_cli.mock.wav import wav_header, wav_padding

from .conftest import API_KEY, VOICE, spoken_samples

HEADERS = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": "2026-08-14"}
ENCODINGS = ("pcm_s16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw")
SECONDS = spoken_samples("Hello world", 8000) / 8000  # 0.8 s: its speech in whole chunks
CHUNKS = round(SECONDS / 0.1)  # 0.1 s chunks
needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="ffmpeg/ffprobe not installed",
)


def body(output_format: dict[str, Any], **extra: object) -> dict[str, Any]:
    return {
        "model_id": "sonic-3.5",
        "transcript": "Hello world",
        "voice": {"mode": "id", "id": VOICE},
        "output_format": output_format,
        **extra,
    }


def raw(encoding: str = "pcm_s16le", rate: int = 8000) -> dict[str, Any]:
    return {"container": "raw", "encoding": encoding, "sample_rate": rate}


def wav(encoding: str = "pcm_s16le", rate: int = 8000) -> dict[str, Any]:
    return {"container": "wav", "encoding": encoding, "sample_rate": rate}


def mp3(rate: int = 24000, bit_rate: int = 128000) -> dict[str, Any]:
    return {"container": "mp3", "sample_rate": rate, "bit_rate": bit_rate}


# One client for the module: httpx.post() would build a TLS context (~20 ms) per call,
# which these plain-http tests never use.
HTTP = httpx.Client(verify=False, timeout=10)


def post(
    fake: FakeCartesia, payload: object, endpoint: str = "bytes", **headers: str
) -> httpx.Response:
    url = f"{fake.url}/tts/{endpoint}"
    return HTTP.post(url, json=payload, headers={**HEADERS, **headers})


def sse_chunks(fake: FakeCartesia, payload: dict[str, Any]) -> list[bytes]:
    """The audio of each chunk event of the SSE answer, decoded from the wire."""
    response = post(fake, payload, "sse")
    assert response.status_code == 200
    chunks = []
    for block in response.text.split("\n\n")[:-1]:
        event, data = block.split("\n")
        if event == "event: chunk":
            chunks.append(base64.b64decode(json.loads(data.removeprefix("data: "))["data"]))
    return chunks


def http_chunks(fake: FakeCartesia, payload: dict[str, Any]) -> tuple[bytes, list[bytes]]:
    """(response head, HTTP chunks) of a `/tts/bytes` answer, read off a bare socket."""
    address = urlsplit(fake.url)
    data = json.dumps(payload).encode()
    request = (
        f"POST /tts/bytes HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: {HEADERS['Authorization']}\r\n"
        f"Cartesia-Version: {HEADERS['Cartesia-Version']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    received = b""
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        sock.sendall(request.encode() + data)
        while block := sock.recv(65536):
            received += block
    head, _, rest = received.partition(b"\r\n\r\n")
    chunks: list[bytes] = []
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert rest == b"\r\n"  # the terminating chunk, then nothing
            return head, chunks
        chunks.append(rest[:size])
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]


def ffprobe(path: Path) -> tuple[str, int, float]:
    """(codec, sample rate, duration) as ffprobe reads the file."""
    shown = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,sample_rate:format=duration",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(shown.stdout)
    (stream,) = info["streams"]
    return stream["codec_name"], int(stream["sample_rate"]), float(info["format"]["duration"])


def read_until_error(response: httpx.Response) -> tuple[bytes, Exception | None]:
    received = b""
    try:
        for block in response.iter_raw():
            received += block
    except httpx.TransportError as error:
        return received, error
    return received, None


# -- raw ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "rate"), [(e, r) for e in ENCODINGS for r in (8000, 22050)])
def test_raw_body_is_the_sse_audio_chunk_for_chunk(
    fake: FakeCartesia, encoding: str, rate: int
) -> None:
    expected = sse_chunks(fake, body(raw(encoding, rate), context_id="c1"))
    head, chunks = http_chunks(fake, body(raw(encoding, rate), context_id="c1"))
    assert chunks == expected  # same bytes, one HTTP chunk per SSE chunk event
    assert len(chunks) == CHUNKS
    assert len(b"".join(chunks)) == round(SECONDS * rate) * BYTES_PER_SAMPLE[encoding]
    assert b"\r\nContent-Type: application/octet-stream\r\n" in head
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head
    assert bytes(fake.transmissions[-1].audio) == b"".join(chunks)


def test_transmission_records_every_body_byte() -> None:
    # An odd number of one-byte samples (0.66 s at 22050 Hz), so the data chunk needs a pad.
    with FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=0.66)) as fake:
        response = post(fake, body(wav("pcm_mulaw", 22050)))
    sent = fake.transmissions[-1]
    assert response.status_code == 200
    assert bytes(sent.audio) == response.content
    assert sent.length == len(response.content) == 58 + 14553 + 1  # header, samples, pad
    assert sent.finished
    assert not sent.client_gone
    assert sent.scenario == "ok"
    assert [n for n, _ in sent.flushes][-1] == len(response.content)
    assert len(sent.flushes) == 7  # 0.66 s in 0.1 s chunks


# -- wav ---------------------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize(
    ("encoding", "rate", "tag"),
    [
        ("pcm_s16le", 16000, 1),
        ("pcm_f32le", 44100, 3),
        ("pcm_mulaw", 22050, 7),
        ("pcm_alaw", 8000, 6),
    ],
)
def test_wav_is_read_by_ffprobe(
    fake: FakeCartesia, tmp_path: Path, encoding: str, rate: int, tag: int
) -> None:
    response = post(fake, body(wav(encoding, rate)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["transfer-encoding"] == "chunked"
    (tmp_path / "out.wav").write_bytes(response.content)
    codec, sample_rate, duration = ffprobe(tmp_path / "out.wav")
    samples = round(SECONDS * rate)
    assert (codec, sample_rate) == (encoding, rate)
    assert duration == pytest.approx(samples / rate, abs=2e-6)
    header = wav_header(encoding, rate, samples)
    assert struct.unpack_from("<H", response.content, 20) == (tag,)
    pcm = b"".join(sse_chunks(fake, body(raw(encoding, rate))))
    assert response.content == header + pcm + wav_padding(encoding, samples)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_wav_header_layout(encoding: str) -> None:
    header = wav_header(encoding, 22050, 14553)
    width = BYTES_PER_SAMPLE[encoding]
    riff, riff_size, wave, fmt, fmt_size = struct.unpack_from("<4sI4s4sI", header)
    assert (riff, wave, fmt) == (b"RIFF", b"WAVE", b"fmt ")
    tag, channels, rate, byte_rate, align, bits = struct.unpack_from("<HHIIHH", header, 20)
    assert (channels, rate, byte_rate, align, bits) == (1, 22050, 22050 * width, width, 8 * width)
    if encoding == "pcm_s16le":
        assert (tag, fmt_size, len(header)) == (1, 16, 44)
    else:
        assert fmt_size == 18
        assert struct.unpack_from("<H4sII", header, 36) == (0, b"fact", 4, 14553)
        assert len(header) == 58
    assert struct.unpack_from("<4sI", header, len(header) - 8) == (b"data", 14553 * width)
    padding = wav_padding(encoding, 14553)
    assert padding == (b"\0" if width == 1 else b"")
    assert riff_size == len(header) - 8 + 14553 * width + len(padding)


@given(st.sampled_from(ENCODINGS), st.sampled_from((8000, 44100, 48000)), st.integers(1, 10**7))
def test_wav_sizes_add_up(encoding: str, rate: int, samples: int) -> None:
    header = wav_header(encoding, rate, samples)
    data_size = samples * BYTES_PER_SAMPLE[encoding]
    (riff_size,) = struct.unpack_from("<I", header, 4)
    assert riff_size + 8 == len(header) + data_size + len(wav_padding(encoding, samples))
    assert (riff_size + 8) % 2 == 0


def test_wav_header_leads_the_first_chunk(fake: FakeCartesia) -> None:
    _, pcm = http_chunks(fake, body(raw("pcm_f32le", 24000)))
    head, chunks = http_chunks(fake, body(wav("pcm_f32le", 24000)))
    assert b"\r\nContent-Type: audio/wav\r\n" in head
    samples = spoken_samples("Hello world", 24000)
    assert chunks == [wav_header("pcm_f32le", 24000, samples) + pcm[0], *pcm[1:]]


# -- mp3 ---------------------------------------------------------------------------------


@needs_ffmpeg
@pytest.mark.parametrize(("rate", "bit_rate"), [(24000, 128000), (44100, 64000)])
def test_mp3_is_read_by_ffprobe(
    fake: FakeCartesia, tmp_path: Path, rate: int, bit_rate: int
) -> None:
    response = post(fake, body({**mp3(rate, bit_rate), "encoding": "ignored"}))
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    (tmp_path / "out.mp3").write_bytes(response.content)
    codec, sample_rate, duration = ffprobe(tmp_path / "out.mp3")
    assert (codec, sample_rate) == ("mp3", rate)
    assert SECONDS <= duration < SECONDS + 0.15  # plus the encoder's delay and padding
    sent = fake.transmissions[-1]
    assert bytes(sent.audio) == response.content
    assert len(sent.flushes) == CHUNKS


def test_mp3_needs_ffmpeg_on_path(
    fake: FakeCartesia, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no ffmpeg
    response = post(fake, body(mp3()))
    assert response.status_code == 501
    problem = response.json()
    assert problem["title"] == "Not implemented"
    assert "ffmpeg" in problem["message"]
    assert "PATH" in problem["message"]
    assert problem["request_id"]
    assert post(fake, body(wav())).status_code == 200  # only mp3 needs it


def test_split_evenly_keeps_every_byte() -> None:
    assert split_evenly(b"abcdefghij", 4) == [b"abc", b"def", b"gh", b"ij"]
    assert split_evenly(b"ab", 5) == [b"a", b"b"]
    assert split_evenly(b"abc", 1) == [b"abc"]


# -- scenarios ---------------------------------------------------------------------------


def test_cut_ends_mid_body_with_a_strict_prefix(fake: FakeCartesia) -> None:
    full = post(fake, body(wav())).content
    fake.queue(Scenario("cut", after_chunks=2))
    with HTTP.stream("POST", f"{fake.url}/tts/bytes", json=body(wav()), headers=HEADERS) as r:
        assert r.status_code == 200
        received, error = read_until_error(r)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert 0 < len(received) < len(full)
    assert full.startswith(received)
    sent = fake.transmissions[-1]
    assert bytes(sent.audio) == received
    assert len(sent.flushes) == 2
    assert not sent.finished


def test_reset_is_a_transport_error(fake: FakeCartesia) -> None:
    fake.queue(Scenario("reset", after_chunks=1))
    with HTTP.stream("POST", f"{fake.url}/tts/bytes", json=body(raw()), headers=HEADERS) as r:
        _, error = read_until_error(r)
    assert isinstance(error, httpx.TransportError)
    assert not fake.transmissions[-1].finished


def test_stall_sends_nothing_then_goes_on(fake: FakeCartesia) -> None:
    full = post(fake, body(raw())).content
    fake.queue(Scenario("stall", after_chunks=1, stall_seconds=0.4))
    arrivals: list[tuple[float, int]] = []
    with HTTP.stream("POST", f"{fake.url}/tts/bytes", json=body(raw()), headers=HEADERS) as r:
        for block in r.iter_raw():
            arrivals.append((time.monotonic(), len(block)))
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(arrivals)]
    assert max(gaps) >= 0.35
    before = arrivals[: gaps.index(max(gaps)) + 1]
    assert sum(n for _, n in before) == 1600  # the first 0.1 s chunk, then silence
    assert sum(n for _, n in arrivals) == len(full)
    assert fake.transmissions[-1].finished


def test_stall_ends_when_the_server_stops() -> None:
    fake = FakeCartesia(api_key=API_KEY).start()
    fake.queue(Scenario("stall", after_chunks=1, stall_seconds=30))
    with HTTP.stream("POST", f"{fake.url}/tts/bytes", json=body(raw()), headers=HEADERS) as r:
        blocks = r.iter_raw()
        first = next(blocks)
        started = time.monotonic()
        fake.stop()
        rest = b"".join(blocks)
    assert time.monotonic() - started < 2
    assert len(first + rest) == round(SECONDS * 8000) * 2


def test_drop_closes_without_a_response(fake: FakeCartesia) -> None:
    fake.queue("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        post(fake, body(raw()))


def test_http_error_scenarios(fake: FakeCartesia) -> None:
    fake.queue(Scenario.http_error(503, headers={"Retry-After": "2"}), "http-500-text")
    first, second = post(fake, body(wav())), post(fake, body(wav()))
    assert first.status_code == 503
    assert first.headers["retry-after"] == "2"
    assert first.json()["title"] == "Service unavailable"
    assert second.status_code == 500
    assert second.text == "Internal server error: Generation failed. Please retry."


def test_wrong_content_type(fake: FakeCartesia) -> None:
    fake.queue("wrong-content-type")
    response = post(fake, body(mp3() if shutil.which("ffmpeg") else wav()))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"note": "not audio"}


@pytest.mark.parametrize("name", ["error-mid-stream", "malformed-json", "truncated"])
def test_sse_only_faults_answer_as_ok(fake: FakeCartesia, name: str) -> None:
    assert name not in BYTES_FAULTS
    full = post(fake, body(wav())).content
    fake.queue(name)
    response = post(fake, body(wav()))
    assert response.content == full
    assert fake.transmissions[-1].scenario == name


def test_pace_spaces_the_chunks() -> None:
    with FakeCartesia(api_key=API_KEY, pace=1.0, plan=AudioPlan(audio_seconds=0.3)) as fake:
        assert post(fake, body(raw())).status_code == 200
        times = [at for _, at in fake.transmissions[-1].flushes]
    assert len(times) == 3
    assert all(later - earlier >= 0.09 for earlier, later in itertools.pairwise(times))


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output_format", "text"),
    [
        ({"container": "ogg", "encoding": "pcm_s16le", "sample_rate": 8000}, "container"),
        ({"encoding": "pcm_s16le", "sample_rate": 8000}, "container"),
        ({"container": "wav", "sample_rate": 8000}, "encoding"),
        (wav("pcm_u8"), "encoding"),
        (wav(rate=11025), "sample_rate"),
        (raw(rate=True), "sample_rate"),
        (mp3(bit_rate=100000), "bit_rate"),
        ({"container": "mp3", "sample_rate": 24000}, "bit_rate"),
        (mp3(rate=12000), "sample_rate"),
        ("wav", "output_format must be an object"),
    ],
)
def test_bad_output_formats_are_rejected(fake: FakeCartesia, output_format: Any, text: str) -> None:
    response = post(fake, body(output_format))
    assert response.status_code == 400
    problem = response.json()
    assert problem["title"] == "Invalid request"
    assert text in problem["message"]
    assert problem["request_id"]
    assert fake.transmissions == []


@pytest.mark.parametrize("container", ["wav", "mp3"])
def test_sse_still_wants_raw(fake: FakeCartesia, container: str) -> None:
    output_format = wav() if container == "wav" else mp3()
    response = post(fake, body(output_format), "sse")
    assert response.status_code == 400
    assert response.json()["message"] == "output_format.container must be 'raw' for SSE."


@pytest.mark.parametrize("endpoint", ["sse", "bytes"])
@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ({"generation_config": {"speed": 2.0}}, "speed"),
        ({"generation_config": {"speed": 0.59}}, "speed"),
        ({"generation_config": {"speed": True}}, "speed"),
        ({"generation_config": {"speed": "fast"}}, "speed"),
        ({"generation_config": {"volume": 0.1}}, "volume"),
        ({"generation_config": {"volume": 2.01}}, "volume"),
        ({"generation_config": {"emotion": 5}}, "emotion"),
        ({"generation_config": {"emotion": ""}}, "emotion"),
        ({"generation_config": "fast"}, "generation_config must be an object"),
        ({"generation_config": None}, "generation_config must be an object"),
        ({"language": ""}, "language"),
        ({"language": 5}, "language"),
        ({"language": "en", "locale": "en-US"}, "cannot be combined"),
        ({"pronunciation_dict_id": ""}, "pronunciation_dict_id"),
        ({"context_id": 7}, "context_id"),
    ],
)
def test_bad_generation_controls_are_rejected(
    fake: FakeCartesia, endpoint: str, extra: dict[str, object], text: str
) -> None:
    response = post(fake, body(raw(), **extra), endpoint)
    assert response.status_code == 400
    assert response.json()["title"] == "Invalid request"
    assert text in response.json()["message"]


@pytest.mark.parametrize("endpoint", ["sse", "bytes"])
@pytest.mark.parametrize(
    "extra",
    [
        {"generation_config": {"speed": 0.6, "volume": 2.0, "emotion": "happy", "future": 1}},
        {"generation_config": {"speed": 1.5, "volume": 0.5}},
        {"generation_config": {"speed": 1}},
        {"generation_config": {}},
        {"language": "fr", "context_id": ""},  # pronunciation_dict_id: test_mock_dicts.py
    ],
)
def test_good_generation_controls_are_accepted(
    fake: FakeCartesia, endpoint: str, extra: dict[str, object]
) -> None:
    response = post(fake, body(raw(), **extra), endpoint)
    assert response.status_code == 200
    assert fake.transmissions[-1].finished
    assert {k: fake.requests[-1].json()[k] for k in extra} == extra


def test_legacy_versions_get_plain_text_errors(fake: FakeCartesia) -> None:
    response = post(fake, body(mp3(bit_rate=1)), **{"Cartesia-Version": "2025-11-04"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text.startswith("Invalid request: output_format.bit_rate must be one of")


def test_unknown_model_is_an_http_error_not_an_event(fake: FakeCartesia) -> None:
    response = post(fake, body(raw(), model_id="sonic-9"))
    assert response.status_code == 400
    assert response.json()["error_code"] == "model_not_found"
