"""A Markdown book: `#` and `##` headings start chapters; its TOML front matter is a cast.

Parsed by markdown-it-py (CommonMark; already installed with rich), imported
only when a Markdown book is read. What is read: paragraphs, list items (each a
paragraph), block quotes, headings (`###` and deeper are headings inside a
chapter), and the text of HTML blocks. What is not: code blocks and fences,
images, HTML comments, thematic breaks. Emphasis and links become their text,
inline code its text; the API's speech tags pass through as written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import Book, Collector, Line
from cartesia_cli.input.html_text import SPEECH_TAGS, page_text
from cartesia_cli.input.speakers import Speakers

if TYPE_CHECKING:
    from markdown_it.token import Token

FENCE = "+++"
CHAPTER_LEVELS = 2  # `#` and `##` start a chapter; deeper headings are read inside one
_SPEECH_TAG = re.compile(r"</?(?:{})\b".format("|".join(sorted(SPEECH_TAGS))))


class FrontMatter(NamedTuple):
    toml: str | None  # the text between the `+++` lines, None if there are none
    toml_line: int  # the line the TOML starts on
    body: str
    body_line: int  # the line the body starts on


def split_front_matter(text: str, source: str) -> FrontMatter:
    """TOML front matter: a first line `+++`, the TOML, a line `+++`."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        return FrontMatter(None, 0, text, 1)
    for index, line in enumerate(lines[1:], start=1):
        if line.rstrip() == FENCE:
            return FrontMatter(
                "\n".join(lines[1:index]), 2, "\n".join(lines[index + 1 :]), index + 2
            )
    raise UsageError(f"{source}:1: the front matter opened here has no closing {FENCE} line")


def read_markdown(
    body: str, *, source: str, title: str, speakers: Speakers | None = None, first_line: int = 1
) -> Book:
    """The book in a Markdown body (front matter already split off)."""
    from markdown_it import MarkdownIt

    collector = Collector(source, speakers, title)
    tokens = MarkdownIt("commonmark").parse(body)
    for index, token in enumerate(tokens):
        start = first_line + (token.map[0] if token.map else 0)
        if token.type == "heading_open":
            lines = _lines(tokens[index + 1], start)
            if int(token.tag[1:]) <= CHAPTER_LEVELS:
                collector.chapter(" ".join(line.text for line in lines))
            collector.block(lines, heading=True)
        elif token.type == "inline" and tokens[index - 1].type == "paragraph_open":
            collector.block(_lines(token, start))
        elif token.type == "html_block":
            for block in page_text(token.content, start).blocks:
                collector.block([Line(block.line + i, text) for i, text in enumerate(block.lines)])
        # Everything else is structure around paragraphs (lists, quotes) or not read (code).
    return Book(title, tuple(collector.finish()))


def _lines(inline: Token, start: int) -> list[Line]:
    """An inline token's text, line by line, as it is read."""
    lines: list[Line] = []
    line: list[Token] = []
    for child in inline.children or []:
        if child.type in ("softbreak", "hardbreak"):
            lines.append(Line(start + len(lines), _text(line), _bold_label(line)))
            line = []
        else:
            line.append(child)
    lines.append(Line(start + len(lines), _text(line), _bold_label(line)))
    return lines


def _text(children: list[Token]) -> str:
    parts = []
    for child in children:
        read = child.type in ("text", "text_special", "code_inline")
        if read or (child.type == "html_inline" and _SPEECH_TAG.match(child.content)):
            parts.append(child.content)
        # Images, other HTML, comments: not read. Emphasis and link marks: only their text.
    return "".join(parts)


def _bold_label(children: list[Token]) -> bool:
    """Whether the line opens with a bold label: `**ALICE:** text` or `**ALICE**: text`."""
    tokens = [child for child in children if child.type != "text" or child.content]
    if len(tokens) < 3 or tokens[0].type != "strong_open" or tokens[2].type != "strong_close":
        return False
    inside = tokens[1].content if tokens[1].type == "text" else ""
    after = tokens[3].content if len(tokens) > 3 and tokens[3].type == "text" else ""
    return inside.rstrip().endswith(":") or after.startswith(":")
