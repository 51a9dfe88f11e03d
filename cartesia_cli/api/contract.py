"""One contract for every way of talking to the API, written once for all of its drivers.

The sync client (client.py), the batch's async client (async_client.py) and
the WebSocket (ws_client.py) keep only their I/O and their own way of waiting.
What a request is (method, headers, body, whether it may go twice), how much of
an error body is read, what each failure means (the CliError and its exit
code), and whether and when to try again are decided here, the same for all.

Retries are decided per request. A request that creates nothing (a GET, the
TTS POSTs) may be sent again after any transient failure. One that creates
something (`POST /voices/clone`, `POST /pronunciation-dicts/`) is sent again
only when it never left this machine (a refused or timed-out connection):
once its bytes went out, a 5xx or a dropped connection may mean it was made,
and a second try could make two.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
from collections.abc import Callable, Mapping
from typing import Any, Generic, NamedTuple, TypeVar
from urllib.parse import urlsplit

import httpx

from cartesia_cli.api import protocol, proxy, tls
from cartesia_cli.api.api_config import ApiConfig as ApiConfig  # its home before api_config.py
from cartesia_cli.api.events import Done, ErrorEvent, Event, parse_event
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.retry import retry_delay, should_retry
from cartesia_cli.errors import (
    CONNECT_TIMEOUT,
    IDLE_TIMEOUT,
    TLS_SETUP,
    CliError,
    StreamError,
    UsageError,
)

DebugLog = Callable[[str], None]
JSON = "application/json"
ERROR_BODY_LIMIT = 64 * 1024  # an error message is short; a 600 MB body must not be read
# What a response body's reading can fail with: the connection, or a broken Content-Encoding.
READ_FAILURES = (httpx.TransportError, httpx.DecodingError)
# Failures that happen before a byte of the request is written: connecting (TCP, a
# proxy's tunnel, TLS) or waiting for a connection of the pool.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)

Client = TypeVar("Client", httpx.Client, httpx.AsyncClient)
Sleep = TypeVar("Sleep")  # how a driver waits between attempts: time.sleep, asyncio.sleep


# --- requests ---------------------------------------------------------------------------


class ApiRequest(NamedTuple):
    """One HTTP request, as every driver sends it.

    `repeatable`: it may be sent again once its bytes went out (it creates
    nothing). False for a request that creates something.
    """

    method: str
    path: str
    headers: dict[str, str]
    repeatable: bool
    body: bytes | None = None
    query: Mapping[str, str] | None = None
    empty_answer: bool = False  # 204 No Content is its success (a DELETE)

    def url(self, config: ApiConfig) -> str:
        return config.base_url.rstrip("/") + self.path


def tts_request(config: ApiConfig, path: str, request: TtsRequest) -> ApiRequest:
    """POST /tts/sse or /tts/bytes: it makes audio and stores nothing, so it may go again."""
    accept = protocol.accept_for(path, request.audio)
    headers = protocol.headers(config.api_key, config.api_version, accept)
    return ApiRequest("POST", path, headers, True, request.encoded_body())


def get_request(config: ApiConfig, path: str, query: Mapping[str, str] | None) -> ApiRequest:
    """A GET: it changes nothing on the server, so it may go again."""
    headers = protocol.headers(config.api_key, config.api_version, JSON)
    del headers["Content-Type"]  # a GET has no body
    return ApiRequest("GET", path, headers, True, query=query)


def creating_request(config: ApiConfig, path: str, payload: object) -> ApiRequest:
    """A POST that creates something: never sent twice once it went out."""
    return json_request(config, "POST", path, payload, repeatable=False)


def json_request(
    config: ApiConfig, method: str, path: str, payload: object, *, repeatable: bool
) -> ApiRequest:
    """A request with a JSON body: a PATCH that sets fields (repeatable) or a creating POST."""
    headers = protocol.headers(config.api_key, config.api_version, JSON)
    body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    return ApiRequest(method, path, headers, repeatable, body)


def delete_request(config: ApiConfig, path: str) -> ApiRequest:
    """A DELETE: answered 204. Not sent again once it went out: had the first one
    deleted, the second would be told "not found", and the user would be misled."""
    headers = protocol.headers(config.api_key, config.api_version, "*/*")
    del headers["Content-Type"]  # no body
    return ApiRequest("DELETE", path, headers, False, empty_answer=True)


class FilePart(NamedTuple):
    """The file of a multipart upload: its name as sent, its bytes, its media type."""

    name: str
    data: bytes
    media_type: str


def multipart_request(
    config: ApiConfig, path: str, fields: Mapping[str, str], file_field: str, file: FilePart
) -> ApiRequest:
    """A creating POST as multipart/form-data (a voice clone): text fields, then the file.

    httpx encodes it (boundary, quoting of names); the body is built once, so a
    retry before sending sends the same bytes.
    """
    encoded = httpx.Request(
        "POST",
        "http://unused.invalid" + path,
        data=dict(fields),
        files={file_field: (file.name, file.data, file.media_type)},
    )
    headers = protocol.headers(config.api_key, config.api_version, JSON)
    headers["Content-Type"] = encoded.headers["Content-Type"]
    return ApiRequest("POST", path, headers, False, encoded.read())


def upgrade_request(config: ApiConfig) -> ApiRequest:
    """GET /tts/websocket: no text goes before it is answered, so it may go again.

    Only its own headers: websockets adds the rest, User-Agent included.
    """
    headers = protocol.headers(config.api_key, config.api_version, "")
    own = {name: headers[name] for name in ("Authorization", "Cartesia-Version")}
    return ApiRequest("GET", protocol.WS_PATH, own, True)


def http_client(make: Callable[..., Client], **options: Any) -> Client:
    """An httpx client (`make` is httpx.Client or httpx.AsyncClient), the proxies checked.

    httpx builds a transport for every proxy variable as a client is made, so one
    it refuses stops every request, and from deep inside httpx: a usage error
    naming the variable instead.
    """
    check_proxies()
    try:
        return make(**options)
    except (ValueError, ImportError, httpx.InvalidURL) as exc:  # a system proxy, say
        raise UsageError(f"cannot use the proxy set in the environment: {exc}") from None


def check_proxies() -> None:
    """A usage error, naming the variable, for a proxy setting httpx would refuse."""
    try:
        proxy.check(os.environ)
    except proxy.ProxyError as exc:
        raise UsageError(str(exc)) from None


def tls_for(base_url: str) -> ssl.SSLContext | bool:
    """The verifying context for https://; none at all for plain http://.

    httpx would otherwise load the CA bundle as the client is made (~40 ms) even
    for the local fake server, and redirects are not followed, so an http://
    base URL never reaches TLS. For https:// the context usually comes from the
    prefetch started in launch.py.
    """
    if urlsplit(base_url).scheme == "http":  # only plain http goes without: never HTTPS://
        return False
    try:
        return tls.context()
    except (OSError, ssl.SSLError) as exc:
        raise StreamError(f"cannot set up TLS: {exc}", kind=TLS_SETUP) from None


# --- answers ----------------------------------------------------------------------------


class ErrorBody:
    """The start of an error response's body, as it is read, and whether it came whole.

    At most ERROR_BODY_LIMIT bytes are kept. A body cut, garbled or too slow
    leaves the status line as the failure to report, and the connection in a
    state not worth retrying on.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self.complete = True

    def take(self, piece: bytes) -> bool:
        """Keep `piece`; whether enough has been read to stop."""
        self._data += piece
        return len(self._data) >= ERROR_BODY_LIMIT

    def cut_short(self) -> None:
        self.complete = False

    @property
    def data(self) -> bytes:
        return bytes(self._data[:ERROR_BODY_LIMIT])


def parse_or_raise(name: str, data: str, log: DebugLog) -> Event | None:
    """One SSE event; an `error` event raises its failure; an event with no data is None."""
    if not data:
        # The real API never sends data-less events; tolerate them as noise.
        log(f"ignored an event with no data (event: {name})")
        return None
    event = parse_event(name, data)
    if isinstance(event, ErrorEvent):
        raise protocol.error_event_failure(
            event.message, event.request_id, title=event.title, status=event.status_code
        )
    if isinstance(event, Done):
        log("received done")
    return event


# --- failures ---------------------------------------------------------------------------


class SendFailure(NamedTuple):
    """A send that got no response: what it means, whether it could go better another time,
    and whether the request may have reached the server (a creating one then goes no more)."""

    error: CliError
    transient: bool
    sent: bool


def send_failure(config: ApiConfig, exc: httpx.TransportError) -> SendFailure:
    """What a send that got no response means. No audio was written: a retry duplicates none."""
    sent = not isinstance(exc, NOT_SENT)
    if isinstance(exc, httpx.ConnectTimeout):
        return SendFailure(connect_timeout(config, config.base_url), True, sent)
    if isinstance(exc, httpx.ConnectError):
        # A failed TLS handshake (an untrusted certificate) would fail the same way again.
        failure = StreamError(f"could not connect to {config.base_url}: {os_reason(exc)}")
        return SendFailure(failure, not tls_rejected(exc), sent)
    if isinstance(exc, httpx.TimeoutException):
        # The server took the request and went quiet: another try would wait as long again.
        return SendFailure(idle_failure(config), False, sent)
    # Dropped before any response (a restarting server, a proxy): as transient as a refusal.
    failure = StreamError(f"connection to the server failed before the response: {exc}")
    return SendFailure(failure, True, sent)


def os_reason(exc: BaseException) -> str:
    """What the system said, under whatever wraps it: "[Errno 111] Connection refused".

    The sync transport says just that; the async one (anyio over asyncio) says
    "All connection attempts failed", caused by "[Errno 111] Connect call failed
    ('127.0.0.1', 9)": the errno is the fact both share, so it is said in the
    system's words. TLS and name-resolution errors carry their own text.
    """
    cause: BaseException | None = exc
    said = str(exc)
    while cause is not None:
        group = getattr(cause, "exceptions", None)  # an ExceptionGroup (a backport on 3.10)
        if isinstance(group, tuple | list) and group and isinstance(group[0], BaseException):
            cause = group[0]  # the first address's failure, as the socket module reports it
            continue
        if isinstance(cause, ssl.SSLError | socket.gaierror):
            return str(cause)
        if isinstance(cause, OSError) and cause.errno:
            said = f"[Errno {cause.errno}] {os.strerror(cause.errno)}"
        cause = cause.__cause__ or cause.__context__
    return said


def tls_rejected(exc: BaseException) -> bool:
    """A failed TLS handshake (say, an untrusted certificate) will fail the same way again."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def connect_timeout(config: ApiConfig, where: str) -> StreamError:
    message = f"timed out after {config.connect_timeout:g} s connecting to {where}"
    return StreamError(message, kind=CONNECT_TIMEOUT)


def idle_failure(config: ApiConfig, awaited: str = "event") -> StreamError:
    message = f"no {awaited} from the server for {config.idle_timeout:g} s (idle timeout)"
    return StreamError(message, kind=IDLE_TIMEOUT)


def late_answer(config: ApiConfig, what: str = "response") -> StreamError:
    """The status line (or the WebSocket upgrade's answer) not in by its deadline."""
    message = f"the server's {what} did not arrive within {config.idle_timeout:g} s"
    return StreamError(f"{message} (idle timeout)", kind=IDLE_TIMEOUT)


def midstream_failure(exc: Exception, config: ApiConfig, awaited: str) -> StreamError:
    """A body that stopped (or could not be decoded) after the answer began: never retried."""
    if isinstance(exc, httpx.TimeoutException):
        return idle_failure(config, awaited)
    return StreamError(f"connection to the server failed mid-stream: {exc}")


def ended_before_done() -> StreamError:
    return StreamError("the stream ended before the server sent `done` (audio may be cut short)")


def with_attempts(failure: CliError, attempts: int) -> CliError:
    """The last attempt's failure, saying how many attempts there were."""
    if attempts > 1:
        failure.message += f" (after {attempts} attempts)"
        failure.args = (failure.message,)
    return failure


# --- retries ----------------------------------------------------------------------------


class Attempts:
    """One request's attempts: after each failure, how long to wait before the next, or
    the failure to raise when there is to be none.

    `tries` counts against --retries; `sent` counts every time the request went
    out (a batch's resend after a concurrency refusal is not a try spent) and is
    what the last failure reports.
    """

    def __init__(self, config: ApiConfig, *, repeatable: bool, log: DebugLog) -> None:
        self._config = config
        self._repeatable = repeatable
        self._log = log
        self.limit = config.retries + 1
        self.tries = 0
        self.sent = 0

    def start(self, what: str) -> None:
        self.tries += 1
        self.sent += 1
        self._log(f"attempt {self.tries} of {self.limit}: {what}")

    def forgive(self) -> None:
        """The last try is not counted against --retries (it was ours to fix, and fixed)."""
        self.tries -= 1

    def after_send_failure(self, exc: httpx.TransportError) -> float:
        """A send that got no response: the wait before the next try, or its failure raised."""
        failure = send_failure(self._config, exc)
        again = failure.transient and (self._repeatable or not failure.sent)
        if failure.transient and not again:
            self._log("not retrying: the request may have reached the server and created something")
        return self.after(failure.error, again=again)

    def may_repeat(self, status: int, headers: Mapping[str, str], body: ErrorBody) -> bool:
        """Whether an error answer is worth another try (if any are left)."""
        return self._repeatable and body.complete and should_retry(status, headers)

    def after_error_status(
        self, status: int, reason: str, headers: Mapping[str, str], body: ErrorBody
    ) -> float:
        """An error answer: the wait before the next try, or its failure raised."""
        if not body.complete:
            self._log("the error body was cut short; not retrying")
        failure = protocol.status_failure(status, reason, body.data, 1)
        again = self.may_repeat(status, headers, body)
        return self.after(failure, again=again, headers=headers)

    def after(
        self, failure: CliError, *, again: bool, headers: Mapping[str, str] | None = None
    ) -> float:
        """The wait before the next try, if `again` and tries are left; else raise `failure`."""
        if not again or self.tries >= self.limit:
            raise with_attempts(failure, self.sent) from None
        delay = retry_delay(self.tries - 1, headers)
        self._log(f"retrying in {delay:.2f} s after: {failure.message}")
        return delay


# --- drivers ---------------------------------------------------------------------------


class Driver(Generic[Sleep]):
    """What every driver of the API is made with: the settings, where --debug lines go,
    and how it waits between attempts (tests give a quicker wait)."""

    def __init__(self, config: ApiConfig, debug: DebugLog | None, sleep: Sleep) -> None:
        self._config = config
        self._debug = debug
        self._sleep = sleep

    @property
    def config(self) -> ApiConfig:
        """Where this client connects, and how."""
        return self._config

    def _attempts(self, request: ApiRequest) -> Attempts:
        """The attempts of one request, under the retry rules its kind allows."""
        return Attempts(self._config, repeatable=request.repeatable, log=self._log)

    def _log(self, line: str) -> None:
        if self._debug is not None:
            self._debug(line)
