"""The official `cartesia` SDK against the mock: what works against the real API works here.

Audio is compared byte for byte with what the CLI gets for the same request.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import API_KEY, RunCli

cartesia = pytest.importorskip("cartesia")

VOICE: Any = {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"}
RAW = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
TEXT = "Hello from the official SDK."


def sdk_sse(fake: FakeCartesia) -> bytes:
    client = cartesia.Cartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)
    stream = client.tts.generate_sse(
        model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=RAW
    )
    return b"".join(event.audio for event in stream if event.type == "chunk" and event.audio)


def test_sync_sse_streams_the_same_bytes_as_the_cli(cli: RunCli, fake: FakeCartesia) -> None:
    audio = sdk_sse(fake)
    result = cli("tts", "sse", TEXT, "-e", "pcm_s16le", "-r", "16000", "-o", "-")
    assert result.code == 0
    assert audio == result.stdout and len(audio) > 0


def test_async_sse_streams_the_same_bytes(fake: FakeCartesia) -> None:
    async def stream() -> bytes:
        client = cartesia.AsyncCartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)
        events = await client.tts.generate_sse(
            model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=RAW
        )
        return b"".join([e.audio async for e in events if e.type == "chunk" and e.audio])

    assert asyncio.run(stream()) == sdk_sse(fake)


def test_an_error_event_gives_the_sdk_its_title_and_message(fake: FakeCartesia) -> None:
    fake.queue("error-mid-stream")
    client = cartesia.Cartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)
    stream = client.tts.generate_sse(
        model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=RAW
    )
    errors = [event for event in stream if event.type == "error"]
    assert [(e.title, e.message) for e in errors] == [
        ("Internal server error", "Generation failed. Please retry.")
    ]


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize(
    ("output_format", "codec"),
    [
        ({"container": "wav", "encoding": "pcm_s16le", "sample_rate": 16000}, "pcm_s16le"),
        ({"container": "mp3", "sample_rate": 44100, "bit_rate": 128000}, "mp3"),
    ],
)
def test_generate_returns_files_ffprobe_reads(
    fake: FakeCartesia, tmp_path: Path, output_format: dict[str, Any], codec: str
) -> None:
    client = cartesia.Cartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)
    response = client.tts.generate(
        model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=output_format
    )
    path = tmp_path / f"x.{output_format['container']}"
    path.write_bytes(response.read())
    entries = ["-show_entries", "stream=codec_name", "-of", "csv=p=0"]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", *entries, str(path)], capture_output=True, text=True, check=True
    )
    assert probe.stdout.strip() == codec


def test_128_concurrent_async_sdk_streams_all_succeed_with_retries_off() -> None:
    async def many(url: str) -> list[int]:
        client = cartesia.AsyncCartesia(api_key=API_KEY, base_url=url, max_retries=0)

        async def one() -> int:
            events = await client.tts.generate_sse(
                model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=RAW
            )
            return sum([len(e.audio) async for e in events if e.type == "chunk" and e.audio])

        return list(await asyncio.gather(*(one() for _ in range(128))))

    with FakeCartesia(api_key=API_KEY) as fake:
        sizes = asyncio.run(many(fake.url))
    assert len(set(sizes)) == 1 and sizes[0] > 0


# --- the SDK's WebSocket: a context fed with push(), closed with no_more_inputs() --------


# cartesia 4.2 calls websockets' connect() without `with`, which websockets 17 deprecates.
sdk_connects_directly = pytest.mark.filterwarnings(
    "ignore:connect\\(\\) must be used as a context manager:DeprecationWarning"
)


def sdk_websocket(fake: FakeCartesia, pieces: list[str], **context: Any) -> list[Any]:
    client = cartesia.Cartesia(
        api_key=API_KEY,
        base_url=fake.url,
        websocket_base_url=fake.url.replace("http://", "ws://"),  # the SDK assumes wss://
        max_retries=0,
    )
    with client.tts.websocket_connect() as connection:
        ctx = connection.context(
            model_id="sonic-3.5", voice=VOICE, output_format=RAW, timeout=10, **context
        )
        for text in pieces:
            ctx.push(text)
        ctx.no_more_inputs()
        return list(ctx.receive())


@sdk_connects_directly
def test_a_websocket_context_speaks_what_the_cli_gets_over_sse(
    cli: RunCli, fake: FakeCartesia
) -> None:
    # No max_buffer_delay_ms: the server buffers (3 s) and the pieces are one utterance.
    events = sdk_websocket(fake, ["Hello from ", "the official SDK."], add_timestamps=True)
    audio = b"".join(e.audio for e in events if e.type == "chunk" and e.audio)
    result = cli("tts", "sse", TEXT, "-e", "pcm_s16le", "-r", "16000", "-o", "-")
    assert result.code == 0 and audio == result.stdout and audio
    words = [w for e in events if e.type == "timestamps" for w in e.word_timestamps.words]
    assert words == TEXT.split()
    assert events[-1].type == "done"
    upgrade = fake.requests[0]
    assert upgrade.path == "/tts/websocket"
    assert upgrade.headers["authorization"] == f"Bearer {API_KEY}"


@sdk_connects_directly
def test_a_websocket_error_reaches_the_sdk_with_its_message(fake: FakeCartesia) -> None:
    fake.queue("error-mid-stream")
    events = sdk_websocket(fake, [TEXT])
    assert [e.type for e in events] == ["chunk", "error"]
    assert (events[-1].title, events[-1].message) == (
        "Internal server error",
        "Generation failed. Please retry.",
    )
