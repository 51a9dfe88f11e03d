"""Listings the API pages by cursor (voices, pronunciation dictionaries): no I/O.

Every such listing answers `{"data": [item, …], "has_more": …, "next_page": …}`
and takes the last item's id as the next page's `starting_after`. Paging stops
when the API says there is no more (`has_more: false`), on an empty page (what
the official SDK waits for), at `limit`, or, should a server send an item it has
sent before, there, with a warning (a repeated page would loop for ever), and
after MAX_PAGES pages in any case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from cartesia_cli.errors import StreamError

PAGE_LIMIT = 100  # the most one page may hold
MAX_PAGES = 1000  # 100,000 items: a server that never says "no more" still ends
Item = dict[str, Any]
Fetch = Callable[[Mapping[str, str]], object]  # query parameters -> the page's JSON


class Noun(NamedTuple):
    """What a listing holds, in the words its messages use."""

    one: str  # "voice"
    many: str  # "voices"


class Listing:
    """How a listing ended: `complete` when the API said there was no more."""

    def __init__(self) -> None:
        self.complete = False


def every_item(
    fetch: Fetch,
    params: Mapping[str, str],
    noun: Noun,
    *,
    limit: int | None,
    warn: Callable[[str], None],
    listing: Listing | None = None,
    keep: Callable[[Item], bool] = lambda item: True,
) -> Iterator[Item]:
    """The items `keep` accepts, page after page, until the API has no more or `limit` is reached.

    A page holding an item listed already is not shown: the server went round.
    """
    listing = listing or Listing()
    count, seen = 0, set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        after = {"starting_after": cursor} if cursor else {}
        page, has_more = read_page(fetch({**params, **after}), noun)
        if any(item["id"] in seen for item in page):
            warn(f"the server sent {noun.many} after {cursor} again; stopped listing there")
            return
        for item in page:
            seen.add(item["id"])
            if not keep(item):
                continue
            yield item
            count += 1
            if limit is not None and count >= limit:
                listing.complete = True
                return
        if not page or not has_more:
            listing.complete = True
            return
        cursor = page[-1]["id"]
    warn(f"stopped after {MAX_PAGES} pages: the server kept saying there was more")


def read_page(doc: object, noun: Noun) -> tuple[list[Item], bool]:
    """`{"data": [item, …], "has_more": …}` checked: every item an object with a string id.

    A page without `has_more` (older API versions) is taken to have more: paging
    then ends on the empty page.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise StreamError(f"malformed {noun.many} page from the server: no `data` list")
    items = [check_item(item, noun) for item in doc["data"]]
    return items, doc.get("has_more") is not False


def check_item(item: object, noun: Noun) -> Item:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        raise StreamError(f"malformed {noun.one} from the server: not an object with a string `id`")
    return item
