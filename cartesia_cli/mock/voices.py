"""`GET /voices` and `GET /voices/{id}`: the catalogue a server starts with, paged by cursor.

A server's voices are this catalogue and those made in it (store.py). Paging as
in paging.py: `limit` (1-100, default 10), `starting_after` / `ending_before` a
voice id, an empty page past the end. Filters:
`q` (name or description, case and accents ignored), `gender`, `language` (a language or
a locale such as `en-GB`; honoured before Cartesia-Version 2026-08-14, ignored from it),
`is_owner`. The voice's shape follows the client's Cartesia-Version.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

from cartesia_cli.mock.paging import envelope, limit_of
from cartesia_cli.mock.validation import Problem, structured_errors

GENDERS = ("masculine", "feminine", "gender_neutral")
_NAMES = (
    ("Katie", "en", "feminine", "f786b574-daa5-4673-aa0c-cbe3e8534c02"),
    ("Default Narrator", "en", "gender_neutral", "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"),
    ("Test Voice", "en", "feminine", "a0e99841-438c-4a64-b679-ae501e7d6091"),
    ("Théo", "fr", "masculine", None),
    ("Amélie", "fr", "feminine", None),
    ("Jürgen", "de", "masculine", None),
    ("Lena", "de", "feminine", None),
    ("Sofía", "es", "feminine", None),
    ("Mateo", "es", "masculine", None),
    ("Yuki", "ja", "feminine", None),
    ("Haruto", "ja", "masculine", None),
    ("Priya", "hi", "feminine", None),
    ("Arjun", "hi", "masculine", None),
    ("Giulia", "it", "feminine", None),
    ("Luca", "it", "masculine", None),
    ("Ana", "pt", "feminine", None),
    ("João", "pt", "masculine", None),
    ("Mei", "zh", "feminine", None),
    ("Wei", "zh", "masculine", None),
    ("Sam", "en", "gender_neutral", None),
    ("Oliver", "en", "masculine", None),
    ("Grace", "en", "feminine", None),
    ("Noah", "en", "masculine", None),
    ("Ava", "en", "feminine", None),
    ("Rowan", "en", "gender_neutral", None),
)
# Each voice's native locale: the language's usual region, but for a few accents of note.
_REGIONS = {"en": "US", "fr": "FR", "de": "DE", "es": "ES", "ja": "JP", "hi": "IN", "it": "IT",
            "pt": "BR", "zh": "CN"}  # fmt: skip
_ACCENTS = {"Oliver": "en-GB", "Grace": "en-GB", "Noah": "en-AU", "Rowan": "en-IE",
            "Théo": "fr-CA", "Mateo": "es-MX", "João": "pt-PT"}  # fmt: skip
# From this Cartesia-Version the listing's `language` filter is no longer documented; the mock
# then ignores it, as such a server may, so clients must filter the voices themselves.
LANGUAGE_FILTER_UNTIL = "2026-08-14"
ACCENTS_SINCE = "2026-08-14"  # `accent` on a voice, and the accent routes


Voice = dict[str, Any]


def _voice(index: int, name: str, language: str, gender: str, fixed_id: str | None) -> Voice:
    voice_id = fixed_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"cartesia-mock-voice-{name}"))
    kind = gender.replace("_", " ")
    return {
        "id": voice_id,
        "name": name,
        "description": f"A {kind} {language} voice for the mock, number {index}.",
        "language": language,
        "gender": gender,
        "is_owner": index % 7 == 3,  # a few "own" voices, for the is_owner filter
        "created_at": f"2025-{1 + index % 12:02d}-{1 + index % 28:02d}T12:00:00Z",
        "locales": [
            {"locale": _ACCENTS.get(name, f"{language}-{_REGIONS[language]}"), "is_native": True}
        ],
    }


CATALOGUE = tuple(_voice(i, *entry) for i, entry in enumerate(_NAMES))
BY_ID = {voice["id"]: voice for voice in CATALOGUE}


def list_voices(
    query: str, version: str | None, voices: Sequence[Voice] = CATALOGUE
) -> dict[str, Any] | Problem:
    """A page of `voices` (the server's: the catalogue and the voices made in it)."""
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    limit = limit_of(params.get("limit"))
    if isinstance(limit, Problem):
        return limit
    gender = params.get("gender")
    if gender is not None and gender not in GENDERS:
        return Problem(400, "Invalid gender", f"gender must be one of {', '.join(GENDERS)}.")
    if version is not None and version >= LANGUAGE_FILTER_UNTIL:
        params.pop("language", None)
    matches = [v for v in voices if _matches(v, params)]
    return envelope(matches, params, limit, lambda voice: shaped(voice, version))


def get_voice(
    voice_id: str, version: str | None, voices: Mapping[str, Voice] = BY_ID
) -> dict[str, Any] | Problem:
    voice = voices.get(voice_id)
    if voice is None:
        return voice_not_found(voice_id)
    return shaped(voice, version)


def voice_not_found(voice_id: str, why: str = "") -> Problem:
    message = f"No voice with id {voice_id!r}{why}."
    return Problem(404, "Voice not found", message, "voice_not_found")


def shaped(voice: Voice, version: str | None) -> dict[str, Any]:
    """2026-03-01 and later: `access`, `visibility`, `tagline`; before: `is_public`.

    `accent` is a field from 2026-08-14 on; earlier versions do not see it.
    """
    hidden = ("accent",) if version is None or version < ACCENTS_SINCE else ()
    # Keys starting with `_` are the server's own notes (a voice's attached accents).
    voice = {k: v for k, v in voice.items() if k not in hidden and not k.startswith("_")}
    if structured_errors(version):
        public = not voice["is_owner"]
        return {
            **voice,
            "tagline": voice.get("tagline", ""),
            "access": "public" if public else "private",
            "visibility": "all" if public else "owner",
        }
    return {k: v for k, v in voice.items() if k != "tagline"} | {"is_public": not voice["is_owner"]}


def _matches(voice: dict[str, Any], params: dict[str, str]) -> bool:
    q = _folded(params.get("q", ""))
    if q and q not in _folded(voice["name"]) and q not in _folded(voice["description"]):
        return False
    if params.get("gender") not in (None, voice["gender"]):
        return False
    if "language" in params and not _speaks(voice, params["language"]):
        return False
    owner = params.get("is_owner")
    return owner is None or (owner.lower() == "true") == voice["is_owner"]


def _speaks(voice: dict[str, Any], code: str) -> bool:
    """`en` matches every English locale, `en-GB` (or `en_GB`) only that one."""
    wanted = code.replace("_", "-").casefold()
    locales = [entry["locale"].casefold() for entry in voice["locales"]]
    if "-" in wanted:
        return wanted in locales
    return voice["language"] == wanted or any(loc.startswith(wanted + "-") for loc in locales)


def _folded(text: str) -> str:
    """Lower case, without accents: `Théo` matches `theo`, as the real search does."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
