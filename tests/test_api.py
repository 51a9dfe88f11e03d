"""The API client against httpx.MockTransport: request shape, status mapping, stream rules."""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli import __version__
from cartesia_cli.api.client import CartesiaClient
from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.api.events import AudioChunk, Event, WordTimestamps
from cartesia_cli.api.protocol import BYTES_PATH, SSE_PATH, TtsRequest
from cartesia_cli.errors import AuthError, CliError, RequestRejected, ServerError, StreamError
from cartesia_cli.formats import Container, Encoding, RequestedFormat

CONFIG = ApiConfig(
    base_url="http://api.test",
    api_key="sk-secret-123",
    api_version="2026-08-14",
    connect_timeout=10.0,
    idle_timeout=30.0,
    retries=2,
)
REQUEST = TtsRequest(
    model_id="sonic-3.5",
    transcript="Hello",
    voice_id="voice-1",
    audio=RequestedFormat(Container.RAW, Encoding.PCM_S16LE, 16000),
)
SSE = {"content-type": "text/event-stream"}


def sse(*events: tuple[str, Mapping[str, object]]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode() for name, payload in events
    )


def split_every(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


CHUNK_A = ("chunk", {"type": "chunk", "data": "AAEC"})  # b"\x00\x01\x02"
CHUNK_B = ("chunk", {"type": "chunk", "data": "AwQF"})  # b"\x03\x04\x05"
DONE = ("done", {"type": "done", "done": True})
PAUSES: list[float] = []


def collect(
    handler: Callable[[httpx.Request], httpx.Response], debug: list[str] | None = None
) -> list[Event]:
    log = debug.append if debug is not None else None
    transport = httpx.MockTransport(handler)
    # Retry pauses are recorded, not slept: the policy is tested in test_retry.py.
    with CartesiaClient(CONFIG, transport=transport, debug=log, sleep=PAUSES.append) as client:
        return list(client.stream(SSE_PATH, REQUEST))


def test_request_carries_headers_and_compact_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers=SSE, content=sse(CHUNK_A, DONE))

    collect(handler)
    request = seen[0]
    assert request.method == "POST"
    assert str(request.url) == "http://api.test/tts/sse"
    assert request.headers["authorization"] == "Bearer sk-secret-123"
    assert request.headers["cartesia-version"] == "2026-08-14"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["user-agent"] == f"cartesia-cli/{__version__}"
    assert json.loads(request.content) == {
        "model_id": "sonic-3.5",
        "transcript": "Hello",
        "voice": "voice-1",
        "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
    }
    assert b" " not in request.content.replace(b'"Hello"', b"")


def test_events_survive_arbitrary_network_splits() -> None:
    body = sse(
        CHUNK_A,
        (
            "timestamps",
            {
                "type": "timestamps",
                "word_timestamps": {"words": ["Hello"], "start": [0], "end": [0.5]},
            },
        ),
        CHUNK_B,
        DONE,
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=split_every(body, 7))

    events = collect(handler)
    assert events == [
        AudioChunk(b"\x00\x01\x02"),
        WordTimestamps(("Hello",), (0.0,), (0.5,)),
        AudioChunk(b"\x03\x04\x05"),
    ]


@pytest.mark.parametrize(
    ("status", "error_type", "code"),
    [
        (401, AuthError, 3),
        (403, AuthError, 3),
        (400, RequestRejected, 4),
        (402, RequestRejected, 4),
        (404, RequestRejected, 4),
        (422, RequestRejected, 4),
        (429, RequestRejected, 4),
        (500, ServerError, 5),
        (503, ServerError, 5),
    ],
)
def test_http_errors_map_to_exit_codes_with_the_server_message(
    status: int, error_type: type[CliError], code: int
) -> None:
    body = {"error_code": None, "title": "Nope", "message": "Not today.", "request_id": "req-9"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body)

    with pytest.raises(error_type) as caught:
        collect(handler)
    assert caught.value.exit_code == code
    assert f"HTTP {status}" in caught.value.message
    assert "Nope: Not today. (request id req-9)" in caught.value.message


def test_plain_text_error_body_is_shown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="Unauthorized: Invalid API key\n")

    with pytest.raises(AuthError, match="Unauthorized: Invalid API key"):
        collect(handler)


def test_error_event_raises_server_error_with_title_and_message() -> None:
    error = {"type": "error", "title": "Internal", "message": "Boom.", "request_id": "r-2"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=sse(CHUNK_A, ("error", error)))

    with pytest.raises(ServerError, match=r"Internal: Boom\. \(request id r-2\)"):
        collect(handler)


def test_stream_ending_without_done_is_a_stream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=sse(CHUNK_A))

    with pytest.raises(StreamError, match="before the server sent `done`"):
        collect(handler)


def test_non_sse_content_type_is_a_stream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"type": "chunk"})

    with pytest.raises(StreamError, match="application/json"):
        collect(handler)


def test_connection_failure_is_a_stream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(StreamError, match=r"could not connect to http://api\.test"):
        collect(handler)


def test_data_less_events_are_ignored() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=b"event: ping\n\n" + sse(CHUNK_A, DONE))

    assert collect(handler) == [AudioChunk(b"\x00\x01\x02")]


def test_debug_log_redacts_the_key() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, content=sse(CHUNK_A, DONE))

    lines: list[str] = []
    collect(handler, debug=lines)
    text = "\n".join(lines)
    assert "request header: Authorization: Bearer [redacted]" in text
    assert "sk-secret-123" not in text
    assert "response: HTTP 200" in text


@pytest.mark.parametrize(
    ("failure", "attempts", "message"),
    [
        (httpx.ConnectError("refused"), 3, r"could not connect to .* \(after 3 attempts\)"),
        (
            httpx.ConnectTimeout("slow"),
            3,
            r"^timed out after 10 s connecting to http://api.test \(after 3 attempts\)$",
        ),
        (httpx.RemoteProtocolError("dropped"), 3, r"failed before the response: dropped \(after 3"),
        (httpx.ReadError("reset"), 3, r"failed before the response: reset"),
        (httpx.ReadTimeout("quiet"), 1, r"no event from the server for 30 s \(idle timeout\)"),
    ],
    ids=["refused", "connect-timeout", "dropped", "reset", "read-timeout"],
)
def test_which_send_failures_are_retried(
    failure: httpx.TransportError, attempts: int, message: str
) -> None:
    sent: list[httpx.Request] = []
    waits: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise failure

    transport = httpx.MockTransport(handler)
    with (
        CartesiaClient(CONFIG, transport=transport, sleep=waits.append) as client,
        pytest.raises(StreamError, match=message),
    ):
        list(client.stream(SSE_PATH, REQUEST))
    assert len(sent) == attempts
    assert len(waits) == attempts - 1


BYTES_REQUEST = REQUEST._replace(audio=RequestedFormat(Container.WAV, Encoding.PCM_S16LE, 16000))


def collect_bytes(handler: Callable[[httpx.Request], httpx.Response]) -> bytes:
    transport = httpx.MockTransport(handler)
    with CartesiaClient(CONFIG, transport=transport, sleep=PAUSES.append) as client:
        return b"".join(
            event.audio
            for event in client.stream(BYTES_PATH, BYTES_REQUEST)
            if isinstance(event, AudioChunk)
        )


def test_bytes_body_is_yielded_as_it_comes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"content-type": "audio/wav"}, content=b"RIFF1234")

    assert collect_bytes(handler) == b"RIFF1234"
    assert str(seen[0].url) == "http://api.test/tts/bytes"
    assert seen[0].headers["accept"] == "audio/wav"
    assert json.loads(seen[0].content)["output_format"]["container"] == "wav"


class Pieces(httpx.SyncByteStream):
    """A body that arrives in pieces, as from a socket (not read up front)."""

    def __init__(self, *pieces: bytes) -> None:
        self._pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces


def test_a_body_that_cannot_be_decoded_is_a_stream_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "audio/wav", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, stream=Pieces(b"not gzip", b" at all"))

    with pytest.raises(StreamError, match="failed mid-stream") as caught:
        collect_bytes(handler)
    assert caught.value.exit_code == 6


class SlowPieces(httpx.SyncByteStream):
    """A body whose pieces arrive `gap` seconds apart."""

    def __init__(self, gap: float, *pieces: bytes) -> None:
        self._gap, self._pieces = gap, pieces

    def __iter__(self) -> Iterator[bytes]:
        for piece in self._pieces:
            time.sleep(self._gap)
            yield piece


def test_events_that_carry_nothing_are_not_progress() -> None:
    config = CONFIG._replace(idle_timeout=0.25)
    ping = ("ping", {"type": "ping"})  # an unknown type: not audio, timestamps, done or error
    noise = b"event: ping\n\n" + b"retry: 10\n\n" + b"id: 7\n\n" + b"data:\n\n"
    pieces = [sse(CHUNK_A), *([sse(ping) + noise] * 6), sse(DONE)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=SlowPieces(0.1, *pieces))

    with (
        CartesiaClient(config, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(StreamError, match=r"no event from the server for 0\.25 s") as caught,
    ):
        list(client.stream(SSE_PATH, REQUEST))
    assert caught.value.kind == "idle_timeout"


def test_steady_audio_is_progress() -> None:
    config = CONFIG._replace(idle_timeout=0.25)
    pieces = [*(sse(CHUNK_A) for _ in range(6)), sse(DONE)]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=SlowPieces(0.1, *pieces))

    with CartesiaClient(config, transport=httpx.MockTransport(handler)) as client:
        events = list(client.stream(SSE_PATH, REQUEST))
    assert len(events) == 6


class Endless(httpx.SyncByteStream):
    """An error body that never ends; asking for a tenth 64 KB piece fails the test."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"title":"Boom","message":"'
        for _ in range(9):
            yield b"x" * 65536
        raise AssertionError("the client kept reading an error body past 64 KB")


def test_an_error_body_is_read_only_so_far() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, stream=Endless())

    config = CONFIG._replace(retries=0)
    with (
        CartesiaClient(config, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(ServerError) as caught,
    ):
        list(client.stream(SSE_PATH, REQUEST))
    assert caught.value.message.startswith("HTTP 500 Internal Server Error: {")
    assert len(caught.value.message) < 400


class _Pieces(httpx.SyncByteStream):
    """A body delivered in exactly these pieces, as a network could cut it."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(data) + 1) for cut in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=200), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0), max_size=30),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    bom=st.booleans(),
    named=st.booleans(),
)
def test_any_split_of_a_valid_stream_gives_the_same_audio(
    chunks: list[bytes], cuts: list[int], line_end: str, bom: bool, named: bool
) -> None:
    # In memory, not over a socket: the kernel would merge writes, and the point is
    # that every cut (inside the BOM, a CR LF, a field name, base64) reaches the parser.
    events = [("chunk", {"type": "chunk", "data": base64.b64encode(c).decode()}) for c in chunks]
    text = "".join(
        (f"event: {name}{line_end}" if named else "")
        + f"data: {json.dumps(payload)}{line_end}{line_end}"
        for name, payload in [*events, DONE]
    )
    body = ("\ufeff" if bom else "").encode() + text.encode()
    pieces = _split(body, cuts)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=SSE, stream=_Pieces(pieces))

    audio = b"".join(e.audio for e in collect(handler) if isinstance(e, AudioChunk))
    assert audio == b"".join(chunks)
