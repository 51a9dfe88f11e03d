"""Voice management's requests, as bodies: clone, localize, update; and the accent a
localization goes to. No I/O: the glue sends them and the server judges the rest.

Cartesia-Version 2026-08-14 localizes to an accent (a catalogue id from
`GET /accents`); earlier versions to a language with the speaker's gender and
a description, all required. A field the user did not give is not sent, so
that an update changes only what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from cartesia_cli.errors import StreamError, UsageError
from cartesia_cli.formats import LOCALES

CLONE_PATH = "/voices/clone"
LOCALIZE_PATH = "/voices/localize"
ACCENTS_PATH = "/accents"
# The first Cartesia-Version whose localize and update take an accent.
ACCENTS_SINCE = "2026-08-14"

# The languages a voice can be localized to (the API's list; older versions take fewer).
LOCALIZE_LANGUAGES = (
    "en", "de", "es", "fr", "ja", "pt", "zh", "hi", "it", "ko",
    "nl", "pl", "ru", "sv", "tr", "ar", "he", "ta", "te", "th",
)  # fmt: skip
# --dialect per language, and the locale each one is (for the accent chosen by default).
DIALECTS: dict[str, dict[str, str | None]] = {
    "en": {"us": "en-US", "uk": "en-GB", "au": "en-AU", "in": "en-IN", "so": None},
    "es": {"mx": "es-MX", "pe": "es-PE"},
    "pt": {"br": "pt-BR", "eu": "pt-PT"},
    "fr": {"eu": "fr-FR", "ca": "fr-CA"},
}
SPEAKER_GENDERS = ("male", "female")  # localize: the voice's original speaker
VOICE_GENDERS = ("masculine", "feminine", "gender_neutral")  # update: the voice's gender
NONE = "none"  # update: set a field back to the API's default (null)

Accent = Mapping[str, Any]


def accents_since(api_version: str) -> bool:
    """Whether this Cartesia-Version localizes to (and updates) an accent."""
    return api_version >= ACCENTS_SINCE


# --- clone ------------------------------------------------------------------------------


def clone_fields(
    *, name: str, language: str, description: str | None, base_voice: str | None, accent: str | None
) -> dict[str, str]:
    """The text parts of `POST /voices/clone` (the clip goes as the file part)."""
    fields = {"name": name, "language": language}
    optional = (("description", description), ("base_voice_id", base_voice), ("accent", accent))
    fields.update({key: value for key, value in optional if value is not None})
    return fields


# --- localize ---------------------------------------------------------------------------


class Localize(NamedTuple):
    """What `voices localize` was asked for."""

    voice_id: str
    name: str
    language: str
    accent: str | None
    dialect: str | None
    description: str | None
    gender: str | None  # the original speaker's: male or female


def checked_localize(wanted: Localize, api_version: str) -> None:
    """The usage errors a localization can have before any request."""
    if wanted.language not in LOCALIZE_LANGUAGES:
        raise UsageError(
            f"--language {wanted.language!r} cannot be localized to; one of: "
            + " ".join(LOCALIZE_LANGUAGES)
        )
    dialects = DIALECTS.get(wanted.language, {})
    if wanted.dialect is not None and wanted.dialect not in dialects:
        allowed = f"one of {', '.join(dialects)}" if dialects else "none"
        raise UsageError(
            f"--dialect {wanted.dialect!r} does not fit --language {wanted.language}: {allowed}"
        )
    if wanted.gender is not None and wanted.gender not in SPEAKER_GENDERS:
        raise UsageError(f"--gender must be male or female, got {wanted.gender!r}")
    if accents_since(api_version):
        return
    if wanted.accent is not None:
        raise UsageError(f"--accent needs Cartesia-Version {ACCENTS_SINCE} or later")
    missing = [flag for flag, value in (("--description", wanted.description),
               ("--gender male|female", wanted.gender)) if value is None]  # fmt: skip
    if missing:
        raise UsageError(
            f"under Cartesia-Version {api_version}, localize also needs {' and '.join(missing)}"
        )


def localize_body(wanted: Localize, accent: str | None) -> dict[str, str]:
    """The JSON of `POST /voices/localize`; `accent` is None for versions before accents."""
    body = {"voice_id": wanted.voice_id, "name": wanted.name, "language": wanted.language}
    optional = (
        ("accent", accent),
        ("description", wanted.description),
        ("dialect", wanted.dialect),
        ("original_speaker_gender", wanted.gender),
    )
    body.update({key: value for key, value in optional if value is not None})
    return body


def accents_of(doc: object) -> list[Accent]:
    """`GET /accents`'s `{"accents": [...]}`, each an object with a string id."""
    found = doc.get("accents") if isinstance(doc, dict) else None
    if not isinstance(found, list):
        raise StreamError("malformed accents list from the server: no `accents` list")
    return [a for a in found if isinstance(a, dict) and isinstance(a.get("id"), str) and a["id"]]


def default_accent(accents: Sequence[Accent], language: str, dialect: str | None) -> Accent | None:
    """The accent a localization to `language` goes to when none is named.

    Among the localizable accents of that language: the dialect's locale when
    one was given, then the locale's default, then the language's usual locale
    (en-US before en-GB, as formats.LOCALES lists them), then the catalogue's
    order. None when the language has no localizable accent.
    """
    fit = [a for a in accents if a.get("language") == language and a.get("is_localizable") is True]
    wanted_locale = DIALECTS.get(language, {}).get(dialect or "")

    def rank(accent: Accent) -> tuple[bool, bool, int]:
        locale = accent.get("locale")
        order = LOCALES.index(locale) if locale in LOCALES else len(LOCALES)
        return (locale != wanted_locale, accent.get("is_locale_default") is not True, order)

    return min(fit, key=rank) if fit else None  # min keeps the first of equals


def localizable_languages(accents: Sequence[Accent]) -> list[str]:
    """The languages the catalogue has a localizable accent for (for a refusal's line)."""
    found = {a.get("language") for a in accents if a.get("is_localizable") is True}
    return sorted(code for code in found if isinstance(code, str))


# --- update -----------------------------------------------------------------------------


def update_body(
    *,
    name: str | None,
    description: str | None,
    gender: str | None,
    accent: str | None,
    api_version: str,
) -> dict[str, str | None]:
    """The PATCH: only the fields given; `none` sends null (the API's default again).

    A UsageError before any request when nothing is to change or a value is not one.
    """
    if name is not None and not name.strip():
        raise UsageError("--name cannot be empty")
    if gender is not None and gender not in (*VOICE_GENDERS, NONE):
        raise UsageError(f"--gender must be one of {', '.join(VOICE_GENDERS)} or none")
    if accent is not None and not accent.strip():
        raise UsageError("--accent needs an accent id, or none")
    if accent is not None and not accents_since(api_version):
        raise UsageError(f"--accent needs Cartesia-Version {ACCENTS_SINCE} or later")
    given = (("name", name), ("description", description), ("gender", gender), ("accent", accent))
    body = {key: (None if value == NONE and key in ("gender", "accent") else value)
            for key, value in given if value is not None}  # fmt: skip
    if not body:
        raise UsageError("nothing to update: give --name, --description, --gender or --accent")
    return body
