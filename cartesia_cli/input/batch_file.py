"""`--batch FILE`: the items, one per line, read as they are needed.

A line is a transcript, or (starting with `{`) a JSON object with a
`transcript` and any of `voice`, `output` and the settings' names (`model`,
`encoding`, `sample_rate`, `speed`, …, as in the config file). Blank lines are
skipped. Lines are read lazily, so 10,000 items cost the memory of a few. A bad
line is an item that fails (exit 2), never the end of the batch.

A whole file that is JSON of another shape (an array of items, or an object
pretty-printed over several lines) is refused at its start (`one_item_per_line`):
read line by line, it would be spoken as "[", "{", '"transcript": "Hi",' ….
"""

from __future__ import annotations

import itertools
import json
import os
import select
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from cartesia_cli.errors import UsageError

MAX_LINE = 1024 * 1024  # bytes in one line: one transcript, not a whole book
# How far ahead the start of a file is read to find the end of an object spread
# over several lines: a pretty-printed item is a few lines, not a megabyte.
SNIFF_BYTES = 1024 * 1024
SNIFF_LINES = 1000
BOM = b"\xef\xbb\xbf"


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


def one_item_per_line(lines: Iterable[bytes], source: str) -> Iterator[bytes]:
    """`lines` as they are, once their start shows one item per line.

    A JSON array, or a JSON object over several lines, is refused with a UsageError
    before any item is read on. Only the first item is looked at (and, for an
    object, the lines up to its end): a bad line further on is that line's failure.
    """
    lines = iter(lines)
    ahead = list(_through_first_item(lines))
    shape = whole_json_shape(ahead, lines)
    if shape == "array":
        raise UsageError(
            f"--batch {source} is a JSON array; give one item per line: a transcript, "
            "or a JSON object on one line (JSON Lines)"
        )
    if shape == "object":
        raise UsageError(
            f"--batch {source} holds a JSON object over several lines; put each item's "
            "object on one line (JSON Lines)"
        )
    return itertools.chain(ahead, lines)


def _through_first_item(lines: Iterator[bytes]) -> Iterator[bytes]:
    """The lines up to the first one that is not blank (that one included)."""
    for line in lines:
        yield line
        if line.strip() and line.strip() != BOM:
            return


def whole_json_shape(ahead: list[bytes], rest: Iterator[bytes]) -> str | None:
    """`array` or `object` when the file is JSON that is not one item per line, else None.

    `ahead` ends with the first line that is not blank; lines taken from `rest`
    to find an object's end are added to `ahead`, so that none is lost.
    """
    first = _text(ahead[-1] if ahead else b"", first=len(ahead) == 1)
    if first is None:
        return None
    if first.startswith("["):
        opened = first[1:].lstrip()
        # `[laughs] Hello` is a transcript; `[`, `[{`, `["…` and `[]` start an array.
        starts_array = opened[:1] in ("", "{", "[", '"', "]")
        return "array" if starts_array or isinstance(_json(first), list) else None
    if not first.startswith("{") or isinstance(_json(first), dict):
        return None  # text, or one JSON item on its line
    return "object" if first == "{" or _object_ends_in(ahead, rest) else None


def _object_ends_in(ahead: list[bytes], rest: Iterator[bytes]) -> bool:
    """Whether the lines from the last of `ahead` on make one JSON object.

    Read until the object ends, the JSON goes wrong, or SNIFF_LINES or SNIFF_BYTES
    are passed; each line read is kept in `ahead`.
    """
    start = len(ahead) - 1
    size = len(ahead[-1])
    for line in itertools.islice(rest, SNIFF_LINES):
        ahead.append(line)
        size += len(line)
        if size > SNIFF_BYTES:
            return False
        value = _json_prefix(b"".join(ahead[start:]).removeprefix(BOM))
        if value is not _MORE:
            return isinstance(value, dict)
    return False


_MORE = object()  # the JSON so far is good, and not yet whole


def _json_prefix(data: bytes) -> object:
    """The JSON value the bytes start with; _MORE when they end before it does; None when
    they are not JSON (what follows a whole value does not matter)."""
    try:
        text = data.decode("utf-8").strip()
        value, _ = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        return _MORE if exc.pos >= len(text) else None  # wrong only at the end: read on
    except (ValueError, RecursionError):  # not UTF-8, or nested past Python's limit
        return None
    return value


def _text(line: bytes, *, first: bool) -> str | None:
    """A line as stripped text (a byte-order mark dropped from the file's first), or None."""
    if len(line) > MAX_LINE:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return (text.removeprefix("\ufeff") if first else text).strip()


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


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
