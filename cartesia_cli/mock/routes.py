"""Which function answers a voice, accent or dictionary request: the routes beside TTS.

No I/O: the server hands in a `Request` (the whole body read) and sends what
comes back: a JSON object (200), None (204, no body) or a Problem. A path that
is known under another method is a 405; a path unknown here is the server's 404.
The collection path of dictionaries is served with and without its trailing
slash (the official SDKs send `/pronunciation-dicts/`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cartesia_cli.mock import accents, dicts, voice_admin, voices
from cartesia_cli.mock.multipart import MAX_MULTIPART
from cartesia_cli.mock.store import Store
from cartesia_cli.mock.validation import MAX_BODY, Problem

Answer = dict[str, Any] | None | Problem


@dataclass(frozen=True)
class Request:
    method: str
    route: str  # the path without its query (and without a `/scenario/NAME` prefix)
    query: str
    body: bytes
    content_type: str
    version: str | None


Handler = Callable[[Store, Request, tuple[str, ...]], Answer]
_ID = r"([^/]+)"


def _voices_list(store: Store, request: Request, _: tuple[str, ...]) -> Answer:
    return voices.list_voices(request.query, request.version, store.voices())


def _voice_get(store: Store, request: Request, ids: tuple[str, ...]) -> Answer:
    voice = store.voice(ids[0])
    if voice is None:
        return voices.voice_not_found(ids[0])
    return voices.shaped(voice, request.version)


def _clone(store: Store, request: Request, _: tuple[str, ...]) -> Answer:
    return voice_admin.clone(store, request.content_type, request.body, request.version)


def _accents(store: Store, request: Request, _: tuple[str, ...]) -> Answer:
    return voice_admin.accents_route(request.version) or accents.list_accents()


def _add_accents(store: Store, request: Request, ids: tuple[str, ...]) -> Answer:
    return voice_admin.accents_route(request.version) or voice_admin.add_accents(
        store, ids[0], request.body, request.version
    )


def _remove_accent(store: Store, request: Request, ids: tuple[str, ...]) -> Answer:
    return voice_admin.accents_route(request.version) or voice_admin.remove_accent(
        store, ids[0], ids[1], request.version
    )


CLONE = "/voices/clone"
_TABLE: tuple[tuple[str, re.Pattern[str], Handler], ...] = tuple(
    (method, re.compile(pattern), handler)
    for method, pattern, handler in (
        ("GET", "/voices", _voices_list),
        ("POST", CLONE, _clone),
        ("POST", "/voices/localize", lambda s, r, _: voice_admin.localize(s, r.body, r.version)),
        ("GET", f"/voices/{_ID}", _voice_get),
        ("PATCH", f"/voices/{_ID}", lambda s, r, i: voice_admin.update(s, i[0], r.body, r.version)),
        ("DELETE", f"/voices/{_ID}", lambda s, r, ids: voice_admin.delete(s, ids[0])),
        ("GET", "/accents", _accents),
        ("PATCH", f"/voices/{_ID}/accents", _add_accents),
        ("DELETE", f"/voices/{_ID}/accents/{_ID}", _remove_accent),
        ("GET", "/pronunciation-dicts", lambda s, r, _: dicts.list_dictionaries(s, r.query)),
        ("POST", "/pronunciation-dicts", lambda s, r, _: dicts.create(s, r.body)),
        ("GET", f"/pronunciation-dicts/{_ID}", lambda s, r, ids: dicts.get(s, ids[0])),
        ("PATCH", f"/pronunciation-dicts/{_ID}", lambda s, r, ids: dicts.update(s, ids[0], r.body)),
        ("DELETE", f"/pronunciation-dicts/{_ID}", lambda s, r, ids: dicts.delete(s, ids[0])),
    )
)


def handles(route: str) -> bool:
    """Whether `route` is one of these paths, under any method."""
    path = _normal(route)
    return any(pattern.fullmatch(path) for _, pattern, _ in _TABLE)


def body_limit(route: str) -> int:
    """The largest body read for this request: a voice's audio clip is larger than JSON."""
    return MAX_MULTIPART if _normal(route) == CLONE else MAX_BODY


def answer(store: Store, request: Request) -> Answer:
    path = _normal(request.route)
    for method, pattern, handler in _TABLE:
        match = pattern.fullmatch(path)
        if match and method == request.method:
            return handler(store, request, match.groups())
    allowed = sorted({method for method, pattern, _ in _TABLE if pattern.fullmatch(path)})
    return Problem(
        405,
        "Method not allowed",
        f"{request.method} is not allowed here; use {', '.join(allowed)}.",
    )


def _normal(route: str) -> str:
    return route.rstrip("/") or "/"
