"""The names of voices and pronunciation dictionaries seen in listings, kept per API base URL.

Two readers: a name given for `--voice` or `--pronunciation-dict` is looked up
here before any request, and shell completion offers what is here. Each base
URL has names of its own: the fake server's voices are never offered for the
real API. Every listing refreshes its part (`remember`); a whole, unfiltered
listing replaces it.

Completion never touches the network: a Tab press reads this small file and
nothing else. A missing, empty or unreadable cache holds nothing, quietly;
one that is not a regular file is neither read nor replaced. Names are kept as
the API sent them; they reach a shell only as `shown_name` makes them, plain
text. The file is replaced atomically (a new file renamed over the old one), so
a reader sees the old names or the new ones.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

from cartesia_cli.settings import dirs, location

CACHE_DIR_ENV = dirs.CACHE_DIR_ENV
FILE_NAME = "names.json"
MAX_BYTES = 4 * 1024 * 1024  # a cache larger than this is not ours: it holds nothing
MAX_SITES = 8  # base URLs kept; the one used longest ago goes first
RAW_LIMIT = 500  # a longer name is not kept: its voice is offered by its id
VERSION = 2  # the layout; voices.json (version 1) named no base URL and is not read

VOICES = "voices"  # the kinds of thing named, as the file names them
DICTIONARIES = "dicts"
KINDS = (VOICES, DICTIONARIES)

Names = dict[str, str]  # id -> name, as the API sent it
Sites = dict[str, dict[str, Names]]  # site -> kind -> names


def cache_path() -> Path:
    """names.json in the user's cache directory (settings/dirs.py: the audio cache's too)."""
    return dirs.cache_dir() / FILE_NAME


def site(base_url: str) -> str:
    """The key a base URL's names are kept under: scheme and host in lower case, no final /."""
    parts = urlsplit(base_url.strip())
    path = parts.path.rstrip("/")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def names(kind: str, base_url: str, path: Path | None = None) -> Names:
    """Id -> name (as the API sent it) of `kind` for `base_url`; {} when none are kept."""
    return dict(_load(path or cache_path()).get(site(base_url), {}).get(kind, {}))


def remember(
    kind: str,
    base_url: str,
    seen: Iterable[tuple[str, str]],
    *,
    complete: bool,
    path: Path | None = None,
) -> Path:
    """Keep the (id, name) pairs seen; `complete` (an unfiltered listing of all) replaces the rest.

    Raises OSError when the cache cannot be written.
    """
    path = Path(location.writable_target(path or cache_path()))
    sites = _load(path)
    key = site(base_url)
    kept = sites.pop(key, {})  # put back last: the base URL used most recently
    known = {} if complete else kept.get(kind, {})
    known.update((i, _kept_name(n)) for i, n in seen if is_kept_id(i))
    sites[key] = {**kept, kind: known}
    return _save(path, sites, key)


def forget(kind: str, base_url: str, ids: Iterable[str], path: Path | None = None) -> Path:
    """Drop the ids (deleted: their names no longer name anything). Raises OSError."""
    path = Path(location.writable_target(path or cache_path()))
    sites = _load(path)
    key = site(base_url)
    kept = sites.pop(key, {})
    known = {i: n for i, n in kept.get(kind, {}).items() if i not in set(ids)}
    sites[key] = {**kept, kind: known}
    return _save(path, sites, key)


def _kept_name(name: str) -> str:
    return name if len(name) <= RAW_LIMIT else ""


def _load(path: Path) -> Sites:
    """Every site's names; {} for a cache that is missing, too large or not what we write."""
    try:  # a regular file only: a named pipe there would hang a Tab press
        data = location.read_regular_file(path, MAX_BYTES)
        if data is None or len(data) > MAX_BYTES:
            return {}
        doc = json.loads(data)
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        return {}
    sites = doc.get("sites")
    if not isinstance(sites, dict):
        return {}
    return {
        key: {kind: _checked(kinds.get(kind)) for kind in KINDS if kind in kinds}
        for key, kinds in sites.items()
        if isinstance(key, str) and isinstance(kinds, dict)
    }


def _checked(found: object) -> Names:
    if not isinstance(found, dict):
        return {}
    fits = _ID.fullmatch  # once per name of a large cache: no call of ours in the loop
    return {
        k: v if len(v) <= RAW_LIMIT else ""
        for k, v in found.items()
        if isinstance(k, str) and isinstance(v, str) and fits(k)
    }


def _save(path: Path, sites: Sites, newest: str) -> Path:
    """Write the sites (the newest kept whatever else must go), atomically."""
    import tempfile  # here: completion, which only reads, does not pay for it

    while True:
        kept = dict(list(sites.items())[-MAX_SITES:])
        document = {"version": VERSION, "sites": kept}
        data = json.dumps(document, ensure_ascii=False, allow_nan=False).encode()
        if len(data) <= MAX_BYTES:
            break
        if len(kept) == 1:
            raise OSError(f"the names of {newest} would make it over {MAX_BYTES} bytes")
        del sites[next(iter(kept))]  # the site used longest ago goes, then try again
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".names-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# What an id may be to reach a shell's completion: nothing any shell reads as syntax.
# Not dots alone: `.` and `..` in a URL path name another path (the collection, the root).
_ID = re.compile(r"(?!\.+\Z)[A-Za-z0-9._:-]{1,128}")


def is_kept_id(item_id: str) -> bool:
    """Whether an id may be kept (and so offered to a shell, and sent in a path)."""
    return _ID.fullmatch(item_id) is not None


def name_key(name: str) -> str:
    """A name as two names are compared: case ignored, and one character however it was
    typed (`é` composed or as `e` + accent, as macOS file names and some keyboards give it)."""
    import unicodedata

    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


NAME_LIMIT = 200
# What a shell's completion script could read as syntax; quotes are kept, as look-alikes.
_SHELL_SYNTAX = str.maketrans({"\\": " ", "$": " ", "`": " ", "'": "\u2019", '"': "\u201d"})
_SYNTAX_FOUND = re.compile("[\\\\$`'\"]")  # a search in C: most names have none
# Control, format (bidi overrides, zero-width), surrogate, private-use and unassigned
# characters: nothing a completion menu should show. Any kind of space: a plain one.
_UNSHOWN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})


def folded(text: str) -> str:
    """Case and accents ignored, as the API's search ignores them: "Ame" finds "Amélie"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if decomposed.isascii():  # most names: nothing to take off, and no loop over them
        return decomposed
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shown_name(name: str) -> str:
    """A name as completion may show it, in any shell: one line of plain text.

    A name comes from the API (or from whoever wrote the cache) and reaches zsh
    through two `eval`s, where a backslash undoes the escaping of a `$` or a
    backtick after it. So: no backslash, `$` or backtick (each becomes a space),
    typographic quotes for ASCII ones, no control, bidi or other invisible
    characters, single spaces, at most NAME_LIMIT characters.
    """
    import unicodedata

    translated = name.translate(_SHELL_SYNTAX) if _SYNTAX_FOUND.search(name) else name
    # isprintable() is false exactly for the _UNSHOWN categories (but the ASCII space):
    # one check in C for the names that have none of them, which is nearly all.
    spaced = (
        translated
        if translated.isprintable()
        else "".join(" " if unicodedata.category(c) in _UNSHOWN else c for c in translated)
    )
    return " ".join(spaced.split())[:NAME_LIMIT].strip()


class Offer(NamedTuple):
    """One completion: the word put on the command line, and what is shown beside it."""

    value: str
    help: str


def offers(incomplete: str, known: Mapping[str, str]) -> list[Offer]:
    """What completes `incomplete` among `known` (id -> name), by id or by name (any case).

    A name is put on the command line as it is (it is what --voice takes) when it
    names one voice alone and reads the same shown (no look-alike quotes): the id
    is shown beside it. Otherwise, and when an id is being typed, the id goes in,
    with the name beside it.
    """
    typed = folded(incomplete.translate(_SHELL_SYNTAX))  # a typed ' finds the shown \u2019
    # Each name folded once: a Tab press over tens of thousands of names stays quick.
    folds = {item_id: folded(name) for item_id, name in known.items()}
    by_name: dict[str, int] = {}
    for key in folds.values():
        by_name[key] = by_name.get(key, 0) + 1
    found = []
    for item_id, name in known.items():
        shown = shown_name(name)
        shown_folded = folds[item_id] if shown == name else folded(shown)
        if incomplete and item_id.startswith(incomplete):
            offer = Offer(item_id, shown)
        elif shown_folded.startswith(typed):
            alone = by_name[folds[item_id]] == 1
            plain = (
                shown == name and alone and _TYPED.fullmatch(name) and not _ID_LIKE.fullmatch(name)
            )
            offer = Offer(name, item_id) if plain else Offer(item_id, shown)
        else:
            continue
        found.append((shown_folded, item_id, offer))
    return [offer for *_, offer in sorted(found)]


# A name put on the command line: letters, digits, spaces and a little punctuation, nothing
# a shell could read as syntax once quoted (no glob, tilde, history or prompt characters).
_TYPED = re.compile(r"[\w .,()&+-]+")
# A name that reads as an id is sent as one (jobs/names.py): offer the id.
_ID_LIKE = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.IGNORECASE)


def completion_base_url(flag: str | None, env: Mapping[str, str], default: str) -> str:
    """The base URL a command being completed would use: flag, environment, config file, default.

    Read with no request and no error: a config file that cannot be read gives the default.
    """
    if flag:
        return flag
    if env.get("CARTESIA_BASE_URL"):
        return env["CARTESIA_BASE_URL"]
    from cartesia_cli.errors import UsageError
    from cartesia_cli.settings import store

    try:
        stored = store.load(Path(location.config_file(env))).get("base_url")
    except UsageError:
        return default
    return str(stored) if stored else default
