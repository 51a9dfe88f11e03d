"""The batch's async client against the fake server: its faults, and the concurrency gate.

The same faults as a single run, mapped the same way; and a batch above the
plan's concurrency limit slows down (the gate comes down) instead of failing.
Retry waits are recorded and shortened, never slept in full.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest

from cartesia_cli.api.async_client import AsyncCartesiaClient, ConcurrencyGate
from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.api.events import AudioChunk
from cartesia_cli.api.protocol import BYTES_PATH, SSE_PATH, TtsRequest
from cartesia_cli.errors import IDLE_TIMEOUT, CliError, ExitCode, OutputError, RequestRejected
from cartesia_cli.formats import Container, Encoding, RequestedFormat
from cartesia_cli.mock import AudioPlan, FakeCartesia, Scenario
from cartesia_cli.output.sinks import NewFileName, open_sink
from cartesia_cli.run import batch
from cartesia_cli.run.pipeline import StreamResult, StreamStats
from cartesia_cli.settings import spec

from .conftest import API_KEY

IDLE = 0.3  # seconds: --idle-timeout, short so that a stall is quick to see


def request(text: str = "Hello, world!", container: Container = Container.RAW) -> TtsRequest:
    audio = RequestedFormat(container, Encoding.PCM_F32LE, 44100)
    return TtsRequest(spec.MODEL.default, text, spec.VOICE.default, audio)


def config(fake: FakeCartesia, retries: int = 2, idle: float = 10.0) -> ApiConfig:
    return ApiConfig(fake.url, API_KEY, spec.API_VERSION.default, 5.0, idle, retries)


async def heard(client: AsyncCartesiaClient, path: str, req: TtsRequest) -> bytes:
    audio = bytearray()
    async for event in client.stream(path, req):
        if isinstance(event, AudioChunk):
            audio += event.audio
    return bytes(audio)


async def heard_until_failure(
    client: AsyncCartesiaClient, path: str, req: TtsRequest
) -> tuple[bytes, CliError | None]:
    audio = bytearray()
    try:
        async for event in client.stream(path, req):
            if isinstance(event, AudioChunk):
                audio += event.audio
    except CliError as exc:
        return bytes(audio), exc
    return bytes(audio), None


@pytest.fixture
def fake() -> Iterator[FakeCartesia]:
    with FakeCartesia(api_key=API_KEY) as server:
        yield server


# --- the faults that matter for a batch ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fault", "message"),
    [
        (SSE_PATH, "stall", f"no event from the server for {IDLE:g} s (idle timeout)"),
        (SSE_PATH, "cut", "connection to the server failed mid-stream"),
        (SSE_PATH, "malformed-json", "malformed event from the server (not JSON)"),
        (
            SSE_PATH,
            "wrong-content-type",
            "expected an event stream from the server, got content type 'application/json'",
        ),
        (BYTES_PATH, "stall", f"no data from the server for {IDLE:g} s (idle timeout)"),
        (BYTES_PATH, "cut", "connection to the server failed mid-stream"),
        (BYTES_PATH, "wrong-content-type", "expected audio from the server, got content type"),
    ],
)
def test_a_fault_is_a_stream_failure_with_the_audio_that_came(
    fake: FakeCartesia, path: str, fault: str, message: str
) -> None:
    fake.queue(fault)
    container = Container.WAV if path == BYTES_PATH else Container.RAW

    async def run() -> tuple[bytes, CliError | None]:
        async with AsyncCartesiaClient(config(fake, idle=IDLE), concurrency=1) as client:
            return await heard_until_failure(client, path, request(container=container))

    audio, failure = asyncio.run(run())
    assert failure is not None and failure.exit_code == ExitCode.STREAM
    assert message in failure.message
    assert (failure.kind == IDLE_TIMEOUT) == (fault == "stall")
    sent = fake.transmissions[-1].audio if fake.transmissions else b""
    assert audio == bytes(sent)  # every byte that came, and only those
    assert len(fake.requests) == 1  # a failure after the answer began is never retried


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_failed_write_gives_the_streams_place_back_at_once(fake: FakeCartesia) -> None:
    """The stream is closed before the error comes out, not when the generator is collected."""

    async def run() -> None:
        async with AsyncCartesiaClient(config(fake), concurrency=1) as client:
            name = NewFileName("tts_sse", "pcm")
            sink = open_sink("/dev/full", force=True, stdout_is_tty=False, new_name=name)
            with pytest.raises(OutputError):
                await batch.pump(
                    client.stream(SSE_PATH, request()), sink, StreamResult(StreamStats())
                )
            assert client.gate.in_flight == 0  # nothing awaited since: closed on the way out
            sink.close(keep=False)

    asyncio.run(run())


# --- above the plan's concurrency limit --------------------------------------------------


def test_far_above_the_plans_limit_every_stream_succeeds_and_the_gate_comes_down() -> None:
    waits: list[float] = []

    async def quick(delay: float) -> None:
        waits.append(delay)
        await asyncio.sleep(delay / 100)  # the backoff's shape, a hundred times quicker

    async def run(fake: FakeCartesia) -> tuple[list[bytes], AsyncCartesiaClient]:
        async with AsyncCartesiaClient(config(fake), concurrency=8, sleep=quick) as client:
            texts = [f"Line {n}." for n in range(12)]
            results = await asyncio.gather(*(heard(client, SSE_PATH, request(t)) for t in texts))
            return list(results), client

    with FakeCartesia(api_key=API_KEY, concurrency_limit=2, pace=0.1) as fake:
        got, client = asyncio.run(run(fake))
    sent = [bytes(t.audio) for t in fake.transmissions if t.finished]
    assert sorted(got) == sorted(sent) and len(got) == 12  # all of them, byte for byte
    refused = len(fake.requests) - len(fake.transmissions)
    assert 0 < refused < 2 * 8  # the gate's bound: under twice the first limit
    assert client.gate.limit <= 2 and client.gate.in_flight == 0
    assert len(waits) == refused and all(0.25 <= w <= 8.0 for w in waits)  # backoff, jittered


def test_a_concurrency_refusal_waits_as_long_as_the_server_asks_and_a_little_more() -> None:
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    async def run(fake: FakeCartesia) -> list[bytes]:
        async with AsyncCartesiaClient(config(fake, retries=0), concurrency=2, sleep=record) as c:
            first = asyncio.create_task(heard(c, SSE_PATH, request("The first, long enough.")))
            while not fake.transmissions:  # the first is being answered: two are in flight
                await asyncio.sleep(0.005)
            second = await heard(c, SSE_PATH, request("The second."))
            return [await first, second]

    with FakeCartesia(api_key=API_KEY, pace=0.3, plan=AudioPlan(audio_seconds=1.0)) as fake:
        fake.queue("ok", Scenario.http_error(429, headers={"retry-after-ms": "400"}))
        got = asyncio.run(run(fake))
    assert got == [bytes(t.audio) for t in fake.transmissions]  # with --retries 0 too
    assert len(waits) == 1 and 0.4 <= waits[0] <= 0.5  # the hint, up to 25 % later


@pytest.mark.parametrize("text_body", [True, False], ids=["rate-limit", "alone"])
def test_a_429_that_is_not_ours_to_fix_keeps_the_retry_rules(
    fake: FakeCartesia, text_body: bool
) -> None:
    """A plain 429 (no concurrency_limited code), or one refused with nothing else of ours in
    flight (another client is using the plan): retried --retries times, then exit 4."""
    refusal = Scenario.http_error(429, text_body=text_body, headers={"retry-after-ms": "10"})
    fake.queue(refusal, refusal, refusal)
    waits: list[float] = []

    async def record(delay: float) -> None:
        waits.append(delay)

    async def run() -> tuple[bytes, CliError | None, int]:
        async with AsyncCartesiaClient(config(fake), concurrency=4, sleep=record) as client:
            audio, failure = await heard_until_failure(client, SSE_PATH, request())
            return audio, failure, client.gate.limit

    audio, failure, limit = asyncio.run(run())
    assert isinstance(failure, RequestRejected) and "(after 3 attempts)" in failure.message
    assert audio == b"" and len(fake.requests) == 3 and waits == [0.01, 0.01]
    assert limit == 4  # not lowered


def test_the_gate_comes_down_below_what_was_in_flight_and_never_below_one() -> None:
    gate = ConcurrencyGate(8)
    gate.in_flight = 8
    assert gate.refused() and gate.limit == 7
    gate.in_flight = 3  # the others ended meanwhile: fewer than that fit
    assert gate.refused() and gate.limit == 2
    gate.in_flight = 2
    assert gate.refused() and gate.limit == 1
    assert gate.refused() and gate.limit == 1
    gate.in_flight = 1
    assert not gate.refused() and gate.limit == 1  # alone: not ours to fix


def test_the_gate_lets_no_more_in_than_its_limit_even_as_it_comes_down() -> None:
    async def run() -> None:
        gate = ConcurrencyGate(3)
        for _ in range(3):
            await gate.enter()
        fourth = asyncio.create_task(gate.enter())
        await asyncio.sleep(0)
        assert not fourth.done()  # three are in
        gate.limit = 1  # lowered while three are in: the fourth waits for all but none
        for in_flight in (2, 1):
            gate.leave()
            await asyncio.sleep(0)
            assert not fourth.done() and gate.in_flight == in_flight
        gate.leave()
        await asyncio.wait_for(fourth, 1.0)
        assert gate.in_flight == 1

    asyncio.run(run())
