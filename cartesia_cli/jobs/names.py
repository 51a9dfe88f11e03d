"""A voice or a pronunciation dictionary named as people name it: by its id or by its name.

An id in UUID form is taken as it is, with no request. Anything else is looked
up in the listing `candidates` gives: an exact id first, then the name, with
case ignored. Two or more with that name is a usage error listing them (with
id and language), so the user can pick; none is a usage error saying how to
list them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from cartesia_cli.errors import UsageError


class Kind(NamedTuple):
    """What is being named, in the words a message uses."""

    noun: str  # "voice"
    listing: str  # the command that lists them: "cartesia-cli voices list"


VOICE = Kind("voice", "cartesia-cli voices list")
DICTIONARY = Kind("pronunciation dictionary", "cartesia-cli dicts list")


class Named(NamedTuple):
    """What a name became: the id to send, and the name to show (None when not known)."""

    id: str
    name: str | None


Item = Mapping[str, Any]


def is_id(wanted: str) -> bool:
    """Whether `wanted` is written as an id (a UUID), which is sent with no lookup."""
    try:
        return str(uuid.UUID(wanted)) == wanted.lower()
    except ValueError:
        return False


def resolve(kind: Kind, wanted: str, candidates: Callable[[], Iterable[Item]]) -> Named:
    """The id `wanted` names; `candidates` (called at most once) lists what there is."""
    wanted = wanted.strip()
    if not wanted:
        raise UsageError(f"a {kind.noun} needs an id or a name")
    if is_id(wanted):
        return Named(wanted, None)
    items = list(candidates())
    for item in items:
        if item.get("id") == wanted:
            return Named(wanted, _name(item))
    matches = [item for item in items if _name(item).casefold() == wanted.casefold()]
    if len(matches) == 1:
        return Named(str(matches[0]["id"]), _name(matches[0]))
    if not matches:
        raise UsageError(f"no {kind.noun} named {wanted!r} (see `{kind.listing}`)")
    raise UsageError(ambiguous(kind, wanted, matches))


def ambiguous(kind: Kind, wanted: str, matches: Sequence[Item]) -> str:
    """One line naming every match, so the user can give the id instead."""
    listed = "; ".join(_described(item) for item in matches)
    return f"{len(matches)} {kind.noun}s are named {wanted!r}; give the id of one: {listed}"


def _described(item: Item) -> str:
    language = item.get("language")
    return f"{item.get('id')} ({language})" if isinstance(language, str) else str(item.get("id"))


def _name(item: Item) -> str:
    name = item.get("name")
    return name if isinstance(name, str) else ""
