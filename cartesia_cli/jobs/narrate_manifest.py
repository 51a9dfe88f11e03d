"""`DIR/narrate.json`: what the book's folder holds, paragraph by paragraph.

Written whole and renamed into place (old or new, never half), after each
chapter and at most every WRITE_SECONDS while parts come in, and once more at
the end, stopped or not. The parts themselves (DIR/.parts) are the truth about
what has been said, so a manifest a little behind them is never wrong, only
late: the next run finds every part by its key.

Read back before a run, it must be sound: written by narrate, of this version,
every field of the type it should be, byte ranges that add up, and sizes that
match the parts they describe. Anything else was edited or damaged, and is
refused with a hint rather than trusted. A folder made for another book (another
input name and another structure) is refused too; the same input edited is
the same book (its changed paragraphs are said again).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import Book
from cartesia_cli.jobs.narrate_assembly import Built, made_before
from cartesia_cli.jobs.narration import Manifest, NarratePlan, input_name
from cartesia_cli.output.book_parts import is_key, write_file_atomically

MANIFEST = "narrate.json"
MARK = "cartesia-cli narrate"
VERSION = 1
MAX_MANIFEST = 256 * 1024 * 1024
WRITE_SECONDS = 1.0
STATUSES = ("done", "missing", "failed")
CHAPTER_STATUSES = ("complete", "incomplete", "failed")
_HEX64 = "0123456789abcdef"


class Damaged(Exception):
    """Why a manifest cannot be trusted."""


def load(path: Path) -> Manifest | None:
    """The manifest at `path`, checked; None when there is none; a UsageError when unsound."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_MANIFEST + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"{path} cannot be read: {exc.strerror or exc}") from None
    try:
        if len(data) > MAX_MANIFEST:
            raise Damaged("it is too large")
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError):
            raise Damaged("it is not JSON") from None
        return _checked(parsed)
    except Damaged as why:
        failure = UsageError(f"{path} was edited or damaged: {why}; it cannot be trusted")
        failure.hint = (
            f"remove {path} and run again: the parts already paid for (in {path.parent}/.parts)"
            " are found by their keys and reused"
        )
        raise failure from None


def structure_hash(book: Book) -> str:
    """The book's shape: its chapters' titles and its paragraphs' texts and speakers."""
    digest = hashlib.sha256()
    for chapter in book.chapters:
        digest.update(b"C" + chapter.title.encode() + b"\0")
        for paragraph in chapter.paragraphs:
            speaker = (paragraph.speaker or "").encode()
            digest.update(b"P" + paragraph.text_hash.encode() + b"\0" + speaker + b"\0")
    return digest.hexdigest()


def check_same_book(old: Manifest | None, folder: Path, name: str, structure: str) -> None:
    """Refuse a folder made for another book: another input name, and another text."""
    if old is None or old.input == name or old.structure == structure:
        return
    failure = UsageError(f"{folder} holds the audiobook of {old.input} ({old.title!r}), not {name}")
    failure.hint = f"name another folder with -o DIR (or remove {folder / MANIFEST} to reuse it)"
    raise failure


def check_parts(old: Manifest | None, present: Mapping[str, int], folder: Path) -> None:
    """A part the manifest lists as done must be the size it says (when it is there at all)."""
    if old is None:
        return
    for key, size in present.items():
        recorded = old.sizes.get(key)
        if recorded is not None and recorded != size:
            failure = UsageError(
                f"{folder / MANIFEST} says part {key[:12]}… has {recorded} bytes, but it has"
                f" {size}: the manifest or the part was edited"
            )
            failure.hint = f"remove {folder / MANIFEST} and the part to have it said again"
            raise failure


# -- reading -----------------------------------------------------------------------------


def _checked(data: object) -> Manifest:
    top = _object(data, "the manifest")
    if top.get("manifest") != MARK:
        raise Damaged("it is not a narrate manifest")
    if top.get("version") != VERSION:
        raise Damaged(f"its version is {top.get('version')!r}, not {VERSION}")
    book = _object(top.get("book"), "book")
    name, title, structure = (
        _text(book.get(k), f"book.{k}") for k in ("input", "title", "structure")
    )
    if not _is_hex64(structure):
        raise Damaged("book.structure is not a hash")
    recorded = _object(top.get("names", {}), "names")
    names = {_text(k, "names"): _text(v, f"names[{k!r}]") for k, v in recorded.items()}
    sizes: dict[str, int] = {}
    built: dict[str, str] = {}
    _built(top.get("book_file"), top.get("book_built"), "the book", built)
    chapters = top.get("chapters")
    if not isinstance(chapters, list):
        raise Damaged("chapters is not a list")
    for number, chapter in enumerate(chapters, start=1):
        checked = _object(chapter, f"chapter {number}")
        _chapter(checked, number, sizes)
        _built(checked.get("file"), checked.get("built"), f"chapter {number}", built)
    return Manifest(name, title, structure, names, sizes, built)


def _built(file: object, recipe: object, what: str, built: dict[str, str]) -> None:
    """A file made (its name in DIR, and its recipe's fingerprint), or none."""
    if file is None and recipe is None:
        return
    if not isinstance(file, str) or "/" in file or file.startswith(".") or not _is_hex64(recipe):
        raise Damaged(f"{what} names its file or recipe wrongly")
    assert isinstance(recipe, str)
    built[file] = recipe


def _chapter(chapter: Mapping[str, Any], number: int, sizes: dict[str, int]) -> None:
    where = f"chapter {number}"
    _text(chapter.get("title"), f"{where} title")
    if chapter.get("status") not in CHAPTER_STATUSES:
        raise Damaged(f"{where} has an unknown status")
    paragraphs = chapter.get("paragraphs")
    if not isinstance(paragraphs, list):
        raise Damaged(f"{where} has no list of paragraphs")
    cursor = 0
    for index, item in enumerate(paragraphs, start=1):
        paragraph = _object(item, f"{where} paragraph {index}")
        at = f"{where} paragraph {index}"
        key, text_hash = paragraph.get("key"), paragraph.get("text_hash")
        if not is_key(key) or not _is_hex64(text_hash):
            raise Damaged(f"{at} has no valid key or text hash")
        status = paragraph.get("status")
        if status not in STATUSES:
            raise Damaged(f"{at} has an unknown status")
        size, start, end = (paragraph.get(k) for k in ("bytes", "start", "end"))
        if status != "done":
            if size is not None or start is not None or end is not None:
                raise Damaged(f"{at} is not done, yet has a size or a byte range")
            continue
        if not isinstance(size, int) or not _count(size) or size % 2:
            raise Damaged(f"{at} is done, but its size is not a whole number of samples")
        if start is not None or end is not None:
            if not (isinstance(start, int) and isinstance(end, int) and _count(start)):
                raise Damaged(f"{at} has a byte range that is not two counts")
            if end - start != size or start < cursor:
                raise Damaged(f"{at} has a byte range that does not add up")
            cursor = end
        assert isinstance(key, str)
        if sizes.setdefault(key, size) != size:
            raise Damaged(f"{at} gives its part another size than before")


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Damaged(f"{what} is not an object")
    return value


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise Damaged(f"{what} is not text")
    return value


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in _HEX64 for c in value)


# -- writing -----------------------------------------------------------------------------


class RunState(NamedTuple):
    """What the run knows, for the manifest: sizes of parts there, chapters' fates, files."""

    sizes: Mapping[str, int]
    failed: Mapping[int, str]  # chapter index -> why it failed this run
    built: Built | None  # the files made, once the run has made them


def build(planned: NarratePlan, state: RunState, names: Mapping[str, str]) -> dict[str, Any]:
    """The manifest's content; its chapters come one at a time, as `encoded` writes them."""
    built = state.built or made_before(planned, state.sizes)
    return {
        "manifest": MARK,
        "version": VERSION,
        "book": {
            "input": input_name(planned.options.input),
            "title": planned.book.title,
            "structure": planned.structure,
        },
        "audio": {
            "encoding": "pcm_s16le",
            "sample_rate": planned.sample_rate,
            "paragraph_pause": planned.options.paragraph_pause,
            "chapter_pause": planned.options.chapter_pause,
            "format": planned.format,
        },
        "voicings": {name: _settings_shown(v.fields) for name, v in planned.voicings.items()},
        "names": dict(names),
        "book_file": built.book,
        "book_built": built.recipes.get(built.book or ""),
        "chapters": _chapters(planned, state, built),
    }


def _chapters(planned: NarratePlan, state: RunState, built: Built) -> Iterator[dict[str, Any]]:
    pause = round(planned.options.paragraph_pause * planned.sample_rate) * 2
    pairs = zip(planned.book.chapters, planned.chapters, strict=True)
    for index, (chapter, parts) in enumerate(pairs):
        complete = all(p.key in state.sizes for p in parts)
        failed = index in state.failed
        cursor = 0
        listed = []
        for part in parts:
            assert part.key is not None  # a run has every voice as an id
            size = state.sizes.get(part.key)
            placed = complete and size is not None
            listed.append({
                "key": part.key,
                "text_hash": part.paragraph.text_hash,
                "line": part.paragraph.line,
                "speaker": part.paragraph.speaker,
                "voicing": part.voicing,
                "voice": planned.voicings[part.voicing].voice_id,
                "status": _status(size, failed=failed),
                "bytes": size,
                "start": cursor if placed else None,
                "end": cursor + (size or 0) if placed else None,
                "seconds": round(size / planned.bytes_per_second, 3) if size is not None else None,
            })  # fmt: skip
            if size is not None:
                cursor += size + pause
        file = built.chapters.get(index) if complete else None
        yield {
            "number": index + 1,
            "title": chapter.title,
            "status": "complete" if complete else ("failed" if failed else "incomplete"),
            "error": state.failed.get(index),
            "file": file,
            "built": built.recipes.get(file) if file is not None else None,
            "paragraphs": listed,
        }


def _status(size: int | None, *, failed: bool) -> str:
    if size is not None:
        return "done"
    return "failed" if failed else "missing"


def _settings_shown(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in ("output_format", "add_timestamps")}


def encoded(manifest: Mapping[str, Any]) -> Iterator[bytes]:
    """The manifest as JSON, a chapter at a time: a long book's text is never held whole."""
    head = {key: value for key, value in manifest.items() if key != "chapters"}
    yield json.dumps(head, indent=1, ensure_ascii=False)[:-2].encode() + b',\n "chapters": ['
    for number, chapter in enumerate(manifest["chapters"]):
        text = json.dumps(chapter, indent=1, ensure_ascii=False)
        yield (",\n" if number else "\n").encode() + text.encode()
    yield b"\n ]\n}\n"


class ManifestWriter:
    """Writes the manifest when asked, at most every WRITE_SECONDS unless `now=True`."""

    def __init__(self, path: Path, content: Callable[[], Mapping[str, Any]]) -> None:
        self.path = path
        self._content = content
        self._last = 0.0
        self.writes = 0

    def write(self, *, now: bool = False) -> None:
        if not now and time.monotonic() < self._last + WRITE_SECONDS:
            return
        write_file_atomically(self.path, encoded(self._content()))
        self._last = time.monotonic()
        self.writes += 1
