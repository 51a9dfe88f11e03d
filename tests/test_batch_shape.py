"""A --batch file that is one JSON document (an array, a pretty object) is refused whole.

Read line by line it would be spoken as "[", "{", '"transcript": "Hi",' …; it is
refused with one line, exit 2, before any request. A file of one item per line
(text, or JSON Lines) passes through unchanged, whatever its first line looks like.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.input.batch_file import one_item_per_line
from cartesia_cli.mock import FakeCartesia

from .conftest import RunCli, assert_one_error_line
from .test_json_result import one_object

item = st.fixed_dictionaries(
    {"transcript": st.text(min_size=1, max_size=20)},
    optional={"voice": st.text(max_size=10), "speed": st.floats(0.6, 1.5)},
)
indent = st.one_of(st.none(), st.integers(0, 4), st.sampled_from(["\t", "  "]))


def as_lines(text: str) -> list[bytes]:
    return [line.encode() for line in text.splitlines(keepends=True)]


def refused(lines: list[bytes]) -> str | None:
    try:
        list(one_item_per_line(lines, "items.txt"))
    except UsageError as exc:
        return exc.message
    return None


@given(items=st.lists(item, max_size=5), indent=indent, blank=st.sampled_from(["", "\n\n"]))
def test_a_json_array_is_refused_however_it_is_laid_out(
    items: list[dict[str, object]], indent: int | str | None, blank: str
) -> None:
    text = blank + json.dumps(items, indent=indent) + "\n"
    assert "is a JSON array" in (refused(as_lines(text)) or "")


@given(first=item, rest=st.lists(item, max_size=3), indent=st.integers(0, 4) | st.just("\t"))
def test_an_object_over_several_lines_is_refused(
    first: dict[str, object], rest: list[dict[str, object]], indent: int | str
) -> None:
    text = "\n".join(json.dumps(obj, indent=indent) for obj in [first, *rest]) + "\n"
    assert "JSON object over several lines" in (refused(as_lines(text)) or "")


@given(items=st.lists(item | st.text(min_size=1, max_size=30), min_size=1, max_size=8))
def test_one_item_per_line_passes_through_unchanged(items: list[dict[str, object] | str]) -> None:
    lines = [
        (json.dumps(one) if isinstance(one, dict) else " ".join(one.split()) or "x") + "\n"
        for one in items
    ]
    data = [line.encode() for line in lines]
    if refused(data) is None:
        assert list(one_item_per_line(data, "items.txt")) == data
    else:  # only a text line that reads as the start of a JSON array or object
        first = lines[0].strip()
        assert first.startswith(("[", "{"))


@given(lines=st.lists(st.binary(max_size=40).map(lambda b: b + b"\n"), max_size=8))
def test_any_file_is_refused_or_read_whole_and_in_order(lines: list[bytes]) -> None:
    if refused(lines) is None:
        assert list(one_item_per_line(lines, "items.txt")) == lines


@pytest.mark.parametrize(
    "first",
    ["[laughs] Hello there.", "[1] The first point.", "{name} is here.", "{ not JSON",
     '{"transcript": "Hi."}', "\ufeffHello."],
)  # fmt: skip
def test_text_that_only_looks_like_json_is_spoken(first: str) -> None:
    lines = as_lines(f"{first}\n{{\n")  # a later line is that line's own failure
    assert refused(lines) is None


def test_an_object_is_read_only_as_far_as_its_end() -> None:
    def keyed() -> Iterator[bytes]:
        yield b'{"transcript":\n'  # opened on the line of its first key
        yield b'  "Hi."}\n'
        raise AssertionError("read past the object's end")

    def opened() -> Iterator[bytes]:
        yield b"\n"
        yield b"{\n"
        raise AssertionError("read past the line that opened it")

    for source in (keyed(), opened()):
        with pytest.raises(UsageError, match="over several lines"):
            one_item_per_line(source, "-")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('[\n  {"transcript": "Hello."},\n  {"transcript": "Again."}\n]\n', "is a JSON array"),
        ('["Hello.", "Again."]\n', "is a JSON array"),
        ('{\n  "transcript": "Hello."\n}\n', "a JSON object over several lines"),
    ],
)
def test_a_whole_json_file_is_refused_before_any_request(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, content: str, fragment: str
) -> None:
    (tmp_path / "items.json").write_text(content)
    result = cli("tts", "sse", "--batch", "items.json")
    assert result.code == 2
    assert_one_error_line(result.stderr)
    assert fragment in result.stderr and "JSON Lines" in result.stderr
    assert fake.requests == []
    assert list(tmp_path.glob("tts_sse_*")) == []
    with_json = cli("tts", "bytes", "--batch", "-", "--json", input=content.encode())
    assert with_json.code == 2
    assert one_object(with_json.stdout)["error"]["kind"] == "usage"
    assert fake.requests == []
