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


# --- voices and pronunciation dictionaries, managed through the SDK ------------------------

WAV_CLIP = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)
KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"


def sdk(fake: FakeCartesia) -> Any:
    return cartesia.Cartesia(api_key=API_KEY, base_url=fake.url, max_retries=0)


def test_the_sdk_clones_gets_lists_updates_and_deletes_a_voice(
    fake: FakeCartesia, tmp_path: Path
) -> None:
    client = sdk(fake)
    clip = tmp_path / "me.wav"
    clip.write_bytes(WAV_CLIP)
    made = client.voices.clone(
        clip=clip, name="Me", language="en", accent="british", description="mine"
    )
    assert (made.name, made.access, made.visibility, made.user_id) == (
        "Me", "private", "owner", "user_mock"
    )  # fmt: skip
    voice = client.voices.get(made.id)
    assert (voice.is_owner, voice.accent, voice.locales[0].locale) == (True, "british", "en-GB")
    assert made.id in [v.id for v in client.voices.list(limit=7)]  # paged to the end
    changed = client.voices.update(made.id, name="Still me", gender=None, accent="australian")
    assert (changed.name, changed.gender, changed.accent) == ("Still me", None, "australian")
    localized = client.voices.localize(voice_id=made.id, name="Moi", accent="parisian")
    assert client.voices.get(localized.id).language == "fr"
    assert client.voices.delete(made.id) is None
    with pytest.raises(cartesia.NotFoundError):
        client.voices.get(made.id)
    with pytest.raises(cartesia.NotFoundError):
        client.voices.delete(KATIE)  # a library voice: not the caller's to delete
    assert [r.headers["accept"] for r in fake.requests if r.method == "DELETE"] == ["*/*"] * 2


def test_the_sdk_lists_accents_and_adds_and_removes_them(fake: FakeCartesia) -> None:
    client = sdk(fake)
    ids = [accent.id for accent in client.voices.list_accents().accents]
    assert "general-american" in ids and ids == sorted(ids)
    made = client.voices.clone(clip=("c.wav", WAV_CLIP), name="A", language="en")
    with_accents = client.voices.add_accents(made.id, accents=["british", "castilian"])
    assert [loc.locale for loc in with_accents.locales] == ["en-US", "en-GB", "es-ES"]
    without = client.voices.delete_accent("castilian", id=made.id)
    assert [loc.is_native for loc in without.locales] == [True, False]


def test_a_bad_clip_reaches_the_sdk_as_a_400_with_the_reason(fake: FakeCartesia) -> None:
    with pytest.raises(cartesia.BadRequestError, match="clip is not audio"):
        sdk(fake).voices.clone(clip=("c.txt", b"not audio"), name="A", language="en")


def test_the_sdk_manages_pronunciation_dictionaries(fake: FakeCartesia) -> None:
    client = sdk(fake)
    made = client.pronunciation_dicts.create(
        name="Places", items=[{"text": "Tchoupitoulas", "alias": "chop-uh-TOO-liss"}]
    )
    assert (made.pinned, made.items[0].alias) == (False, "chop-uh-TOO-liss")
    for name in ("b", "c"):
        client.pronunciation_dicts.create(name=name)
    assert [d.name for d in client.pronunciation_dicts.list(limit=1)] == ["Places", "b", "c"]
    assert client.pronunciation_dicts.retrieve(made.id).id == made.id
    renamed = client.pronunciation_dicts.update(made.id, name="Streets")
    assert (renamed.name, len(renamed.items)) == ("Streets", 1)
    assert client.pronunciation_dicts.update(made.id, items=[]).items == []
    assert client.pronunciation_dicts.delete(made.id) is None
    with pytest.raises(cartesia.NotFoundError):
        client.pronunciation_dicts.retrieve(made.id)
    collection = [r.path.split("?")[0] for r in fake.requests if r.method != "PATCH"]
    assert "/pronunciation-dicts/" in collection  # the SDK's trailing slash is served


@sdk_connects_directly
def test_a_dictionary_given_to_the_sdk_is_heard_over_sse_and_the_websocket(
    fake: FakeCartesia,
) -> None:
    client = sdk(fake)
    made = client.pronunciation_dicts.create(
        name="d", items=[{"text": "official", "pronunciation": "oh fish al"}]
    )

    def over_sse(**more: Any) -> bytes:
        stream = client.tts.generate_sse(
            model_id="sonic-3.5", transcript=TEXT, voice=VOICE, output_format=RAW, **more
        )
        return b"".join(e.audio for e in stream if e.type == "chunk" and e.audio)

    plain, with_dictionary = over_sse(), over_sse(pronunciation_dict_id=made.id)
    assert plain != with_dictionary
    chunks = sdk_websocket(fake, [TEXT], pronunciation_dict_id=made.id)
    assert b"".join(c.audio for c in chunks if c.type == "chunk" and c.audio) == with_dictionary
    with pytest.raises(cartesia.NotFoundError):
        over_sse(pronunciation_dict_id="no-such-dictionary")
