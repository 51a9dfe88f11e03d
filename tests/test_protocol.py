"""The I/O-free protocol: request bodies, error bodies, error mapping, content types, WAV heads."""

from __future__ import annotations

import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api import protocol
from cartesia_cli.api.protocol import BYTES_PATH, SSE_PATH, TtsRequest
from cartesia_cli.errors import AUTH_REJECTED, ExitCode
from cartesia_cli.formats import Container, Encoding, RequestedFormat, wav_data_offset

RAW = RequestedFormat(Container.RAW, Encoding.PCM_F32LE, 44100)
MP3 = RequestedFormat(Container.MP3, None, 24000, 64000)


def request(audio: RequestedFormat = RAW, **fields: object) -> TtsRequest:
    places = {tuple(name.split("__")): value for name, value in fields.items()}
    return TtsRequest(model_id="m", transcript="Hi", voice_id="v", audio=audio, fields=places)


def test_required_fields_come_first_and_unset_ones_not_at_all() -> None:
    assert request().encoded_body() == (
        b'{"model_id":"m","transcript":"Hi","voice":"v",'
        b'"output_format":{"container":"raw","encoding":"pcm_f32le","sample_rate":44100}}'
    )


def test_the_voice_takes_the_shape_of_the_version_sent() -> None:
    latest = TtsRequest(model_id="m", transcript="Hi", voice_id="v", audio=RAW)
    assert latest.body()["voice"] == "v"
    for version in ("2025-11-04", "2026-03-01", "2026-08-13"):
        assert latest._replace(api_version=version).body()["voice"] == {"mode": "id", "id": "v"}
    assert latest._replace(api_version="2027-01-01").body()["voice"] == "v"


def test_fields_are_placed_by_path_and_share_their_parent() -> None:
    body = request(
        language="de", generation_config__speed=1.2, generation_config__emotion="calm"
    ).body()
    assert body["language"] == "de"
    assert body["generation_config"] == {"speed": 1.2, "emotion": "calm"}


def test_mp3_takes_a_bit_rate_and_no_encoding() -> None:
    assert request(MP3).body()["output_format"] == {
        "container": "mp3",
        "sample_rate": 24000,
        "bit_rate": 64000,
    }
    assert protocol.accept_for(BYTES_PATH, MP3) == "audio/mpeg"
    assert protocol.accept_for(SSE_PATH, RAW) == "text/event-stream"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"title":"Bad","message":"No.","request_id":"r1"}', "Bad: No. (request id r1)"),
        (b'{"message":"Only a message"}', "Only a message"),
        (b"Unauthorized: Invalid API key.\nmore", "Unauthorized: Invalid API key."),
        (b"[1, 2]", "[1, 2]"),
        (b"", ""),
    ],
)
def test_error_detail(body: bytes, detail: str) -> None:
    assert protocol.error_detail(body) == detail


@given(st.binary(max_size=2000))
def test_any_error_body_gives_one_short_line(body: bytes) -> None:
    detail = protocol.error_detail(body)
    assert "\n" not in detail.strip("\n")
    assert len(detail) <= 700


@pytest.mark.parametrize(
    ("status", "code"),
    [(401, ExitCode.AUTH), (403, ExitCode.AUTH), (400, ExitCode.REJECTED), (429, 4), (503, 5)],
)
def test_status_maps_to_exit_code(status: int, code: int) -> None:
    failure = protocol.status_failure(status, "Reason", b"detail", attempts=3)
    assert failure.exit_code == code
    assert failure.message == f"HTTP {status} Reason: detail (after 3 attempts)"
    assert (failure.kind == AUTH_REJECTED) == (status in (401, 403))
    assert (failure.status, failure.title, failure.request_id) == (status, None, None)


def test_a_json_error_body_gives_its_title_and_request_id() -> None:
    body = b'{"title": "Unauthorized", "message": "Invalid API key.", "request_id": "r-9"}'
    failure = protocol.status_failure(401, "Unauthorized", body, attempts=1)
    assert (failure.status, failure.title, failure.request_id) == (401, "Unauthorized", "r-9")
    assert failure.message == ("HTTP 401 Unauthorized: Invalid API key. (request id r-9)")


def test_a_title_that_is_not_the_reason_phrase_is_kept() -> None:
    body = b'{"title": "Voice not found", "message": "No voice with id \'x\'."}'
    failure = protocol.status_failure(404, "Not Found", body, attempts=1)
    assert failure.message == "HTTP 404 Not Found: Voice not found: No voice with id 'x'."


@pytest.mark.parametrize(
    ("path", "content_type", "refused"),
    [
        (SSE_PATH, "text/event-stream; charset=utf-8", False),
        (SSE_PATH, "application/json", True),
        (BYTES_PATH, "audio/wav", False),
        (BYTES_PATH, "application/octet-stream", False),
        (BYTES_PATH, "", False),
        (BYTES_PATH, "application/json; charset=utf-8", True),
        (BYTES_PATH, "text/event-stream", True),
        (BYTES_PATH, "text/html", True),
    ],
)
def test_content_types(path: str, content_type: str, refused: bool) -> None:
    assert (protocol.unexpected_content_type(path, content_type) is not None) == refused


def wav_head(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(name + struct.pack("<I", len(data)) + data + b"\0" * (len(data) & 1)
                    for name, data in chunks)  # fmt: skip
    return b"RIFF" + struct.pack("<I", 4 + len(body) + 8) + b"WAVE" + body + b"data\0\0\0\0"


@given(st.lists(st.tuples(st.sampled_from([b"fmt ", b"fact", b"LIST"]), st.binary(max_size=40))))
def test_the_data_offset_skips_every_chunk_before_it(chunks: list[tuple[bytes, bytes]]) -> None:
    head = wav_head(chunks)
    assert wav_data_offset(head) == len(head)


@given(st.binary(max_size=600))
def test_any_bytes_give_an_offset_inside_them_or_none(data: bytes) -> None:
    offset = wav_data_offset(data)
    assert offset is None or 12 < offset <= len(data)


def test_seconds_per_container() -> None:
    assert RAW.seconds(44100 * 4) == 1.0
    assert RequestedFormat(Container.WAV, Encoding.PCM_S16LE, 8000).seconds(16044, 44) == 1.0
    assert MP3.seconds(8000) == 1.0
    assert json.dumps(RAW.describe()) == '"pcm_f32le 44100 Hz"'


@pytest.mark.parametrize(
    ("content_type", "refused"),
    [
        ("TEXT/Event-Stream", False),
        ("text/event-stream;charset=UTF-8", False),
        ("application/json; x=text/event-stream", True),
        ("text/event-stream-not", True),
        ("text/event-stream; charset=utf-16", True),
    ],
)
def test_the_event_stream_media_type_is_exact(content_type: str, refused: bool) -> None:
    assert (protocol.unexpected_content_type(SSE_PATH, content_type) is not None) == refused
