"""A request that creates something is never sent twice once it went out.

A POST that makes a voice clone or a pronunciation dictionary could make two if
it were retried after a 5xx or a dropped connection: the server may have made
the first. It is retried only when it never left this machine (a refused
connection). A request that creates nothing (a GET) keeps every retry. The
server here is a stand-in on loopback that counts what reaches it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from cartesia_cli.api.client import CartesiaClient
from cartesia_cli.api.contract import ApiConfig, FilePart
from cartesia_cli.errors import CliError, ExitCode
from cartesia_cli.settings import spec

from .conftest import API_KEY

DICTS = "/pronunciation-dicts/"
CREATED = {"id": "pd_1", "name": "names"}


class CountingServer(HTTPServer):
    """Answers each request with the next of `answers` (`500`, `drop`, `ok`); counts them.

    Bound at once, listening only from `listen()`: until then a connection is refused.
    """

    def __init__(self, *answers: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler, bind_and_activate=False)
        self.server_bind()
        self.answers = list(answers)
        self.seen: list[tuple[str, str, bytes]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01})

    def listen(self) -> None:
        self.server_activate()
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.shutdown()
            self._thread.join(5)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: CountingServer

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def do_PATCH(self) -> None:
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def do_DELETE(self) -> None:
        self._answer(b"")

    def _answer(self, body: bytes) -> None:
        self.server.seen.append((self.command, self.path, body))
        self.close_connection = True
        answer = self.server.answers.pop(0) if self.server.answers else "ok"
        if answer == "drop":
            return  # the request was read: closed with no answer at all
        status = 500 if answer == "500" else 200
        if status == 200 and self.command == "DELETE":
            self.send_response(204)  # No Content: no body, no length
            self.end_headers()
            return
        payload = {"title": "Internal server error", "message": "Try again."}
        data = json.dumps(CREATED if status == 200 else payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("retry-after-ms", "10")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server_factory() -> Iterator[Callable[..., CountingServer]]:
    made: list[CountingServer] = []

    def make(*answers: str) -> CountingServer:
        made.append(CountingServer(*answers))
        return made[-1]

    yield make
    for server in made:
        server.stop()


def client(server: CountingServer, waits: list[float]) -> CartesiaClient:
    config = ApiConfig(server.url, API_KEY, spec.API_VERSION.default, 2.0, 5.0, 2)
    return CartesiaClient(config, sleep=waits.append)


@pytest.mark.parametrize(
    ("answer", "code", "said"),
    [
        ("500", ExitCode.SERVER, "HTTP 500 Internal Server Error: "),
        ("drop", ExitCode.STREAM, "connection to the server failed before the response"),
    ],
)
def test_a_creating_post_that_reached_the_server_is_not_sent_again(
    server_factory: Callable[..., CountingServer], answer: str, code: ExitCode, said: str
) -> None:
    server = server_factory(answer, answer, answer)
    server.listen()
    waits: list[float] = []
    with client(server, waits) as api, pytest.raises(CliError) as failed:
        api.post_json(DICTS, {"name": "names"})
    assert len(server.seen) == 1  # exactly one: a second could have made a second dictionary
    assert failed.value.exit_code == code and failed.value.message.startswith(said)
    assert "attempts" not in failed.value.message and waits == []


def test_a_get_after_the_same_answers_is_sent_again(
    server_factory: Callable[..., CountingServer],
) -> None:
    """The rule is the request's, not the client's: a GET keeps its retries."""
    server = server_factory("500", "drop")
    server.listen()
    waits: list[float] = []
    with client(server, waits) as api:
        assert api.get_json(DICTS) == CREATED
    assert [method for method, _, _ in server.seen] == ["GET"] * 3 and len(waits) == 2


def test_a_creating_post_refused_before_sending_is_sent_again(
    server_factory: Callable[..., CountingServer],
) -> None:
    """A refused connection carried no byte of it: the retry cannot make a second."""
    server = server_factory()  # not listening yet: the first connection is refused
    waits: list[float] = []

    def wait(delay: float) -> None:
        waits.append(delay)
        server.listen()  # by the next attempt, the server is there

    config = ApiConfig(server.url, API_KEY, spec.API_VERSION.default, 2.0, 5.0, 2)
    with CartesiaClient(config, sleep=wait) as api:
        assert api.post_json(DICTS, {"name": "names"}) == CREATED
    assert len(waits) == 1
    assert server.seen == [("POST", DICTS, b'{"name":"names"}')]  # made once


# --- the other verbs: an upload and a DELETE are creating-like, a PATCH is not ----------

CLIP = FilePart("clip.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio/wav")
VOICE = "/voices/3f2c1a9e-8b7d-4e6f-9a5b-1c2d3e4f5a6b"


def upload(api: CartesiaClient) -> object:
    return api.post_multipart("/voices/clone", {"name": "Me", "language": "en"}, "clip", CLIP)


def remove(api: CartesiaClient) -> object:
    api.delete(VOICE)  # done on 204: nothing to return
    return None


@pytest.mark.parametrize("answer", ["500", "drop"])
@pytest.mark.parametrize(("send", "method"), [(upload, "POST"), (remove, "DELETE")])
def test_an_upload_or_a_delete_that_reached_the_server_is_not_sent_again(
    server_factory: Callable[..., CountingServer],
    answer: str,
    send: Callable[[CartesiaClient], object],
    method: str,
) -> None:
    """A second clone could make a second voice; a second DELETE would be told 404 about
    a voice the first one deleted."""
    server = server_factory(answer, answer, answer)
    server.listen()
    waits: list[float] = []
    with client(server, waits) as api, pytest.raises(CliError) as failed:
        send(api)
    assert [seen[0] for seen in server.seen] == [method]  # exactly one
    code = ExitCode.SERVER if answer == "500" else ExitCode.STREAM
    assert failed.value.exit_code == code and waits == []


@pytest.mark.parametrize(
    ("send", "method", "answer"), [(upload, "POST", CREATED), (remove, "DELETE", None)]
)
def test_an_upload_or_a_delete_refused_before_sending_is_sent_again(
    server_factory: Callable[..., CountingServer],
    send: Callable[[CartesiaClient], object],
    method: str,
    answer: object,
) -> None:
    server = server_factory()  # not listening yet: the first connection is refused
    waits: list[float] = []

    def wait(delay: float) -> None:
        waits.append(delay)
        server.listen()

    config = ApiConfig(server.url, API_KEY, spec.API_VERSION.default, 2.0, 5.0, 2)
    with CartesiaClient(config, sleep=wait) as api:
        assert send(api) == answer
    assert len(waits) == 1 and [seen[0] for seen in server.seen] == [method]


def test_the_upload_is_multipart_with_the_fields_and_the_file(
    server_factory: Callable[..., CountingServer],
) -> None:
    server = server_factory()
    server.listen()
    with client(server, []) as api:
        assert upload(api) == CREATED
    (_, path, body) = server.seen[0]
    assert path == "/voices/clone"
    assert b'name="name"\r\n\r\nMe\r\n' in body and b'name="language"\r\n\r\nen\r\n' in body
    assert b'name="clip"; filename="clip.wav"\r\nContent-Type: audio/wav\r\n\r\n' in body
    assert CLIP.data in body


def test_a_patch_sets_fields_so_it_is_sent_again_after_a_5xx(
    server_factory: Callable[..., CountingServer],
) -> None:
    """Setting a name twice leaves it set: a PATCH keeps its retries."""
    server = server_factory("500", "drop")
    server.listen()
    waits: list[float] = []
    with client(server, waits) as api:
        assert api.patch_json(VOICE, {"name": "N"}) == CREATED
    assert [(m, p, b) for m, p, b in server.seen] == [("PATCH", VOICE, b'{"name":"N"}')] * 3
    assert len(waits) == 2
