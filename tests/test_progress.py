"""What counts as progress for --idle-timeout: a server that keeps talking but says nothing.

Only audio, timestamps with a usable entry, `done` or an error restart the idle
clock, on every transport. A storm of messages that carry nothing (unknown types,
empty timestamps, `flush_done` answering no flush of ours, another context's audio)
must end the run with exit 6 after about the idle timeout, the audio that came kept.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.api.async_client import AsyncCartesiaClient
from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.api.events import (
    Done,
    PhonemeTimestamps,
    UnknownEvent,
    WordTimestamps,
    is_progress,
    parse_event,
)
from cartesia_cli.api.protocol import SSE_PATH, TtsRequest
from cartesia_cli.errors import IDLE_TIMEOUT, CliError
from cartesia_cli.formats import Container, Encoding, RequestedFormat
from cartesia_cli.settings import spec

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, run_in_process
from .test_async_client import heard_until_failure
from .test_hostile import RawServer
from .ws_servers import Server, accept, frame, read_message

IDLE = 0.5  # --idle-timeout in these tests
BOUND = 3.0  # seconds a storm may keep a run going: the idle timeout, with room for a slow CI
STORM_SECONDS = 6.0  # how long a storm lasts at most: past BOUND, so the old code fails
AUDIO = bytes(range(256)) * 8  # the one chunk before the storm: kept byte for byte


def _b64(audio: bytes) -> str:
    return base64.b64encode(audio).decode()


EMPTY_WORDS = {"type": "timestamps", "word_timestamps": {"words": [], "start": [], "end": []}}
NAN_WORDS = {
    "type": "timestamps",
    "word_timestamps": {"words": ["a"], "start": [math.nan], "end": [math.inf]},
}
STORMS: dict[str, Any] = {
    "unknown type": lambda i: {"type": "whatever"},
    "flush_done for no flush of ours": lambda i: {
        "type": "flush_done",
        "flush_done": True,
        "flush_id": i,
        "done": False,
    },
    "another context's audio": lambda i: {
        "type": "chunk",
        "data": _b64(b"\x01\x02"),
        "context_id": "someone-else",
    },
    "another context's done": lambda i: {"type": "done", "done": True, "context_id": "x"},
    "empty timestamps": lambda i: EMPTY_WORDS,
    "timestamps with no usable time": lambda i: NAN_WORDS,
    "empty chunk": lambda i: {"type": "chunk", "data": "", "done": False},
}


def _storm(send: Any, message: Any) -> None:
    """`message(i)` every millisecond until the client goes or STORM_SECONDS pass."""
    end = time.monotonic() + STORM_SECONDS
    index = 0
    while time.monotonic() < end:
        send(message(index))
        index += 1
        time.sleep(0.001)


# --- tts ws --------------------------------------------------------------------------------


@pytest.mark.parametrize("storm", list(STORMS))
def test_a_ws_storm_of_messages_that_carry_nothing_hits_the_idle_timeout(
    cli: RunCli, tmp_path: Path, storm: str
) -> None:
    def handle(server: Server, conn: socket.socket) -> None:
        accept(conn, server.read_request(conn))
        conn.sendall(frame({"type": "chunk", "data": _b64(AUDIO), "done": False}))
        _storm(lambda message: conn.sendall(frame(message)), STORMS[storm])

    with Server(handle) as server:
        started = time.monotonic()
        result = cli("tts", "ws", "Hello there. How are you?", "-o", "out.pcm",
                     "--retries", "0", "--idle-timeout", str(IDLE),
                     env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
        took = time.monotonic() - started
    assert result.code == 6, result.stderr
    assert "no audio from the server for 0.5 s (idle timeout)" in result.stderr, result.stderr
    assert took < BOUND
    assert (tmp_path / "out.pcm").read_bytes() == AUDIO


def test_flush_done_answering_our_flush_stops_the_clock_for_a_slow_writer(
    tmp_path: Path,
) -> None:
    """With --buffer-ms 0 each piece is flushed; once its flush is answered nothing is
    owed, so a writer slower than the idle timeout is no stall, even with junk arriving
    meanwhile; and after the next piece the clock starts afresh."""

    def handle(server: Server, conn: socket.socket) -> None:
        accept(conn, server.read_request(conn))
        while (message := read_message(conn)) is not None:
            context = message["context_id"]
            if message.get("transcript"):
                conn.sendall(frame({"type": "chunk", "data": _b64(AUDIO), "context_id": context}))
            if message.get("flush"):
                conn.sendall(frame({"type": "flush_done", "flush_done": True,
                                    "context_id": context}))  # fmt: skip
                for _ in range(50):  # junk while nothing is owed: harmless
                    conn.sendall(frame({"type": "whatever", "context_id": context}))
            if message.get("continue") is False:
                conn.sendall(frame({"type": "done", "done": True, "context_id": context}))
                return

    with Server(handle) as server:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=server.url)
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "ws", "-o", "out.pcm", "--buffer-ms", "0", "--retries",
             "0", "--idle-timeout", str(IDLE)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
        ) as proc:  # fmt: skip
            assert proc.stdin is not None and proc.stderr is not None
            proc.stdin.write(b"First. ")
            proc.stdin.flush()
            time.sleep(3 * IDLE)  # the writer is slow: this is what is tested, not a wait
            assert proc.poll() is None, proc.stderr.read()
            proc.stdin.write(b"Second.")
            proc.stdin.close()
            assert proc.wait(timeout=20) == 0, proc.stderr.read()
    assert (tmp_path / "out.pcm").read_bytes() == AUDIO * 2


# --- tts sse (and the batch's async client) -------------------------------------------------


def _sse(event: dict[str, Any]) -> bytes:
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


def _sse_storm(message: Any) -> RawServer:
    def script(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n")  # fmt: skip
        conn.sendall(_sse({"type": "chunk", "data": _b64(AUDIO), "done": False}))
        _storm(lambda event: conn.sendall(_sse(event)), message)

    return RawServer(script)


SSE_STORMS = ["unknown type", "empty timestamps", "timestamps with no usable time", "empty chunk"]


@pytest.mark.parametrize("storm", SSE_STORMS)
def test_an_sse_storm_of_events_that_carry_nothing_hits_the_idle_timeout(
    tmp_path: Path, storm: str
) -> None:
    server = _sse_storm(STORMS[storm])
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=server.url)
    started = time.monotonic()
    result = run_in_process(
        ("tts", "sse", "Hi", "-o", "out.pcm", "--timestamps", "out.srt", "--retries", "0",
         "--idle-timeout", str(IDLE)),
        env=env, cwd=tmp_path,
    )  # fmt: skip
    took = time.monotonic() - started
    server.close()
    assert result.code == 6, result.stderr
    assert "no event from the server for 0.5 s (idle timeout)" in result.stderr, result.stderr
    assert took < BOUND
    assert (tmp_path / "out.pcm").read_bytes() == AUDIO


@pytest.mark.parametrize("storm", SSE_STORMS)
def test_the_async_client_times_out_an_sse_storm_too(storm: str) -> None:
    server = _sse_storm(STORMS[storm])
    config = ApiConfig(server.url, API_KEY, spec.API_VERSION.default, 5.0, IDLE, 0)
    audio = RequestedFormat(Container.RAW, Encoding.PCM_F32LE, 44100)
    request = TtsRequest(spec.MODEL.default, "Hi", spec.VOICE.default, audio)

    async def heard() -> tuple[bytes, CliError | None]:
        async with AsyncCartesiaClient(config, concurrency=1) as client:
            return await heard_until_failure(client, SSE_PATH, request)

    started = time.monotonic()
    got, failure = asyncio.run(heard())
    took = time.monotonic() - started
    server.close()
    assert failure is not None and failure.kind == IDLE_TIMEOUT, failure
    assert took < BOUND
    assert got == AUDIO


# --- what progress is ----------------------------------------------------------------------

times = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.none(),
                  st.text(max_size=3))  # fmt: skip


@given(st.lists(st.tuples(st.text(max_size=5), times, times), max_size=5))
def test_timestamps_are_progress_exactly_when_an_entry_is_kept(
    entries: list[tuple[str, Any, Any]],
) -> None:
    words, starts, ends = ([e[i] for e in entries] for i in range(3))
    block = {"words": words, "start": starts, "end": ends}
    for kind, key, label in (("timestamps", "word_timestamps", "words"),
                             ("phoneme_timestamps", "phoneme_timestamps", "phonemes")):  # fmt: skip
        event = parse_event("", json.dumps({"type": kind, key: {**block, label: words}}))
        assert isinstance(event, WordTimestamps | PhonemeTimestamps)
        assert is_progress(event) == (len(event[0]) > 0)


@given(st.binary(max_size=64))
def test_audio_is_progress_when_there_is_some(audio: bytes) -> None:
    event = parse_event("", json.dumps({"type": "chunk", "data": _b64(audio)}))
    assert is_progress(event) == bool(audio)


def test_done_is_progress_and_an_unknown_type_is_not() -> None:
    assert is_progress(Done())
    assert not is_progress(UnknownEvent("whatever"))
