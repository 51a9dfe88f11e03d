"""`--batch FILE`: the items, one per line, read as they are needed.

A line is a transcript, or (starting with `{`) a JSON object with a
`transcript` and any of `voice`, `output` and the settings' names (`model`,
`encoding`, `sample_rate`, `speed`, …, as in the config file). Blank lines are
skipped. Lines are read lazily, so 10,000 items cost the memory of a few. A bad
line is an item that fails (exit 2), never the end of the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple

MAX_LINE = 1024 * 1024  # bytes in one line: one transcript, not a whole book


class Item(NamedTuple):
    number: int  # the line number, from 1: names files and errors
    transcript: str
    fields: dict[str, str]  # setting name -> raw text, as a flag would give it
    output: str | None = None


class BadItem(NamedTuple):
    number: int
    message: str


def bounded_lines(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's lines; one past MAX_LINE is cut there (and seen as too long), the rest
    of it skipped, so no line is ever held whole in memory."""
    while line := stream.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := stream.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
        yield line


def items(lines: Iterable[bytes], settings: frozenset[str]) -> Iterator[Item | BadItem]:
    """Each non-blank line as an item; `settings` are the per-item keys allowed."""
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE:
            yield BadItem(number, f"line {number} is longer than {MAX_LINE // 1024} KB")
            continue
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield BadItem(number, f"line {number} is not UTF-8")
            continue
        if not line.strip():
            continue
        yield parse_line(number, line, settings)


def parse_line(number: int, line: str, settings: frozenset[str]) -> Item | BadItem:
    if not line.strip():
        return BadItem(number, f"line {number} is empty")
    if not line.lstrip().startswith("{"):
        return Item(number, line.strip(), {})
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):
        return BadItem(number, f"line {number} starts with '{{' but is not a JSON object")
    if not isinstance(doc, dict):
        return BadItem(number, f"line {number} is not a JSON object")
    transcript = doc.pop("transcript", None)
    if not isinstance(transcript, str) or not transcript.strip():
        return BadItem(number, f"line {number} has no transcript")
    output = doc.pop("output", None)
    if output is not None and (not isinstance(output, str) or not output):
        return BadItem(number, f"line {number}: output must be a file name")
    unknown = sorted(set(doc) - settings)
    if unknown:
        return BadItem(number, f"line {number}: unknown field {unknown[0]!r}")
    fields: dict[str, str] = {}
    for key, value in doc.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return BadItem(number, f"line {number}: {key} must be a string or a number")
        fields[key] = str(value)
    return Item(number, transcript, fields, output)
