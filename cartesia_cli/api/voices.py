"""Voices: paging `GET /voices` by cursor, and checking what a page holds. No I/O.

The cursor is the last voice's id (`starting_after`). Paging stops when the API
says there is no more (`has_more: false`), on an empty page (what the official
SDK waits for), at `--limit`, or, should a server send a voice it has sent
before, there, with a warning (a repeated page would loop for ever), and after
MAX_PAGES pages in any case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cartesia_cli.errors import StreamError

PAGE_LIMIT = 100  # the most one page may hold
Voice = dict[str, Any]
Fetch = Callable[[Mapping[str, str]], object]  # query parameters -> the page's JSON


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


MAX_PAGES = 1000  # 100,000 voices: a server that never says "no more" still ends


class Listing:
    """How a listing ended: `complete` when the API said there was no more."""

    def __init__(self) -> None:
        self.complete = False


def every_voice(
    fetch: Fetch,
    params: Mapping[str, str],
    *,
    limit: int | None,
    warn: Callable[[str], None],
    listing: Listing | None = None,
    keep: Callable[[Voice], bool] = lambda voice: True,
) -> Iterator[Voice]:
    """The voices `keep` accepts, page after page, until the API has no more or `limit` is reached.

    A page holding a voice listed already is not shown: the server went round.
    """
    listing = listing or Listing()
    count, seen = 0, set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        after = {"starting_after": cursor} if cursor else {}
        page, has_more = read_page(fetch({**params, **after}))
        if any(voice["id"] in seen for voice in page):
            warn(f"the server sent voices after {cursor} again; stopped listing there")
            return
        for voice in page:
            seen.add(voice["id"])
            if not keep(voice):
                continue
            yield voice
            count += 1
            if limit is not None and count >= limit:
                listing.complete = True
                return
        if not page or not has_more:
            listing.complete = True
            return
        cursor = page[-1]["id"]
    warn(f"stopped after {MAX_PAGES} pages: the server kept saying there was more")


def read_page(doc: object) -> tuple[list[Voice], bool]:
    """`{"data": [voice, …], "has_more": …}` checked: every voice an object with a string id.

    A page without `has_more` (older API versions) is taken to have more: paging
    then ends on the empty page.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise StreamError("malformed voices page from the server: no `data` list")
    voices = [check_voice(item) for item in doc["data"]]
    return voices, doc.get("has_more") is not False


def check_voice(item: object) -> Voice:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise StreamError("malformed voice from the server: not an object with a string `id`")
    return item


def field(voice: Voice, key: str) -> str:
    """A voice's field as one line of text ("" when absent); a table cell or a TSV field."""
    value = voice.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return " ".join(value.split())  # tabs and line breaks would break a row
