"""The mock's `/tts/websocket` over a real socket, with the `websockets` client.

Audio is compared byte for byte with `/tts/sse` for the same text: a piece
spoken on its own over the WebSocket is the SSE stream's audio for that piece.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from cartesia_cli.mock import WEBSOCKET_FAULTS, AudioPlan, FakeCartesia

from .conftest import API_KEY, VOICE

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
VERSION = "2026-03-01"


def piece(transcript: str, *, more: bool = True, context_id: str = "c1", **extra: Any) -> str:
    body = {
        "context_id": context_id,
        "model_id": "sonic-3",
        "voice": {"mode": "id", "id": VOICE},
        "output_format": FORMAT,
        "max_buffer_delay_ms": 0,
        "transcript": transcript,
        "continue": more,
        **extra,
    }
    return json.dumps({k: v for k, v in body.items() if v is not None})


def ws_url(fake: FakeCartesia, prefix: str = "") -> str:
    return fake.url.replace("http://", "ws://") + prefix + "/tts/websocket"


@contextmanager
def open_ws(
    fake: FakeCartesia, *, prefix: str = "", query: str = "", **headers: str
) -> Iterator[ClientConnection]:
    given = {name.replace("_", "-"): value for name, value in headers.items()}
    sent = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION, **given}
    sent = {name: value for name, value in sent.items() if value}
    url = ws_url(fake, prefix) + query
    with connect(url, additional_headers=sent, open_timeout=5, close_timeout=2) as ws:
        yield ws


def events(
    ws: ClientConnection, *, until: str = "done", timeout: float = 5
) -> list[dict[str, Any]]:
    """Every event up to and including the first of type `until` (or an error)."""
    got: list[dict[str, Any]] = []
    while True:
        got.append(json.loads(ws.recv(timeout=timeout)))
        if got[-1]["type"] in (until, "error"):
            return got


def audio_of(got: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(e["data"]) for e in got if e["type"] == "chunk")


def sse_audio(fake: FakeCartesia, transcript: str) -> bytes:
    body = {
        "model_id": "sonic-3",
        "transcript": transcript,
        "voice": {"mode": "id", "id": VOICE},
        "output_format": FORMAT,
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION}
    with httpx.stream("POST", fake.url + "/tts/sse", json=body, headers=headers) as response:
        text = response.read().decode()
    datas = [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]
    return b"".join(base64.b64decode(d["data"]) for d in datas if d["type"] == "chunk")


# --- the conversation ------------------------------------------------------------------


def test_pieces_with_no_buffering_are_spoken_one_by_one(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello, world."))
        ws.send(piece(" How are you?"))
        ws.send(piece("", more=False))
        got = events(ws)
    (carried,) = fake.transmissions
    assert audio_of(got) == sse_audio(fake, "Hello, world.") + sse_audio(fake, " How are you?")
    assert got[-1] == {"type": "done", "context_id": "c1", "done": True, "status_code": 200}
    assert all(e["context_id"] == "c1" for e in got)
    assert bytes(carried.audio) == audio_of(got)
    assert [json.loads(m)["transcript"] for m in carried.messages] == [
        "Hello, world.",
        " How are you?",
        "",
    ]


def test_buffered_pieces_are_spoken_as_one_utterance(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello, ", max_buffer_delay_ms=5000))
        ws.send(piece("world.", max_buffer_delay_ms=5000, more=False))
        got = events(ws)
    assert audio_of(got) == sse_audio(fake, "Hello, world.")


def test_text_waits_in_the_buffer_until_its_delay_has_passed(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        sent = time.monotonic()
        ws.send(piece("Hello.", max_buffer_delay_ms=300))
        first = json.loads(ws.recv(timeout=5))
        waited = time.monotonic() - sent
    assert first["type"] == "chunk"
    assert waited >= 0.3


def test_without_a_buffer_delay_the_server_waits_three_seconds(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello.", max_buffer_delay_ms=None))
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.0)  # the default is 3000 ms: nothing yet
        ws.send(piece("", more=False, max_buffer_delay_ms=None))  # the last piece: spoken now
        assert audio_of(events(ws)) == sse_audio(fake, "Hello.")


def test_a_flush_is_answered_once_its_text_is_spoken(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("One.", max_buffer_delay_ms=5000))
        ws.send(piece("", flush=True, max_buffer_delay_ms=5000))
        first = events(ws, until="flush_done")
        ws.send(piece("Two.", max_buffer_delay_ms=5000, more=False))
        rest = events(ws)
    assert first[-1] == {
        "type": "flush_done",
        "context_id": "c1",
        "done": False,
        "flush_done": True,
        "flush_id": 1,
        "status_code": 206,
        "data": "",
    }
    assert {e["flush_id"] for e in first[:-1]} == {1}
    assert {e["flush_id"] for e in rest[:-1]} == {2}
    assert audio_of(first) == sse_audio(fake, "One.")
    assert audio_of(rest) == sse_audio(fake, "Two.")


def test_timestamps_are_absolute_within_the_context(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("One two.", add_timestamps=True))
        ws.send(piece(" Three.", add_timestamps=True, more=False))
        got = events(ws)
    stamps = [e["word_timestamps"] for e in got if e["type"] == "timestamps"]
    words = [w for s in stamps for w in s["words"]]
    starts = [t for s in stamps for t in s["start"]]
    assert words == ["One", "two.", "Three."]
    assert starts == sorted(starts)
    first_piece_seconds = len(sse_audio(fake, "One two.")) / 2 / 16000
    assert starts[2] > first_piece_seconds  # after the first piece's audio, not from 0


def test_contexts_on_one_connection_are_kept_apart(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("First.", context_id="a", more=False))
        ws.send(piece("Second.", context_id="b", more=False))
        got = events(ws) + events(ws)
    by_context = {c: [e for e in got if e["context_id"] == c] for c in ("a", "b")}
    assert audio_of(by_context["a"]) == sse_audio(fake, "First.")
    assert audio_of(by_context["b"]) == sse_audio(fake, "Second.")
    assert [e["type"] for e in got].count("done") == 2


def test_cancel_drops_what_has_not_begun(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Never spoken.", max_buffer_delay_ms=5000))
        ws.send(json.dumps({"context_id": "c1", "cancel": True}))
        ws.send(piece("Other.", context_id="c2", more=False))
        got = events(ws)
    assert {e["context_id"] for e in got} == {"c2"}


def test_a_fragmented_message_is_one_message(fake: FakeCartesia) -> None:
    text = piece("Hello.", more=False)
    with open_ws(fake) as ws:
        ws.send(iter([text[:10], text[10:40], text[40:]]))
        assert audio_of(events(ws)) == sse_audio(fake, "Hello.")


# --- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ("not json", "The message is not valid JSON."),
        ("[1]", "The message must be a JSON object."),
        ('{"flush": true}', "context_id is required and must be a non-empty string."),
    ],
)
def test_a_message_without_a_context_gets_an_error_without_one(
    fake: FakeCartesia, message: str, why: str
) -> None:
    with open_ws(fake) as ws:
        ws.send(message)
        got = json.loads(ws.recv(timeout=5))
    assert "context_id" not in got
    assert got["type"] == "error" and got["done"] is True and got["status_code"] == 400
    assert got["message"] == why and got["title"] == "Invalid request"
    assert got["request_id"]


def test_binary_and_invalid_utf8_are_refused(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(b"\x00\x01")
        assert "binary" in json.loads(ws.recv(timeout=5))["message"]


@pytest.mark.parametrize(
    ("extra", "status", "why"),
    [
        ({"voice": "not-a-uuid"}, 404, "No voice with id 'not-a-uuid'."),
        ({"max_buffer_delay_ms": 6000}, 400, "max_buffer_delay_ms must be a whole number"),
        ({"continue": "yes"}, 400, "continue must be true or false."),
        ({"output_format": dict(FORMAT, container="wav")}, 400, "'raw' for WebSocket"),
        ({"model_id": "sonic-9"}, 400, "The model is not valid"),
        ({"transcript": 5}, 400, "transcript must be a string."),
    ],
)
def test_a_bad_piece_gets_an_error_on_its_context(
    fake: FakeCartesia, extra: dict[str, Any], status: int, why: str
) -> None:
    body = json.loads(piece("Hello."))
    body.update(extra)
    with open_ws(fake) as ws:
        ws.send(json.dumps(body))
        got = json.loads(ws.recv(timeout=5))
    assert got["type"] == "error" and got["context_id"] == "c1"
    assert got["status_code"] == status and why in got["message"]


def test_settings_may_not_change_within_a_context(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello.", max_buffer_delay_ms=5000))
        ws.send(piece("More.", model_id="sonic-3.5", max_buffer_delay_ms=5000))
        got = json.loads(ws.recv(timeout=5))
        ws.send(piece("After.", more=False, max_buffer_delay_ms=5000))
        late = json.loads(ws.recv(timeout=5))
    assert got["type"] == "error" and "may change within a context" in got["message"]
    assert late["type"] == "error" and late["title"] == "Context closed"


def test_error_events_take_the_shape_of_the_clients_version(fake: FakeCartesia) -> None:
    with open_ws(fake, Cartesia_Version="2025-11-04") as ws:
        ws.send(piece("Hello.", voice="bad"))
        got = json.loads(ws.recv(timeout=5))
    assert got == {
        "type": "error",
        "done": True,
        "status_code": 404,
        "error": "Voice not found: No voice with id 'bad'.",
        "context_id": "c1",
    }


# --- the upgrade -----------------------------------------------------------------------


def test_the_key_and_version_may_come_as_query_parameters(fake: FakeCartesia) -> None:
    query = f"?api_key={API_KEY}&cartesia_version={VERSION}"
    with open_ws(fake, query=query, Authorization="", Cartesia_Version="") as ws:
        ws.send(piece("Hi.", more=False))
        assert events(ws)[-1]["type"] == "done"


@pytest.mark.parametrize(
    ("headers", "query", "status", "why"),
    [
        ({"Authorization": "Bearer wrong"}, "", 401, b"Invalid API key."),
        ({"Authorization": ""}, "", 401, b"Invalid API key."),
        ({}, "?api_key=wrong", 401, b"Invalid API key."),  # the query wins over a good header
        ({"Cartesia_Version": ""}, "", 400, b"The Cartesia-Version header is required."),
    ],
)
def test_a_refused_upgrade_is_an_http_error(
    fake: FakeCartesia, headers: dict[str, str], query: str, status: int, why: bytes
) -> None:
    with pytest.raises(InvalidStatus) as caught, open_ws(fake, query=query, **headers):
        pass
    assert caught.value.response.status_code == status
    assert why in (caught.value.response.body or b"")


def test_a_plain_get_is_told_to_upgrade(fake: FakeCartesia) -> None:
    response = httpx.get(
        ws_url(fake).replace("ws://", "http://"),
        headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION},
    )
    assert response.status_code == 426


def test_stopping_the_server_closes_the_socket_with_going_away(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello.", max_buffer_delay_ms=5000))
        fake.stop()
        with pytest.raises(ConnectionClosed) as caught:
            ws.recv(timeout=5)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1001


# --- scenarios -------------------------------------------------------------------------


def run_scenario(fake: FakeCartesia, name: str) -> tuple[list[dict[str, Any]], Exception | None]:
    """Three sentences on one context under scenario `name`: the events, and how it ended."""
    got: list[dict[str, Any]] = []
    try:
        with open_ws(fake, prefix=f"/scenario/{name}") as ws:
            ws.send(piece("One two three four five six.", more=False))
            while True:
                raw = str(ws.recv(timeout=2))
                whole = raw.startswith('{"type"') and raw.endswith("}")
                got.append(json.loads(raw) if whole else {"raw": raw})
                if got[-1].get("type") in ("done", "error"):
                    return got, None
    except (ConnectionClosed, InvalidHandshake, TimeoutError, OSError) as exc:
        return got, exc


def test_every_websocket_fault_is_listed_with_what_it_does() -> None:
    assert set(WEBSOCKET_FAULTS) >= {"close-1011", "error-no-context", "cut", "stall", "drop"}


def test_error_mid_stream_comes_after_the_first_chunk(fake: FakeCartesia) -> None:
    got, ended = run_scenario(fake, "error-mid-stream")
    assert ended is None
    assert [e["type"] for e in got] == ["chunk", "error"]
    assert got[-1]["context_id"] == "c1" and got[-1]["status_code"] == 500


def test_error_before_audio(fake: FakeCartesia) -> None:
    got, _ = run_scenario(fake, "error-before-audio")
    assert [e["type"] for e in got] == ["error"]


def test_done_without_audio(fake: FakeCartesia) -> None:
    got, _ = run_scenario(fake, "done-without-audio")
    assert [e["type"] for e in got] == ["done"]


def test_an_error_without_context(fake: FakeCartesia) -> None:
    got, _ = run_scenario(fake, "error-no-context")
    assert [e["type"] for e in got] == ["chunk", "error"]
    assert "context_id" not in got[-1]


@pytest.mark.parametrize(("name", "code"), [("close-1011", 1011), ("truncated", 1000)])
def test_a_close_frame_in_mid_context(fake: FakeCartesia, name: str, code: int) -> None:
    got, ended = run_scenario(fake, name)
    assert [e["type"] for e in got] == ["chunk"]
    assert isinstance(ended, ConnectionClosed)
    assert ended.rcvd is not None and ended.rcvd.code == code


@pytest.mark.parametrize("name", ["cut", "reset"])
def test_a_connection_dropped_without_a_close_frame(fake: FakeCartesia, name: str) -> None:
    got, ended = run_scenario(fake, name)
    assert [e["type"] for e in got] == ["chunk"]
    assert isinstance(ended, ConnectionClosed) and ended.rcvd is None


def test_malformed_json_and_bad_base64(fake: FakeCartesia) -> None:
    got, _ = run_scenario(fake, "malformed-json")
    assert got[0]["type"] == "chunk" and "raw" in got[1]
    got, _ = run_scenario(fake, "bad-base64")
    assert got[1]["data"] == "@@not base64@@"


def test_stall_sends_nothing_for_a_while(fake: FakeCartesia) -> None:
    got, ended = run_scenario(fake, "stall")
    assert [e["type"] for e in got] == ["chunk"]
    assert isinstance(ended, TimeoutError)


@pytest.mark.parametrize(("name", "status"), [("http-429", 429), ("http-503", 503)])
def test_a_scenario_refuses_the_upgrade(fake: FakeCartesia, name: str, status: int) -> None:
    _, ended = run_scenario(fake, name)
    assert isinstance(ended, InvalidStatus) and ended.response.status_code == status


def test_wrong_content_type_and_drop(fake: FakeCartesia) -> None:
    _, ended = run_scenario(fake, "wrong-content-type")
    assert isinstance(ended, InvalidStatus) and ended.response.status_code == 200
    _, ended = run_scenario(fake, "drop")
    assert ended is not None and not isinstance(ended, InvalidStatus)


def test_a_sequence_counts_connections(fake: FakeCartesia) -> None:
    outcomes = [run_scenario(fake, "http-429,ok")[1] for _ in range(3)]
    assert isinstance(outcomes[0], InvalidStatus)
    assert outcomes[1:] == [None, None]


def test_scenario_by_header(fake: FakeCartesia) -> None:
    with open_ws(fake, Cartesia_Mock_Scenario="error-before-audio") as ws:
        ws.send(piece("Hello.", more=False))
        assert json.loads(ws.recv(timeout=5))["type"] == "error"


def test_websocket_only_faults_answer_sse_as_ok(fake: FakeCartesia) -> None:
    full = sse_audio(fake, "Hello.")
    fake.queue("close-1011")
    assert sse_audio(fake, "Hello.") == full


# --- found by an adversarial review ------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Cookie": "a=" + "b" * 9000}, 431),  # a header line longer than websockets takes
        ({"X-Odd": "a\x7fb"}, 400),  # a control character http.server let through
    ],
)
def test_an_upgrade_websockets_refuses_gets_an_http_answer(
    fake: FakeCartesia, headers: dict[str, str], status: int
) -> None:
    lines = [
        "GET /tts/websocket HTTP/1.1",
        f"Host: {fake.url[7:]}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        f"Authorization: Bearer {API_KEY}",
        f"Cartesia-Version: {VERSION}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    host, port = fake.url[7:].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(("\r\n".join([*lines, "", ""])).encode("latin-1"))
        answer = sock.recv(4096)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())


def test_a_second_last_piece_takes_nothing_back(fake: FakeCartesia) -> None:
    """push(text, continue_=False) then no_more_inputs(): the text is still spoken."""
    with open_ws(fake) as ws:
        ws.send(piece("Hello there.", more=False))
        ws.send(piece("", more=False))
        got = events(ws)
    assert audio_of(got) == sse_audio(fake, "Hello there.")
    assert [e["type"] for e in got][-1] == "done"


def test_more_text_after_the_end_is_refused_without_taking_the_audio(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello there.", more=False))
        ws.send(piece("Too late."))
        got = [json.loads(ws.recv(timeout=5))]
        # The error may come before or after `done`: read until both are in.
        while not ({"done", "error"} <= {e["type"] for e in got}):
            got.append(json.loads(ws.recv(timeout=5)))
    errors = [e for e in got if e["type"] == "error"]
    assert [e["title"] for e in errors] == ["Context closed"]
    assert audio_of(got) == sse_audio(fake, "Hello there.")


def test_a_client_that_never_reads_cannot_hold_the_server(tmp_path: Path) -> None:
    """Audio queued for a reader that is not reading: stop() still ends the handler."""
    with (
        FakeCartesia(api_key=API_KEY, plan=AudioPlan(audio_seconds=600)) as slow,
        connect(
            ws_url(slow),
            additional_headers={"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION},
            max_queue=1,  # the client's own buffer: tiny, so TCP fills at once
        ) as ws,
    ):
        ws.send(piece("Ten minutes of audio.", more=False))
        time.sleep(0.5)
        slow.stop()
        deadline = time.monotonic() + 5
        while slow.websockets_served() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.websockets_served() == 0  # the handler ended, not stuck in a write
        ws.close_socket()  # websockets' own close would wait on the unread queue


def test_a_client_that_sends_much_before_reading_is_not_deadlocked(fake: FakeCartesia) -> None:
    """More text in and more audio out than loopback buffers hold, before any read.

    A server that stops reading while a write of its own is stuck would leave both
    sides waiting for ever (the pushes stop part-way).
    """
    with open_ws(fake) as ws:

        def push() -> None:
            for _ in range(1800):  # ~14 MB of text and ~17 MB of audio, none of it read yet
                ws.send(piece("x" * 8000))  # one long "word": one syllable of audio
            ws.send(piece("", more=False))

        pusher = threading.Thread(target=push, daemon=True)
        pusher.start()
        pusher.join(timeout=60)
        stuck = pusher.is_alive()
        if stuck:
            ws.close_socket()
        assert not stuck, "the pushes stopped: client and server wait on each other"
        got = events(ws, timeout=30)
    assert got[-1]["type"] == "done"


def test_a_lone_surrogate_is_spoken_not_a_crash(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("\ud800 hi", more=False))
        assert events(ws)[-1]["type"] == "done"


@pytest.mark.parametrize("name", ["malformed-json", "bad-base64", "error-no-context"])
def test_a_connection_wide_fault_then_closes(fake: FakeCartesia, name: str) -> None:
    with open_ws(fake, prefix=f"/scenario/{name}") as ws:
        ws.send(piece("One two three four five six.", more=False))
        ws.recv(timeout=5)
        ws.recv(timeout=5)  # the chunk, then the fault
        with pytest.raises(ConnectionClosed) as caught:
            ws.recv(timeout=5)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1000


def test_restating_a_default_is_not_a_change(fake: FakeCartesia) -> None:
    with open_ws(fake) as ws:
        ws.send(piece("Hello.", max_buffer_delay_ms=None))
        ws.send(piece(" Again.", max_buffer_delay_ms=3000, add_timestamps=False, more=False))
        assert events(ws)[-1]["type"] == "done"


def test_a_paced_stream_gets_its_close_frame_when_the_server_stops() -> None:
    with FakeCartesia(api_key=API_KEY, pace=1.0) as paced:
        headers = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION}
        with connect(ws_url(paced), additional_headers=headers) as ws:
            ws.send(piece("One two three four five six seven eight nine ten.", more=False))
            ws.recv(timeout=5)
            paced.stop()
            with pytest.raises(ConnectionClosed) as caught:
                while True:
                    ws.recv(timeout=5)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1001
