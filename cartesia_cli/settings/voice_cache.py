"""The voice cache that `--voice` completes from: voice ids and names, kept by `voices list`.

Completion never touches the network: a Tab press reads this small file and
nothing else. A missing, empty or unreadable cache completes nothing, quietly;
one that is not a regular file is neither read nor replaced. Names come from the
API: they reach a shell only as `shown_name` makes them, plain text.
The file is replaced atomically (a new file renamed over the old one), so a
completion that reads while `voices list` writes sees one or the other.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from cartesia_cli.settings import location

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
    try:  # a regular file only: a named pipe there would hang a Tab press
        data = location.read_regular_file(path, MAX_BYTES)
        if data is None or len(data) > MAX_BYTES:
            return {}
        doc = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return {}
    voices = doc.get("voices") if isinstance(doc, dict) else None
    if not isinstance(voices, dict):
        return {}
    return {
        k: shown_name(v)
        for k, v in voices.items()
        if isinstance(k, str) and _ID.fullmatch(k) and isinstance(v, str)
    }


# What a voice id may be to reach a shell's completion: nothing any shell reads as syntax.
_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
NAME_LIMIT = 200
# What a shell's completion script could read as syntax; quotes are kept, as look-alikes.
_SHELL_SYNTAX = str.maketrans({"\\": " ", "$": " ", "`": " ", "'": "\u2019", '"': "\u201d"})
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned
# characters: nothing a completion menu should show. Any kind of space: a plain one.
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def _folded(text: str) -> str:
    """Case and accents ignored, as the API's search ignores them: "Ame" finds "Amélie"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shown_name(name: str) -> str:
    """A voice name as completion may show it, in any shell: one line of plain text.

    A name comes from the API (or from whoever wrote the cache) and reaches zsh
    through two `eval`s, where a backslash undoes the escaping of a `$` or a
    backtick after it. So: no backslash, `$` or backtick (each becomes a space),
    typographic quotes for ASCII ones, no control, bidi or other invisible
    characters, single spaces, at most NAME_LIMIT characters.
    """
    import unicodedata

    translated = name.translate(_SHELL_SYNTAX)
    spaced = "".join(" " if unicodedata.category(c) in _UNSHOWN else c for c in translated)
    return " ".join(spaced.split())[:NAME_LIMIT].strip()


def update(seen: Iterable[tuple[str, str]], *, complete: bool, path: Path | None = None) -> Path:
    """Store the voices seen; `complete` (an unfiltered listing of all) replaces the rest.

    Raises OSError when the cache cannot be written.
    """
    import tempfile  # here: completion, which only reads, does not pay for it

    path = Path(location.writable_target(path or cache_path()))
    voices = {} if complete else load(path)
    voices.update((k, shown_name(v)) for k, v in seen if _ID.fullmatch(k))
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
    typed = _folded(incomplete.translate(_SHELL_SYNTAX))  # a typed ' finds the shown \u2019
    found = [
        (voice_id, name)
        for voice_id, name in voices.items()
        if voice_id.startswith(incomplete) or _folded(name).startswith(typed)
    ]
    return sorted(found, key=lambda item: (item[1].casefold(), item[0]))
