"""Hearing before spending: `voices try`, `voices list --try` and `dicts try`, below their options.

Each sample is planned as `say` plans its job (every local check before any
request), then looked up in the audio cache by everything that shapes its
audio, as `say --cache` would: found, it is played with no request at all; not
found, it is streamed, played and kept once complete. These commands always
use the cache (no --cache needed), but for a model named by an alias that
changes without notice, whose samples are never kept. A voice tried without text says a sentence
in its own language (`input/sample_sentences.py`); its language is asked of
the API only when that sample is not stored yet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from cartesia_cli import endpoints, process
from cartesia_cli.api import dicts, voices
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.errors import StreamError
from cartesia_cli.input import sample_sentences
from cartesia_cli.jobs import audition, caching, names, plan
from cartesia_cli.jobs.context import config_file, load_config
from cartesia_cli.jobs.job import JobOptions, TtsJob
from cartesia_cli.output.audio_cache import AudioCache
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, resolve
from cartesia_cli.settings.spec import Given
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.client import CartesiaClient

FROM_STORE = ", cached"  # the summary of a sample from the audio cache, as say --cache says it
# The planned transcript of a sample whose sentence waits on the voice's language.
_LATER = "sample"
# Samples are `say`'s job under their own words: -o DIR names files voices_try_….
VOICE_TRY = endpoints.SAY._replace(words=("voices", "try"), file_prefix="voices_try")
DICT_TRY = endpoints.SAY._replace(words=("dicts", "try"), file_prefix="dicts_try")


def sample_store_here(settings: Settings | None = None) -> AudioCache:
    """The user's audio cache (`cache_max_mb` from the settings), where samples are kept."""
    if settings is None:
        return caching.cache_here()
    return caching.cache_here(settings[spec.CACHE_MAX_MB])


def plan_listed(given: Given, *, debug: bool) -> Planned:
    """`voices list --try`'s samples planned before the listing is paid for: the player
    (`--player`'s setting from the environment or config) found, or a usage error."""
    options = JobOptions(
        transcript_arg=_LATER, transcript=None, output=None, force=False, play=True,
        timestamps=None, words_per_cue=None, json=False, dry_run=False, quiet=False,
        debug=debug, given=given,
    )  # fmt: skip
    return _planned(VOICE_TRY, options)


def try_voice(wanted: str, text: str | None, options: JobOptions) -> None:
    """`voices try`: the voice `wanted` (an id or a name) says `text`, or its sample sentence."""
    spoken = _LATER if text is None else text
    planned = _planned(VOICE_TRY, options._replace(transcript_arg=spoken))
    with _client(planned.plan) as client:
        voice = names.look_up(names.VOICE, wanted, client.config)
        _sample(
            planned, client, planned.plan.request._replace(voice_id=voice.id),
            language=(lambda: _language(client, voice.id)) if text is None else None,
        )  # fmt: skip
    process.stop_taken()  # heard: no signal may cut the summary or the exit short


def try_listed(planned: Planned, found: Iterable[voices.Voice]) -> None:
    """`voices list --try`: each voice listed says its sample sentence, its name shown first."""
    with _client(planned.plan) as client:
        for voice in found:
            console.info(_announced(voice))
            request = planned.plan.request._replace(voice_id=voice["id"])
            _sample(planned, client, request, language=_known(voice.get("language")))
    process.stop_taken()


def try_dictionary(word: str, wanted: str, options: JobOptions) -> None:
    """`dicts try`: `word` said without the dictionary `wanted`, then with it."""
    planned = _planned(DICT_TRY, options._replace(transcript_arg=word, output=None))
    field = spec.PRONUNCIATION_DICT.body
    fields = {k: v for k, v in planned.plan.request.fields.items() if k != field}
    without = planned.plan.request._replace(fields=fields)
    with _client(planned.plan) as client:
        found = names.look_up(names.DICTIONARY, wanted, client.config)
        dictionary = _dictionary(client, found.id)
        shown = found.name or voices.field(dictionary, "name") or found.id
        with_it = without._replace(fields={**fields, field: found.id})
        console.info("without the dictionary:")
        _sample(planned, client, without)
        console.info(f"with {shown}:")
        items = {"dictionary_items": dictionary.get("items")}  # an edited dictionary is new audio
        _sample(planned, client, with_it, extra=items)
    process.stop_taken()


def sample_key(
    base_url: str, request: TtsRequest, *, default_text: bool, extra: Mapping[str, Any] = {}
) -> str:
    """The cache's key, as `say`'s for the same request: the base URL, the path, the version
    and the whole body, so everything that shapes the audio; a sample sentence is named by
    the table's digest, not its words; `extra` (a dictionary's entries) goes in the body."""
    body = {**request.body(), **extra}
    if default_text:
        body["transcript"] = {"sample sentence": sample_sentences.table_id()}
    return caching.request_key(base_url, endpoints.SAY.path, request, body)


class Planned(NamedTuple):
    """A sample's job, its plan, and the cache its samples are kept in."""

    job: TtsJob
    plan: plan.Plan
    cache: AudioCache | None  # None for a model named by an alias: its samples are not kept


def _planned(endpoint: endpoints.TtsEndpoint, options: JobOptions) -> Planned:
    """The job and its plan: every local check (player, output, settings) before any request."""
    console.configure(quiet=options.quiet, debug=options.debug)
    job = TtsJob(endpoint, options._replace(play=True))
    settings = resolve(options.given, os.environ, load_config(config_file()))
    planned = plan.plan(job, settings)
    alias = caching.is_alias(planned.request.model_id)
    return Planned(job, planned, None if alias else sample_store_here(settings))


def _client(planned: plan.Plan) -> CartesiaClient:
    from cartesia_cli.api.client import CartesiaClient

    return CartesiaClient(planned.api, debug=console.debug_log())


def _sample(
    planned: Planned,
    client: CartesiaClient,
    request: TtsRequest,
    *,
    language: Callable[[], object] | None = None,
    extra: Mapping[str, Any] = {},
) -> None:
    """One sample: replayed from the cache, or streamed, played and kept.

    `language`, when given, is called for the voice's language on a miss: the
    request then says that language's sample sentence. A cache that cannot be
    written costs a warning, not the run.
    """
    job, cache = planned.job, planned.cache
    base_url = planned.plan.api.base_url
    key = sample_key(base_url, request, default_text=language is not None, extra=extra)
    found = None if cache is None else cache.open(key)
    if found is not None:
        with found:
            replayed = planned.plan._replace(request=request)
            audition.hear(job, replayed, caching.replayed(found), note=FROM_STORE)
        return
    if language is not None:
        request = request._replace(transcript=sample_sentences.sentence_for(language()))
    streamed = planned.plan._replace(request=request)
    events = client.stream(endpoints.SAY.path, request)
    if cache is None:
        audition.hear(job, streamed, events)
        return
    with cache.writer(key) as writer:  # removed unless the stream completed
        audition.hear(job, streamed, events, keep=writer)


def _known(language: object) -> Callable[[], object]:
    """A voice's language already at hand (from the listing): no request for it."""
    return lambda: language


def _language(client: CartesiaClient, voice_id: str) -> object:
    """The voice's language, from GET /voices/{id} (404 for an unknown voice: exit 4)."""
    return voices.check_voice(client.get_json(voices.path(voice_id))).get("language")


def _dictionary(client: CartesiaClient, dictionary_id: str) -> dict[str, Any]:
    """GET /pronunciation-dicts/{id}: it exists (404: exit 4, before any audio is paid for)."""
    found = client.get_json(dicts.path(dictionary_id))
    if not isinstance(found, dict):
        raise StreamError("malformed pronunciation dictionary from the server: not an object")
    return found


def _announced(voice: voices.Voice) -> str:
    """`Katie (en, f786…)`: who is about to speak."""
    name = voices.field(voice, "name") or voice["id"]
    language = voices.field(voice, "language") or "?"
    return f"{name} ({language}, {voice['id'][:4]}…)"
