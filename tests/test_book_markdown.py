# ruff: noqa: RUF001 -- IPA letters in a phoneme block, as they are written
"""A Markdown book: # and ## chapters, markup to speakable text, bold speaker labels,
the +++ front matter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import Book
from cartesia_cli.input.markdown_book import read_markdown, split_front_matter
from cartesia_cli.input.speakers import Speakers


def read(body: str, cast: list[str] | None = None, first_line: int = 1) -> Book:
    speakers = Speakers(cast) if cast is not None else None
    return read_markdown(body, source="b.md", title="b", speakers=speakers, first_line=first_line)


def spoken(book: Book) -> list[tuple[str, list[str]]]:
    return [(c.title, [p.text for p in c.paragraphs]) for c in book.chapters]


def test_level_one_and_two_headings_start_chapters_deeper_ones_are_read_inside() -> None:
    book = read("Opening words.\n\n# Part *One*\n\n## Chapter 1\n\nText.\n\n### A scene\n\nMore.")
    assert spoken(book) == [
        ("b", ["Opening words."]),
        ("Part One", ["Part One"]),
        ("Chapter 1", ["Chapter 1", "Text.", "A scene", "More."]),
    ]
    assert [p.heading for p in book.chapters[2].paragraphs] == [True, False, True, False]


def test_markup_becomes_the_text_it_stands_for() -> None:
    body = (
        "Some *emphasis*, __strong__, a [link](http://example.com), `code`, &amp; an"
        " image ![a cat](cat.png) and <!-- a comment --> a <span>span</span>."
    )
    assert spoken(read(body)) == [
        ("b", ["Some emphasis, strong, a link, code, & an image and a span."])
    ]


def test_code_blocks_rules_and_comments_are_not_read_lists_and_quotes_are() -> None:
    body = (
        "Before.\n\n```\nprint('no')\n```\n\n    indented code\n\n---\n\n<!-- note -->\n\n"
        "- one\n- two\n\n1. first\n\n> quoted\n> still\n\n<div>Raw <b>html</b></div>\n"
    )
    assert spoken(read(body)) == [
        ("b", ["Before.", "one", "two", "first", "quoted still", "Raw html"])
    ]


@pytest.mark.parametrize(
    "tag", ['<break time="1s"/>', '<emotion value="sad"/>', "<spell>ABC</spell>", "<<ˈ|b|ɑ|ˈ|j|u>>"]
)
def test_speech_tags_pass_through_whole(tag: str) -> None:
    assert spoken(read(f"Say {tag} now.")) == [("b", [f"Say {tag} now."])]


def test_a_tag_alone_on_its_line_joins_the_next_paragraph() -> None:
    assert spoken(read('<emotion value="sad"/>\n\nShe wept.')) == [
        ("b", ['<emotion value="sad"/> She wept.'])
    ]


def test_bold_and_plain_labels_are_speaker_lines_with_a_cast() -> None:
    body = "**ALICE:** Hello.\n**Bob**: Hi.\nAlice: Bye.\n\nNarration."
    paragraphs = read(body, cast=["ALICE", "BOB"], first_line=5).chapters[0].paragraphs
    assert [(p.speaker, p.text, p.line) for p in paragraphs] == [
        ("ALICE", "Hello.", 5),
        ("BOB", "Hi.", 6),
        ("ALICE", "Bye.", 7),
        (None, "Narration.", 9),
    ]


def test_a_bold_label_the_cast_lacks_is_refused_even_in_lower_case() -> None:
    with pytest.raises(UsageError, match=r"^b\.md:3: Carol speaks, but the cast has no speaker"):
        read("Text.\n\n**Carol:** Hi.", cast=["ALICE"])
    # Without the bold, Title case is prose.
    assert spoken(read("Carol: Hi.", cast=["ALICE"])) == [("b", ["Carol: Hi."])]


def test_front_matter_is_split_off_with_its_line_numbers() -> None:
    front = split_front_matter('+++\nnarrator = "n"\n+++\n# One\n', "b.md")
    assert front == ('narrator = "n"', 2, "# One\n", 4)
    assert split_front_matter("# One\n+++\n", "b.md") == (None, 0, "# One\n+++\n", 1)


def test_front_matter_never_closed_is_one_clear_line() -> None:
    with pytest.raises(UsageError, match=r"^b\.md:1: the front matter opened here has no closing"):
        split_front_matter('+++\nnarrator = "n"\n# One\n', "b.md")


@given(st.text(max_size=300))
def test_any_markdown_reads_without_error_and_keeps_tags_whole(body: str) -> None:
    book = read('Start <break time="1s"/> here.\n\n' + body)
    assert book.chapters[0].paragraphs[0].text.startswith('Start <break time="1s"/> here.')
    for paragraph in (p for c in book.chapters for p in c.paragraphs):
        assert paragraph.text == paragraph.text.strip() and "  " not in paragraph.text
