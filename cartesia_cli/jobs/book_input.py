"""`narrate`'s INPUT read whole before any request: the book, and the cast that voices it.

The kind of book is its name's suffix: `.txt` (or no suffix) plain text, `.md`
or `.markdown` Markdown, `.epub` an EPUB; `-` is stdin, read as plain text, or
as an EPUB when it starts as a zip archive does. `--cast FILE` is the cast; else
a Markdown book's front matter, if it has one. Every failure is a UsageError
(exit 2) with one line that names the file: a damaged or hostile EPUB, text
that is not UTF-8, a book with nothing to read, a speaker the cast lacks.
"""

from __future__ import annotations

import io
from enum import Enum
from pathlib import Path, PurePath
from typing import BinaryIO, NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import (
    MAX_TEXT_BYTES,
    Book,
    compile_chapter_pattern,
    decode_text,
    read_text,
    require_text,
)
from cartesia_cli.jobs.cast import Cast, parse_cast, read_cast_file

STDIN = "-"
STDIN_NAME = "stdin"
_ZIP_MAGIC = b"PK\x03\x04"
MAX_EPUB_BYTES = 256 * 1024 * 1024  # an EPUB on stdin, held to be read as a zip


class Kind(Enum):
    TEXT = "text"
    MARKDOWN = "markdown"
    EPUB = "epub"


SUFFIXES = {"": Kind.TEXT, ".txt": Kind.TEXT, ".text": Kind.TEXT, ".md": Kind.MARKDOWN,
            ".markdown": Kind.MARKDOWN, ".epub": Kind.EPUB}  # fmt: skip


class BookInput(NamedTuple):
    book: Book
    cast: Cast | None  # None: no cast given, every word the narrator's


def kind_of(name: str) -> Kind:
    """The kind of book a file name says; a suffix of another kind is refused."""
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UsageError(
            f"{name}: narrate reads .txt, .md and .epub books (or - for text on stdin),"
            f" not {suffix} files"
        )
    return SUFFIXES[suffix]


def read_book(
    name: str,
    *,
    stdin: BinaryIO | None = None,
    cast_file: Path | None = None,
    chapter_pattern: str | None = None,
) -> BookInput:
    """The book `name` (a path, or `-` for `stdin`) and its cast, checked whole."""
    cast = read_cast_file(cast_file) if cast_file is not None else None
    if name == STDIN:
        source, title, data = STDIN_NAME, STDIN_NAME, _stdin(stdin)
        kind = Kind.EPUB if data.startswith(_ZIP_MAGIC) else Kind.TEXT
    else:
        source, title, data = name, PurePath(name).stem, b""
        kind = kind_of(name)
    if chapter_pattern is not None and kind is not Kind.TEXT:
        raise UsageError(
            f"--chapter-pattern is for plain text; {source}'s chapters come from its"
            + (" # and ## headings" if kind is Kind.MARKDOWN else " table of contents")
        )
    if kind is Kind.EPUB:
        book = _epub(name, data, source, cast)
    else:
        text = decode_text(data if name == STDIN else _file(name, MAX_TEXT_BYTES), source)
        if kind is Kind.MARKDOWN:
            book, cast = _markdown(text, source, title, cast)
        else:
            pattern = compile_chapter_pattern(chapter_pattern) if chapter_pattern else None
            speakers = cast.names() if cast else None
            book = read_text(
                text, source=source, title=title, speakers=speakers, chapter_pattern=pattern
            )
    return BookInput(require_text(book, source), cast)


def _epub(name: str, data: bytes, source: str, cast: Cast | None) -> Book:
    """An EPUB read from its file as it is needed (from stdin: held, it cannot seek)."""
    from cartesia_cli.input.epub import read_epub

    speakers = cast.names() if cast else None
    if name == STDIN:
        return read_epub(io.BytesIO(data), source=source, speakers=speakers)
    try:
        with Path(name).open("rb") as file:  # read_epub's own failures are UsageErrors
            return read_epub(file, source=source, speakers=speakers)
    except OSError as exc:
        raise UsageError(f"{name} cannot be read: {exc.strerror or exc}") from None


def _markdown(text: str, source: str, title: str, cast: Cast | None) -> tuple[Book, Cast | None]:
    from cartesia_cli.input.markdown_book import read_markdown, split_front_matter

    front = split_front_matter(text, source)
    if cast is None and front.toml is not None:
        cast = parse_cast(front.toml, source, front.toml_line)
    speakers = cast.names() if cast else None
    book = read_markdown(
        front.body, source=source, title=title, speakers=speakers, first_line=front.body_line
    )
    return book, cast


def _stdin(stdin: BinaryIO | None) -> bytes:
    """Stdin's bytes, at most as many as any book is read with."""
    if stdin is None:
        raise UsageError("INPUT is -, but there is no stdin to read")
    limit = max(MAX_TEXT_BYTES, MAX_EPUB_BYTES)
    data = stdin.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"stdin holds more than {limit // 2**20} MiB; split the book")
    return data


def _file(name: str, limit: int) -> bytes:
    try:
        with Path(name).open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{name} cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageError(f"{name} is larger than {limit // 2**20} MiB; split the book")
    return data
