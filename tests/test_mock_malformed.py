"""The fake left running in CI: malformed or stalled clients get an answer or are dropped.

Each malformed request is written on a raw socket to a running server: it gets
its status (400, or 411/413/414/431/501/505 where those fit) and one log line,
and the server's stderr shows no traceback.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from cartesia_cli.mock import AudioPlan, FakeCartesia
from cartesia_cli.mock.validation import (
    MAX_BODY,
    MAX_JSON_DEPTH,
    Problem,
    content_length,
    load_json,
)

from .conftest import API_KEY
from .test_mock_ws import VERSION, piece, ws_url

AUTH = f"Authorization: Bearer {API_KEY}\r\nCartesia-Version: 2026-03-01\r\n".encode()
SHORT = 0.3  # the read deadline these tests give the server, in seconds


@pytest.fixture
def logged() -> Iterator[tuple[FakeCartesia, list[str]]]:
    lines: list[str] = []
    with FakeCartesia(api_key=API_KEY, log=lines.append, read_timeout=SHORT) as server:
        yield server, lines
    assert not server.internal_errors


def exchange(fake: FakeCartesia, data: bytes, *, half_close: bool = False) -> bytes:
    """Send `data` on a fresh connection; everything the server answers until it closes."""
    host, port = fake.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1."), answer[:80]
    return int(answer.split(b" ", 2)[1])


def post(headers: bytes, body: bytes = b"") -> bytes:
    return b"POST /tts/sse HTTP/1.1\r\nHost: x\r\n" + AUTH + headers + b"\r\n" + body


def client_hello() -> bytes:
    """The first bytes a TLS client sends: what lands on the plain port when https is used."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


MALFORMED = {
    "negative Content-Length": (post(b"Content-Length: -1\r\n"), 400),
    "non-numeric Content-Length": (post(b"Content-Length: abc\r\n"), 400),
    "Content-Length 10^20": (post(b"Content-Length: 100000000000000000000\r\n"), 413),
    "Content-Length over the cap": (post(b"Content-Length: %d\r\n" % (MAX_BODY + 1)), 413),
    "conflicting Content-Lengths": (post(b"Content-Length: 2\r\nContent-Length: 3\r\n"), 400),
    "a chunked body": (post(b"Transfer-Encoding: chunked\r\n", b"2\r\n{}\r\n0\r\n\r\n"), 411),
    "100000 nested [": (post(b"Content-Length: 100000\r\n", b"[" * 100_000), 400),
    "a garbage request line": (b"\x00\x01\xffgarbage\r\n\r\n", 400),
    "a request line without a version": (b"GET /\r\n\r\n", 400),
    "an empty request line": (b"\r\n\r\n", 400),
    "a request line over 64 KiB": (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    "a header flood": (b"GET / HTTP/1.1\r\n" + b"X-Flood: 1\r\n" * 200 + b"\r\n", 431),
    "a header line over 64 KiB": (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
    "an unknown method": (b"BREW / HTTP/1.1\r\n\r\n", 501),
    "HTTP/2's preface": (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
}


@pytest.mark.parametrize(("data", "status"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_gets_its_status_and_one_log_line(
    logged: tuple[FakeCartesia, list[str]],
    capfd: pytest.CaptureFixture[str],
    data: bytes,
    status: int,
) -> None:
    fake, lines = logged
    assert status_of(exchange(fake, data)) == status
    assert len(lines) == 1 and f"-> {status}" in lines[0], lines
    assert "Traceback" not in capfd.readouterr().err


def test_deep_json_is_refused_as_too_deep(logged: tuple[FakeCartesia, list[str]]) -> None:
    fake, _ = logged
    body = b'{"a":' * 40 + b"1" + b"}" * 40
    answer = exchange(fake, post(b"Content-Length: %d\r\n" % len(body), body))
    assert status_of(answer) == 400 and b"nests deeper than" in answer


def test_a_tls_client_on_the_plain_port_gets_a_400(
    logged: tuple[FakeCartesia, list[str]], capfd: pytest.CaptureFixture[str]
) -> None:
    fake, lines = logged
    assert status_of(exchange(fake, client_hello(), half_close=True)) == 400
    assert len(lines) == 1 and "-> 400" in lines[0]
    assert "Traceback" not in capfd.readouterr().err


# --- the read deadline --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"GET / HTTP/1.1\r\nHost: x\r\n", post(b"Content-Length: 100\r\n", b'{"model')],
    ids=["nothing", "half the headers", "half the body"],
)
def test_a_client_that_stalls_is_dropped_at_the_deadline(
    logged: tuple[FakeCartesia, list[str]], data: bytes
) -> None:
    fake, lines = logged
    started = time.monotonic()
    assert exchange(fake, data) == b""  # closed without an answer
    assert SHORT <= time.monotonic() - started < SHORT + 2
    assert lines == [f"connection dropped: no complete request within {SHORT:g} s"]


def test_a_client_dribbling_bytes_is_dropped_at_the_deadline_all_the_same(
    logged: tuple[FakeCartesia, list[str]],
) -> None:
    """A byte every 50 ms never trips a per-read timeout; the request's deadline still ends it."""
    fake, lines = logged
    host, port = fake.url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        with pytest.raises(OSError):  # once the server closes: a reset, or a broken pipe
            for _ in range(200):  # 10 s of dribbling, were the connection not dropped
                sock.sendall(b"X")
                time.sleep(0.05)  # the client's pace, not a synchronisation
    assert time.monotonic() - started < SHORT + 2
    assert lines == [f"connection dropped: no complete request within {SHORT:g} s"]


def test_a_silent_client_on_the_tls_port_holds_up_no_one(certificate: tuple[str, str]) -> None:
    """The handshake is the connection's own: others are served while one says nothing."""
    with FakeCartesia(api_key=API_KEY, tls=certificate, read_timeout=5) as fake:
        host, port = fake.url.removeprefix("https://").split(":")
        with socket.create_connection((host, int(port))):
            context = ssl.create_default_context(cafile=certificate[0])
            response = httpx.get(fake.url + "/", verify=context, timeout=3)
        assert response.json()["ok"] is True


# --- the WebSocket ------------------------------------------------------------------------


def test_deep_json_over_the_websocket_is_an_error_event(
    fake: FakeCartesia, capfd: pytest.CaptureFixture[str]
) -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION}
    with connect(ws_url(fake), additional_headers=headers) as ws:
        ws.send("[" * 100_000 + "]" * 100_000)
        error = json.loads(ws.recv(timeout=5))
        ws.send(piece("Still here.", more=False))  # the connection serves on
        while json.loads(ws.recv(timeout=5))["type"] != "done":
            pass
    assert error["type"] == "error" and "nests deeper than" in error["message"]
    assert "Traceback" not in capfd.readouterr().err
    assert not fake.internal_errors


def test_an_idle_websocket_is_closed() -> None:
    headers = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION}
    with (
        FakeCartesia(api_key=API_KEY, ws_idle_seconds=SHORT) as fake,
        connect(ws_url(fake), additional_headers=headers) as ws,
        pytest.raises(ConnectionClosed) as caught,
    ):
        ws.recv(timeout=SHORT + 3)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1000


def test_input_waits_while_too_much_text_is_unspoken() -> None:
    """Past the cap, the next message is not taken until speech catches up.

    Three pieces of 150 characters, the cap 100, each spoken in 0.3 s of paced
    audio: while the first is spoken, the third has not been read.
    """
    plan = AudioPlan(chunk_seconds=0.05, audio_seconds=0.3)
    headers = {"Authorization": f"Bearer {API_KEY}", "Cartesia-Version": VERSION}
    with FakeCartesia(api_key=API_KEY, plan=plan, pace=1.0, ws_unspoken_cap=100) as fake:
        with connect(ws_url(fake), additional_headers=headers) as ws:
            for index in range(3):
                ws.send(piece("word " * 30, more=index < 2))
            assert json.loads(ws.recv(timeout=5))["type"] == "chunk"
            taken_while_speaking = len(fake.transmissions[-1].messages)
            while json.loads(ws.recv(timeout=5))["type"] != "done":
                pass
        assert taken_while_speaking <= 2
        assert len(fake.transmissions[-1].messages) == 3


# --- the parsers --------------------------------------------------------------------------


@given(st.lists(st.text(max_size=30), max_size=3))
def test_content_length_is_digits_agreeing_and_capped(values: list[str]) -> None:
    result = content_length(values)
    given_values = {value.strip() for value in values}
    if isinstance(result, int):
        assert len(given_values) <= 1 and 0 <= result <= MAX_BODY
        assert given_values in (set(), {str(result)}) or int(next(iter(given_values))) == result
        assert all(char in "0123456789" for value in given_values for char in value)
    else:
        assert result.status in (400, 413)


@given(st.integers(min_value=0, max_value=10**30))
def test_a_number_of_bytes_is_taken_up_to_the_cap(number: int) -> None:
    result = content_length([str(number)])
    assert result == number if number <= MAX_BODY else isinstance(result, Problem)


@given(st.integers(min_value=1, max_value=5000), st.sampled_from(["[", '{"a":']))
def test_nesting_past_the_limit_is_a_problem_never_an_exception(depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    result = load_json(opener * depth + "1" + closer * depth, "The body")
    assert isinstance(result, Problem) == (depth > MAX_JSON_DEPTH)


@given(st.recursive(st.none() | st.integers() | st.text(alphabet="[]{}\\\"a"),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text("[]{}\"a"), inner),
                    max_leaves=40))  # fmt: skip
def test_valid_json_is_read_as_json_reads_it_or_refused_for_depth(value: object) -> None:
    text = json.dumps(value)
    result = load_json(text, "The body")
    if isinstance(result, Problem):
        assert "nests deeper" in result.message
    else:
        assert result == value
