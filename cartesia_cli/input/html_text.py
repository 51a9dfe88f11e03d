"""HTML (an EPUB's XHTML pages, a Markdown file's HTML blocks) to the text a voice reads.

The standard library's `html.parser`, which takes any markup without raising:
block elements (`p`, `div`, `li`, headings, …) end a block, `br` ends a line in
one, and everything else is inline. What is not read is dropped with its content:
scripts, styles, the `head`, SVG and MathML, ruby annotations (`rt`, `rp`: the
reading of a word already there), and images. Comments are dropped. The speech
tags the API reads (`<break …/>`, `<emotion …/>`, `<speed …/>`, `<volume …/>`,
`<spell>…</spell>`) are kept as written. Entities become the characters they name.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import NamedTuple

BLOCKS = frozenset(
    ["p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote",
     "li", "ul", "ol", "dl", "dt", "dd", "pre", "table", "tr", "caption", "figure", "figcaption",
     "hr", "body", "html", "h1", "h2", "h3", "h4", "h5", "h6", "address", "center"]
)  # fmt: skip
HEADINGS = {f"h{level}": level for level in range(1, 7)}
SKIPPED = frozenset(
    ["script", "style", "head", "template", "svg", "math", "rt", "rp", "noscript", "iframe",
     "object"]
)  # fmt: skip
SPEECH_TAGS = frozenset(["break", "emotion", "speed", "volume", "spell"])
_VOID = frozenset(["br", "hr", "img", "input", "link", "meta", "source", "track", "wbr"])


class Block(NamedTuple):
    """A block's text: its lines (a `br` starts a new one), the line it starts on."""

    line: int
    lines: list[str]
    heading: int  # its level (1 to 6) for h1 to h6, else 0


class Page(NamedTuple):
    blocks: list[Block]
    title: str  # the `<title>`, "" if none
    types: frozenset[str]  # the `epub:type` words of the body and its sections


def page_text(markup: str, first_line: int = 1) -> Page:
    """The blocks of text in `markup`, in order, with the line each starts on."""
    parser = _TextParser(first_line)
    parser.feed(markup)
    parser.close()
    parser.end_block()
    return Page(parser.blocks, " ".join(parser.title.split()), frozenset(parser.types))


class _TextParser(HTMLParser):
    def __init__(self, first_line: int) -> None:
        super().__init__(convert_charrefs=True)
        self.first_line = first_line
        self.blocks: list[Block] = []
        self.title = ""
        self.types: set[str] = set()
        self._lines: list[str] = [""]
        self._start = first_line
        self._heading = 0
        self._skipping = 0  # depth inside elements whose text is not read
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("body", "section"):
            self.types.update((dict(attrs).get("epub:type") or "").split())
        if tag == "title":
            self._in_title = True
        if tag in SKIPPED:
            self._skipping += tag not in _VOID
            return
        if self._skipping:
            return
        if tag in BLOCKS:
            self.end_block()
            self._heading = HEADINGS.get(tag, 0)
        elif tag == "br":
            self._lines.append("")
        elif tag in SPEECH_TAGS:
            self._append(self.get_starttag_text() or "")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SPEECH_TAGS and not self._skipping:
            self._append(self.get_starttag_text() or "")
        elif tag not in SKIPPED:  # <p/>, <br/>: as if opened (a skipped one never opened)
            self.handle_starttag(tag, attrs)
            if tag in BLOCKS:
                self.end_block()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif self._skipping:
            return
        elif tag in BLOCKS:
            self.end_block()
        elif tag == "spell":
            self._append("</spell>")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._skipping:
            return
        if not any(self._lines) and not data.strip():
            return  # spaces between blocks: the next block starts at its text
        self._append(data)

    def _append(self, text: str) -> None:
        if not any(self._lines):  # the block's first text: where it starts
            self._start = self.first_line + self.getpos()[0] - 1 + _leading_newlines(text)
        self._lines[-1] += text

    def end_block(self) -> None:
        if any(line.strip() for line in self._lines):
            self.blocks.append(Block(self._start, self._lines, self._heading))
        self._lines = [""]
        self._heading = 0


def _leading_newlines(data: str) -> int:
    return data[: len(data) - len(data.lstrip())].count("\n")
