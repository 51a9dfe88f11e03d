"""The cast (TOML, from --cast or the front matter) and `narrate`'s INPUT read whole:
the kinds of book, their refusals, and which cast applies."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.jobs.book_input import read_book
from cartesia_cli.jobs.cast import parse_cast, read_cast_file

CAST = """
narrator = "Narrator Voice"
[speakers.ALICE]
voice = "a0e99841-438c-4a64-b679-ae501e7d6091"
emotion = "excited"
speed = 1.2
[speakers."MR. SMITH"]
voice = "Barbershop Man"
locale = "en-GB"
volume = "0.8"
"""


def test_a_cast_keeps_voices_as_given_and_checks_settings() -> None:
    cast = parse_cast(CAST, "cast.toml")
    assert cast.narrator == "Narrator Voice"
    assert cast.speakers["ALICE"].voice == "a0e99841-438c-4a64-b679-ae501e7d6091"
    assert dict(cast.speakers["ALICE"].settings) == {"emotion": "excited", "speed": 1.2}
    assert dict(cast.speakers["MR. SMITH"].settings) == {"locale": "en-GB", "volume": 0.8}
    assert cast.names().find("mr. smith") == "MR. SMITH"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("narrator = = 1", r"^cast\.toml:1:12: Invalid value$"),
        ("narrator = ", r"^cast\.toml: the cast is not valid TOML: Invalid value \(at end"),
        (
            "[speakers.A]\nvoice = 'x'\nemotoin = 'sad'",
            r"\[speakers\.A\]: a speaker has no key 'emotoin'; the keys are voice",
        ),
        ("narator = 'x'", r"^cast\.toml: the cast has no key 'narator'"),
        ("[speakers.A]\nemotion = 'sad'", r"\[speakers\.A\] has no voice"),
        ("[speakers.A]\nvoice = 'x'\nspeed = 3", r"speed must be a number from 0\.6 to 1\.5"),
        ("[speakers.A]\nvoice = 'x'\nspeed = true", r"speed must be a string or a number"),
        ("[speakers.A]\nvoice = 'x'\nlocale = 'english!'", r"locale must be a language or locale"),
        ("[speakers.A]\nvoice = 'x'\nlanguage = 'en'\nlocale = 'en-GB'", "cannot be combined"),
        ("[speakers.A]\nvoice = ''", r"voice must be a voice"),
        ("[speakers.'10:30']\nvoice = 'x'", r"a speaker's name starts with a letter"),
        ("[speakers.Ann]\nvoice = 'x'\n[speakers.ANN]\nvoice = 'y'", r"names it twice \(Ann\)"),
        ("speakers = 3", r"speakers must be tables"),
        ("narrator = 3", r"narrator must be a voice"),
    ],
)
def test_a_bad_cast_is_one_line_that_says_where(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_cast(text, "cast.toml")


def test_a_syntax_error_in_front_matter_names_the_markdown_line(tmp_path: Path) -> None:
    book = tmp_path / "play.md"
    book.write_text('+++\n[speakers.ALICE]\nvoice = = "a"\n+++\n# One\n\nALICE: Hi.\n')
    with pytest.raises(UsageError, match=r"play\.md:3:9: Invalid value$"):
        read_book(str(book))


def test_a_cast_file_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"^--cast .*missing\.toml cannot be read: No such file"):
        read_cast_file(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_bytes(b"narrator = '\xff'")
    with pytest.raises(UsageError, match=r"bad\.toml is not UTF-8 text \(byte 12\)$"):
        read_cast_file(tmp_path / "bad.toml")


@given(st.text(max_size=200))
def test_any_text_is_a_cast_or_a_usage_error(text: str) -> None:
    try:
        parse_cast(text, "cast.toml")
    except UsageError as error:
        assert error.message.startswith("cast.toml") and "\n" not in error.message


def test_the_front_matter_is_the_cast_unless_cast_is_given(tmp_path: Path) -> None:
    book = tmp_path / "play.md"
    book.write_text('+++\n[speakers.ALICE]\nvoice = "a"\n+++\n# Act 1\n\nALICE: Hi.\n')
    read = read_book(str(book))
    assert read.cast is not None and read.cast.speakers["ALICE"].voice == "a"
    assert read.book.chapters[0].paragraphs[1].speaker == "ALICE"
    assert read.book.title == "play"
    cast = tmp_path / "cast.toml"
    cast.write_text('[speakers.BOB]\nvoice = "b"\n')
    with pytest.raises(UsageError, match=r"play\.md:7: ALICE speaks, but the cast has no"):
        read_book(str(book), cast_file=cast)


def test_text_from_stdin_and_an_epub_from_stdin() -> None:
    from tests.test_book_epub import make_epub

    assert read_book("-", stdin=io.BytesIO(b"Hello.\n")).book.chapters[0].title == "stdin"
    book = read_book("-", stdin=io.BytesIO(make_epub())).book
    assert [c.title for c in book.chapters] == ["Chapter One", "Chapter Two"]


def test_an_epub_file_is_read_from_its_path(tmp_path: Path) -> None:
    from tests.test_book_epub import make_epub

    (tmp_path / "b.epub").write_bytes(make_epub())
    assert read_book(str(tmp_path / "b.epub")).book.author == "An Author"


def test_chapter_pattern_is_for_plain_text(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text("Chapter 1\nA.\n\nChapter 2\nB.\n")
    book = read_book(str(tmp_path / "b.txt"), chapter_pattern="^Chapter").book
    assert [c.title for c in book.chapters] == ["Chapter 1", "Chapter 2"]
    (tmp_path / "b.md").write_text("# One\n")
    with pytest.raises(UsageError, match="come from its # and ## headings"):
        read_book(str(tmp_path / "b.md"), chapter_pattern="^Chapter")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("b.pdf", b"%PDF", r"narrate reads \.txt, \.md and \.epub books .* not \.pdf files"),
        ("b.md", b"<!-- nothing -->\n\n```\ncode\n```\n", r"b\.md has no text to read$"),
        ("b.txt", b"\xff\xfe", r"b\.txt is not UTF-8 text \(byte 0\)$"),
        ("b.epub", b"plain text", r"b\.epub is not an EPUB: it is not a zip archive$"),
    ],
)
def test_bad_books_are_one_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UsageError, match=message):
        read_book(str(tmp_path / name))


def test_a_missing_book_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nope\.txt cannot be read: No such file or directory$"):
        read_book(str(tmp_path / "nope.txt"))
