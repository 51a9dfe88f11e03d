"""Pronunciation dictionaries on the wire: the bodies sent, the answers read, what a push changes.

No I/O. Items go out as `{"text", "pronunciation", "alias"}` with the last two
equal: the API's documentation names the field `pronunciation` and calls
`alias` deprecated, while the official SDK's schema still requires `alias`, so
a server reading either finds it. `case_sensitive` goes only when the file says.
An item read back takes `pronunciation`, else `alias`.

The collection path ends in a slash, as the official SDKs send it; one
dictionary is `/pronunciation-dicts/{id}`. Listings page as voices do (`pages.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from cartesia_cli.api import pages
from cartesia_cli.api.protocol import DICTIONARIES_PATH, item_path
from cartesia_cli.errors import StreamError
from cartesia_cli.input.dict_file import Entry

NOUN = pages.Noun("pronunciation dictionary", "pronunciation dictionaries")
Dictionary = dict[str, Any]


def path(dictionary_id: str) -> str:
    """One dictionary's path (`protocol.item_path`: an id never becomes a path of its own)."""
    return item_path(DICTIONARIES_PATH, dictionary_id, NOUN.one)


def every_dictionary(
    fetch: pages.Fetch, *, warn: Callable[[str], None], listing: pages.Listing | None = None
) -> Iterator[Dictionary]:
    """Every dictionary of the account, page after page (`pages.every_item`)."""
    params = {"limit": str(pages.PAGE_LIMIT)}
    return pages.every_item(fetch, params, NOUN, limit=None, warn=warn, listing=listing)


def check_dictionary(doc: object) -> Dictionary:
    return pages.check_item(doc, NOUN)


def name_of(dictionary: Dictionary) -> str:
    name = dictionary.get("name")
    return name if isinstance(name, str) else ""


# --- items ----------------------------------------------------------------------------------


def wire_item(entry: Entry) -> dict[str, object]:
    item: dict[str, object] = {
        "text": entry.text,
        "pronunciation": entry.pronunciation,
        "alias": entry.pronunciation,
    }
    if entry.case_sensitive is not None:
        item["case_sensitive"] = entry.case_sensitive
    return item


def create_body(name: str, entries: Sequence[Entry]) -> dict[str, object]:
    return {"name": name, "items": [wire_item(entry) for entry in entries]}


def update_body(entries: Sequence[Entry]) -> dict[str, object]:
    """A PATCH body: `items` replaces the dictionary's list whole (there is no per-item call)."""
    return {"items": [wire_item(entry) for entry in entries]}


def entries_of(dictionary: Dictionary) -> tuple[Entry, ...]:
    """The dictionary's items as entries; a StreamError for an item that is not one.

    `case_sensitive: false` is the API's default, so it reads as not set: a file
    written from the dictionary says it only where it is true.
    """
    items = dictionary.get("items", [])
    if items is None:
        return ()
    if not isinstance(items, list):
        raise StreamError(f"malformed {NOUN.one} from the server: `items` is not a list")
    return tuple(_entry(item) for item in items)


def _entry(item: object) -> Entry:
    if isinstance(item, dict):
        text = item.get("text")
        said = item.get("pronunciation")
        if not isinstance(said, str):
            said = item.get("alias")
        if isinstance(text, str) and isinstance(said, str):
            return Entry(text, said, True if item.get("case_sensitive") is True else None)
    raise StreamError(
        f"malformed {NOUN.one} from the server: an item without `text` and `pronunciation`"
    )


# --- the difference a push makes -----------------------------------------------------------


class Change(NamedTuple):
    before: Entry
    after: Entry


class Diff(NamedTuple):
    """What making a dictionary equal to a file changes, word by word."""

    added: tuple[Entry, ...]
    changed: tuple[Change, ...]
    removed: tuple[Entry, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def same(before: Entry, after: Entry) -> bool:
    """Whether two entries for one word say the same; an unset case_sensitive is false."""
    return before.pronunciation == after.pronunciation and bool(before.case_sensitive) == bool(
        after.case_sensitive
    )


def diff(current: Sequence[Entry], wanted: Sequence[Entry]) -> Diff:
    """From `current` (the dictionary's items) to `wanted` (the file's); order is no change.

    A word the dictionary holds twice keeps its first item; the second is removed.
    """
    have: dict[str, Entry] = {}
    repeated: list[Entry] = []
    for entry in current:
        if entry.text in have:
            repeated.append(entry)
        else:
            have[entry.text] = entry
    texts = {entry.text for entry in wanted}
    added = tuple(entry for entry in wanted if entry.text not in have)
    changed = tuple(
        Change(have[entry.text], entry)
        for entry in wanted
        if entry.text in have and not same(have[entry.text], entry)
    )
    removed = tuple(entry for entry in have.values() if entry.text not in texts)
    return Diff(added, changed, (*removed, *repeated))
