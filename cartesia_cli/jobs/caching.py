"""A job and the audio cache: whether its audio may come from there, and how a miss goes in.

The key is the whole canonical request: the base URL, the API path, the
version and the whole body (resolved model id, voice, transcript, output
format, every field). What is kept is the audio as received, before any
framing or encoding here, so a hit is written, framed, encoded or played by
the same sinks as a stream (`-o x.mp3`, `-o -`, `--play`).

Not cached: `tts ws` (its text streams in), a job with `--timestamps` (the
word times are not kept with the audio: such a job always asks the API), and
a model named by an alias that changes without notice (`MODEL_ALIASES`) unless
`--cache-aliases`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable, Mapping
from typing import Any, NamedTuple

from cartesia_cli import process
from cartesia_cli.api.events import AudioChunk, Event
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.endpoints import WEBSOCKET
from cartesia_cli.formats import MODEL_ALIASES
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.plan import Plan
from cartesia_cli.output.audio_cache import AudioCache, Cached, Writer, key
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings
from cartesia_cli.ui.console import console

FOLDER = "audio"  # in the user's cache directory (settings/dirs.py)
MB = 1024 * 1024


class CacheUse(NamedTuple):
    """A job that uses the cache: where, and under which key its audio is."""

    cache: AudioCache
    key: str


def cache_here(max_mb: int = spec.CACHE_MAX_MB.default) -> AudioCache:
    """The user's audio cache: `audio` in the cache directory, capped at `max_mb`."""
    from cartesia_cli.settings import dirs

    return AudioCache(dirs.cache_dir() / FOLDER, max_bytes=max_mb * MB)


def request_key(
    base_url: str, path: str, request: TtsRequest, body: Mapping[str, Any] | None = None
) -> str:
    """The key of the audio `request` makes: everything that shapes it, and nothing else."""
    parts = {
        "base_url": base_url,
        "path": path,
        "version": request.api_version,
        "body": request.body() if body is None else body,
    }
    return key(parts)


def is_alias(model_id: str) -> bool:
    return model_id in MODEL_ALIASES


def use_for(job: TtsJob, plan: Plan, settings: Settings) -> CacheUse | None:
    """The cache this job uses, or None: off, over a WebSocket, with --timestamps, an alias."""
    if not settings[spec.CACHE] or job.endpoint.transport is WEBSOCKET or plan.stamps:
        return None
    return use(job.endpoint.path, plan, settings)


def use(path: str, plan: Plan, settings: Settings) -> CacheUse | None:
    """The cache for a request to `path`, whatever the setting (None for an alias unless asked)."""
    if is_alias(plan.request.model_id) and not settings[spec.CACHE_ALIASES]:
        return None
    cache = cache_here(settings[spec.CACHE_MAX_MB])
    return CacheUse(cache, request_key(plan.api.base_url, path, plan.request))


def stored(use: CacheUse | None) -> bool:
    """Is the job's audio in the cache now: a hit, with nothing to connect for?"""
    found = None if use is None else use.cache.open(use.key)
    if found is None:
        return False
    found.close()
    return True


def dry_run_line(job: TtsJob, plan: Plan, settings: Settings) -> str | None:
    """What the cache would do with this request (--dry-run): a hit, a miss, or why not used."""
    if not settings[spec.CACHE]:
        return None
    if job.endpoint.transport is WEBSOCKET:
        return f"cache: not used by {job.command} (its text streams in)"
    if plan.stamps:
        return "cache: not used with --timestamps (the word times are not kept)"
    found = use(job.endpoint.path, plan, settings)
    if found is None:
        model = plan.request.model_id
        return f"cache: not used for {model}, an alias that changes (--cache-aliases uses it)"
    entry = found.cache.open(found.key)
    if entry is None:
        return f"cache: a miss; the audio would be kept in {found.cache.folder}"
    entry.close()
    return "cache: a hit; the audio would come from the cache, with no request"


def replayed(found: Cached) -> Generator[Event, None, None]:
    """A cache entry's audio as the events a stream of it would be; closes the entry."""
    try:
        for chunk in found.chunks():
            yield AudioChunk(chunk)
    finally:
        found.close()


def recorded(events: Iterable[Event], writer: Writer) -> Generator[Event, None, None]:
    """`events` as they come, their audio also written to `writer`; closed with them."""
    try:
        for event in events:
            if isinstance(event, AudioChunk):
                writer.add(event.audio)
            yield event
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()  # the response goes with the stream, whatever ended it


async def recorded_async(
    events: AsyncGenerator[Event, None], writer: Writer
) -> AsyncGenerator[Event, None]:
    """`recorded` for an async stream (--batch): closed with it."""
    try:
        async for event in events:
            if isinstance(event, AudioChunk):
                writer.add(event.audio)
            yield event
    finally:
        await events.aclose()


def keep(writer: Writer) -> bool:
    """The stream is complete: its audio goes into the cache, whole (a warning if it cannot)."""
    with process.signals_held():  # stored whole, or not at all
        kept = writer.commit()
    failure = writer.failure
    if failure is not None:
        where = failure.filename or writer.folder
        console.warning(f"could not keep the audio in the cache {where}: {failure.strerror}")
    return kept
