"""File names from a book's titles, safe on every system the files may be copied to.

A title is outside text (an EPUB's table of contents): it may hold a slash, a
NUL, control characters, a Windows-reserved name (`CON`, `LPT1`), trailing
dots or spaces (which Windows drops), or be long enough to pass the 255-byte
limit of most file systems. What is left is a readable name, never empty.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

BookFormat = Literal["m4b", "mp3", "wav"]
BOOK_FORMATS: tuple[BookFormat, ...] = ("m4b", "mp3", "wav")
# A chapter of an m4b book is an .m4a: AAC in MP4, without the book's chapter marks.
CHAPTER_SUFFIXES: dict[BookFormat, str] = {"m4b": ".m4a", "mp3": ".mp3", "wav": ".wav"}

# Characters no name may hold on Windows (and `/` nowhere): separators become a dash,
# the rest are dropped. Control characters go too (their Unicode category).
_AS_DASH = str.maketrans({"/": "-", "\\": "-", ":": " -"})
_DROPPED = re.compile(r'[*?"<>|]')
# Bidirectional controls: a name shown right-to-left from one on can fake its own suffix.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])(\..*)?", re.IGNORECASE)
MAX_TITLE_BYTES = 150  # of UTF-8 in the title part: room left for "NN - " and a suffix


def chapter_suffix(fmt: BookFormat) -> str:
    """The suffix of one chapter's file: `.m4a` for an m4b book, else the book's own."""
    return CHAPTER_SUFFIXES[fmt]


def chapter_file_name(index: int, title: str, fmt: BookFormat) -> str:
    """`NN - Title.<suffix>` for chapter number `index` (1 for the first): `01 - Chapter One.m4a`.

    An empty title (or one made only of unsafe characters) is `Chapter NN`.
    """
    number = f"{index:02d}"
    safe = safe_title(title) or f"Chapter {number}"
    return f"{number} - {safe}{chapter_suffix(fmt)}"


def book_file_name(title: str, fmt: BookFormat) -> str:
    """`<Title>.<fmt>` for the whole book: `Moby Dick.m4b`; `Book.<fmt>` when no title is left."""
    safe = safe_title(title) or "Book"
    if _RESERVED.fullmatch(safe):
        safe = f"{safe}_"  # "CON.m4b" cannot be made on Windows; "CON_.m4b" can
    return f"{safe}.{fmt}"


def safe_title(title: str) -> str:
    """`title` as part of a file name: see the module's rules; "" when nothing is left."""
    text = unicodedata.normalize("NFC", title).translate(_AS_DASH)
    text = _DROPPED.sub("", text)
    text = "".join(_kept(c) for c in text)
    text = " ".join(text.split())
    return _trimmed(_capped(text))


def _kept(char: str) -> str:
    """A space for a control character, a lone surrogate or any kind of space; bidi controls go."""
    if char in _BIDI:
        return ""
    category = unicodedata.category(char)
    return " " if category in ("Cc", "Cs") or category[0] == "Z" else char


def _capped(text: str) -> str:
    encoded = text.encode("utf-8")[:MAX_TITLE_BYTES]
    return encoded.decode("utf-8", "ignore")  # a character cut in half is left out whole


def _trimmed(text: str) -> str:
    # A leading dot hides the file; Windows drops trailing dots and spaces.
    return text.strip(" .")
