"""Cursor paging, as the real API pages voices and pronunciation dictionaries.

`limit` 1-100 (default 10); `starting_after` / `ending_before` an item's id; the
envelope `{"data", "has_more", "next_page"}`. A cursor past the end (or unknown)
gives an empty page, not an error: the official SDKs page until `data` is empty.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from cartesia_cli.mock.validation import Problem

DEFAULT_LIMIT = 10
Item = dict[str, Any]


def limit_of(raw: str | None) -> int | Problem:
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        return Problem(400, "Invalid limit", "limit must be a whole number from 1 to 100.")
    return limit


def envelope(
    items: Sequence[Item], params: dict[str, str], limit: int, shape: Callable[[Item], Item]
) -> dict[str, Any]:
    """One page of `items` (each given to the client through `shape`)."""
    page = _page(items, params, limit)
    has_more = bool(page) and page[-1] is not items[-1]
    return {
        "data": [shape(item) for item in page],
        "has_more": has_more,
        "next_page": page[-1]["id"] if has_more else None,
    }


def _page(items: Sequence[Item], params: dict[str, str], limit: int) -> Sequence[Item]:
    ids = [item["id"] for item in items]
    if params.get("starting_after"):
        after = params["starting_after"]
        start = ids.index(after) + 1 if after in ids else len(ids)  # unknown cursor: the end
        return items[start : start + limit]
    if params.get("ending_before"):
        before = params["ending_before"]
        end = ids.index(before) if before in ids else 0
        return items[max(0, end - limit) : end]
    return items[:limit]
