"""`/pronunciation-dicts/`: pronunciation dictionaries made, listed, read, replaced, deleted.

A dictionary is `{"id", "name", "owner_id", "pinned", "items", "created_at"}`; an
item `{"text", "pronunciation", "alias", "case_sensitive"?}`. An item may come
with `pronunciation`, `alias` (the older name) or both; it is answered with
both, so clients written for either reading work. PATCH replaces the fields it
gives, `items` as a whole. Two dictionaries may share a name (the API documents
no refusal); two items of one dictionary may not share a text.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs

from cartesia_cli.mock.paging import envelope, limit_of
from cartesia_cli.mock.store import OWNER_ID, Dictionary, Store, dictionary_not_found
from cartesia_cli.mock.validation import Problem, invalid, load_json


def list_dictionaries(store: Store, query: str) -> dict[str, Any] | Problem:
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    limit = limit_of(params.get("limit"))
    if isinstance(limit, Problem):
        return limit
    return envelope(store.dictionaries(), params, limit, lambda item: item)


def create(store: Store, body: bytes) -> Dictionary | Problem:
    fields = _fields(body, required_name=True)
    if isinstance(fields, Problem):
        return fields
    dictionary = {
        "id": str(uuid.uuid4()),
        "name": fields["name"],
        "owner_id": OWNER_ID,
        "pinned": False,
        "items": fields.get("items", []),
        "created_at": now(),
    }
    return store.add_dictionary(dictionary) or dictionary


def get(store: Store, dictionary_id: str) -> Dictionary | Problem:
    return store.dictionary(dictionary_id) or dictionary_not_found(dictionary_id)


def update(store: Store, dictionary_id: str, body: bytes) -> Dictionary | Problem:
    if store.dictionary(dictionary_id) is None:  # an unknown id is a 404 before a bad body
        return dictionary_not_found(dictionary_id)
    fields = _fields(body, required_name=False)
    if isinstance(fields, Problem):
        return fields
    return store.change_dictionary(dictionary_id, fields)


def delete(store: Store, dictionary_id: str) -> Problem | None:
    return store.delete_dictionary(dictionary_id)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fields(raw: bytes, *, required_name: bool) -> dict[str, Any] | Problem:
    """`name` and `items` from a create or update body; a null field is not changed."""
    body = load_json(raw, "The request body")
    if isinstance(body, Problem):
        return body
    if not isinstance(body, dict):
        return invalid("The request body must be a JSON object.")
    fields: dict[str, Any] = {}
    name = body.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            return invalid("name must be a non-empty string.")
        fields["name"] = name
    elif required_name:
        return invalid("name is required.")
    if body.get("items") is not None:
        items = checked_items(body["items"])
        if isinstance(items, Problem):
            return items
        fields["items"] = items
    return fields


def checked_items(items: object) -> list[dict[str, Any]] | Problem:
    """The items as answered (both keys), or the first thing wrong with them."""
    if not isinstance(items, list):
        return invalid("items must be a list.")
    seen: set[str] = set()
    out = []
    for index, item in enumerate(items):
        checked = _item(item, f"items[{index}]")
        if isinstance(checked, Problem):
            return checked
        if checked["text"] in seen:
            return invalid(f"items[{index}].text {checked['text']!r} is already in the dictionary.")
        seen.add(checked["text"])
        out.append(checked)
    return out


def _item(item: object, where: str) -> dict[str, Any] | Problem:
    if not isinstance(item, dict):
        return invalid(f"{where} must be an object.")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        return invalid(f"{where}.text must be a non-empty string.")
    sounds = {key: item[key] for key in ("pronunciation", "alias") if item.get(key) is not None}
    if not sounds:
        return invalid(f"{where} needs a pronunciation (or an alias).")
    for key, value in sounds.items():
        if not isinstance(value, str) or not value.strip():
            return invalid(f"{where}.{key} must be a non-empty string.")
    said = sounds.get("pronunciation", sounds.get("alias"))
    checked = {"text": text, "pronunciation": said, "alias": sounds.get("alias", said)}
    case = item.get("case_sensitive")
    if case is not None:
        if not isinstance(case, bool):
            return invalid(f"{where}.case_sensitive must be true or false.")
        checked["case_sensitive"] = case
    return checked
