# ruff: noqa: RUF001 -- IPA letters in a phoneme block, as they are written
"""A plain-text book: paragraphs, chapters by --chapter-pattern, speaker turns, the text hash,
and the pieces a long paragraph is fed in (inline tags never split)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import (
    Book,
    Paragraph,
    compile_chapter_pattern,
    decode_text,
    read_text,
    require_text,
    text_hash,
)
from cartesia_cli.input.pieces import ATOM
from cartesia_cli.input.speakers import Speakers

TAGS = ['<break time="1s"/>', '<emotion value="sad"/>', "<spell>ABC</spell>", "<<ˈ|b|ɑ|ˈ|j|u>>"]


def read(text: str, cast: list[str] | None = None, pattern: str | None = None) -> Book:
    speakers = Speakers(cast) if cast is not None else None
    compiled = compile_chapter_pattern(pattern) if pattern else None
    return read_text(text, source="b.txt", title="b", speakers=speakers, chapter_pattern=compiled)


def texts(book: Book) -> list[list[str]]:
    return [[p.text for p in chapter.paragraphs] for chapter in book.chapters]


def test_paragraphs_are_blocks_between_blank_lines_with_single_spaces() -> None:
    book = read("First line\nwrapped  here.\n\n\n  Second.\n \t\nThird\r\n")
    assert texts(book) == [["First line wrapped here.", "Second.", "Third"]]
    assert [p.line for p in book.chapters[0].paragraphs] == [1, 5, 7]
    assert book.chapters[0].title == "b"


def test_blocks_with_nothing_to_say_are_not_read() -> None:
    assert texts(read("One.\n\n* * *\n\n---\n\nTwo.")) == [["One.", "Two."]]


def test_a_block_of_tags_alone_joins_the_next_paragraph_or_the_last() -> None:
    book = read('One.\n\n<break time="2s"/>\n\nTwo.\n\n<emotion value="sad"/>')
    assert texts(book) == [["One.", '<break time="2s"/> Two. <emotion value="sad"/>']]


def test_the_chapter_pattern_starts_chapters_titled_by_their_line() -> None:
    text = "Preface text.\n\nChapter 1\nIt begins.\n\nChapter 2\n\nIt ends."
    book = read(text, pattern="^Chapter ")
    assert [c.title for c in book.chapters] == ["b", "Chapter 1", "Chapter 2"]
    assert texts(book) == [
        ["Preface text."],
        ["Chapter 1", "It begins."],
        ["Chapter 2", "It ends."],
    ]
    assert book.chapters[1].paragraphs[0].heading


def test_without_a_pattern_the_book_is_one_chapter() -> None:
    assert len(read("Chapter 1\n\nText.\n\nChapter 2\n\nMore.").chapters) == 1


@pytest.mark.parametrize("pattern", ["(", "x*", "^", "a|"])
def test_a_chapter_pattern_that_is_broken_or_matches_everything_is_refused(pattern: str) -> None:
    with pytest.raises(UsageError, match="--chapter-pattern"):
        compile_chapter_pattern(pattern)


def test_speaker_lines_need_a_cast() -> None:
    assert texts(read("ALICE: Hello.")) == [["ALICE: Hello."]]


def test_speaker_turns_run_to_the_next_label_or_blank_line() -> None:
    book = read(
        "It was late.\nALICE: Hello.\nShe waved.\nALICE: Again.\n"
        "bob: Hi.\nTime: 10:30 now.\n\nEnd.",
        cast=["ALICE", "Bob"],
    )
    paragraphs = book.chapters[0].paragraphs
    assert [(p.speaker, p.text, p.line) for p in paragraphs] == [
        (None, "It was late.", 1),
        ("ALICE", "Hello. She waved. Again.", 2),
        ("Bob", "Hi. Time: 10:30 now.", 5),
        (None, "End.", 8),
    ]


@pytest.mark.parametrize(
    "line", ["Note: this is prose.", "Time: 10:30", "Chapter 3: The Storm", "http://x.org"]
)
def test_prose_with_a_colon_is_not_a_speaker_line(line: str) -> None:
    assert texts(read(line, cast=["ALICE"])) == [[line]]


def test_a_label_in_capitals_the_cast_lacks_is_refused_naming_the_line() -> None:
    with pytest.raises(UsageError, match=r"^b\.txt:3: ALCIE speaks, but the cast has no speaker"):
        read("Intro.\n\nALCIE: Hello.", cast=["ALICE"])


def test_labels_name_speakers_with_spaces_and_letter_case_ignored() -> None:
    book = read("mr.  smith: Good day.\nMR. SMITH: Indeed.", cast=["Mr. Smith"])
    assert [(p.speaker, p.text) for p in book.chapters[0].paragraphs] == [
        ("Mr. Smith", "Good day. Indeed.")
    ]


def test_the_text_hash_is_sha256_of_the_nfc_text() -> None:
    decomposed = "Cafe\u0301 au lait."
    composed = unicodedata.normalize("NFC", decomposed)
    assert text_hash(decomposed) == text_hash(composed)
    assert text_hash(composed) == hashlib.sha256(composed.encode("utf-8")).hexdigest()
    paragraph = read(decomposed).chapters[0].paragraphs[0]
    assert paragraph.text == composed  # stored as sent
    assert paragraph.text_hash == text_hash(composed)


def test_the_hash_survives_rewrapping_the_paragraph() -> None:
    one = read("A long line of prose that goes on.").chapters[0].paragraphs[0]
    two = read("A long line\nof prose   that\ngoes on.").chapters[0].paragraphs[0]
    assert one.text_hash == two.text_hash


def test_text_that_is_not_utf8_is_one_clear_line() -> None:
    with pytest.raises(UsageError, match=r"^b\.txt is not UTF-8 text \(byte 3\)$"):
        decode_text(b"abc\xff", "b.txt")
    assert decode_text(b"\xef\xbb\xbfa\r\nb\rc", "b.txt") == "a\nb\nc"


def test_a_book_with_no_text_is_one_clear_line() -> None:
    with pytest.raises(UsageError, match=r"^b\.txt has no text to read$"):
        require_text(read("\n\n  * * *\n\n"), "b.txt")


def test_a_long_paragraph_is_one_paragraph_fed_in_sentence_pieces() -> None:
    sentence = "This sentence is one of many in a very long paragraph. "
    paragraph = read(sentence * 20).chapters[0].paragraphs[0]
    pieces = paragraph.pieces(max_length=120)
    assert len(pieces) == 20 and "".join(pieces) == paragraph.text
    assert all(len(piece) <= 120 for piece in pieces)
    assert pieces[0] == sentence  # a sentence a piece, as `tts ws` sends them


@pytest.mark.parametrize("tag", TAGS)
def test_every_tag_is_whole_in_one_piece(tag: str) -> None:
    text = " ".join(["Words before it go on and on."] * 3 + [tag] + ["And after it, more."] * 3)
    paragraph = read(text).chapters[0].paragraphs[0]
    assert tag in paragraph.text
    for max_length in range(20, 80, 7):
        pieces = paragraph.pieces(max_length)
        assert "".join(pieces) == paragraph.text
        assert sum(tag in piece for piece in pieces) == 1


_words = st.text(st.characters(codec="utf-8"), max_size=12)
_lines = st.lists(st.one_of(_words, st.sampled_from([*TAGS, "", " ", "ALICE: hi", "* * *"])))


def _word_characters(text: str) -> str:
    return "".join(re.findall(r"\w", unicodedata.normalize("NFC", text)))


@given(_lines)
def test_every_letter_and_digit_is_read_once_in_order(lines: list[str]) -> None:
    text = "\n".join(lines)
    book = read(text)
    read_back = " ".join(p.text for c in book.chapters for p in c.paragraphs)
    if book.chapters:
        assert _word_characters(read_back) == _word_characters(text)
    else:  # nothing to say but tags, if that: no book
        assert not re.search(r"\w", ATOM.sub("", " ".join(text.split())))


@given(_lines, st.integers(min_value=10, max_value=120))
def test_tags_are_never_split_across_pieces(lines: list[str], max_length: int) -> None:
    book = read("\n".join(lines))
    for paragraph in (p for c in book.chapters for p in c.paragraphs):
        pieces = paragraph.pieces(max_length)
        assert "".join(pieces) == paragraph.text
        for tag in TAGS:
            assert paragraph.text.count(tag) == sum(piece.count(tag) for piece in pieces)


def test_paragraphs_hold_their_text_and_little_else() -> None:
    assert Paragraph.__slots__ == ("text", "line", "speaker", "heading")


def test_chapter_pattern_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pattern that backtracks without end on a line is refused, by name and line, once the
    book's time budget is spent (Python's `re` would search it for ever)."""
    from cartesia_cli.input import book as book_module

    monkeypatch.setattr(book_module, "PATTERN_SECONDS", 0.2)
    text = "Chapter 1\n\nIntro.\n\n" + "a" * 40 + "!\n\nText here.\n"
    with pytest.raises(UsageError, match=r"'\^\(a\|aa\|aaa\)\+\$'.*line 5") as raised:
        read(text, pattern="^(a|aa|aaa)+$")
    assert "simpler" in raised.value.message


def test_the_pattern_s_budget_is_for_the_whole_book(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line's search gets what is left of one budget: many slow lines add up."""
    from cartesia_cli.input import book as book_module

    monkeypatch.setattr(book_module, "PATTERN_SECONDS", 0.3)
    slow = "a" * 19 + "!"  # each search of it takes a noticeable while, none alone 0.3 s
    with pytest.raises(UsageError, match=r"took more than 0\.3 s"):
        read("\n\n".join([slow] * 400), pattern="^(a|aa|aaa)+$")


def test_a_pattern_with_look_arounds_still_works() -> None:
    book = read("Chapter 1\n\nText.\n\nChapter one\n\nMore.", pattern=r"^Chapter (?=\d)")
    assert [c.title for c in book.chapters] == ["Chapter 1"]
