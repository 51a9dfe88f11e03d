"""Stream framing and deadlines against raw sockets: a BOM, trickled responses, endless events.

Each server here misbehaves in one way the real API never does; the CLI must
still keep every byte that arrived, end within its timeouts, and say why.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from pathlib import Path

import pytest

from cartesia_cli.api.sse_body import EVENT_LIMIT

from .conftest import API_KEY, clean_env, run_in_process
from .test_hostile import RawServer, response

AUDIO = [bytes(range(256)) * 4, b"\x01\x02" * 300, b"tail"]


def sse_body(chunks: list[bytes]) -> bytes:
    # `data:` lines alone, no `event:` line: then a BOM glued to the first field name
    # would cost the first chunk (the type is in the JSON, so both forms are valid).
    events = [
        "data: "
        + json.dumps({"type": "chunk", "data": base64.b64encode(c).decode(), "done": False})
        + "\n\n"
        for c in chunks
    ]
    events.append('event: done\ndata: {"type":"done","done":true}\n\n')
    return "".join(events).encode()


def sse_response(body: bytes) -> bytes:
    return response("200 OK", body, "Content-Type: text/event-stream")


def run(url: str, tmp_path: Path, *args: str) -> tuple[int, str, float]:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=url)
    started = time.monotonic()
    result = run_in_process(("tts", "sse", "Hello", "-o", "out.pcm", *args), env=env, cwd=tmp_path)
    return result.code, result.stderr, time.monotonic() - started


@pytest.fixture
def server() -> RawServer:
    return RawServer(b"")


def test_a_byte_order_mark_before_the_first_event_is_dropped_not_the_chunk(
    server: RawServer, tmp_path: Path
) -> None:
    server.response = sse_response("\ufeff".encode() + sse_body(AUDIO))
    code, stderr, _ = run(server.url, tmp_path)
    assert code == 0, stderr
    assert (tmp_path / "out.pcm").read_bytes() == b"".join(AUDIO)


def test_a_byte_order_mark_split_across_writes_is_dropped_too(tmp_path: Path) -> None:
    whole = sse_response("\ufeff".encode() + sse_body(AUDIO))
    bom_at = whole.index(b"\xef")

    def script(connection: socket.socket) -> None:
        connection.sendall(whole[: bom_at + 1])  # the headers and the BOM's first byte
        time.sleep(0.05)
        connection.sendall(whole[bom_at + 1 : bom_at + 2])
        time.sleep(0.05)
        connection.sendall(whole[bom_at + 2 :])

    server = RawServer(script)
    code, stderr, _ = run(server.url, tmp_path)
    assert code == 0, stderr
    assert (tmp_path / "out.pcm").read_bytes() == b"".join(AUDIO)


def trickle(data: bytes, every: float) -> RawServer:
    def script(connection: socket.socket) -> None:
        for index in range(len(data)):
            connection.sendall(data[index : index + 1])
            time.sleep(every)

    return RawServer(script)


def test_a_status_line_trickled_a_byte_at_a_time_ends_at_the_idle_deadline(
    tmp_path: Path,
) -> None:
    server = trickle(sse_response(sse_body(AUDIO)), every=0.1)  # whole: ~250 s
    code, stderr, elapsed = run(server.url, tmp_path, "--idle-timeout", "1", "--retries", "2")
    assert code == 6, stderr
    assert "did not arrive within 1 s (idle timeout)" in stderr
    assert "--idle-timeout" in stderr  # the hint
    assert elapsed < 10  # bounded by the deadline, not by the ~250 s the server would take
    assert len(server.requests) == 1  # a server that slow is not asked again
    assert not (tmp_path / "out.pcm").exists()


def test_an_error_body_trickled_a_byte_at_a_time_ends_at_the_deadline_with_the_status(
    tmp_path: Path,
) -> None:
    head = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 400\r\n\r\n"

    def script(connection: socket.socket) -> None:
        connection.sendall(head)
        for _ in range(400):
            connection.sendall(b"x")
            time.sleep(0.1)

    server = RawServer(script)
    code, stderr, elapsed = run(server.url, tmp_path, "--idle-timeout", "1", "--retries", "2")
    assert code == 5, stderr
    assert "503" in stderr
    assert elapsed < 10
    assert len(server.requests) == 1  # an error body cut short: not retried


def test_a_503_whose_body_is_cut_is_reported_and_not_retried(tmp_path: Path) -> None:
    head = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 400\r\n\r\n"
    server = RawServer(head + b'{"message": "over')  # then the connection closes
    code, stderr, _ = run(server.url, tmp_path, "--retries", "3")
    assert code == 5, stderr
    assert "503" in stderr and "internal error" not in stderr
    assert len(server.requests) == 1


def test_a_503_with_a_whole_body_is_still_retried(tmp_path: Path) -> None:
    body = b'{"message": "busy"}'
    busy = response("503 Service Unavailable", body, "Retry-After: 0")
    server = RawServer(busy)
    code, _, _ = run(server.url, tmp_path, "--retries", "2")
    assert code == 5
    assert len(server.requests) == 3


def test_an_event_that_never_ends_is_cut_at_the_limit_with_the_audio_kept(
    tmp_path: Path,
) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
    first = sse_body(AUDIO[:1]).rsplit(b"event: done", 1)[0]

    def script(connection: socket.socket) -> None:
        connection.sendall(head + first + b"data: ")
        piece = b"A" * 65536
        for _ in range(EVENT_LIMIT // len(piece) + 64):
            connection.sendall(piece)

    server = RawServer(script)
    code, stderr, _ = run(server.url, tmp_path)
    assert code == 6, stderr
    assert "grew past 16 MB" in stderr
    assert (tmp_path / "out.pcm").read_bytes() == AUDIO[0]
    assert f"partial audio kept: out.pcm ({len(AUDIO[0])} bytes" in stderr
