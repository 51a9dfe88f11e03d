"""A voice or a pronunciation dictionary named as people name it: by its id or by its name.

An id in UUID form is taken as it is, with no request. A name (case ignored) is
looked up in the name cache of the base URL first (settings/name_cache.py), and
only when the cache has no single answer, in ONE listing (`GET /voices?q=NAME`,
every page of it), which refreshes the cache. Two or more with that name is a
usage error listing them (with id and language), so the user can pick; none is
a usage error saying how to list them. A dry run sends nothing: it takes names
from the cache only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from cartesia_cli.api.protocol import DICTIONARIES_PATH, VOICES_PATH
from cartesia_cli.errors import CliError, UsageError
from cartesia_cli.settings import name_cache, spec
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.api_config import ApiConfig
    from cartesia_cli.settings.resolve import Settings


class Kind(NamedTuple):
    """What is being named: the words a message uses, where it is listed, where it is kept."""

    noun: str  # "voice"
    many: str  # "voices"
    listing: str  # the command that lists them: "cartesia-cli voices list"
    path: str  # the API's listing
    cache: str  # its part of the name cache
    searchable: bool  # whether the listing takes `q`: the name narrows it


VOICE = Kind("voice", "voices", "cartesia-cli voices list", VOICES_PATH, name_cache.VOICES, True)
DICTIONARY = Kind(
    "pronunciation dictionary", "pronunciation dictionaries", "cartesia-cli dicts list",
    DICTIONARIES_PATH, name_cache.DICTIONARIES, False,
)  # fmt: skip


class Named(NamedTuple):
    """What a name became: the id to send, the name to show (None when not known), and
    whether the name was taken from the cache (then it may be out of date)."""

    id: str
    name: str | None
    cached: bool = False

    def shown(self) -> str:
        """`Katie (f786b574-…)`, or the id alone."""
        return f"{self.name} ({self.id})" if self.name else self.id


Item = Mapping[str, Any]


def is_id(wanted: str) -> bool:
    """Whether `wanted` is written as an id (a UUID), which is sent with no lookup."""
    try:
        return str(uuid.UUID(wanted)) == wanted.lower()
    except ValueError:
        return False


def same_name(one: str, other: str) -> bool:
    """Whether two names are one: case ignored, and `é` however it was typed."""
    return name_cache.name_key(one) == name_cache.name_key(other)


def resolve(kind: Kind, wanted: str, candidates: Callable[[], Iterable[Item]]) -> Named:
    """The id `wanted` names; `candidates` (called at most once) lists what there is."""
    wanted = wanted.strip()
    if not wanted:
        raise UsageError(f"a {kind.noun} needs an id or a name")
    if is_id(wanted):
        return Named(wanted.lower(), None)  # the form the API writes: an upper-case one is unknown
    items = list(candidates())
    for item in items:
        if item.get("id") == wanted:
            return Named(wanted, _name(item))
    key = name_cache.name_key(wanted)
    matches = [item for item in items if name_cache.name_key(_name(item)) == key]
    if len(matches) == 1:
        return Named(str(matches[0]["id"]), _name(matches[0]))
    if not matches:
        raise UsageError(unknown(kind, wanted, items))
    raise UsageError(ambiguous(kind, wanted, matches))


def unknown(kind: Kind, wanted: str, items: Sequence[Item] = ()) -> str:
    """No such name: how to list them, and the name meant when only accents differ."""
    folded = name_cache.folded(wanted)
    close = [_name(item) for item in items if name_cache.folded(_name(item)) == folded]
    meant = f"; did you mean {close[0]!r}?" if close else ""
    return f"no {kind.noun} named {wanted!r}{meant} (see `{kind.listing}`)"


def ambiguous(kind: Kind, wanted: str, matches: Sequence[Item]) -> str:
    """One line naming every match, so the user can give the id instead."""
    listed = "; ".join(_described(item) for item in matches)
    return f"{len(matches)} {kind.many} are named {wanted!r}; give the id of one: {listed}"


def _described(item: Item) -> str:
    language = item.get("language")
    return f"{item.get('id')} ({language})" if isinstance(language, str) else str(item.get("id"))


def _name(item: Item) -> str:
    name = item.get("name")
    return name if isinstance(name, str) else ""


# -- the cache, first --------------------------------------------------------------------


def from_cache(kind: Kind, wanted: str, base_url: str) -> Named | None:
    """What the cache says `wanted` is: an id (with its name if kept), or the one voice of
    that name; None when it has no single answer."""
    wanted = wanted.strip()
    if is_id(wanted):
        wanted = wanted.lower()
    known = name_cache.names(kind.cache, base_url)
    if wanted in known or is_id(wanted):  # an id, given as one: its name, if kept
        return Named(wanted, known.get(wanted) or None)
    key = name_cache.name_key(wanted)
    matches = [i for i, name in known.items() if name_cache.name_key(name) == key]
    if len(matches) != 1:
        return None
    found = Named(matches[0], known[matches[0]], cached=True)
    _TAKEN[(kind, base_url, found.id)] = found
    return found


def look_up(kind: Kind, wanted: str, api: ApiConfig, *, cache_only: bool = False) -> Named:
    """`wanted` as an id: from the cache when it knows, else from one listing (then cached).

    `cache_only` (a dry run): a name the cache does not know is a usage error.
    """
    found = from_cache(kind, wanted, api.base_url)
    if found is not None:
        return found
    if not wanted.strip():
        raise UsageError(f"a {kind.noun} needs an id or a name")
    if any("\ud800" <= char <= "\udfff" for char in wanted):  # no URL can carry it
        raise UsageError(f"{kind.noun} must be text (UTF-8): the value has bytes that are not")
    if cache_only:
        raise UsageError(
            f"no {kind.noun} named {wanted.strip()!r} in the name cache, and a dry run sends"
            f" nothing: give its id, or list them first (`{kind.listing}`)"
        )
    return resolve(kind, wanted, lambda: _listing(kind, wanted.strip(), api))


def _listing(kind: Kind, wanted: str, api: ApiConfig) -> Sequence[Item]:
    """Every page of the listing that can hold `wanted` (one request for most names)."""
    from cartesia_cli.api import pages
    from cartesia_cli.api.client import CartesiaClient

    params = {"limit": str(pages.PAGE_LIMIT), **({"q": wanted} if kind.searchable else {})}
    listing = pages.Listing()
    with CartesiaClient(api, debug=console.debug_log()) as client:
        found = list(
            pages.every_item(
                lambda page: client.get_json(kind.path, page),
                params,
                pages.Noun(kind.noun, kind.many),
                limit=None,
                warn=console.warning,
                listing=listing,
            )
        )
    remember(kind, api.base_url, found, complete=listing.complete and not kind.searchable)
    return found


def remember(kind: Kind, base_url: str, found: Iterable[Item], *, complete: bool) -> None:
    """Keep the names of what a listing (or a get) showed; `complete`: an unfiltered listing of
    every one, which replaces what was kept. A cache that cannot be written is a warning."""
    pairs = [(str(item["id"]), _name(item)) for item in found if isinstance(item.get("id"), str)]
    try:
        name_cache.remember(kind.cache, base_url, pairs, complete=complete)
    except OSError as exc:
        _cannot_write(exc)


def forget(kind: Kind, base_url: str, ids: Iterable[str]) -> None:
    """Drop deleted ids from the cache, so their names no longer resolve. Warns on failure."""
    try:
        name_cache.forget(kind.cache, base_url, ids)
    except OSError as exc:
        _cannot_write(exc)


def _cannot_write(exc: OSError) -> None:
    where = exc.filename or name_cache.cache_path()
    console.warning(f"could not update the name cache {where}: {exc.strerror or exc}")


# -- a job's settings --------------------------------------------------------------------


class Resolver:
    """Names to ids for one run: each distinct name looked up once (a batch has many items)."""

    def __init__(self, api: ApiConfig, *, cache_only: bool) -> None:
        self.api = api
        self.cache_only = cache_only
        self._known: dict[tuple[Kind, str], Named | str] = {}  # a failure: its message

    def named(self, kind: Kind, wanted: str) -> Named:
        key = (kind, name_cache.name_key(wanted.strip()))
        if key not in self._known:
            try:
                found: Named | str = look_up(kind, wanted, self.api, cache_only=self.cache_only)
            except UsageError as exc:
                found = exc.message
            self._known[key] = found
            if isinstance(found, Named):
                source = "the name cache" if found.cached else "the API"
                if found.id != wanted.strip():
                    console.debug_line(f"{kind.noun} {wanted!r} is {found.id} (from {source})")
        known = self._known[key]
        if isinstance(known, str):
            raise UsageError(known)
        return known

    def settings(self, settings: Settings) -> tuple[Settings, Named]:
        """`settings` with the voice (and dictionary) as ids; the voice as named."""
        voice = self.named(VOICE, settings[spec.VOICE])
        changed: dict[spec.Setting[object], object] = {spec.VOICE: voice.id}
        dictionary = settings[spec.PRONUNCIATION_DICT]
        if dictionary is not None:
            changed[spec.PRONUNCIATION_DICT] = self.named(DICTIONARY, dictionary).id
        return settings.replaced(changed), voice


# -- a name the cache had wrong ------------------------------------------------------------

# What this run took from the cache (kind, base URL, id): the suspects when a request for
# it finds nothing.
_TAKEN: dict[tuple[Kind, str, str], Named] = {}


def forget_taken() -> None:
    """A new run (the CLI runs in-process in tests): nothing taken from the cache yet."""
    _TAKEN.clear()


def after_failure(failure: CliError, suspects: Iterable[Named | None] | None = None) -> None:
    """A 404 after a name was taken from the cache: the cache may be older than a deletion.

    Each such entry (of `suspects` only, when given: a batch item's) is forgotten, so the
    next run looks the name up again, and the hint says so. Called where every command's
    failure passes (cli.py), and for each failed item of a batch.
    """
    if failure.status != 404 or not _TAKEN:
        return
    taken = [
        (key, named)
        for key, named in _TAKEN.items()
        if suspects is None or any(named == one for one in suspects)
    ]
    said = [_stale(kind, base_url, named) for (kind, base_url, _), named in taken]
    for key, _ in taken:
        del _TAKEN[key]
    failure.hint = "; ".join(part for part in (failure.hint, *said) if part)


def _stale(kind: Kind, base_url: str, named: Named) -> str:
    forget(kind, base_url, [named.id])
    return (
        f"the {kind.noun} {named.name!r} was taken from the name cache as {named.id}, which may"
        f" be out of date: it is forgotten, so the next run looks the name up again"
        f" (`{kind.listing}` refreshes them all)"
    )


# -- a new name --------------------------------------------------------------------------


def others_named(kind: Kind, name: str, api: ApiConfig, new_id: str) -> list[Item] | None:
    """The other voices already named `name` (one search listing, which the cache keeps, so
    that the name is ambiguous there too); None when the listing failed."""
    try:
        found = _listing(kind, name.strip(), api)
    except CliError as exc:
        console.debug_line(f"could not look for other {kind.many} named {name!r}: {exc.message}")
        return None
    key = name_cache.name_key(name.strip())
    return [i for i in found if i.get("id") != new_id and name_cache.name_key(_name(i)) == key]
