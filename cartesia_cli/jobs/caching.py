"""A job and the audio cache: whether its audio may come from there, and how a miss goes in.

The key is the whole canonical request: the base URL, the API path, the
version and the whole body (resolved model id, voice, transcript, output
format, every field). What is kept is the audio as received, before any
framing or encoding here, so a hit is written, framed, encoded or played by
the same sinks as a stream (`-o x.mp3`, `-o -`, `--play`).

A request that names a pronunciation dictionary is keyed by the dictionary's
words too (`dictionary_items`, as `dicts try` keys its samples): the id alone
stays the same when the dictionary is edited, and the old pronunciation would
be replayed. So such a run reads the dictionary first, one GET per dictionary
per run (a batch reads each once): free of credits and of synthesis, but a
request all the same, which a hit without a dictionary never makes. A dry run
reads nothing, and so cannot tell a hit from a miss there.

Not cached: `tts ws` (its text streams in), a job with `--timestamps` (the
word times are not kept with the audio: such a job always asks the API), and
a model named by an alias that changes without notice (`MODEL_ALIASES`) unless
`--cache-aliases`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

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

if TYPE_CHECKING:
    from cartesia_cli.api.api_config import ApiConfig

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


def with_words(body: Mapping[str, Any], items: object) -> dict[str, Any]:
    """`body` with a pronunciation dictionary's words beside its id: an edit is new audio."""
    return {**body, "dictionary_items": items}


def dictionary_of(request: TtsRequest) -> str | None:
    """The id of the pronunciation dictionary `request` names, if any."""
    found = request.fields.get(spec.PRONUNCIATION_DICT.body)
    return found if isinstance(found, str) else None


class Dictionaries:
    """The words of each pronunciation dictionary a run names: one GET each, then kept.

    One per run (a batch's items share it): a later run reads them again, so an
    edit made between runs is seen.
    """

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], object] = {}

    def items(self, api: ApiConfig, dictionary_id: str) -> object:
        """The dictionary's `items` (a 404 or a network failure is the run's, as the TTS's)."""
        known = (api.base_url, dictionary_id)
        if known not in self._items:
            self._items[known] = _read_items(api, dictionary_id)
        return self._items[known]


def _read_items(api: ApiConfig, dictionary_id: str) -> object:
    from cartesia_cli.api import dicts
    from cartesia_cli.api.client import CartesiaClient

    with CartesiaClient(api, debug=console.debug_log()) as client:
        found = dicts.check_dictionary(client.get_json(dicts.path(dictionary_id)))
    return found.get("items")


def is_alias(model_id: str) -> bool:
    return model_id in MODEL_ALIASES


def use_for(job: TtsJob, plan: Plan, settings: Settings) -> CacheUse | None:
    """The cache this job uses, or None: off, over a WebSocket, with --timestamps, an alias."""
    if not settings[spec.CACHE] or job.endpoint.transport is WEBSOCKET or plan.stamps:
        return None
    return use(job.endpoint.path, plan, settings)


def use(
    path: str, plan: Plan, settings: Settings, dictionaries: Dictionaries | None = None
) -> CacheUse | None:
    """The cache for a request to `path`, whatever the setting (None for an alias unless asked).

    A request with a pronunciation dictionary reads its words here (`dictionaries`
    keeps them for the run), before anything is looked up.
    """
    if is_alias(plan.request.model_id) and not settings[spec.CACHE_ALIASES]:
        return None
    cache = cache_here(settings[spec.CACHE_MAX_MB])
    body = plan.request.body()
    dictionary = dictionary_of(plan.request)
    if dictionary is not None:
        read = dictionaries if dictionaries is not None else Dictionaries()
        body = with_words(body, read.items(plan.api, dictionary))
    return CacheUse(cache, request_key(plan.api.base_url, path, plan.request, body))


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
    if is_alias(plan.request.model_id) and not settings[spec.CACHE_ALIASES]:
        model = plan.request.model_id
        return f"cache: not used for {model}, an alias that changes (--cache-aliases uses it)"
    if dictionary_of(plan.request) is not None:  # its words would take a request to read
        return "cache: a hit or a miss by the dictionary's words, which a dry run does not read"
    found = use(job.endpoint.path, plan, settings)
    assert found is not None
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
