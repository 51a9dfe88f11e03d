"""A book as `narrate` reads it: chapters of paragraphs, each paragraph the text one voice says.

The readers (plain text here, Markdown in `markdown_book.py`, EPUB in `epub.py`)
hand their blocks of lines to one `Collector`, so that every format follows the
same rules (docs/narrate-input.md):

- A paragraph is a block (text between blank lines, an HTML block element, a
  Markdown paragraph, list item or heading), or a speaker's turn inside one: a
  speaker line starts a turn, and the turn runs to the next speaker line or the
  block's end; consecutive lines of one speaker make one turn.
- Its text is what is sent: NFC, spaces and line breaks as single spaces, the
  speaker label left out, inline tags kept whole.
- A block of nothing but inline tags (`<break time="2s"/>` alone) joins the next
  paragraph (or, last in its chapter, the one before): sent alone it would say
  nothing, or set an emotion for nothing.
- A block with no letter or digit outside its tags (`* * *`, `---`) is not read.
- A chapter with no paragraph is dropped.

A book keeps only its paragraphs' texts: no copy of the document.
"""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input.pieces import ATOM, MAX_LENGTH, Chunker
from cartesia_cli.input.speakers import Speakers

MAX_TEXT_BYTES = 64 * 1024 * 1024  # a .txt or .md read whole: ~50 hours of speech
if TYPE_CHECKING:
    import regex

_SPEAKABLE = re.compile(r"\w")
PATTERN_SECONDS = 2.0  # --chapter-pattern's time to search a whole book's lines


def text_hash(text: str) -> str:
    """The resume key's text part: SHA-256 (hex) of the UTF-8 bytes of the NFC text as sent."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One unit of work and of resume: the text one voice says, in one WebSocket context."""

    text: str  # NFC, as sent: single spaces, no speaker label, inline tags whole
    line: int  # the source line it starts on (in an EPUB: in its page)
    speaker: str | None = None  # the cast's name for the speaker; None: the narrator
    heading: bool = False  # a heading, read as a paragraph of its own

    @property
    def text_hash(self) -> str:
        return text_hash(self.text)

    def pieces(self, max_length: int = MAX_LENGTH) -> list[str]:
        """The text as it is fed to one context, one `continue` message each: cut after
        sentence ends (never inside a tag); joined, they give the text back exactly."""
        chunker = Chunker(max_length)
        return [*chunker.feed(self.text), *chunker.finish()]


@dataclass(frozen=True, slots=True)
class Chapter:
    title: str
    paragraphs: tuple[Paragraph, ...]
    source: str  # where its lines are: the file, or the EPUB and its page ("book.epub:ch1.xhtml")


class Cover(NamedTuple):
    media_type: str  # "image/jpeg", "image/png"
    data: bytes


@dataclass(frozen=True, slots=True)
class Book:
    title: str  # the EPUB's title, else the file's name without its suffix
    chapters: tuple[Chapter, ...]
    author: str | None = None
    language: str | None = None
    cover: Cover | None = None

    @property
    def paragraphs(self) -> int:
        return sum(len(chapter.paragraphs) for chapter in self.chapters)


class Line(NamedTuple):
    number: int
    text: str
    bold_label: bool = False  # the line opens with a bold label (`**ALICE:**`)


class Collector:
    """Blocks of lines in, chapters of paragraphs out, by the rules above."""

    def __init__(self, source: str, speakers: Speakers | None, title: str) -> None:
        """`title` names the chapter before any heading (of a book without headings, the one)."""
        self.speakers = speakers
        self.chapters: list[Chapter] = []
        self._source = source  # the current chapter's
        self._where = source  # the page being read, for messages
        self._title = title
        self._paragraphs: list[Paragraph] = []
        self._held = ""  # tags waiting for the next paragraph

    def chapter(self, title: str, source: str | None = None) -> None:
        """End the chapter being read; the next blocks are chapter `title`'s."""
        self._end_chapter()
        self._title = " ".join(title.split())
        if source is not None:
            self._source = self._where = source

    def where(self, source: str) -> None:
        """The blocks that follow are from `source` (a page of the current chapter)."""
        self._where = source

    def block(self, lines: Sequence[Line], *, heading: bool = False) -> None:
        if heading and lines:
            text = " ".join(line.text for line in lines)
            self._add(Paragraph(_spoken(text), lines[0].number, None, heading=True))
            return
        turn: list[str] = []
        speaker: str | None = None
        start = 0
        for line in lines:
            label = self._label(line)
            if label is not None and (label.speaker != speaker or not turn):
                self._add_turn(turn, start, speaker)
                turn, speaker, start = [label.rest], label.speaker, line.number
            else:
                turn.append(label.rest if label is not None else line.text)
                start = start or line.number
        self._add_turn(turn, start, speaker)

    def finish(self) -> list[Chapter]:
        self._end_chapter()
        return self.chapters

    def _label(self, line: Line) -> _Label | None:
        if self.speakers is None:
            return None
        label = self.speakers.label(line.text, bold=line.bold_label)
        if label is None:
            return None
        if label.speaker is None:
            raise UsageError(
                f"{self._where}:{line.number}: {label.written} speaks, but the cast has no"
                f" speaker of that name ({_listed(self.speakers.names)}); add it to the cast,"
                " or write the label as prose (not in capitals, not bold) to have it read"
            )
        return _Label(label.speaker, label.rest)

    def _add_turn(self, turn: list[str], start: int, speaker: str | None) -> None:
        if turn:
            self._add(Paragraph(_spoken(" ".join(turn)), start, speaker))

    def _add(self, paragraph: Paragraph) -> None:
        text = paragraph.text
        if not _SPEAKABLE.search(ATOM.sub("", text)):
            if ATOM.search(text):  # tags alone: said with the next paragraph
                self._held = f"{self._held} {text}".strip()
            return
        if self._held:
            paragraph = _with_text(paragraph, f"{self._held} {text}")
            self._held = ""
        self._paragraphs.append(paragraph)

    def _end_chapter(self) -> None:
        if self._held and self._paragraphs:
            last = self._paragraphs[-1]
            self._paragraphs[-1] = _with_text(last, f"{last.text} {self._held}")
        self._held = ""
        if self._paragraphs:
            chapter = Chapter(self._title, tuple(self._paragraphs), self._source)
            self.chapters.append(chapter)
        self._paragraphs = []


class _Label(NamedTuple):
    speaker: str
    rest: str


def _spoken(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _with_text(paragraph: Paragraph, text: str) -> Paragraph:
    return Paragraph(_spoken(text), paragraph.line, paragraph.speaker, paragraph.heading)


def _listed(names: tuple[str, ...]) -> str:
    if not names:
        return "it names no speakers"
    return "it has " + ", ".join(names)


# -- plain text -------------------------------------------------------------------------


class ChapterPattern:
    """`--chapter-pattern`, searched in each line within one time budget for the whole book.

    A pattern that backtracks without end (`^(a+)+$` on a long line of `a`s) would
    keep a run busy for ever, and Python's `re` cannot be stopped; the `regex`
    module (its syntax is `re`'s) takes a timeout on every search. What the book's
    lines have not used of PATTERN_SECONDS is each search's timeout: past it the
    pattern is refused, by name, with the line it was on.
    """

    def __init__(self, raw: str, pattern: regex.Pattern[str]) -> None:
        self.raw = raw
        self._pattern = pattern
        self._spent = 0.0

    def search(self, line: str, number: int | None = None) -> bool:
        left = PATTERN_SECONDS - self._spent
        started = time.monotonic()
        try:
            found = left > 0 and self._pattern.search(line, timeout=left) is not None
            self._spent += time.monotonic() - started
        except TimeoutError:  # the budget is gone, whatever our clock says of it
            found, self._spent = False, PATTERN_SECONDS
        if self._spent >= PATTERN_SECONDS:
            where = f" (on line {number})" if number is not None else ""
            raise UsageError(
                f"--chapter-pattern {self.raw!r} took more than {PATTERN_SECONDS:g} s to search"
                f" the text{where}: it backtracks too much; use a simpler one (e.g. '^Chapter ')"
            )
        return found


def compile_chapter_pattern(raw: str) -> ChapterPattern:
    """`--chapter-pattern`: a regular expression a chapter's first line matches (searched)."""
    import regex  # only for a plain-text book with chapters

    try:
        pattern = ChapterPattern(raw, regex.compile(raw))
    except (regex.error, ValueError, OverflowError) as exc:
        raise UsageError(f"--chapter-pattern is not a valid regular expression: {exc}") from None
    if pattern.search(""):
        raise UsageError(
            f"--chapter-pattern {raw!r} matches an empty line, so every line would start a"
            " chapter; make it match the chapter lines' text (e.g. '^Chapter ')"
        )
    return pattern


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 (a byte-order mark dropped), with every line break as "\\n"; else one clear line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source} is not UTF-8 text (byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(
    text: str,
    *,
    source: str,
    title: str,
    speakers: Speakers | None = None,
    chapter_pattern: ChapterPattern | None = None,
) -> Book:
    """A plain-text book: paragraphs between blank lines; a line `chapter_pattern` finds
    starts a chapter titled by that line (and is read as its heading)."""
    collector = Collector(source, speakers, title)
    block: list[Line] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip() and chapter_pattern is not None and chapter_pattern.search(line, number):
            collector.block(block)
            block = []
            collector.chapter(line)
            collector.block([Line(number, line)], heading=True)
        elif line.strip():
            block.append(Line(number, line))
        else:
            collector.block(block)
            block = []
    collector.block(block)
    return Book(title, tuple(collector.finish()))


def require_text(book: Book, source: str) -> Book:
    """The book, if it has something to read; else one clear line."""
    if not book.chapters:
        raise UsageError(f"{source} has no text to read")
    return book
