"""`narrate`'s plan: every check before any request, and what is left to say.

In the order a user fixes them: the book and its cast (jobs/book_input.py), the
settings, the output format (ffmpeg for m4b and mp3), the folder (DIR: a folder
of ours or a new one, writable), its manifest (of this book, and sound), then
the voices: each voicing (the narrator, each speaker of the cast) gets its
voice and dictionary as ids, from the name cache, else from what the manifest
recorded, else (only when something is to be said) from one listing.

Each paragraph's part key is the SHA-256 of its text hash and of everything
that reaches its request: the base URL, the API version and the request body
but its transcript (model, voice id, output format, sample rate, controls,
pronunciation dictionary id, timestamps, buffer delay). A part whose key is in
DIR/.parts is reused; the others are what this run says.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.api.ws_chapter import BUFFER_MS
from cartesia_cli.errors import UsageError
from cartesia_cli.formats import Container, Encoding, RequestedFormat
from cartesia_cli.input.book import Book
from cartesia_cli.jobs import names, narrate_manifest
from cartesia_cli.jobs.book_input import STDIN, BookInput, read_book
from cartesia_cli.jobs.cast import SPEAKER_SETTINGS
from cartesia_cli.jobs.context import config_file, load_config
from cartesia_cli.jobs.narrate_manifest import MANIFEST
from cartesia_cli.jobs.narration import (
    NARRATOR,
    Manifest,
    NarrateOptions,
    NarratePlan,
    Part,
    Voicing,
    input_name,
)
from cartesia_cli.output.book_names import safe_title
from cartesia_cli.output.book_parts import PARTS, PartsFolder
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, insecure_url_warning, resolve
from cartesia_cli.ui.console import console

KEY_VERSION = 1  # bumped when what a part is made of changes


def plan(options: NarrateOptions, stdin: BinaryIO | None) -> NarratePlan:
    """Every local check, then the voices; no request unless a name must be looked up."""
    cast_file = Path(options.cast) if options.cast is not None else None
    read = read_book(
        options.input, stdin=stdin, cast_file=cast_file, chapter_pattern=options.chapter_pattern
    )
    settings = resolve(options.given, os.environ, load_config(config_file()), key_required=False)
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    if settings[spec.LANGUAGE] is not None and settings[spec.LOCALE] is not None:
        raise UsageError("--language and --locale cannot be combined; a locale names the language")
    fmt, ffmpeg = check_format(options.format)
    folder = book_folder(options, read)
    check_folder(folder, creating=not options.estimate)
    old = narrate_manifest.load(folder / MANIFEST)
    structure = narrate_manifest.structure_hash(read.book)
    narrate_manifest.check_same_book(old, folder, input_name(options.input), structure)
    parts = PartsFolder(folder)
    voicings = _voicings(read, settings, old, resolving=False)
    chapters = _parts(read.book, voicings, settings)
    present = _present(chapters, parts)
    planned = NarratePlan(
        options, read.book, read.cast, folder, fmt, ffmpeg, settings, settings[spec.SAMPLE_RATE],
        voicings, chapters, present, old, structure,
    )  # fmt: skip
    narrate_manifest.check_parts(old, present, folder)
    return planned


def with_voices(planned: NarratePlan) -> NarratePlan:
    """The plan with every voice and dictionary as an id, looked up in one listing if need be.

    Called only when something is to be said (a key is needed then), so a complete
    book, or an estimate, never asks the API for anything.
    """
    if all(v.voice_id is not None for v in planned.voicings.values()):
        return planned
    read = BookInput(planned.book, planned.cast)
    voicings = _voicings(read, planned.settings, planned.old, resolving=True)
    chapters = _parts(planned.book, voicings, planned.settings)
    return planned._replace(
        voicings=voicings,
        chapters=chapters,
        present=_present(chapters, PartsFolder(planned.folder)),
    )


def check_format(fmt: str) -> tuple[str, str | None]:
    """The book's format and ffmpeg's path (m4b and mp3 are made by ffmpeg; wav needs nothing)."""
    from cartesia_cli.output.audiobook import check_format as checked

    ffmpeg = shutil.which("ffmpeg")
    return checked(fmt.strip().lower(), ffmpeg), ffmpeg


def book_folder(options: NarrateOptions, read: BookInput) -> Path:
    """-o DIR, else a folder named after the input (its name without the suffix) here."""
    if options.output is not None:
        if not options.output.strip():
            raise UsageError("-o needs a folder")
        return Path(options.output)
    stem = PurePath(options.input).stem if options.input != STDIN else read.book.title
    return Path(safe_title(stem) or "book")


def check_folder(folder: Path, *, creating: bool) -> None:
    """DIR is a folder of ours (a manifest or parts in it), an empty one, or one to make."""
    shown = str(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(
                f"{shown} exists and is not a folder; name the book's folder with -o DIR"
            )
        if folder.is_dir():
            if not os.access(folder, os.W_OK | os.X_OK):
                raise UsageError(f"cannot write to {shown}: permission denied")
            ours = (folder / MANIFEST).exists() or (folder / PARTS).is_dir()
            if not ours and any(folder.iterdir()):
                failure = UsageError(f"{shown} already holds files that are not a narrated book's")
                failure.hint = "name a new or empty folder with -o DIR"
                raise failure
            return
        parent = folder.parent
        if not parent.is_dir():
            raise UsageError(f"the folder {parent} does not exist")
        if creating and not os.access(parent, os.W_OK | os.X_OK):
            raise UsageError(f"cannot create {shown}: permission denied")
    except OSError as exc:
        raise UsageError(f"cannot use {shown} as the book's folder: {exc.strerror}") from None


def part_key(text_hash: str, fields: Mapping[str, Any], settings: Settings) -> str:
    """The part's key: the text and everything that reaches its request."""
    material = {
        "v": KEY_VERSION,
        "base_url": settings[spec.BASE_URL].rstrip("/"),
        "api_version": settings[spec.API_VERSION],
        "request": {**fields, "max_buffer_delay_ms": BUFFER_MS},
        "text": text_hash,
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _parts(book: Book, voicings: Mapping[str, Voicing], settings: Settings) -> list[list[Part]]:
    chapters = []
    for c, chapter in enumerate(book.chapters):
        parts = []
        for n, paragraph in enumerate(chapter.paragraphs):
            voicing = voicings[paragraph.speaker or NARRATOR]
            key = None
            if voicing.voice_id is not None:
                key = part_key(paragraph.text_hash, voicing.fields, settings)
            parts.append(Part(c, n, paragraph, voicing.name, key))
        chapters.append(parts)
    return chapters


def _present(chapters: Sequence[Sequence[Part]], parts: PartsFolder) -> dict[str, int]:
    found = {}
    for chapter in chapters:
        for part in chapter:
            if part.key is not None and part.key not in found:
                size = parts.size(part.key)
                if size is not None:
                    found[part.key] = size
    return found


# -- voicings ----------------------------------------------------------------------------


def _voicings(
    read: BookInput, settings: Settings, old: Manifest | None, *, resolving: bool
) -> dict[str, Voicing]:
    cast = read.cast
    wanted: dict[str, tuple[str, Settings]] = {}
    narrator = cast.narrator if cast is not None and cast.narrator else settings[spec.VOICE]
    wanted[NARRATOR] = (narrator, settings)
    if cast is not None:
        for name, voicing in cast.speakers.items():
            wanted[name] = (voicing.voice, _speaker_settings(settings, voicing.settings))
    resolver = _Names(settings, old, resolving=resolving)
    return {name: resolver.voicing(name, voice, s) for name, (voice, s) in wanted.items()}


def _speaker_settings(settings: Settings, own: Mapping[str, object]) -> Settings:
    changes: dict[spec.Setting[object], object] = {
        SPEAKER_SETTINGS[key]: value for key, value in own.items()
    }
    if "language" in own:  # the speaker's language replaces the run's locale, and so on
        changes[spec.LOCALE] = None
    if "locale" in own:
        changes[spec.LANGUAGE] = None
    return settings.replaced(changes)


class _Names:
    """Voices and dictionaries as ids: the name cache, the manifest, then (resolving) a listing."""

    def __init__(self, settings: Settings, old: Manifest | None, *, resolving: bool) -> None:
        self.settings = settings
        self.recorded = old.names if old is not None else {}
        self.resolver: names.Resolver | None = None
        if resolving:
            from cartesia_cli.jobs.context import api_config

            self.resolver = names.Resolver(api_config(settings), cache_only=False)

    def id_of(self, kind: names.Kind, wanted: str) -> str | None:
        base_url = self.settings[spec.BASE_URL]
        found = names.from_cache(kind, wanted, base_url)
        if found is not None:
            return found.id
        recorded = self.recorded.get(_recorded_name(kind, wanted))
        if recorded is not None:
            return recorded
        if self.resolver is None:
            return None
        return self.resolver.named(kind, wanted).id

    def voicing(self, name: str, voice: str, settings: Settings) -> Voicing:
        voice_id = self.id_of(names.VOICE, voice)
        dictionary = settings[spec.PRONUNCIATION_DICT]
        changes: dict[spec.Setting[object], object] = {}
        if voice_id is not None:
            changes[spec.VOICE] = voice_id
        if dictionary is not None:
            dictionary_id = self.id_of(names.DICTIONARY, dictionary)
            if dictionary_id is None:
                voice_id = None  # not known: no key either
            else:
                changes[spec.PRONUNCIATION_DICT] = dictionary_id
        settings = settings.replaced(changes)
        fields = _fields(settings) if voice_id is not None else {}
        return Voicing(name, voice, voice_id, fields, settings)


def _recorded_name(kind: names.Kind, wanted: str) -> str:
    return f"{kind.cache}:{wanted.strip().casefold()}"


def recorded_names(planned: NarratePlan) -> dict[str, str]:
    """What each voice and dictionary name of the run stood for, for the manifest."""
    found = dict(planned.old.names) if planned.old is not None else {}
    for voicing in planned.voicings.values():
        if voicing.voice_id is not None and not names.is_id(voicing.voice):
            found[_recorded_name(names.VOICE, voicing.voice)] = voicing.voice_id
        given = planned.settings[spec.PRONUNCIATION_DICT]
        dictionary = voicing.settings[spec.PRONUNCIATION_DICT]
        if given is not None and dictionary is not None and not names.is_id(given):
            found[_recorded_name(names.DICTIONARY, given)] = dictionary
    return found


def _fields(settings: Settings) -> dict[str, Any]:
    """The request body for these settings, but its transcript; word timestamps asked."""
    audio = RequestedFormat(Container.RAW, Encoding.PCM_S16LE, settings[spec.SAMPLE_RATE])
    if settings[spec.LANGUAGE] is not None and settings[spec.LOCALE] is not None:
        raise UsageError("a speaker's language and --locale cannot be combined")
    request = TtsRequest(
        model_id=settings[spec.MODEL],
        transcript="",
        voice_id=settings[spec.VOICE],
        audio=audio,
        fields={**settings.body_fields(), ("add_timestamps",): True},
        api_version=settings[spec.API_VERSION],
    )
    body = request.body()
    del body["transcript"]
    body.pop("context_id", None)  # ours: one per voicing and connection
    return body
