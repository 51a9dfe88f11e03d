"""The fault matrix through both HTTP clients: the same exit code, error line and bytes kept.

A single run streams with the sync client, a batch with the async one; they
share one contract (api/contract.py), and this holds them to it. Each row runs
both clients in this process against the fake (unpaced), each with a fresh
fake given the same scenarios; retry waits are recorded, never slept.
`reset` is left out: what an RST discards in flight depends on timing, not on
the client (tests/test_fault_matrix.py checks it keeps a prefix).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import NamedTuple

import pytest

from cartesia_cli.api.async_client import AsyncCartesiaClient
from cartesia_cli.api.client import CartesiaClient
from cartesia_cli.api.contract import ApiConfig, os_reason
from cartesia_cli.api.events import AudioChunk
from cartesia_cli.api.protocol import BYTES_PATH, SSE_PATH, TtsRequest
from cartesia_cli.errors import CliError
from cartesia_cli.formats import Container, Encoding, RequestedFormat
from cartesia_cli.mock import FakeCartesia, Scenario
from cartesia_cli.settings import spec
from cartesia_cli.ui.error_line import error_line

from .conftest import API_KEY
from .test_fault_matrix import FAST_RETRY, HTTP_ROWS

IDLE = 0.3  # --idle-timeout for the stall rows: short, so that they are quick


class Outcome(NamedTuple):
    """What a caller of a client sees: the exit code, the error line, the audio it got."""

    code: int
    line: str | None
    audio: bytes
    requests: int  # as the server counted them
    waits: int  # pauses between attempts


class Row(NamedTuple):
    path: str
    scenarios: tuple[str | Scenario, ...]
    code: int  # the exit code the matrix gives this row
    said: str = ""  # in the error line
    idle: float = 10.0


def _http_row(status: int, code: int, said: str, text_body: bool) -> Row:
    failure = Scenario.http_error(status, text_body=text_body, headers=FAST_RETRY)
    # A plain-text body is quoted whole, its title too: the line ends as the JSON one does.
    said = said.rsplit(": ", 1)[-1] if text_body else said
    return Row(SSE_PATH, (failure,) * 3, code, said.rstrip("."))  # a hint may follow: no stop


ROWS = {
    **{
        f"http-{status}{'-text' if text else ''}": _http_row(status, code, said, text)
        for status, code, said in HTTP_ROWS
        for text in (False, True)
    },
    "error-before-audio": Row(SSE_PATH, ("error-before-audio",), 5, "Generation failed"),
    "done-without-audio": Row(SSE_PATH, ("done-without-audio",), 0),
    "wrong-content-type": Row(SSE_PATH, ("wrong-content-type",), 6, "expected an event stream"),
    "error-mid-stream": Row(SSE_PATH, ("error-mid-stream",), 5, "Generation failed"),
    "error-mid-stream-legacy": Row(SSE_PATH, ("error-mid-stream-legacy",), 5, "Generation"),
    "truncated": Row(SSE_PATH, ("truncated",), 6, "the stream ended before the server sent"),
    "cut": Row(SSE_PATH, ("cut",), 6, "connection to the server failed mid-stream"),
    "malformed-json": Row(SSE_PATH, ("malformed-json",), 6, "malformed event"),
    "bad-base64": Row(SSE_PATH, ("bad-base64",), 6, "`data` is not valid base64"),
    "stall": Row(SSE_PATH, ("stall",), 6, "no event from the server for 0.3 s", IDLE),
    "drop-then-ok": Row(SSE_PATH, ("drop", "ok"), 0),
    "drop-every-time": Row(SSE_PATH, ("drop",) * 3, 6, "failed before the response"),
    "429-then-ok": Row(SSE_PATH, (Scenario.http_error(429, headers=FAST_RETRY), "ok"), 0),
    "x-should-retry-false": Row(
        SSE_PATH, (Scenario.http_error(503, headers={"x-should-retry": "false"}),), 5, "503"
    ),
    "bytes-ok": Row(BYTES_PATH, ("ok",), 0),
    "bytes-cut": Row(BYTES_PATH, ("cut",), 6, "connection to the server failed mid-stream"),
    "bytes-stall": Row(BYTES_PATH, ("stall",), 6, "no data from the server for 0.3 s", IDLE),
    "bytes-wrong-content-type": Row(BYTES_PATH, ("wrong-content-type",), 6, "expected audio"),
    "bytes-drop-then-ok": Row(BYTES_PATH, ("drop", "ok"), 0),
    "bytes-500": Row(BYTES_PATH, (Scenario.http_error(500, headers=FAST_RETRY),) * 3, 5, "500"),
}


def request(path: str) -> TtsRequest:
    container = Container.WAV if path == BYTES_PATH else Container.RAW
    audio = RequestedFormat(container, Encoding.PCM_F32LE, 44100)
    return TtsRequest(spec.MODEL.default, "Hello, world!", spec.VOICE.default, audio)


def config(base_url: str, idle: float = 10.0) -> ApiConfig:
    return ApiConfig(base_url, API_KEY, spec.API_VERSION.default, 2.0, idle, 2)


def with_sync_client(api: ApiConfig, path: str) -> tuple[bytes, CliError | None, int]:
    audio, waits = bytearray(), list[float]()
    try:
        with CartesiaClient(api, sleep=waits.append) as client:
            for event in client.stream(path, request(path)):
                if isinstance(event, AudioChunk):
                    audio += event.audio
    except CliError as exc:
        return bytes(audio), exc, len(waits)
    return bytes(audio), None, len(waits)


def with_async_client(api: ApiConfig, path: str) -> tuple[bytes, CliError | None, int]:
    audio, waits = bytearray(), list[float]()

    async def record(delay: float) -> None:
        waits.append(delay)

    async def run() -> CliError | None:
        try:
            async with AsyncCartesiaClient(api, concurrency=1, sleep=record) as client:
                async for event in client.stream(path, request(path)):
                    if isinstance(event, AudioChunk):
                        audio.extend(event.audio)
        except CliError as exc:
            return exc
        return None

    failure = asyncio.run(run())
    return bytes(audio), failure, len(waits)


Drive = Callable[[ApiConfig, str], tuple[bytes, CliError | None, int]]
CLIENTS: dict[str, Drive] = {"sync": with_sync_client, "async": with_async_client}


def outcome(drive: Drive, api: ApiConfig, path: str, requests: Callable[[], int]) -> Outcome:
    audio, failure, waits = drive(api, path)
    if failure is None:
        return Outcome(0, None, audio, requests(), waits)
    return Outcome(failure.exit_code, error_line(failure), audio, requests(), waits)


def through_the_fake(drive: Drive, row: Row) -> tuple[Outcome, bytes]:
    """The row through one client; with the audio the fake sent in its last response."""
    with FakeCartesia(api_key=API_KEY) as fake:
        fake.queue(*row.scenarios)
        seen = outcome(drive, config(fake.url, row.idle), row.path, lambda: len(fake.requests))
        sent = bytes(fake.transmissions[-1].audio) if fake.transmissions else b""
    return seen, sent


@pytest.mark.parametrize("name", list(ROWS))
def test_both_clients_meet_a_fault_the_same_way(name: str) -> None:
    row = ROWS[name]
    seen: dict[str, Outcome] = {}
    for client, drive in CLIENTS.items():
        seen[client], sent = through_the_fake(drive, row)
        assert seen[client].code == row.code, (client, seen[client])
        assert seen[client].audio == sent, client  # every byte that came, and only those
        assert row.said in (seen[client].line or ""), (client, seen[client].line)
    assert seen["sync"] == seen["async"]


@pytest.fixture
def refusing_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_both_clients_report_a_refused_connection_alike(refusing_url: str) -> None:
    seen = {
        client: outcome(drive, config(refusing_url), SSE_PATH, lambda: 0)
        for client, drive in CLIENTS.items()
    }
    assert seen["sync"] == seen["async"]
    assert seen["sync"].code == 6 and seen["sync"].waits == 2
    refused = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"
    assert seen["sync"].line == f"could not connect to {refusing_url}: {refused} (after 3 attempts)"


def _wrapped(cause: BaseException) -> Exception:
    """As anyio wraps the system's error: a vaguer OSError, caused by it."""
    outer = OSError("All connection attempts failed")
    outer.__cause__ = cause
    return outer


class _Group(Exception):
    """An ExceptionGroup as os_reason sees one (the builtin from 3.11, a backport before)."""

    def __init__(self, exceptions: list[BaseException]) -> None:
        super().__init__("multiple connection attempts failed")
        self.exceptions = tuple(exceptions)


REFUSED = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"


@pytest.mark.parametrize(
    ("exc", "said"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED)), REFUSED),
        (_wrapped(ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")), REFUSED),
        (
            _wrapped(_Group([ConnectionRefusedError(errno.ECONNREFUSED, "a"), TimeoutError()])),
            REFUSED,
        ),
        (_wrapped(socket.gaierror(-2, "Name or service not known")), "[Errno -2] Name or service"),
        (_wrapped(ssl.SSLCertVerificationError(1, "verify failed")), "verify failed"),
        (OSError("no errno at all"), "no errno at all"),
    ],
    ids=["plain", "wrapped", "group", "dns", "tls", "bare"],
)
def test_the_systems_reason_is_named_the_same_under_any_wrapping(
    exc: BaseException, said: str
) -> None:
    assert os_reason(exc).startswith(said)
