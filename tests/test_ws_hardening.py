"""`tts ws` against servers that misbehave: push-back, stalls, redirects, an early `done`."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from . import ws_servers
from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env
from .ws_servers import Server, accept, answer_like_the_api, chunk, frame, read_message

SENTENCE = "This sentence is about sixty characters long, give or take. "
PUSHED = 1 << 20  # audio bytes a pushing server sends before it reads again
STUCK = 3000  # bytes of the client's unread by the server: its buffers are full


def _until_readable(conn: socket.socket, size: int) -> None:
    """Until `size` bytes wait unread on `conn` (bounded: the socket's own timeout)."""
    end = time.monotonic() + ws_servers.WAIT
    while len(conn.recv(size, socket.MSG_PEEK)) < size and time.monotonic() < end:
        time.sleep(0.01)


def test_a_server_that_stops_reading_while_it_sends_does_not_deadlock(
    cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It sends a megabyte of audio without reading; we must keep reading meanwhile, even
    with text of ours stuck behind full buffers (small ones on both sides, so that they
    fill at once rather than after megabytes of the kernel's own growth)."""
    from cartesia_cli.api.ws_client import WsClient

    open_socket = WsClient._socket

    def small_buffer(self: WsClient, *args: Any) -> socket.socket:
        sock = open_socket(self, *args)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        return sock

    def push_then_answer(server: Server, conn: socket.socket) -> None:
        accept(conn, server.read_request(conn))
        _until_readable(conn, STUCK)  # the client's text is stuck: only then push
        conn.settimeout(3)  # a client that stops reading makes this send time out
        piece = bytes(16 * 1024)
        for _ in range(PUSHED // len(piece)):
            try:
                conn.sendall(frame(chunk(piece)))
            except TimeoutError:
                server.notes["stalled"] = True
                return
        conn.settimeout(ws_servers.WAIT)
        answer_like_the_api(conn)

    monkeypatch.setattr(WsClient, "_socket", small_buffer)
    with Server(push_then_answer, SO_RCVBUF=4096, SO_SNDBUF=4096) as server:
        result = cli("tts", "ws", SENTENCE * 300, "-o", "out.pcm", "--retries", "0",
                     env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
    assert "stalled" not in server.notes, result.stderr
    assert result.code == 0, result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(PUSHED)


def test_text_ahead_of_the_audio_is_bounded(cli: RunCli) -> None:
    """A server that reads but never speaks gets no more than MAX_UNSPOKEN characters."""
    from cartesia_cli.api.ws_client import MAX_UNSPOKEN

    def read_only(server: Server, conn: socket.socket) -> None:
        accept(conn, server.read_request(conn))
        conn.settimeout(1.0)
        got = server.notes.setdefault("text", [])
        with contextlib.suppress(OSError):
            while (message := read_message(conn)) is not None:
                got.append(message.get("transcript", ""))

    with Server(read_only) as server:
        result = cli("tts", "ws", SENTENCE * 100, "-o", "out.pcm", "--retries", "0",
                     "--idle-timeout", "0.5", env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
    assert result.code == 6 and "idle timeout" in result.stderr, result.stderr
    assert 0 < len("".join(server.notes["text"])) <= MAX_UNSPOKEN


def test_done_before_our_last_message_is_a_protocol_error(cli: RunCli, tmp_path: Path) -> None:
    def done_at_once(server: Server, conn: socket.socket) -> None:
        accept(conn, server.read_request(conn))
        first = read_message(conn)
        assert first is not None
        conn.sendall(frame(chunk(bytes(4096))))
        conn.sendall(frame({"type": "done", "context_id": first["context_id"], "done": True,
                            "status_code": 200}))  # fmt: skip
        time.sleep(0.5)  # hold the connection while the client decides

    with Server(done_at_once) as server:
        result = cli("tts", "ws", SENTENCE * 100, "-o", "out.pcm", "--retries", "0",
                     env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
    assert result.code == 6, result.stderr
    assert "`done` before the end of the text" in result.stderr
    assert (tmp_path / "out.pcm").read_bytes() == bytes(4096)  # what came is kept


@pytest.mark.parametrize(
    ("status_line", "headers", "code", "said"),
    [
        ("301 Moved Permanently", "Location: http://127.0.0.1:9/elsewhere\r\n", 6, "HTTP 301"),
        ("302 Found", "Location: /tts/websocket2\r\n", 6, "HTTP 302"),
        ("307 Temporary Redirect", "Location: wss://other.example/\r\n", 6, "HTTP 307"),
        ("308 Permanent Redirect", "Location: /x\r\n", 6, "HTTP 308"),
        ("300 Multiple Choices", "", 6, "HTTP 300"),
        ("100 Continue", "", 6, "HTTP 100"),
        ("204 No Content", "", 6, "HTTP 204"),
        ("403 Forbidden", "", 3, "HTTP 403"),
        ("418 I'm a teapot", "", 4, "HTTP 418"),
        ("599 Odd", "", 5, "HTTP 599"),
        ("999 Nonsense", "", 6, "upgrade failed"),
    ],
)
def test_an_upgrade_answered_with_anything_but_101_has_its_exit_code(
    cli: RunCli, status_line: str, headers: str, code: int, said: str
) -> None:
    """Redirects are not followed (the key stays with the host it was meant for)."""

    def answer(server: Server, conn: socket.socket) -> None:
        server.read_request(conn)
        conn.sendall(f"HTTP/1.1 {status_line}\r\n{headers}Content-Length: 0\r\n\r\n".encode())

    with Server(answer) as server:
        result = cli("tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "0",
                     env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
    assert result.code == code, result.stderr
    assert said in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert server.connections == 1


def _hold(server: Server, conn: socket.socket) -> None:
    """Read the upgrade request, then say nothing until the client goes."""
    server.read_request(conn)
    _until_closed(conn)


def _silent(server: Server, conn: socket.socket) -> None:
    """Accept TCP, read and say nothing: a TLS handshake never completes."""
    server.got_request.set()
    _until_closed(conn)


def _until_closed(conn: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def test_the_upgrade_answer_is_due_within_the_idle_timeout(cli: RunCli) -> None:
    with Server(_hold) as server:
        started = time.monotonic()
        result = cli("tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "0",
                     "--idle-timeout", "0.3", "--connect-timeout", "5",
                     env={"CARTESIA_BASE_URL": server.url})  # fmt: skip
        took = time.monotonic() - started
    assert result.code == 6 and "did not arrive within 0.3 s" in result.stderr, result.stderr
    assert took < 3


def test_the_tls_handshake_is_due_within_the_connect_timeout(
    cli: RunCli, certificate: tuple[str, str]
) -> None:
    with Server(_silent) as server:
        started = time.monotonic()
        result = cli("tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "0",
                     "--idle-timeout", "5", "--connect-timeout", "0.3",
                     env={"CARTESIA_BASE_URL": f"https://127.0.0.1:{server.port}",
                          "SSL_CERT_FILE": certificate[0]})  # fmt: skip
        took = time.monotonic() - started
    assert result.code == 6 and "timed out after 0.3 s" in result.stderr, result.stderr
    assert took < 3


@pytest.mark.parametrize(("scheme", "handle"), [("http", _hold), ("https", _silent)])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_during_the_upgrade_or_tls_is_taken_at_once(
    tmp_path: Path, scheme: str, handle: ws_servers.Handler, sig: int, code: int
) -> None:
    with Server(handle) as server:
        env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=f"{scheme}://127.0.0.1:{server.port}",
                        CARTESIA_CLI_CONFIG_DIR=str(tmp_path / "config"))  # fmt: skip
        with subprocess.Popen(
            [str(ENTRY_POINT), "tts", "ws", "Hello.", "-o", "out.pcm", "--retries", "0",
             "--idle-timeout", "60", "--connect-timeout", "60"],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
        ) as proc:  # fmt: skip
            assert server.got_request.wait(20), "the client never connected"
            time.sleep(0.2)  # into the wait itself: the request is out, the answer awaited
            stopped = time.monotonic()
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=20)
            took = time.monotonic() - stopped
    assert proc.returncode == code, err
    assert took < 2.5, f"took {took:.1f} s to stop"
    assert b"Traceback" not in err
