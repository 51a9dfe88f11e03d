"""A pronunciation dictionary kept as a file people commit: TOML or CSV, read and written.

TOML (`names.toml`): an optional `name` first, then the words under `[words]`,
each a pronunciation (sounds-like text or IPA in `<<…>>`) or a table that also
says whether the match minds letter case:

    name = "Brand names"

    [words]
    Cartesia = "kar-TEE-zha"
    bayou = "<<b|a|j|u>>"
    "iOS" = { pronunciation = "eye oh ess", case_sensitive = true }

The words have a table of their own so that no word is a reserved key (a word
may be `name`), and a misspelt top-level key is caught, not taken for a word.

CSV (`names.csv`): an optional first line `# name: Brand names`, then
`text,pronunciation[,case_sensitive]`, one word a line; a first line naming
those columns is a header and skipped; `case_sensitive` is `true`, `false` or
empty (not set). A field is quoted as a spreadsheet quotes it ("a, b", with ""
for a quote) and stays on its line; one that starts with = + - @ is written
quoted too (a spreadsheet may take it for a formula), and reads back the same.

Two words that differ only in letter case are refused unless both are
case-sensitive: otherwise each matches every capitalisation of the other.

The suffix says which (`.toml`, `.csv`). Every error is one line naming the
file, and the line and column where that is known. What `dump` writes, `parse`
reads back equal; what `parse` refuses, `dump` refuses too.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Sequence
from typing import NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input import toml_where

TOML, CSV = "toml", "csv"
FORMATS = (TOML, CSV)
MAX_BYTES = 2 * 1024 * 1024  # tens of thousands of words: anything larger is not a dictionary
CASE_VALUES = {"true": True, "false": False, "": None}
HEADER = ("text", "pronunciation", "case_sensitive")
BOM = "\ufeff"  # spreadsheets put one before a CSV file's first line


class Entry(NamedTuple):
    """One word and how to say it; `case_sensitive` None when the file does not say."""

    text: str
    pronunciation: str
    case_sensitive: bool | None = None


class DictFile(NamedTuple):
    name: str | None  # the file's `name` (a CSV file's `# name:` line); None when it has none
    entries: tuple[Entry, ...]


class DictFileError(UsageError):
    """A dictionary file that cannot be read or written as one (exit 2)."""


def at(where: str, line: int | None, column: int | None, what: str) -> DictFileError:
    """`names.toml, line 3, column 1: what`; the line and column only when known."""
    if line is None:
        return DictFileError(f"{where}: {what}")
    column_part = f", column {column}" if column is not None else ""
    return DictFileError(f"{where}, line {line}{column_part}: {what}")


def format_of(path: str) -> str:
    """The format the file name's suffix says; a UsageError for any other suffix."""
    suffix = os.path.splitext(path)[1].lower().lstrip(".")
    if suffix not in FORMATS:
        raise DictFileError(f"{path}: a dictionary file ends in .toml or .csv")
    return suffix


def read(path: str) -> DictFile:
    """The dictionary in the file at `path`, checked whole."""
    fmt = format_of(path)
    return parse(_read_bytes(path), path, fmt)


def _read_bytes(path: str) -> bytes:
    """The file's bytes, at most MAX_BYTES; a named pipe or a device is refused, not waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise DictFileError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DictFileError(f"{path} is not a regular file")
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DictFileError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    return raw


def parse(raw: bytes, where: str, fmt: str) -> DictFile:
    """The dictionary `raw` holds; `where` names it in errors."""
    if len(raw) > MAX_BYTES:
        raise DictFileError(f"{where} is over {MAX_BYTES // (1024 * 1024)} MB: not a dictionary")
    text = _decode(raw, where).removeprefix(BOM)
    return _parse_toml(text, where) if fmt == TOML else _parse_csv(text, where)


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        raise at(where, line, column, f"not UTF-8 text (a byte 0x{byte:02x})") from None


# --- checks shared by reading and writing ---------------------------------------------------

# C0 controls, DEL and C1 controls: a word and its pronunciation are one line of text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def problem(entry: Entry) -> str | None:
    """What makes `entry` unfit for a dictionary file, or None."""
    for label, value in (("text", entry.text), ("pronunciation", entry.pronunciation)):
        if not value.strip():
            return (
                f"empty {label}" if label == "text" else f"empty pronunciation for {entry.text!r}"
            )
        trouble = _text_problem(value)
        if trouble:
            return f"the {label} {value!r} {trouble}"
    if entry.case_sensitive not in (True, False, None):
        return f"case_sensitive of {entry.text!r} must be true or false"
    return None


def name_problem(name: str) -> str | None:
    if not name.strip():
        return "the name is empty"
    trouble = _text_problem(name)
    return f"the name {name!r} {trouble}" if trouble else None


def _text_problem(value: str) -> str | None:
    if _CONTROL.search(value):
        return "has a control character (a line break, a tab …)"
    if _SURROGATE.search(value):
        return "is not UTF-8 text"
    return None


def case_twin(entries: Sequence[Entry]) -> tuple[Entry, Entry] | None:
    """The first two entries whose words differ only in letter case and that are not both
    case-sensitive (each would match the other's capitalisation): (earlier, later)."""
    seen: dict[str, Entry] = {}
    for entry in entries:
        earlier = _twin_in(seen, entry)
        if earlier is not None:
            return earlier, entry
    return None


def _twin_in(seen: dict[str, Entry], entry: Entry) -> Entry | None:
    """The entry in `seen` (by folded word) that `entry` clashes with; else None, and
    `entry` is added to `seen`."""
    earlier = seen.setdefault(entry.text.casefold(), entry)
    if earlier is entry or (earlier.case_sensitive and entry.case_sensitive):
        return None
    return earlier


def case_twin_problem(earlier: Entry, later: Entry, first_line: int | None) -> str:
    where = f" (line {first_line})" if first_line is not None else ""
    return (
        f"{later.text!r} and {earlier.text!r}{where} differ only in letter case, so each "
        "matches both: keep one, or mark both case_sensitive = true"
    )


# --- TOML -----------------------------------------------------------------------------------

WORDS = "words"
NAME = "name"
ITEM_KEYS = ("pronunciation", "case_sensitive")
_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")
_REPEATS = ("Cannot overwrite a value", "Cannot declare", "Duplicate inline table key")


def _parse_toml(text: str, where: str) -> DictFile:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_syntax(str(exc), text, where) from None
    except RecursionError:  # tomllib recurses once per level of `[[[[…`
        raise at(where, None, None, "not valid TOML: nested too deeply") from None
    places = toml_where.places(text)
    name: str | None = None
    words: dict[str, object] = {}
    for key, value in data.items():
        if key == NAME:
            name = _toml_name(value, where, toml_where.find(places, (), key))
        elif key == WORDS and isinstance(value, dict):
            words = value
        else:
            raise _outside(key, value, where, toml_where.find(places, (), key))
    entries = tuple(_toml_entry(text, value, where, places) for text, value in words.items())
    twin = case_twin(entries)
    if twin is not None:
        earlier, later = twin
        first = toml_where.find(places, (WORDS,), earlier.text)
        again = toml_where.find(places, (WORDS,), later.text)
        raise at(
            where,
            again.line if again else None,
            again.column if again else None,
            case_twin_problem(earlier, later, first.line if first else None),
        )
    return DictFile(name, entries)


def _toml_syntax(message: str, text: str, where: str) -> DictFileError:
    """tomllib's message as one line naming the place; a repeated key names both lines."""
    if message.startswith(_REPEATS):
        twice = toml_where.repeated(toml_where.places(text))
        if twice:
            again, first = twice
            return at(
                where,
                again.line,
                again.column,
                f"{again.key!r} is given twice (first on line {first.line})",
            )
    found = _POSITION.search(message)
    what = "not valid TOML: " + message[:1].lower() + message[1:]
    if found:
        return at(where, int(found[1]), int(found[2]), _POSITION.sub("", what))
    return at(where, None, None, _AT_END.sub(" (at the end of the file)", what))


def _toml_name(value: object, where: str, place: toml_where.Place | None) -> str:
    line, column = (place.line, place.column) if place else (None, None)
    if not isinstance(value, str):
        raise at(where, line, column, 'name must be a string: name = "Brand names"')
    trouble = name_problem(value)
    if trouble:
        raise at(where, line, column, trouble)
    return value


def _outside(key: str, value: object, where: str, place: toml_where.Place | None) -> DictFileError:
    line, column = (place.line, place.column) if place else (None, None)
    if key == WORDS:
        return at(where, line, column, "words must be a table: [words] on a line of its own")
    if isinstance(value, str | dict):
        return at(where, line, column, f"{key!r} is outside [words]: put the words under [words]")
    return at(where, line, column, f"unknown key {key!r}: a dictionary file has name and [words]")


def _toml_entry(text: str, value: object, where: str, places: list[toml_where.Place]) -> Entry:
    place = toml_where.find(places, (WORDS,), text)
    line, column = (place.line, place.column) if place else (None, None)
    if isinstance(value, str):
        entry = Entry(text, value)
    elif isinstance(value, dict):
        entry = _toml_item(text, value, where, places, place)
    else:
        raise at(
            where,
            line,
            column,
            f"{text!r} must be a pronunciation in quotes, or "
            '{ pronunciation = "…", case_sensitive = true }',
        )
    trouble = problem(entry)
    if trouble:
        raise at(where, line, column, trouble)
    return entry


def _toml_item(
    text: str,
    item: dict[str, object],
    where: str,
    places: list[toml_where.Place],
    place: toml_where.Place | None,
) -> Entry:
    def fail(key: str | None, what: str) -> DictFileError:
        inner = toml_where.find(places, (WORDS, text), key) if key else None
        spot = inner or place
        return at(where, spot.line if spot else None, spot.column if spot else None, what)

    for key in item:
        if key not in ITEM_KEYS:
            raise fail(
                key, f"unknown key {key!r} for {text!r} (a word takes {' and '.join(ITEM_KEYS)})"
            )
    pronunciation = item.get("pronunciation")
    if not isinstance(pronunciation, str):
        raise fail("pronunciation", f'{text!r} needs pronunciation = "…" (a string)')
    case_sensitive = item.get("case_sensitive")
    if case_sensitive is not None and not isinstance(case_sensitive, bool):
        raise fail("case_sensitive", f"case_sensitive of {text!r} must be true or false")
    return Entry(text, pronunciation, case_sensitive)


# --- CSV ------------------------------------------------------------------------------------


class _Field(NamedTuple):
    value: str
    column: int  # from 1


NAME_LINE = "# name:"


def _parse_csv(text: str, where: str) -> DictFile:
    entries: list[Entry] = []
    first_line: dict[str, int] = {}
    header_possible = True
    name: str | None = None
    folded: dict[str, Entry] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip(" \t"):
            continue
        if header_possible and name is None and not entries and line.startswith(NAME_LINE):
            name = _csv_name(line, number, where)
            continue
        fields = _fields(line, number, where)
        if header_possible and _is_header(fields):
            header_possible = False
            continue
        header_possible = False
        entry = _csv_entry(fields, number, where)
        if entry.text in first_line:
            raise at(
                where,
                number,
                fields[0].column,
                f"{entry.text!r} is given twice (first on line {first_line[entry.text]})",
            )
        earlier = _twin_in(folded, entry)
        if earlier is not None:
            problem_text = case_twin_problem(earlier, entry, first_line[earlier.text])
            raise at(where, number, fields[0].column, problem_text)
        first_line[entry.text] = number
        entries.append(entry)
    return DictFile(name, tuple(entries))


def _csv_name(line: str, number: int, where: str) -> str:
    """The name on a `# name: Brand names` line: one field, quoted where a field would be."""
    fields = _fields(line[len(NAME_LINE) :], number, where)
    offset = len(NAME_LINE)
    if len(fields) != 1:
        column = fields[1].column + offset
        raise at(where, number, column, 'one name after "# name:": quote a name with a comma')
    trouble = name_problem(fields[0].value)
    if trouble:
        raise at(where, number, fields[0].column + offset, trouble)
    return fields[0].value


def _is_header(fields: Sequence[_Field]) -> bool:
    names = tuple(field.value.strip().lower() for field in fields)
    return names in (HEADER[:2], HEADER)


def _csv_entry(fields: Sequence[_Field], number: int, where: str) -> Entry:
    if len(fields) < 2:
        raise at(where, number, None, "expected text,pronunciation[,case_sensitive]: one field")
    if len(fields) > 3:
        extra = fields[3]
        raise at(where, number, extra.column, "expected text,pronunciation[,case_sensitive]")
    case_sensitive = None
    if len(fields) == 3:
        word = fields[2].value.strip().lower()
        if word not in CASE_VALUES:
            raise at(where, number, fields[2].column, "case_sensitive must be true, false or empty")
        case_sensitive = CASE_VALUES[word]
    entry = Entry(fields[0].value, fields[1].value, case_sensitive)
    trouble = problem(entry)
    if trouble:
        column = fields[0].column if trouble.startswith(("empty text", "the text")) else None
        raise at(where, number, column or fields[1].column, trouble)
    return entry


def _fields(line: str, number: int, where: str) -> list[_Field]:
    """A CSV line's fields: unquoted ones without the spaces around them, quoted ones as is."""
    fields: list[_Field] = []
    i = 0
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        start = i
        if i < len(line) and line[i] == '"':
            value, i = _quoted(line, i, number, where)
            while i < len(line) and line[i] in " \t":
                i += 1
            if i < len(line) and line[i] != ",":
                raise at(where, number, i + 1, "a comma must follow a closing quote")
        else:
            end = line.find(",", i)
            end = len(line) if end < 0 else end
            value = line[i:end].rstrip(" \t")
            if '"' in value:
                column = i + value.index('"') + 1
                raise at(where, number, column, 'a quote inside a field: quote it all, "" inside')
            i = end
        fields.append(_Field(value, start + 1))
        if i >= len(line):
            return fields
        i += 1  # the comma


def _quoted(line: str, i: int, number: int, where: str) -> tuple[str, int]:
    """The quoted field starting at `line[i]` and the index after its closing quote."""
    start, i, value = i, i + 1, list[str]()
    while i < len(line):
        if line[i] == '"':
            if line[i + 1 : i + 2] != '"':
                return "".join(value), i + 1
            i += 1
        value.append(line[i])
        i += 1
    raise at(where, number, start + 1, "a quote is not closed on its line")


# --- writing ------------------------------------------------------------------------------


def dump(dictionary: DictFile, fmt: str, where: str) -> str:
    """The file's text; a DictFileError naming `where` if the dictionary cannot be one."""
    _check(dictionary, where)
    if fmt == TOML:
        return _toml_text(dictionary)
    return _csv_text(dictionary)


def _check(dictionary: DictFile, where: str) -> None:
    if dictionary.name is not None:
        trouble = name_problem(dictionary.name)
        if trouble:
            raise at(where, None, None, trouble)
    seen: set[str] = set()
    for entry in dictionary.entries:
        trouble = problem(entry)
        if trouble:
            raise at(where, None, None, trouble)
        if entry.text in seen:
            raise at(where, None, None, f"{entry.text!r} is in the dictionary twice")
        seen.add(entry.text)
    twin = case_twin(dictionary.entries)
    if twin is not None:
        raise at(where, None, None, case_twin_problem(*twin, None))


_BARE = re.compile(r"[A-Za-z0-9_-]+")
# What a TOML basic string must escape: the quote and the backslash (the checks
# above leave no control character to escape).
_TOML_ESCAPES = str.maketrans({'"': '\\"', "\\": "\\\\"})


def _toml_string(value: str) -> str:
    return '"' + value.translate(_TOML_ESCAPES) + '"'


def _toml_text(dictionary: DictFile) -> str:
    lines = [f"{NAME} = {_toml_string(dictionary.name)}", ""] if dictionary.name else []
    lines.append(f"[{WORDS}]")
    for entry in dictionary.entries:
        key = entry.text if _BARE.fullmatch(entry.text) else _toml_string(entry.text)
        value = _toml_string(entry.pronunciation)
        if entry.case_sensitive is not None:
            flag = "true" if entry.case_sensitive else "false"
            value = f"{{ pronunciation = {value}, case_sensitive = {flag} }}"
        lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def _csv_text(dictionary: DictFile) -> str:
    entries = list(dictionary.entries)
    named = [csv_name_line(dictionary.name) + "\n"] if dictionary.name else []
    three = any(entry.case_sensitive is not None for entry in entries)
    rows = [list(HEADER if three else HEADER[:2])]
    for entry in entries:
        row = [entry.text, entry.pronunciation]
        if three:
            row.append({True: "true", False: "false", None: ""}[entry.case_sensitive])
        rows.append(row)
    lines = (",".join(_csv_field(value) for value in row) + "\n" for row in rows)
    return "".join([*named, *lines])


def csv_name_line(name: str) -> str:
    """A CSV file's first line that names its dictionary: `# name: Brand names`."""
    return f"{NAME_LINE} {_csv_field(name)}"


# A spreadsheet may take a field starting with one of these for a formula: such a
# field is written quoted, which reads back as the same text (quoting cannot stop
# every spreadsheet from evaluating it; nothing that keeps the text can).
_FORMULA_START = ("=", "+", "-", "@")


def _csv_field(value: str) -> str:
    if (
        value != value.strip(" \t")
        or any(char in value for char in ',"')
        or value.startswith(_FORMULA_START)
    ):
        return '"' + value.replace('"', '""') + '"'
    return value
