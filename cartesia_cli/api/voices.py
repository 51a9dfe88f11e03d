"""Voices: the listing's query and filters, its pages (paged as `pages.py` pages), a voice's
fields as text. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cartesia_cli.api import pages
from cartesia_cli.api.pages import PAGE_LIMIT as PAGE_LIMIT
from cartesia_cli.api.pages import Fetch as Fetch
from cartesia_cli.api.pages import Listing as Listing
from cartesia_cli.api.protocol import VOICES_PATH, item_path

Voice = dict[str, Any]
NOUN = pages.Noun("voice", "voices")


def path(voice_id: str) -> str:
    """One voice's path (`protocol.item_path`: an id never becomes a path of its own)."""
    return item_path(VOICES_PATH, voice_id, NOUN.one)


# The first Cartesia-Version whose listing no longer documents a `language` filter.
LANGUAGE_FILTER_UNTIL = "2026-08-14"


def query(
    *,
    text: str | None,
    gender: str | None,
    language: str | None,
    limit: int | None,
    api_version: str,
) -> dict[str, str]:
    """The query parameters of the first page.

    `language` is sent only where the version documents it; the listing is
    filtered here in any case (`speaks`), so the answer is right either way.
    """
    params = {"limit": str(min(limit or PAGE_LIMIT, PAGE_LIMIT))}
    if api_version >= LANGUAGE_FILTER_UNTIL:
        language = None
    for key, value in (("q", text), ("gender", gender), ("language", language)):
        if value:
            params[key] = value
    return params


def _locale_key(code: str) -> str:
    return code.strip().replace("_", "-").casefold()


def speaks(voice: Voice, language: str) -> bool:
    """Whether `voice` speaks `language`: `en` matches every English accent, `en-GB` only en-GB.

    Read from the voice's `language` and `locales[].locale`; `-` and `_` are one separator.
    """
    wanted = _locale_key(language)
    locales = voice.get("locales")
    codes = [voice.get("language")]
    if isinstance(locales, list):
        codes += [entry.get("locale") for entry in locales if isinstance(entry, dict)]
    known = [_locale_key(code) for code in codes if isinstance(code, str)]
    if "-" in wanted:
        return wanted in known
    return any(code == wanted or code.startswith(wanted + "-") for code in known)


def every_voice(
    fetch: Fetch,
    params: Mapping[str, str],
    *,
    limit: int | None,
    warn: Callable[[str], None],
    listing: Listing | None = None,
    keep: Callable[[Voice], bool] = lambda voice: True,
) -> Iterator[Voice]:
    """The voices `keep` accepts, page after page (`pages.every_item`)."""
    return pages.every_item(fetch, params, NOUN, limit=limit, warn=warn, listing=listing, keep=keep)


def read_page(doc: object) -> tuple[list[Voice], bool]:
    """A page of voices, checked (`pages.read_page`)."""
    return pages.read_page(doc, NOUN)


def check_voice(item: object) -> Voice:
    return pages.check_item(item, NOUN)


def field(voice: Voice, key: str) -> str:
    """A voice's field as one line of text ("" when absent); a table cell or a TSV field."""
    value = voice.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return " ".join(value.split())  # tabs and line breaks would break a row
