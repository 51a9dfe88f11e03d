"""The voice cache that `--voice` completes from: voice ids and names, kept by `voices list`.

Completion never touches the network: a Tab press reads this small file and
nothing else. A missing, empty or unreadable cache completes nothing, quietly.
The file is replaced atomically (a new file renamed over the old one), so a
completion that reads while `voices list` writes sees one or the other.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

CACHE_DIR_ENV = "CARTESIA_CLI_CACHE_DIR"
FILE_NAME = "voices.json"
MAX_BYTES = 4 * 1024 * 1024  # a cache larger than this is not ours: complete nothing


def cache_path() -> Path:
    """$CARTESIA_CLI_CACHE_DIR, else the platform's user cache directory, + voices.json."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / FILE_NAME
    if sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cartesia-cli" / FILE_NAME


def load(path: Path | None = None) -> dict[str, str]:
    """Voice id -> name; {} for a cache that is missing, too large or not what we write."""
    path = path or cache_path()
    try:
        # A regular file only (a named pipe would hang a Tab press), read bounded.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return {}
            data = file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return {}
        doc = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return {}
    voices = doc.get("voices") if isinstance(doc, dict) else None
    if not isinstance(voices, dict):
        return {}
    return {
        k: _plain(v)
        for k, v in voices.items()
        if isinstance(k, str) and _ID.fullmatch(k) and isinstance(v, str)
    }


# What a voice id may be to reach a shell's completion: no space, no control character.
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _folded(text: str) -> str:
    """Case and accents ignored, as the API's search ignores them: "Ame" finds "Amélie"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _plain(name: str) -> str:
    """A name fit for a completion's description: control characters become spaces."""
    return _CONTROL.sub(" ", name)[:200]


def update(seen: Iterable[tuple[str, str]], *, complete: bool, path: Path | None = None) -> Path:
    """Store the voices seen; `complete` (an unfiltered listing of all) replaces the rest.

    Raises OSError when the cache cannot be written.
    """
    import tempfile  # here: completion, which only reads, does not pay for it

    path = path or cache_path()
    voices = {} if complete else load(path)
    voices.update((k, _plain(v)) for k, v in seen if _ID.fullmatch(k))
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"voices": voices}
    data = json.dumps(document, ensure_ascii=False, sort_keys=True, allow_nan=False).encode()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".voices-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def complete(incomplete: str, voices: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(id, name) for ids that start with `incomplete` and names that do (any case)."""
    voices = load() if voices is None else voices
    typed = _folded(incomplete)
    found = [
        (voice_id, name)
        for voice_id, name in voices.items()
        if voice_id.startswith(incomplete) or _folded(name).startswith(typed)
    ]
    return sorted(found, key=lambda item: (item[1].casefold(), item[0]))
