"""Voices made, changed and deleted: clone, localize, update, delete, and their accents.

A voice made here (clone, localize) is the caller's: it lists with `is_owner`
true, `access` private, `visibility` owner, and its locale as the native one.
Library voices (the catalogue's, not owned) may be used but not changed or
deleted: a 404, as for an unknown id (store.py says why not a 403). The answers
take the client's Cartesia-Version's shape: a clone or localize answers with a
voice's metadata, the other routes with the whole voice (voices.shaped).
"""

from __future__ import annotations

import uuid
from typing import Any

from cartesia_cli.mock import accents, multipart
from cartesia_cli.mock.accents import BY_ID as ACCENTS
from cartesia_cli.mock.dicts import now
from cartesia_cli.mock.store import OWNER_ID, Store
from cartesia_cli.mock.validation import Problem, invalid, load_json, structured_errors
from cartesia_cli.mock.voices import ACCENTS_SINCE, GENDERS, Voice, shaped, voice_not_found

Reply = dict[str, Any] | Problem
MAX_ACCENTS = 10  # a voice's accents, its own included
# Localize's target languages and dialects: before 2026-08-14 (language + dialect), and
# from it (an accent; language and dialect optional, checked but not needed).
OLD_LOCALIZE_LANGUAGES = ("en", "de", "es", "fr", "ja", "pt", "zh", "hi", "it", "ko", "nl",
                          "pl", "ru", "sv", "tr")  # fmt: skip
LOCALIZE_LANGUAGES = (*OLD_LOCALIZE_LANGUAGES, "ar", "he", "ta", "te", "th")
DIALECTS = {
    "en": {"au": "en-AU", "in": "en-IN", "so": "en-US", "uk": "en-GB", "us": "en-US"},
    "es": {"mx": "es-MX", "pe": "es-PE"},
    "pt": {"br": "pt-BR", "eu": "pt-PT"},
    "fr": {"eu": "fr-FR", "ca": "fr-CA"},
}
SPEAKER_GENDERS = ("male", "female")
MAX_TAGLINE = 32


def accents_route(version: str | None) -> Problem | None:
    """The accent routes exist from Cartesia-Version 2026-08-14 on."""
    if version is not None and version >= ACCENTS_SINCE:
        return None
    return Problem(404, "Not found", f"Accents need Cartesia-Version {ACCENTS_SINCE} or later.")


def metadata(voice: Voice, version: str | None) -> dict[str, Any]:
    """What clone and localize answer: the new voice's `VoiceMetadata`."""
    keys = ("id", "name", "description", "created_at", "language")
    answer = {key: voice[key] for key in keys} | {"user_id": OWNER_ID}
    if structured_errors(version):
        return answer | {"tagline": voice["tagline"], "access": "private", "visibility": "owner"}
    return answer | {"is_public": False}


def new_voice(name: str, description: str, locale: str, **more: Any) -> Voice:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "description": description,
        "language": locale.split("-")[0],
        "gender": None,
        "is_owner": True,
        "created_at": now(),
        "locales": [{"locale": locale, "is_native": True}],
        "accent": None,
        "tagline": "",
        "_accents": [],  # accents added to the voice (not its own)
        **more,
    }


# --- clone --------------------------------------------------------------------------------


def clone(store: Store, content_type: str, body: bytes, version: str | None) -> Reply:
    parts = multipart.parse_form(content_type, body)
    if isinstance(parts, Problem):
        return parts
    fields: dict[str, str] = {}
    for name in ("name", "language", "description", "accent", "base_voice_id"):
        value = multipart.text_field(parts, name)
        if isinstance(value, Problem):
            return value
        if value:
            fields[name] = value
    problem = _check_clone(fields, parts.get("clip"), version)
    if problem is not None:
        return problem
    base = fields.get("base_voice_id")
    if base is not None and store.voice(base) is None:
        return voice_not_found(base, " (base_voice_id)")
    accent = ACCENTS.get(fields.get("accent", "")) if _has_accents(version) else None
    language = fields["language"]
    locale = accent.locale if accent else accents.LOCALES[language]
    voice = new_voice(
        fields["name"], fields.get("description", ""), locale, accent=accent and accent.id
    )
    return store.add_voice(voice) or metadata(voice, version)


def _check_clone(
    fields: dict[str, str], clip: multipart.Part | None, version: str | None
) -> Problem | None:
    for name in ("name", "language"):
        if not fields.get(name, "").strip():
            return invalid(f"{name} is required.")
    if clip is None:
        return invalid("clip is required: an audio file.")
    if fields["language"] not in accents.LOCALES:
        return invalid(f"language {fields['language']!r} is not a supported language code.")
    accent = fields.get("accent")
    if _has_accents(version) and accent is not None:
        found = ACCENTS.get(accent)
        if found is None:
            return invalid(f"accent {accent!r} is not an accent id from GET /accents.")
        if found.language != fields["language"]:
            return invalid(f"accent {accent!r} is not an accent of {fields['language']!r}.")
    if not multipart.is_audio(clip.data):
        return invalid("clip is not audio: send a wav, mp3, flac, ogg or webm file.")
    return None


def _has_accents(version: str | None) -> bool:
    return version is not None and version >= ACCENTS_SINCE


# --- localize -----------------------------------------------------------------------------


def localize(store: Store, body: bytes, version: str | None) -> Reply:
    fields = _json_object(body)
    if isinstance(fields, Problem):
        return fields
    target = _localize_new(fields) if _has_accents(version) else _localize_old(fields)
    if isinstance(target, Problem):
        return target
    source = store.voice(fields["voice_id"])
    if source is None:
        return voice_not_found(fields["voice_id"])
    locale, accent = target
    voice = new_voice(
        fields["name"],
        fields.get("description") or "",
        locale,
        accent=accent,
        gender=source.get("gender"),
        tagline=fields.get("tagline") or "",
    )
    return store.add_voice(voice) or metadata(voice, version)


def _localize_new(fields: dict[str, Any]) -> tuple[str, str | None] | Problem:
    """2026-08-14: `voice_id`, `name`, `accent` (a localizable one) required."""
    problem = _strings(fields, ("voice_id", "name", "accent"), required=True) or _strings(
        fields, ("description", "tagline", "language", "dialect", "original_speaker_gender")
    )
    if problem is not None:
        return problem
    accent = ACCENTS.get(fields["accent"])
    if accent is None or not accent.localizable:
        return invalid(f"accent {fields['accent']!r} is not a localizable accent (GET /accents).")
    if fields.get("language") not in (None, *LOCALIZE_LANGUAGES):
        return invalid(f"language {fields['language']!r} is not a localization language.")
    if fields.get("dialect") not in (None, *{d for ds in DIALECTS.values() for d in ds}):
        return invalid(f"dialect {fields['dialect']!r} is not a dialect code.")
    return _speaker_and_tagline(fields) or (accent.locale, accent.id)


def _localize_old(fields: dict[str, Any]) -> tuple[str, str | None] | Problem:
    """2025-11-04: `voice_id`, `name`, `description`, `language` and
    `original_speaker_gender` required; `dialect` must fit the language."""
    required = ("voice_id", "name", "description", "language", "original_speaker_gender")
    problem = _strings(fields, required, required=True) or _strings(fields, ("dialect",))
    if problem is not None:
        return problem
    language, dialect = fields["language"], fields.get("dialect")
    if language not in OLD_LOCALIZE_LANGUAGES:
        return invalid(f"language {language!r} is not a localization language.")
    if dialect is not None and dialect not in DIALECTS.get(language, {}):
        return invalid(f"dialect {dialect!r} does not fit language {language!r}.")
    locale = DIALECTS[language][dialect] if dialect else accents.LOCALES[language]
    return _speaker_and_tagline(fields) or (locale, None)


def _speaker_and_tagline(fields: dict[str, Any]) -> Problem | None:
    if fields.get("original_speaker_gender") not in (None, *SPEAKER_GENDERS):
        return invalid("original_speaker_gender must be male or female.")
    if len(fields.get("tagline") or "") > MAX_TAGLINE:
        return invalid(f"tagline may be at most {MAX_TAGLINE} characters.")
    return None


# --- update, delete -----------------------------------------------------------------------


def update(store: Store, voice_id: str, body: bytes, version: str | None) -> Reply:
    fields = _json_object(body)
    if isinstance(fields, Problem):
        return fields

    def change(voice: Voice) -> Voice | Problem:
        problem = _strings(fields, ("description",)) or _check_update(fields, voice, version)
        if problem is not None:
            return problem
        for key in ("name", "description"):
            if fields.get(key) is not None:
                voice[key] = fields[key]
        if "gender" in fields:  # null: back to the default, none
            voice["gender"] = fields["gender"]
        if _has_accents(version) and "accent" in fields:
            voice["accent"] = fields["accent"]
            if fields["accent"] is not None:
                voice["locales"][0]["locale"] = ACCENTS[fields["accent"]].locale
        return voice

    changed = store.change_voice(voice_id, change)
    return changed if isinstance(changed, Problem) else shaped(changed, version)


def _check_update(fields: dict[str, Any], voice: Voice, version: str | None) -> Problem | None:
    name = fields.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        return invalid("name must be a non-empty string.")
    if fields.get("gender") not in (None, *GENDERS):
        return invalid(f"gender must be one of {', '.join(GENDERS)}, or null.")
    accent = fields.get("accent")
    if not _has_accents(version) or accent is None:
        return None
    found = ACCENTS.get(accent) if isinstance(accent, str) else None
    if found is None:
        return invalid(f"accent {accent!r} is not an accent id from GET /accents, or null.")
    if found.language != voice["language"]:
        return invalid(f"accent {accent!r} is not an accent of {voice['language']!r}.")
    return None


def delete(store: Store, voice_id: str) -> Problem | None:
    return store.delete_voice(voice_id)


# --- a voice's accents --------------------------------------------------------------------


def add_accents(store: Store, voice_id: str, body: bytes, version: str | None) -> Reply:
    fields = _json_object(body)
    if isinstance(fields, Problem):
        return fields
    wanted = fields.get("accents")
    if not isinstance(wanted, list) or not all(isinstance(a, str) for a in wanted):
        return invalid("accents must be a list of accent ids.")
    for accent in wanted:
        if accent not in ACCENTS or not ACCENTS[accent].attachable:
            return invalid(f"accent {accent!r} is not an accent that can be added to a voice.")

    def change(voice: Voice) -> Voice | Problem:
        added = voice.setdefault("_accents", [])
        for accent in wanted:
            if accent != voice.get("accent") and accent not in added:
                added.append(accent)
        if 1 + len(added) > MAX_ACCENTS:
            return invalid(f"A voice may have at most {MAX_ACCENTS} accents, its own included.")
        return _with_locales(voice)

    changed = store.change_voice(voice_id, change)
    return changed if isinstance(changed, Problem) else shaped(changed, version)


def remove_accent(store: Store, voice_id: str, accent: str, version: str | None) -> Reply:
    def change(voice: Voice) -> Voice | Problem:
        if accent == voice.get("accent"):
            return invalid(f"{accent!r} is the voice's own accent; it cannot be removed.")
        if accent not in voice.get("_accents", []):
            message = f"The voice has no added accent {accent!r}."
            return Problem(404, "Accent not found", message, "accent_not_found")
        voice["_accents"].remove(accent)
        return _with_locales(voice)

    changed = store.change_voice(voice_id, change)
    return changed if isinstance(changed, Problem) else shaped(changed, version)


def _with_locales(voice: Voice) -> Voice:
    """The native locale first, then one per added accent."""
    added = [{"locale": ACCENTS[a].locale, "is_native": False} for a in voice["_accents"]]
    voice["locales"] = [voice["locales"][0], *added]
    return voice


# --- fields -------------------------------------------------------------------------------


def _json_object(body: bytes) -> dict[str, Any] | Problem:
    fields = load_json(body, "The request body")
    if isinstance(fields, Problem):
        return fields
    if not isinstance(fields, dict):
        return invalid("The request body must be a JSON object.")
    return fields


def _strings(
    fields: dict[str, Any], names: tuple[str, ...], *, required: bool = False
) -> Problem | None:
    """Each of `names` a string (non-empty if `required`; else may be absent or null)."""
    for name in names:
        value = fields.get(name)
        if required and (not isinstance(value, str) or not value.strip()):
            return invalid(f"{name} is required.")
        if value is not None and not isinstance(value, str):
            return invalid(f"{name} must be a string.")
    return None
