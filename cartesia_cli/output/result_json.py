"""`--json`: one object per job when it ends, success or failure, with fixed keys.

Scripts read these keys, so they never change and are always all there: a value
not known is `null`. The object is built from plain values (no stream or sink
objects), so every layer above can fill it in.
"""

from __future__ import annotations

import json
from typing import Any

KEYS = (
    "command",
    "output",
    "container",
    "encoding",
    "sample_rate",
    "bytes",
    "audio_seconds",
    "chunks",
    "first_audio_ms",
    "total_ms",
    "characters",
    "characters_billed",
    "cached",
    "voice",  # {"id", "name"}: the voice the request named (name null when not known)
    "request_id",
    "exit_code",
    "error",
)
ERROR_KEYS = ("kind", "title", "message", "status", "request_id")


def document(error: dict[str, Any] | None = None, **known: Any) -> dict[str, Any]:
    """Every key of KEYS, in order: the known values, null for the rest."""
    unknown = set(known) - set(KEYS)
    if unknown:
        raise TypeError(f"not --json keys: {sorted(unknown)}")
    doc = {key: known.get(key) for key in KEYS}
    doc["error"] = error
    return doc


def error_object(**known: Any) -> dict[str, Any]:
    """The `error` value of a failed job: every key of ERROR_KEYS."""
    unknown = set(known) - set(ERROR_KEYS)
    if unknown:
        raise TypeError(f"not --json error keys: {sorted(unknown)}")
    return {key: known.get(key) for key in ERROR_KEYS}


def encode(doc: dict[str, Any]) -> str:
    """One line of ASCII JSON: no control character or non-ASCII byte reaches a terminal."""
    return json.dumps(doc, ensure_ascii=True, allow_nan=False)
