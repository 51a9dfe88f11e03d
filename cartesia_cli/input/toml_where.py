"""Where a key sits in a TOML text: the line and column an error about its value names.

tomllib gives positions for syntax errors only, and for a key given twice it
names the end of the document; a dictionary file's own checks (an empty
pronunciation, a bad `case_sensitive`) need the key's line too. This reads the
text line by line for the two places a key is written: `key = …` under a table
header, and the header `[table.key]` itself. Dotted keys and keys inside
multi-line strings are not found: the error then names the file only.
"""

from __future__ import annotations

import re
import sys
from typing import Any, NamedTuple

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

Path = tuple[str, ...]  # a table's keys from the top: () is the top level

_KEY = r""""(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[A-Za-z0-9_-]+"""
_ASSIGNMENT = re.compile(rf"[ \t]*({_KEY})[ \t]*=")
_HEADER = re.compile(r"[ \t]*\[(?!\[)([^\[\]\n]*)\][ \t]*(?:#.*)?$")
_ARRAY_HEADER = re.compile(r"[ \t]*\[\[")


class Place(NamedTuple):
    table: Path
    key: str
    line: int  # from 1
    column: int  # from 1: where the key starts


def places(text: str) -> list[Place]:
    """Every key found written in `text`, in order (a key given twice is listed twice)."""
    found: list[Place] = []
    table: Path | None = ()
    for number, line in enumerate(text.split("\n"), start=1):
        header = _HEADER.match(line)
        if header:
            table = _header_path(header.group(1))
            if table:
                column = header.start(1) + 1 + _indent(header.group(1))
                found.append(Place(table[:-1], table[-1], number, column))
            continue
        if _ARRAY_HEADER.match(line):
            table = None  # an array of tables: not a dictionary file's shape
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment and table is not None:
            key = _decode_key(assignment.group(1))
            if key is not None:
                found.append(Place(table, key, number, assignment.start(1) + 1))
    return found


def find(found: list[Place], table: Path, key: str) -> Place | None:
    """Where `key` of `table` is first written, if it was found."""
    return next((p for p in found if p.table == table and p.key == key), None)


def repeated(found: list[Place]) -> tuple[Place, Place] | None:
    """The first key written twice in one table, and where it was written before."""
    first: dict[tuple[Path, str], Place] = {}
    for place in found:
        earlier = first.setdefault((place.table, place.key), place)
        if earlier is not place:
            return place, earlier
    return None


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" \t"))


def _header_path(inside: str) -> Path | None:
    """`words."iOS"` -> ("words", "iOS"); None when it is not a plain table path."""
    doc = _loads(f"[{inside}]")
    path: list[str] = []
    while isinstance(doc, dict) and len(doc) == 1:
        key, doc = next(iter(doc.items()))
        path.append(key)
    return tuple(path) if doc == {} and path else None


def _decode_key(token: str) -> str | None:
    doc = _loads(f"{token} = 0")
    return next(iter(doc)) if isinstance(doc, dict) and len(doc) == 1 else None


def _loads(text: str) -> Any:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return None
