"""A hostile server on a raw socket: what it sends is shown escaped, capped and masked."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .conftest import API_KEY, clean_env, run_in_process

ESC = "\x1b"


Script = Callable[[socket.socket], None]


class RawServer:
    """Answers every connection on 127.0.0.1 the same way, whatever was asked.

    `response` is either the bytes to send, or a script that writes to the
    connection as it likes (a byte at a time, then stop, ...).
    """

    def __init__(self, response: bytes | Script) -> None:
        self.response = response
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                self.requests.append(_read_request(connection))
                try:
                    if callable(self.response):
                        self.response(connection)
                    else:
                        connection.sendall(self.response)
                except OSError:
                    continue  # the client hung up first: what the test wanted, often

    def close(self) -> None:
        self._listener.close()


def _read_request(connection: socket.socket) -> bytes:
    connection.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    length = lengths[0] if lengths else 0
    while len(body) < length:
        body += connection.recv(65536)
    return head + b"\r\n\r\n" + body


def response(status: str, body: bytes, *headers: str) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@pytest.fixture
def hostile(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    server = RawServer(request.param)
    yield server
    server.close()


def run(server: RawServer, tmp_path: Path, *args: str, key: str = API_KEY) -> tuple[int, str]:
    env = clean_env(CARTESIA_API_KEY=key, CARTESIA_BASE_URL=server.url)
    result = run_in_process(("tts", "sse", "Hello", "-o", "out.pcm", "--retries", "0", *args),
                            env=env, cwd=tmp_path)  # fmt: skip
    return result.code, result.stderr


FORGED = f"Unauthorized{ESC}]0;pwned\x07{ESC}[2J\rcartesia-cli: error: all fine\n\x9b31m"
JSON_401 = response(
    "401 Bad" + ESC + "[31m Key",
    json.dumps({"title": FORGED, "message": "x" * 5000, "request_id": "r\n1"}).encode(),
    "Content-Type: application/json",
)


@pytest.mark.parametrize("hostile", [JSON_401], indirect=True)
def test_controls_from_the_server_are_shown_escaped_on_one_short_line(
    hostile: RawServer, tmp_path: Path
) -> None:
    code, stderr = run(hostile, tmp_path)
    assert code == 3
    assert stderr.count("\n") == 1, stderr  # no forged second line
    assert ESC not in stderr and "\x07" not in stderr and "\r" not in stderr
    assert "\x9b" not in stderr
    assert "\\x1b]0;pwned\\x07" in stderr  # visible, not executed
    assert "…" in stderr and len(stderr) < 1000  # the 5000-character message is cut
    assert not (tmp_path / "out.pcm").exists()


ECHO = response(
    "500 Internal Server Error",
    f"oops {API_KEY[:10]}".encode() + API_KEY[10:].encode() + b" " * 400 + API_KEY.encode(),
    f"X-Echo: Bearer {API_KEY}",
    "X-Big: " + "y" * 5000,
)


@pytest.mark.parametrize("hostile", [ECHO], indirect=True)
def test_a_key_echoed_by_the_server_never_shows_even_with_debug(
    hostile: RawServer, tmp_path: Path
) -> None:
    code, stderr = run(hostile, tmp_path, "--debug")
    assert code == 5
    assert API_KEY not in stderr
    assert "X-Echo: Bearer [redacted]".lower() in stderr.lower()
    assert max(len(line) for line in stderr.splitlines()) <= 1000  # the 5000-byte header, cut


@pytest.mark.parametrize("hostile", [ECHO], indirect=True)
def test_a_short_key_is_masked_where_it_stands_alone(hostile: RawServer, tmp_path: Path) -> None:
    hostile.response = response("401 Unauthorized", b"bad key abc", "X-Key: abc")
    code, stderr = run(hostile, tmp_path, "--debug", key="abc")
    assert code == 3
    assert "bad key [redacted]" in stderr
    assert "x-key: [redacted]" in stderr.lower()


def test_user_and_password_in_the_base_url_are_refused_unshown(tmp_path: Path) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY)
    url = "https://me:hunter2-secret@api.example.com"
    result = run_in_process(("tts", "sse", "Hi", "--base-url", url), env=env, cwd=tmp_path)
    assert result.code == 2
    assert "hunter2" not in result.stderr and "me:" not in result.stderr
    assert result.stderr == (
        "cartesia-cli: error: --base-url must not hold a user name or password, "
        "got 'https://***@api.example.com'\n"
    )


@pytest.mark.parametrize("hostile", [JSON_401], indirect=True)
def test_with_debug_a_server_message_stays_one_line_of_the_traceback(
    hostile: RawServer, tmp_path: Path
) -> None:
    code, stderr = run(hostile, tmp_path, "--debug")
    assert code == 3
    lines = stderr.splitlines()
    assert ESC not in stderr and "\x9b" not in stderr and "\r" not in stderr
    # The exception's own line holds the whole forged title: no line of it stands alone.
    exception_lines = [line for line in lines if line.startswith("cartesia_cli.errors.AuthError")]
    assert len(exception_lines) == 1
    assert "all fine\\x0a\\x9b31m" in exception_lines[0]
    assert not any(line.startswith(("\\x9b", "cartesia-cli: error: all fine")) for line in lines)


def sse(*events: tuple[str, dict[str, object]]) -> bytes:
    body = b"".join(
        f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode() for name, payload in events
    )
    return response("200 OK", body, "Content-Type: text/event-stream")


# Words with a lone surrogate (valid JSON, not valid UTF-8) and terminal controls.
ODD_WORDS = sse(
    ("chunk", {"type": "chunk", "data": "AAAAAAAAAAA="}),
    ("timestamps", {"type": "timestamps", "word_timestamps": {
        "words": ["odd\ud800", f"{ESC}[2J"], "start": [0.0, 0.5], "end": [0.4, 0.9]}}),
    ("done", {"type": "done", "done": True}),
)  # fmt: skip


@pytest.mark.parametrize("hostile", [ODD_WORDS], indirect=True)
@pytest.mark.parametrize("stamps", ["x.srt", "x.json", "-"])
def test_words_that_are_not_utf8_are_written_escaped_not_a_crash(
    hostile: RawServer, tmp_path: Path, stamps: str
) -> None:
    env = clean_env(CARTESIA_API_KEY=API_KEY, CARTESIA_BASE_URL=hostile.url)
    args = ("tts", "sse", "Hello", "-o", "out.pcm", "--timestamps", stamps)
    result = run_in_process(args, env=env, cwd=tmp_path)
    assert result.code == 0, result.stderr
    written = result.stdout if stamps == "-" else (tmp_path / stamps).read_bytes()
    text = written.decode("utf-8")  # strict: the file is UTF-8
    if stamps == "x.json":  # the escape is JSON's own: the words read back as they came
        assert [w["word"] for w in json.loads(text)["words"]] == ["odd\ud800", f"{ESC}[2J"]
    else:  # into a file or a pipe, the words as they came, the surrogate escaped
        assert f"odd\\ud800 {ESC}[2J" in text
