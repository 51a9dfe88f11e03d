"""`--batch FILE`: the items, one per line, read as they are needed.

A line is a transcript, or (starting with `{`) a JSON object with a
`transcript` and any of `voice`, `output` and the settings' names (`model`,
`encoding`, `sample_rate`, `speed`, …, as in the config file). Blank lines are
skipped. Lines are read lazily, so 10,000 items cost the memory of a few. A bad
line is an item that fails (exit 2), never the end of the batch.
"""

from __future__ import annotations

import json
import os
import select
from collections.abc import Iterable, Iterator
from typing import NamedTuple

MAX_LINE = 1024 * 1024  # bytes in one line: one transcript, not a whole book


class Item(NamedTuple):
    number: int  # the line number, from 1: names files and errors
    transcript: str
    fields: dict[str, str]  # setting name -> raw text, as a flag would give it
    output: str | None = None


class BadItem(NamedTuple):
    number: int
    message: str


def lines_from(fd: int, chunk: int = 65536) -> Iterator[bytes]:
    """The lines written to descriptor `fd`, each as soon as it is whole.

    Read with `os.read`, not a buffered file: a thread blocked here holds no lock
    that the interpreter's shutdown would wait for. A line past MAX_LINE is cut
    there (and seen as too long) and the rest of it skipped, so no line is held
    whole in memory. A non-blocking descriptor is waited on, not taken as ended.
    """
    pending, skipping = b"", False
    while True:
        try:
            data = os.read(fd, chunk)
        except BlockingIOError:
            select.select([fd], [], [])
            continue
        if not data:
            break
        pending += data
        while (end := pending.find(b"\n")) >= 0:
            line, pending = pending[: end + 1], pending[end + 1 :]
            if not skipping:
                yield line
            skipping = False
        if len(pending) > MAX_LINE and not skipping:
            yield pending[: MAX_LINE + 1]  # too long: reported as such
            pending, skipping = b"", True
        elif skipping:
            pending = b""
    if pending and not skipping:
        yield pending


def items(lines: Iterable[bytes], settings: frozenset[str]) -> Iterator[Item | BadItem]:
    """Each non-blank line as an item; `settings` are the per-item keys allowed."""
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE:
            yield BadItem(number, f"longer than {MAX_LINE // 1024} KB")
            continue
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            yield BadItem(number, "not UTF-8")
            continue
        if number == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark is not text
        if not line.strip():
            continue
        yield parse_line(number, line, settings)


def parse_line(number: int, line: str, settings: frozenset[str]) -> Item | BadItem:
    if not line.strip():
        return BadItem(number, "empty")
    if not line.lstrip().startswith("{"):
        return Item(number, line.strip(), {})
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError):
        return BadItem(number, "starts with '{' but is not a JSON object")
    if not isinstance(doc, dict):
        return BadItem(number, "not a JSON object")
    transcript = doc.pop("transcript", None)
    if not isinstance(transcript, str) or not transcript.strip():
        return BadItem(number, "no transcript")
    output = doc.pop("output", None)
    problem = _output_problem(output)
    if problem:
        return BadItem(number, problem)
    unknown = sorted(set(doc) - settings)
    if unknown:
        return BadItem(number, f"unknown field {unknown[0]!r}")
    fields: dict[str, str] = {}
    for key, value in doc.items():
        if value is None:
            continue  # null: as if not given
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            return BadItem(number, f"{key} must be a string or a number")
        integral = isinstance(value, float) and value.is_integer() and key == "sample_rate"
        fields[key] = str(int(value)) if integral else str(value)
    return Item(number, transcript, fields, output)


def _output_problem(output: object) -> str | None:
    """Why an item's `output` cannot name its file, or None when it can (or is absent)."""
    if output is None:
        return None
    if not isinstance(output, str) or not output:
        return "output must be a file name"
    if output == "-":
        return "output must be a file: a batch cannot share stdout"
    if "\0" in output:
        return "output contains a NUL byte"
    try:
        output.encode("utf-8")
    except UnicodeEncodeError:
        return "output is not valid UTF-8"
    return None
