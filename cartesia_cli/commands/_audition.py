"""Hearing before spending: `voices try`, `voices list --try` and `dicts try`, below their options.

Each sample is planned as `say` plans its job (every local check before any
request), then looked up in the sample store by everything that shapes its
audio: found, it is played with no request at all; not found, it is streamed,
played and stored once complete. A voice tried without text says a sentence
in its own language (`input/sample_sentences.py`); its language is asked of
the API only when that sample is not stored yet.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from cartesia_cli import endpoints, process
from cartesia_cli.api import dicts, voices
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.errors import StreamError
from cartesia_cli.input import sample_sentences
from cartesia_cli.jobs import audition, names, plan
from cartesia_cli.jobs.context import config_file, load_config
from cartesia_cli.jobs.job import JobOptions, TtsJob
from cartesia_cli.output import sample_store
from cartesia_cli.output.sample_store import SampleStore
from cartesia_cli.settings import name_cache, spec
from cartesia_cli.settings.resolve import resolve
from cartesia_cli.settings.spec import Given
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.client import CartesiaClient

FROM_STORE = " (from the sample store)"
STORE_FOLDER = "samples"  # in the user's cache directory, beside the voice cache
# The planned transcript of a sample whose sentence waits on the voice's language.
_LATER = "sample"
# Samples are `say`'s job under their own words: -o DIR names files voices_try_….
VOICE_TRY = endpoints.SAY._replace(words=("voices", "try"), file_prefix="voices_try")
DICT_TRY = endpoints.SAY._replace(words=("dicts", "try"), file_prefix="dicts_try")


def sample_store_here() -> SampleStore:
    """The user's sample store: the cache directory's `samples` folder, beside the voice cache."""
    return SampleStore(name_cache.cache_path().parent / STORE_FOLDER)


Planned = tuple[TtsJob, plan.Plan]


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
    job, planned = _planned(VOICE_TRY, options._replace(transcript_arg=spoken))
    with _client(planned) as client:
        voice = named(names.VOICE, wanted, client)
        _sample(
            job, planned, client, planned.request._replace(voice_id=voice.id),
            language=(lambda: _language(client, voice.id)) if text is None else None,
        )  # fmt: skip
    process.stop_taken()  # heard: no signal may cut the summary or the exit short


def try_listed(listed: Planned, found: Iterable[voices.Voice]) -> None:
    """`voices list --try`: each voice listed says its sample sentence, its name shown first."""
    job, planned = listed
    with _client(planned) as client:
        for voice in found:
            console.info(_announced(voice))
            request = planned.request._replace(voice_id=voice["id"])
            _sample(job, planned, client, request, language=_known(voice.get("language")))
    process.stop_taken()


def try_dictionary(word: str, wanted: str, options: JobOptions) -> None:
    """`dicts try`: `word` said without the dictionary `wanted`, then with it."""
    job, planned = _planned(DICT_TRY, options._replace(transcript_arg=word, output=None))
    field = spec.PRONUNCIATION_DICT.body
    fields = {k: v for k, v in planned.request.fields.items() if k != field}
    without = planned.request._replace(fields=fields)
    with _client(planned) as client:
        found = named(names.DICTIONARY, wanted, client)
        dictionary = _dictionary(client, found.id)
        shown = found.name or voices.field(dictionary, "name") or found.id
        with_it = without._replace(fields={**fields, field: found.id})
        console.info("without the dictionary:")
        _sample(job, planned, client, without)
        console.info(f"with {shown}:")
        items = {"dictionary_items": dictionary.get("items")}  # an edited dictionary is new audio
        _sample(job, planned, client, with_it, extra=items)
    process.stop_taken()


def named(kind: names.Kind, wanted: str, client: CartesiaClient) -> names.Named:
    """The id (and name) `wanted` stands for; the one place these commands resolve a name."""
    return names.look_up(kind, wanted, client.config)


def sample_key(
    base_url: str, request: TtsRequest, *, default_text: bool, extra: Mapping[str, Any] = {}
) -> str:
    """The store's key: the base URL, the version and the whole body, so everything that
    shapes the audio; a sample sentence is named by the table's digest, not its words."""
    body = request.body()
    if default_text:
        body["transcript"] = {"sample sentence": sample_sentences.table_id()}
    parts = {"base_url": base_url, "version": request.api_version, "body": body, **extra}
    return sample_store.key(parts)


def _planned(endpoint: endpoints.TtsEndpoint, options: JobOptions) -> tuple[TtsJob, plan.Plan]:
    """The job and its plan: every local check (player, output, settings) before any request."""
    console.configure(quiet=options.quiet, debug=options.debug)
    job = TtsJob(endpoint, options._replace(play=True))
    settings = resolve(options.given, os.environ, load_config(config_file()))
    return job, plan.plan(job, settings)


def _client(planned: plan.Plan) -> CartesiaClient:
    from cartesia_cli.api.client import CartesiaClient

    return CartesiaClient(planned.api, debug=console.debug_log())


def _sample(
    job: TtsJob,
    planned: plan.Plan,
    client: CartesiaClient,
    request: TtsRequest,
    *,
    language: Callable[[], object] | None = None,
    extra: Mapping[str, Any] = {},
) -> None:
    """One sample: replayed from the store, or streamed, played and stored.

    `language`, when given, is called for the voice's language on a miss: the
    request then says that language's sample sentence.
    """
    samples = sample_store_here()
    base_url = planned.api.base_url
    key = sample_key(base_url, request, default_text=language is not None, extra=extra)
    stored = samples.get(key)
    if stored is not None:
        replayed = planned._replace(request=request)
        audition.hear(job, replayed, audition.stored_events(stored), note=FROM_STORE)
        return
    if language is not None:
        request = request._replace(transcript=sample_sentences.sentence_for(language()))
    streamed = planned._replace(request=request)
    keep = (samples.recording(), lambda audio: _store(samples, key, audio))
    audition.hear(job, streamed, client.stream(endpoints.SAY.path, request), keep=keep)


def _store(samples: SampleStore, key: str, audio: bytes) -> None:
    """Keep a complete sample; a store that cannot be written costs a warning, not the run."""
    try:
        samples.put(key, audio)
    except OSError as exc:
        where = exc.filename or samples.folder
        console.warning(f"could not keep the sample in {where}: {exc.strerror}")


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
