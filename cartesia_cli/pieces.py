"""Text cut into pieces as it arrives, for one WebSocket context fed with `continue`.

A piece ends after a sentence end (`.` `!` `?` `…`, closing quotes and brackets
included) and the spaces after it, so that pieces joined verbatim give the text
back exactly: a dropped space would make the server read "." as "dot". A
sentence longer than `max_length` is cut after a clause mark (`,` `;` `:`) and
its spaces, else after the last space, past which it runs long; a single word
longer than that stays whole. A cut never falls inside an inline tag (`<break
time="1s"/>`, `<spell>…</spell>`) or a `<<…>>` phoneme block: those are atoms.
Text is held back only as long as its end is undecided (a `.` may be "3.5"
or "e.g."; the next character says).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

MAX_LENGTH = 250  # characters: past this a sentence is cut at a clause or a word
_SENTENCE_END = frozenset(".!?\u2026\u3002\uff01\uff1f")  # and the ellipsis, CJK stops
_CLOSERS = frozenset("\"')]}\u00bb\u201d\u2019")  # a quote or bracket closing a sentence
_CLAUSE_END = frozenset(",;:")
# Atoms no cut may fall inside: a phoneme block, a <spell>…</spell>, any other tag.
_ATOM = re.compile(
    r"<<[^<>]{0,200}>>|<spell>[^<>]{0,200}</spell>|<(?!spell>)[A-Za-z/][^<>\n]{0,200}>"
)
_OPEN_TAG = re.compile(r"<[A-Za-z/][^<>\n]{0,200}")
_ATOM_LIMIT = 220  # characters: a "<" left open longer than this is prose, not markup


class Chunker:
    """Feed text as it comes; take the pieces that are complete; `finish()` the rest."""

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._text = ""

    def feed(self, text: str) -> list[str]:
        self._text += text
        pieces = []
        while (cut := self._next_cut()) is not None:
            pieces.append(self._text[:cut])
            self._text = self._text[cut:]
        return pieces

    def finish(self) -> list[str]:
        """Whatever is left: the last piece (there may be none)."""
        pieces = self.feed("")
        if self._text:
            pieces.append(self._text)
            self._text = ""
        return pieces

    @property
    def pending(self) -> str:
        return self._text

    def ends_a_sentence(self) -> bool:
        """Whether the text held back ends with a sentence mark (only the next character,
        which has not come, could make it "3.5"): worth sending if the writer pauses."""
        text = self._text.rstrip("".join(_CLOSERS))
        return bool(text) and text[-1] in _SENTENCE_END and not _open_atom(self._text)

    def take_all(self) -> str:
        """Everything held back, as one piece (the writer paused after a sentence end)."""
        text, self._text = self._text, ""
        return text

    def _next_cut(self) -> int | None:
        """Where the first complete piece of the buffer ends, or None if none is yet."""
        clause = word = None
        for start, end, kind in _boundaries(self._text):
            if kind == "sentence":
                return end
            if start > self.max_length:  # a long sentence: its best cut so far
                return clause or word or end
            if kind == "clause":
                clause = end
            else:
                word = end
        return None


def _boundaries(text: str) -> Iterator[tuple[int, int, str]]:
    """(where the mark is, where the piece would end, kind) for each possible cut.

    The end includes the spaces after the mark; a boundary whose spaces may still
    be growing (they reach the end of the text so far) is not yet known.
    """
    index, length = 0, len(text)
    while index < length:
        atom = _atom_at(text, index)
        if atom is not None:
            if atom < 0:
                return  # an atom not closed yet: nothing after it can be decided
            index = atom
            continue
        char = text[index]
        kind = None
        if char in _SENTENCE_END:
            kind = "sentence"
        elif char in _CLAUSE_END:
            kind = "clause"
        elif char.isspace():
            kind = "word"
        if kind is None:
            index += 1
            continue
        end = index + 1
        if kind == "sentence":
            while end < length and (text[end] in _SENTENCE_END or text[end] in _CLOSERS):
                end += 1
        spaces_end = end
        while spaces_end < length and text[spaces_end].isspace():
            spaces_end += 1
        if spaces_end == end and end == length:
            return  # "3." or "e.g." at the end so far: the next character decides
        if spaces_end > end or kind == "word":
            # Spaces that come later start the next piece: joined, the text is the same.
            yield index, spaces_end, kind
        index = max(spaces_end, index + 1)


def _open_atom(text: str) -> bool:
    """Whether `text` ends inside an atom that has not closed yet."""
    start = text.rfind("<")
    return start >= 0 and _ATOM.match(text, start) is None and _may_become_atom(text[start:])


def _atom_at(text: str, index: int) -> int | None:
    """The end of the atom at `index`; -1 while it may still be one; None if it is not one."""
    if text[index] != "<":
        return None
    match = _ATOM.match(text, index)
    if match is not None:
        return match.end()
    return -1 if _may_become_atom(text[index : index + _ATOM_LIMIT + 1]) else None


def _may_become_atom(rest: str) -> bool:
    """Whether `rest` (from a "<" to the end of the text so far) is an atom still open."""
    if len(rest) > _ATOM_LIMIT:
        return False
    if rest.startswith("<<") or rest == "<":
        return ">>" not in rest and "<" not in rest[2:]
    if rest.startswith("<spell>"):
        body = rest[len("<spell>") :]
        tag = body.find("<")
        return tag < 0 or "</spell>".startswith(body[tag:])
    if "<spell>".startswith(rest):
        return True
    return _OPEN_TAG.fullmatch(rest) is not None
