"""A fake Cartesia API on loopback: real HTTP/1.1, SSE framed as the real API frames it.

Standard library only (ffmpeg, if on PATH, makes mp3), and never imported by the
normal command path. Each `/tts/sse` response is chunked, one SSE event per chunk,
flushed at once; each `/tts/bytes` response is the audio itself, chunked the same
way (see `bytes_body`). Failures are chosen per request with `queue()` (or
`default_scenario`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cartesia_cli.mock import routes, validation
from cartesia_cli.mock.bytes_body import CONTENT_TYPES, body_pieces, with_bytes_fault
from cartesia_cli.mock.events import AudioPlan, Outgoing, error_event, frame, job_events
from cartesia_cli.mock.mp3 import Mp3Failed, Mp3Unavailable
from cartesia_cli.mock.scenarios import OK, WEBSOCKET_ONLY_FAULTS, Scenario
from cartesia_cli.mock.store import Store
from cartesia_cli.mock.validation import BYTES_CONTAINERS, SSE_CONTAINERS, Problem, TtsJob

# The TTS routes and the output containers each accepts.
ROUTES = {"/tts/sse": SSE_CONTAINERS, "/tts/bytes": BYTES_CONTAINERS}

# How often the serving loop looks for a stop request, which is as long as stop() can
# wait. Tests start and stop a server per test and want it short (5 ms: ~2 % of a core
# while idle, measured); a long-running server wants it long (100 ms: ~0.1 %).
TEST_POLL_SECONDS = 0.005
SCENARIO_HEADER = "Cartesia-Mock-Scenario"
WEBSOCKET_ROUTE = "/tts/websocket"
SCENARIO_PREFIX = "/scenario/"
# A client has this long from connecting to having sent its whole request. Generous
# for any real client on loopback or a CI network; short enough that a port scanner,
# or a client that stalls half-way, does not hold a thread for long.
READ_TIMEOUT_SECONDS = 10.0
WS_IDLE_SECONDS = 300.0  # the real API closes a WebSocket idle for 5 minutes
WS_UNSPOKEN_CAP = 1_000_000  # characters; see ws_session.WsSession.full
MAX_SEQUENCES = 1024  # scenario lists whose count is kept (clients choose them)

_TITLES = {
    400: ("Invalid request", "The request is invalid."),
    401: ("Unauthorized", "Invalid API key."),
    402: ("Payment required", "Your account has insufficient credits."),
    403: ("Forbidden", "This API key may not use this endpoint."),
    404: ("Not found", "The requested resource was not found."),
    408: ("Request timeout", "The request took too long."),
    409: ("Conflict", "The request conflicts with another one."),
    422: ("Unprocessable entity", "The request could not be processed."),
    429: ("Too many concurrent requests", "You have exceeded your plan's concurrency limit."),
    500: ("Internal server error", "Generation failed. Please retry."),
    502: ("Bad gateway", "The upstream service failed."),
    503: ("Service unavailable", "The service is temporarily unavailable."),
}


@dataclass
class RecordedRequest:
    """A request as it arrived on the wire (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Transmission:
    """The audio one `/tts/sse` or `/tts/bytes` response carried, and how it ended.

    For `/tts/bytes`, `audio` is every body byte sent (a WAV header, an mp3 file).
    """

    scenario: str
    # False for a server that keeps no records (the mock command): `messages` and
    # `flushes` stay empty, so a connection open for hours holds no history.
    kept: bool = True
    audio: bytearray = field(default_factory=bytearray)
    digest: Any = field(default_factory=hashlib.sha256)
    length: int = 0
    finished: bool = False
    client_gone: bool = False
    # A WebSocket's client messages, as text, in the order they came.
    messages: list[str] = field(default_factory=list)
    # (audio bytes sent so far, time.monotonic() as the chunk's write began), one per
    # chunk: the benchmark measures each chunk's way from there to the client's stdout.
    flushes: list[tuple[int, float]] = field(default_factory=list)

    def ended(self, *, clean: bool) -> None:
        """A WebSocket's end: after a closing handshake (`finished`), or dropped."""
        self.finished, self.client_gone = clean, not clean

    def add(self, audio: bytes, *, keep: bool) -> None:
        if keep and self.kept:
            self.audio += audio
        self.digest.update(audio)
        self.length += len(audio)

    def note_message(self, text: str) -> None:
        if self.kept:
            self.messages.append(text)

    def flushed(self, at: float) -> None:
        """A chunk's write began at `at`, with `length` audio bytes sent so far."""
        if self.kept:
            self.flushes.append((self.length, at))


class FakeCartesia:
    """The fake server; `with FakeCartesia() as fake:` serves on `fake.url`."""

    def __init__(
        self,
        *,
        api_key: str | None = "test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        plan: AudioPlan | None = None,
        pace: float = 0.0,
        keep_audio: bool = True,
        tls: tuple[str, str] | None = None,
        poll_seconds: float = TEST_POLL_SECONDS,
        latency_ms: float = 0.0,
        log: Callable[[str], None] | None = None,
        concurrency_limit: int | None = None,
        record: bool = True,
        read_timeout: float = READ_TIMEOUT_SECONDS,
        ws_idle_seconds: float = WS_IDLE_SECONDS,
        ws_unspoken_cap: int = WS_UNSPOKEN_CAP,
    ) -> None:
        self.api_key = api_key
        # Tests read `requests` and `transmissions`; a server left running (the mock
        # command) must not grow with every request, so it keeps neither.
        self.recording = record
        # From accepting a connection to having its whole request (TLS handshake, head,
        # body): a client that sends nothing, or half a request, is dropped after this.
        self.read_timeout = read_timeout
        # A WebSocket on which neither side has had anything for this long is closed,
        # as the real API closes idle sockets (after 5 minutes).
        self.ws_idle_seconds = ws_idle_seconds
        # Characters of a WebSocket's text received but not yet spoken, past which the
        # connection is not read from until speech catches up (see ws_session).
        self.ws_unspoken_cap = ws_unspoken_cap
        # Like a plan's limit: a TTS request beyond this many in flight gets HTTP 429.
        self.concurrency_limit = concurrency_limit
        self.in_flight = 0
        self.most_in_flight = 0  # the highest number of TTS requests in flight at once
        self.poll_seconds = poll_seconds
        self.plan = plan or AudioPlan()
        self.pace = pace  # 1.0 = send chunks in real time; 0 = as fast as possible
        self.keep_audio = keep_audio
        self.latency = latency_ms / 1000  # before each response's status line
        self.log = log  # one line per request (no headers, so no key), for the mock command
        self.default_scenario = OK
        # A list like `http-429,ok` for every request that names none (the mock command's
        # --scenario); counted like a request's own list.
        self.default_sequence: str | None = None
        self._sequences: dict[str, int] = {}  # a request's scenario list -> requests seen
        self._request_count = 0  # every request, recorded or not: request ids count these
        # Exceptions a connection's handler did not expect (bugs in the fake), as one line
        # each, when there is no `log` to say them: the last few, for tests to check.
        self.internal_errors: deque[str] = deque(maxlen=100)
        self.requests: list[RecordedRequest] = []
        self.transmissions: list[Transmission] = []
        self.stopping = threading.Event()
        self._scenarios: deque[Scenario] = deque()
        self._lock = threading.Lock()
        self._websockets = 0  # WebSocket connections being served: stop() lets them close
        self._websockets_done = threading.Condition(self._lock)
        self._httpd = _Server((host, port), _Handler)
        self._httpd.fake = self
        self.scheme = "http"
        self._tls: Any = None  # an ssl.SSLContext; each handler thread does its own handshake
        if tls is not None:  # (certificate file, key file): serve https
            self._serve_tls(*tls)
        self._thread: threading.Thread | None = None
        # The voices and dictionaries made, changed and deleted while this server runs.
        self.store = Store()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host!s}:{port}"

    def _serve_tls(self, certfile: str, keyfile: str) -> None:
        import ssl

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certfile, keyfile)
        # Not the listening socket wrapped: accept() would do the handshake in the serving
        # thread, and one client that connects and says nothing would stop every other.
        self._tls = context
        self.scheme = "https"

    def queue(self, *scenarios: Scenario | str) -> None:
        """Use these scenarios for the next requests, in order, then `default_scenario`."""
        with self._lock:
            self._scenarios.extend(
                s if isinstance(s, Scenario) else Scenario.parse(s) for s in scenarios
            )

    def next_scenario(self, asked: str | None = None) -> Scenario:
        """The request's own scenario list if it named one, else the queue, else the default.

        `asked` is `a,b,c`: the first request naming that list gets `a`, the next `b`,
        then `c` from there on, counted per list for as long as the server runs.
        """
        with self._lock:
            if not asked and not self._scenarios:
                asked = self.default_sequence
            if asked:
                items = asked.split(",")
                seen = self._sequences.get(asked, 0)
                chosen = Scenario.parse(items[min(seen, len(items) - 1)].strip())
                self._count_sequence(asked, seen + 1)
                return chosen
            return self._scenarios.popleft() if self._scenarios else self.default_scenario

    def _count_sequence(self, asked: str, seen: int) -> None:
        """Note `seen` requests for this list; past MAX_SEQUENCES lists the oldest is forgotten.

        The lists come from clients: a server left running must not keep every one
        it was ever sent.
        """
        self._sequences.pop(asked, None)
        self._sequences[asked] = seen  # now the newest
        if len(self._sequences) > MAX_SEQUENCES:
            del self._sequences[next(iter(self._sequences))]

    def note(self, line: str, *, internal: bool = False) -> None:
        """One line for `log`. Without one, an internal error is kept for a test to see."""
        if self.log is not None:
            self.log(line)
        elif internal:
            self.internal_errors.append(line)

    def admit(self) -> bool:
        """Count a TTS request in, unless the concurrency limit is reached (False: a 429)."""
        with self._lock:
            if self.concurrency_limit is not None and self.in_flight >= self.concurrency_limit:
                return False
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def websockets_served(self) -> int:
        """WebSocket connections whose handler is still running."""
        with self._lock:
            return self._websockets

    @contextlib.contextmanager
    def websocket_open(self) -> Iterator[None]:
        with self._lock:
            self._websockets += 1
        try:
            yield
        finally:
            with self._lock:
                self._websockets -= 1
                self._websockets_done.notify_all()

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._request_count += 1
            if self.recording:
                self.requests.append(request)

    def new_transmission(self, scenario: str) -> Transmission:
        transmission = Transmission(scenario, kept=self.recording)
        if self.recording:
            with self._lock:
                self.transmissions.append(transmission)
        return transmission

    def request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._request_count, version=4))

    def start(self) -> FakeCartesia:
        # serve_forever checks for shutdown every poll interval: stop() waits up to that long.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(self.poll_seconds,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; open WebSockets get their close frame (1001) first, within ~2 s."""
        self.stopping.set()
        with self._websockets_done:
            self._websockets_done.wait_for(lambda: self._websockets == 0, timeout=2.5)
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeCartesia:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog: with the default 5, 16-96 clients connecting at once got
    # connection resets. 128 concurrent streams must all get through.
    request_queue_size = 1024
    fake: FakeCartesia

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, not socketserver's traceback: the server is left running in CI logs."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)) or _is_tls_error(error):
            self.fake.note(f"connection dropped: {_one_line(error)}")
        else:  # a bug in the fake; the connection is closed and the server serves on
            line = f"internal error: {type(error).__name__}: {_one_line(error)}"
            self.fake.note(line, internal=True)


def _is_tls_error(error: BaseException | None) -> bool:
    return type(error).__module__ == "ssl"


def _one_line(error: BaseException | None) -> str:
    return " ".join(str(error).split())[:200] or type(error).__name__


class _DeadlineReader(io.RawIOBase):
    """The socket's input, refused (TimeoutError) once `deadline` (monotonic) has passed.

    A per-read timeout alone would let a client that sends a byte every few
    seconds hold the connection for ever; this bounds the whole request.
    `deadline = None` lifts it (the request is in; what follows has its own rules).
    """

    def __init__(self, connection: socket.socket, deadline: float) -> None:
        super().__init__()
        self.connection = connection
        self.deadline: float | None = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no complete request in time")
            self.connection.settimeout(left)
        try:
            return self.connection.recv_into(buffer)
        except BlockingIOError:  # a non-blocking socket with nothing yet, as SocketIO says
            return None
        except TimeoutError:
            raise TimeoutError("no complete request in time") from None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # What a refused request line is answered as: the default, HTTP/0.9, has no status
    # line at all, so a client sending garbage would get a bare body.
    default_request_version = "HTTP/1.0"
    server: _Server
    _reader: _DeadlineReader

    def setup(self) -> None:
        fake = self.server.fake
        deadline = time.monotonic() + fake.read_timeout
        if fake._tls is not None:
            self.request = self._handshake(fake._tls, deadline)
        super().setup()
        self._reader = _DeadlineReader(self.connection, deadline)
        self.rfile = io.BufferedReader(self._reader)

    def _handshake(self, context: Any, deadline: float) -> socket.socket:
        """TLS set up here, in this connection's thread, within the read deadline."""
        self.request.settimeout(max(0.001, deadline - time.monotonic()))
        wrapped: socket.socket = context.wrap_socket(self.request, server_side=True)
        return wrapped

    def finish(self) -> None:
        super().finish()
        if self.server.fake._tls is not None:  # the server closes the socket it accepted,
            self.server.shutdown_request(self.request)  # which the handshake replaced

    def _request_read(self) -> None:
        """The whole request is in: no deadline from here on, and writes may block again."""
        self._reader.deadline = None
        self.connection.settimeout(None)

    def parse_request(self) -> bool:
        """http.server's parsing, minus HTTP/0.9: a request line must end in a version."""
        raw: bytes = getattr(self, "raw_requestline", b"")  # set by handle_one_request
        if not raw.strip():  # http.server would close without a word
            self.command, self.requestline = None, ""  # type: ignore[assignment]
            self.request_version, self.close_connection = self.default_request_version, True
            self.send_error(400, "Empty request line")
            return False
        if not super().parse_request():
            return False
        if len(self.requestline.split()) == 2:  # `GET /`: http.server takes it as HTTP/0.9
            self.send_error(400, "Request line without an HTTP version")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self._refusal = message  # said in the log line; _log_status reads it
        super().send_error(code, message, explain)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and users' CI logs do not want access lines."""

    def log_error(self, format: str, *args: Any) -> None:
        """One line for a connection dropped at the read deadline (send_error logs its own)."""
        if any(isinstance(arg, TimeoutError) for arg in args):
            self.fake.note(f"connection dropped: no complete request within {self._timeout()}")

    def _timeout(self) -> str:
        return f"{self.fake.read_timeout:g} s"

    @property
    def fake(self) -> FakeCartesia:
        return self.server.fake

    def do_GET(self) -> None:
        self._read_and_record(b"")
        route = self._route()
        if route == "/":
            self._send_json(200, {"ok": True, "version": "2026-03-01"})
        elif route == WEBSOCKET_ROUTE:
            self._websocket()
        elif routes.handles(route):
            self._manage(route)
        else:
            self._send_problem(Problem(404, "Not found", f"No route for GET {self.path}."))

    def do_PATCH(self) -> None:
        self._read_managed()

    def do_DELETE(self) -> None:
        self._read_managed()

    def _read_managed(self) -> None:
        """A PATCH or DELETE: the voice and dictionary routes are the only ones."""
        route = self._route()
        if self._read_body(routes.body_limit(route)):
            if routes.handles(route):
                self._manage(route)
            else:
                message = f"No route for {self.command} {self.path}."
                self._send_problem(Problem(404, "Not found", message))

    def _read_body(self, limit: int) -> bool:
        """The body read and the request recorded; False if it was refused unread."""
        length = validation.content_length(self.headers.get_all("Content-Length"), limit)
        if "Transfer-Encoding" in self.headers:  # the fake reads Content-Length bodies only
            length = Problem(411, "Length required", "Send the body with a Content-Length.")
        if isinstance(length, Problem):  # the body is not read: the connection closes
            self.close_connection = True
            self._refusal = length.message
            self._send_problem(length)
            return False
        self._read_and_record(self.rfile.read(length))
        return True

    def _manage(self, route: str) -> None:
        """A voice, accent or dictionary request: the scenario first, as for TTS."""
        try:
            scenario = self.fake.next_scenario(self._asked_scenario())
        except ValueError as error:
            self._send_problem(Problem(400, "Unknown mock scenario", str(error)))
            return
        if scenario.name == "drop":
            return
        if scenario.status != 200:
            self._send_scenario_error(scenario)
            return
        if scenario.name == "wrong-content-type":
            self._send_body(200, b"<html>not JSON</html>", "text/html")
            return
        version = self.headers.get("Cartesia-Version")
        answer: routes.Answer = validation.check_auth(
            self.headers.get("Authorization"), self.fake.api_key
        ) or validation.check_version(version)
        if answer is None:
            request = routes.Request(
                self.command,
                route,
                self.path.partition("?")[2],
                self._body,
                self.headers.get("Content-Type") or "",
                version,
            )
            answer = routes.answer(self.fake.store, request)
        if isinstance(answer, Problem):
            self._send_problem(answer)
        elif answer is None:
            self._send_body(204, b"", None)
        else:
            self._send_json(200, answer)

    def do_POST(self) -> None:
        route = self._route()
        if not self._read_body(routes.body_limit(route)):
            return
        if routes.handles(route):
            self._manage(route)
            return
        if route not in ROUTES:
            self._send_problem(Problem(404, "Not found", f"No route for POST {self.path}."))
            return
        try:
            scenario = self.fake.next_scenario(self._asked_scenario())
        except ValueError as error:  # an unknown scenario name: say so, as a 400
            self._send_problem(Problem(400, "Unknown mock scenario", str(error)))
            return
        if scenario.name == "drop":
            return  # close_connection is set: the socket closes with no response at all
        if scenario.status != 200:
            self._send_scenario_error(scenario)
            return
        if not self.fake.admit():
            self._send_scenario_error(Scenario.http_error(429))
            return
        self._holds_slot = True
        try:
            job = self._validate(route)
            if isinstance(job, TtsJob) and route == "/tts/bytes":
                self._send_audio(job, scenario)
            elif isinstance(job, TtsJob):
                self._stream(job, scenario)
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        """Free this request's place under the concurrency limit, once.

        Done as the answer's end is written, not after: a client that has read it
        may send its next request before this thread runs again.
        """
        if getattr(self, "_holds_slot", False):
            self._holds_slot = False
            self.fake.leave()

    def _websocket(self) -> None:
        """`GET /tts/websocket`: check the upgrade as the API does, then speak WebSocket."""
        key, version = self._websocket_credentials()
        try:
            scenario = self.fake.next_scenario(self._asked_scenario())
        except ValueError as error:
            self._send_problem(Problem(400, "Unknown mock scenario", str(error)), version=version)
            return
        if scenario.name == "drop":
            return  # close_connection is set: closed with no answer to the upgrade
        problem = validation.check_auth(
            f"Bearer {key}" if key else None, self.fake.api_key
        ) or validation.check_version(version)
        if problem is not None:
            self._send_problem(problem, version=version)
        elif scenario.status != 200:
            self._send_scenario_error(scenario, version=version)
        elif scenario.name == "wrong-content-type":
            self._send_json(200, {"note": "not a WebSocket"})
        elif not self.fake.admit():  # a connection counted as one generation at a time
            self._send_scenario_error(Scenario.http_error(429), version=version)
        else:
            try:
                self._serve_websocket(scenario, version)
            finally:
                self.fake.leave()

    def _websocket_credentials(self) -> tuple[str | None, str | None]:
        """The key and version: headers, or query parameters (browsers'; the query wins)."""
        query = urllib.parse.parse_qs(self.path.partition("?")[2])
        scheme, _, header_key = (self.headers.get("Authorization") or "").partition(" ")
        key = next(iter(query.get("api_key") or query.get("access_token") or []), None)
        version = next(iter(query.get("cartesia_version") or []), None)
        return (
            key or (header_key if scheme == "Bearer" else None),
            version or self.headers.get("Cartesia-Version"),
        )

    def _serve_websocket(self, scenario: Scenario, version: str | None) -> None:
        from cartesia_cli.mock import websocket
        from cartesia_cli.mock.ws_session import WsSession

        fake = self.fake
        session = WsSession(
            scenario=scenario,
            legacy_errors=not validation.structured_errors(version),
            request_id=fake.request_id,
            plan=fake.plan,
            pace=fake.pace,
            unspoken_cap=fake.ws_unspoken_cap,
            prepare=fake.store.prepare,
        )
        with fake.websocket_open():  # stop() waits for its close frame
            websocket.serve(
                self.connection,
                self.rfile,
                self.path,
                self.headers.items(),
                session,
                record=fake.new_transmission(scenario.name),
                keep_audio=fake.keep_audio,
                stopping=fake.stopping,
                poll_seconds=fake.poll_seconds,
                log=self._log_status,
                idle_seconds=fake.ws_idle_seconds,
            )

    def _log_status(self, code: int) -> None:
        if self.fake.log is None:
            return
        if not getattr(self, "command", None):  # the request line itself was refused
            line = f"malformed request -> {code}"
        else:
            line = f"{self.command} {_without_keys(self.path)} -> {code}"
        refusal = getattr(self, "_refusal", None)
        if refusal:
            line += f" ({_without_keys(' '.join(refusal.split())[:120])})"
        self.fake.note(line)

    def _route(self) -> str:
        """The path without the query and without a `/scenario/NAME` prefix."""
        path = self.path.split("?")[0]
        if path.startswith(SCENARIO_PREFIX):
            _, _, rest = path[len(SCENARIO_PREFIX) :].partition("/")
            return "/" + rest
        return path

    def _asked_scenario(self) -> str | None:
        """A scenario list from the URL prefix, else from the Cartesia-Mock-Scenario header."""
        path = self.path.split("?")[0]
        if path.startswith(SCENARIO_PREFIX):
            return path[len(SCENARIO_PREFIX) :].partition("/")[0] or None
        return self.headers.get(SCENARIO_HEADER) or None

    def _read_and_record(self, body: bytes) -> None:
        self._request_read()
        self._body = body
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake.record(RecordedRequest(self.command, self.path, headers, body))
        self.close_connection = True
        if self.fake.latency:
            self.fake.stopping.wait(self.fake.latency)

    def send_response(self, code: int, message: str | None = None) -> None:
        self._log_status(code)
        super().send_response(code, message)

    def _validate(self, route: str) -> TtsJob | None:
        problem = validation.check_auth(
            self.headers.get("Authorization"), self.fake.api_key
        ) or validation.check_version(self.headers.get("Cartesia-Version"))
        # This request's own body: `requests[-1]` may be another thread's (or not kept).
        version = self.headers.get("Cartesia-Version")
        result = problem or validation.parse_tts_body(self._body, ROUTES[route], version=version)
        if isinstance(result, TtsJob):  # a voice deleted here, a dictionary: the store's say
            result = self.fake.store.prepare(result)
        if isinstance(result, TtsJob):
            return result
        if result.as_event and route == "/tts/sse":  # /tts/bytes has no events: HTTP error
            self._start_stream("text/event-stream")
            self._send_events(
                [self._error_outgoing(result, None)], self.fake.new_transmission("rejected")
            )
        else:
            self._send_problem(result)
        return None

    def _stream(self, job: TtsJob, scenario: Scenario) -> None:
        transmission = self.fake.new_transmission(scenario.name)
        if scenario.name == "wrong-content-type":
            self._send_json(200, {"type": "chunk", "note": "not an event stream"})
            return
        self._start_stream("text/event-stream")
        events = _with_fault(job_events(job, self.fake.plan), scenario, self, job)
        self._send_events(events, transmission)

    def _send_audio(self, job: TtsJob, scenario: Scenario) -> None:
        """A `/tts/bytes` answer: the audio as the body, one HTTP chunk per audio chunk."""
        try:
            pieces = body_pieces(job, self.fake.plan)
        except Mp3Unavailable as error:
            self._send_problem(Problem(501, "Not implemented", str(error)))
            return
        except Mp3Failed as error:
            self._send_problem(Problem(500, "Internal server error", f"mp3: {error}"))
            return
        transmission = self.fake.new_transmission(scenario.name)
        if scenario.name == "wrong-content-type":
            self._send_json(200, {"note": "not audio"})
            return
        self._start_stream(CONTENT_TYPES[job.container])
        outgoing = with_bytes_fault(pieces, scenario, self.fake.stopping)
        self._send_events(outgoing, transmission)

    def _send_events(self, events: Iterable[Outgoing | str], transmission: Transmission) -> None:
        """Write each item as one HTTP chunk (pausing for `pace`), or do its action."""
        interval = self.fake.pace * self.fake.plan.chunk_seconds
        try:
            for item in events:
                if isinstance(item, str):  # a connection-level action
                    self._connection_action(item, transmission)
                    return
                if item.audio and interval and transmission.length:
                    self.fake.stopping.wait(interval)
                # Record before writing, so a client that has read it finds it recorded.
                transmission.add(item.audio, keep=self.fake.keep_audio)
                if item.frame.startswith((b"event: done", b"event: error")):
                    self._release_slot()  # the client is done once it has read this
                # Stamped as the write starts: a client may read the bytes before
                # this thread runs again after the write.
                sent_at = time.monotonic()
                self._write_chunk(item.frame)
                if item.audio:
                    transmission.flushed(sent_at)
            transmission.finished = True
            self._release_slot()
            self._write_chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            transmission.client_gone = True

    def _connection_action(self, action: str, transmission: Transmission) -> None:
        self.wfile.flush()
        if action == "cut":
            self.connection.shutdown(socket.SHUT_WR)
        elif action == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        elif action == "end":  # a clean end of body, without a terminal event
            transmission.finished = True
            self._write_chunk(b"")

    def _start_stream(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_scenario_error(self, scenario: Scenario, *, version: str | None = None) -> None:
        title, message = _TITLES.get(scenario.status, ("Error", "Something went wrong."))
        code = "concurrency_limited" if scenario.status == 429 else None
        problem = Problem(scenario.status, title, message, code)
        self._send_problem(
            problem, text=scenario.text_body, extra_headers=scenario.headers, version=version
        )

    def _send_problem(
        self,
        problem: Problem,
        *,
        text: bool = False,
        extra_headers: dict[str, str] | None = None,
        version: str | None = None,
    ) -> None:
        """The error as the client's Cartesia-Version (or `version`, if given) shapes it."""
        request_id = self.fake.request_id()
        structured = validation.structured_errors(version or self.headers.get("Cartesia-Version"))
        if structured and not text:
            body = {
                "error_code": problem.error_code,
                "title": problem.title,
                "message": problem.message,
                "request_id": request_id,
            }
            self._send_body(
                problem.status, json.dumps(body).encode(), "application/json", extra_headers
            )
        else:
            plain = f"{problem.title}: {problem.message}".encode()
            self._send_body(problem.status, plain, "text/plain; charset=utf-8", extra_headers)

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send_body(status, json.dumps(payload).encode(), "application/json")

    def _send_body(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self._release_slot()
        self.send_response(status)
        if status != 204:  # a 204 has no body: no type, no length
            self.send_header("Content-Type", content_type or "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _error_outgoing(
        self, problem: Problem, job: TtsJob | None, *, legacy: bool = False
    ) -> Outgoing:
        # The shape follows the client's Cartesia-Version, as HTTP errors do.
        legacy = legacy or not validation.structured_errors(self.headers.get("Cartesia-Version"))
        return error_event(
            job,
            legacy=legacy,
            title=problem.title,
            message=problem.message,
            status=problem.status,
            request_id=self.fake.request_id(),
            error_code=problem.error_code,
        )


# The names as a query may spell them: `api_key`, or percent-encoded (`api%5Fkey`).
_KEY_IN_QUERY = re.compile(r"([?&](?:api(?:_|%5f)key|access(?:_|%5f)token)=)[^&#]*", re.IGNORECASE)


def _without_keys(path: str) -> str:
    """The path for a log line: a key given as a query parameter (browsers do) masked."""
    return _KEY_IN_QUERY.sub(r"\1[redacted]", path)


_SERVER_FAILURE = Problem(500, "Internal server error", "Generation failed. Please retry.")
SSE_AS_OK = ("ok", *WEBSOCKET_ONLY_FAULTS)  # a WebSocket's faults mean nothing to SSE


def _with_fault(
    events: Iterable[Outgoing], scenario: Scenario, handler: _Handler, job: TtsJob
) -> Iterable[Outgoing | str]:
    """The normal events, with the scenario's fault injected after `after_chunks` chunks."""
    name = scenario.name
    if name == "error-before-audio":
        yield handler._error_outgoing(_SERVER_FAILURE, job)
        return
    if name == "done-without-audio":
        yield Outgoing(frame("done", {"type": "done", "done": True, "status_code": 206}))
        return
    chunks = 0
    for item in events:
        if item.audio and chunks == scenario.after_chunks and name not in SSE_AS_OK:
            yield from _fault(scenario, handler, job)
            if name != "stall":
                return
        chunks += 1 if item.audio else 0
        yield item


def _fault(scenario: Scenario, handler: _Handler, job: TtsJob) -> Iterable[Outgoing | str]:
    name = scenario.name
    if name in ("error-mid-stream", "error-mid-stream-legacy"):
        yield handler._error_outgoing(_SERVER_FAILURE, job, legacy=name.endswith("legacy"))
    elif name == "malformed-json":
        yield Outgoing(b'event: chunk\ndata: {"type":"chunk","data":"AAAA"\n\n')
    elif name == "bad-base64":
        yield Outgoing(
            frame(
                "chunk",
                {"type": "chunk", "done": False, "status_code": 206, "data": "@@not base64@@"},
            )
        )
    elif name == "stall":
        # Comments keep the connection busy without an event: a client whose
        # timeout restarts on any byte would wait forever here.
        deadline = time.monotonic() + scenario.stall_seconds
        while time.monotonic() < deadline and not handler.fake.stopping.is_set():
            yield Outgoing(b": keep-alive\n\n")
            handler.fake.stopping.wait(scenario.keepalive_seconds)
    elif name == "truncated":
        yield "end"
    elif name in ("cut", "reset"):
        yield name
