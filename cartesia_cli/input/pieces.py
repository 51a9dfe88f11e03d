"""Text cut into pieces as it arrives, for one WebSocket context fed with `continue`.

A piece ends after a sentence's end (`sentences.ends_sentence`: "Mr.", "U.S."
and "3.14" are none) or a blank line, and the spaces after it, so that pieces
joined verbatim give the text back exactly: a dropped space would make the
server read "." as "dot". No piece is longer than `max_length`: a sentence that
long is cut after a clause mark in the second half of the piece, else after its
last space, else (text with no space: a long URL, Chinese with no mark) at the
limit itself, though never between a letter and its combining marks. A cut never
falls inside an inline tag (`<break time="1s"/>`, `<spell>…</spell>`) or a
`<<…>>` phoneme block: those are atoms, and a cut at the limit moves before one
(a single atom longer than the limit is a piece of its own).

Text is held back only while its end is undecided (a "." may be "3.5"; the next
character says), and it is scanned once: where the scan stopped is kept between
feeds, so text fed a character at a time costs what it costs in one feed.
"""

from __future__ import annotations

import re
import unicodedata

from cartesia_cli.input.sentences import (
    CLAUSE_MARKS,
    CLOSERS,
    SENTENCE_MARKS,
    SPACELESS_MARKS,
    ends_sentence,
)

MAX_LENGTH = 250  # characters: past this a sentence is cut at a clause, a space, or the limit
# Atoms no cut may fall inside: a phoneme block, a <spell>…</spell>, any other tag.
# Public: a book's readers and the estimate find the same tags (input/book.py, jobs/estimate.py).
ATOM = re.compile(
    r"<<[^<>]{0,200}>>|<spell>[^<>]{0,200}</spell>|<(?!spell>)[A-Za-z/][^<>\n]{0,200}>"
)
_OPEN_TAG = re.compile(r"<[A-Za-z/][^<>\n]{0,200}")
_ATOM_LIMIT = 220  # characters: a "<" left open longer than this is prose, not markup
_MARKS = "".join(sorted(SENTENCE_MARKS | CLAUSE_MARKS))
# What the scan stops at: a space, a tag's "<", a mark. Anything else is skipped at C speed.
_STOP = re.compile(f"[\\s<{re.escape(_MARKS)}]")
_MARK_RUN = re.compile(f"[{re.escape(_MARKS + CLOSERS)}]*")
_SPACES = re.compile(r"\s*")
_SPEAKABLE = re.compile(r"\w")  # the server refuses a first piece of punctuation only
_WAIT = -1  # a step's answer: the text so far cannot decide; come back with more
_CLUSTER_LIMIT = 16  # characters a cut at the limit may move back to keep a letter whole


class Chunker:
    """Feed text as it comes; take the pieces that are complete; `finish()` the rest."""

    def __init__(self, max_length: int = MAX_LENGTH) -> None:
        self.max_length = max_length
        self._text = ""  # the text held back (and, during a feed, what was just fed)
        self._final = False  # the end of the text: nothing is undecided
        self._begin(0)

    def feed(self, text: str) -> list[str]:
        self._text += text  # what is held back is bounded: this copies little
        pieces = []
        while (cut := self._next_cut()) is not None:
            pieces.append(self._text[self._start : cut])
            self._begin(cut)
        self._drop_sent()
        return pieces

    def finish(self) -> list[str]:
        """The rest, as if the text ended here (there may be no piece); then start afresh."""
        self._final = True
        try:
            pieces = self.feed("")
        finally:
            self._final = False
        if self._text:
            pieces.append(self._text)
        self._text = ""
        self._begin(0)
        return pieces

    @property
    def pending(self) -> str:
        return self._text[self._start :]

    def ready_on_pause(self) -> bool:
        """Whether what is held back is complete if the writer stops here: a line it
        finished, or a sentence mark only the next character could still undo ("3.5")."""
        held = self.pending
        body = held.rstrip()
        if not body or _open_atom(held):
            return False
        if body != held:  # a line break after the text; or "Mr. ", which is no end
            return "\n" in held[len(body) :]
        return ends_sentence(body.rsplit(None, 1)[-1])

    def _begin(self, start: int) -> None:
        """Start the next piece at `start`: nothing after it is looked at yet."""
        self._start = self._scan = self._word = start
        self._clause = self._space = start  # the best cuts so far (none: the start)
        self._atom = (start, start)  # the last atom the scan stepped over

    def _drop_sent(self) -> None:
        """Forget the text already handed over, so that the next feed copies only the rest."""
        sent = self._start
        if sent:
            self._text = self._text[sent:]
            self._start = 0
            self._scan -= sent
            self._word -= sent
            self._clause -= sent
            self._space -= sent
            self._atom = (max(self._atom[0] - sent, 0), max(self._atom[1] - sent, 0))

    def _next_cut(self) -> int | None:
        """Where the piece being built ends, or None until more text says.

        The scan goes on from where it stopped; it stops (and comes back there)
        only at something the next character decides, which is never far back.
        """
        text, limit = self._text, self._start + self.max_length
        pos = self._scan
        while (stop := _STOP.search(text, pos, limit)) is not None:
            index = stop.start()
            char = text[index]
            if char == "<":
                pos, cut = self._after_atom(index), None
            elif char.isspace():
                pos, cut = self._after_spaces(index, limit)
            else:
                pos, cut = self._after_marks(index, limit)
            if pos == _WAIT:  # the end of the text so far leaves it open: come back here
                self._scan = index
                return None
            if cut is not None:
                return cut
        if len(text) > limit:  # a whole piece's worth and no sentence end in it
            return self._cut_at_limit(limit)
        self._scan = len(text)
        return None

    def _after_atom(self, index: int) -> int:
        """Past a tag or phoneme block at `index` (or past its "<" if it is prose)."""
        match = ATOM.match(self._text, index)
        if match is not None:
            self._atom = (index, match.end())
            self._word = match.end()
            return match.end()
        rest = self._text[index : index + _ATOM_LIMIT + 1]
        if not self._final and _may_become_atom(rest):
            return _WAIT
        return index + 1

    def _after_spaces(self, index: int, limit: int) -> tuple[int, int | None]:
        """Past the spaces at `index`: a cut after a blank line, a fallback cut after any."""
        text = self._text
        end = _run_end(_SPACES, text, index)
        blank_line = text.count("\n", index, end) >= 2 or "\u2029" in text[index:end]
        if blank_line and self._speakable(index):
            return end, min(end, limit)
        if end == len(text) and end <= limit and not self._final:
            return _WAIT, None  # the spaces may grow into a blank line
        if self._speakable(index):  # a piece of nothing but marks and spaces says nothing
            self._space = min(end, limit)
        self._word = end
        return end, None

    def _after_marks(self, index: int, limit: int) -> tuple[int, int | None]:
        """Past the marks (and closing quotes) at `index`: a cut if they end a sentence."""
        text = self._text
        run_end = _run_end(_MARK_RUN, text, index)
        if run_end == len(text) and not self._final:
            # "3." or "e.g." so far: the next character decides. A run of marks past the
            # limit is no place for a cut but the one at the limit.
            return (_WAIT if run_end <= limit else run_end), None
        marks = text[index:run_end].rstrip(CLOSERS)
        spaceless = marks[-1] in SPACELESS_MARKS
        if run_end < len(text) and not spaceless and not text[run_end].isspace():
            return run_end, None  # "3.14", "e.g", "a.m": inside a word
        end = _run_end(_SPACES, text, run_end)
        if ends_sentence(text[self._word : run_end]) and self._speakable(index):
            return end, min(end, limit)  # the spaces so far: later ones start the next piece
        if spaceless:  # a Chinese or Arabic comma: a cut even with no space after it
            self._word = end
            if self._speakable(index):
                self._space = min(end, limit)
        if (spaceless or end > run_end) and not CLAUSE_MARKS.isdisjoint(marks):
            self._clause = min(end, limit)
        return run_end, None  # the spaces after the marks end a word: looked at next

    def _speakable(self, end: int) -> bool:
        """Whether the piece up to `end` holds something to say, not just marks and spaces."""
        return _SPEAKABLE.search(self._text, self._start, end) is not None

    def _cut_at_limit(self, limit: int) -> int:
        """The best cut in a piece that reached the limit with no sentence end."""
        start = self._start
        if self._clause - start >= self.max_length // 2:
            return self._clause
        if self._space > start:
            return self._space
        atom_start, atom_end = self._atom
        if atom_start < limit < atom_end:  # the limit falls in a tag: cut before it
            return atom_start if atom_start > start else atom_end
        cut = limit
        while cut > start + 1 and limit - cut < _CLUSTER_LIMIT and _joins(self._text, cut):
            cut -= 1
        return limit if _joins(self._text, cut) else cut


def _run_end(run: re.Pattern[str], text: str, index: int) -> int:
    """Where the run (a pattern that matches empty text too) that starts at `index` ends."""
    match = run.match(text, index)
    return match.end() if match else index


def _joins(text: str, index: int) -> bool:
    """Whether a cut before `text[index]` would split a character as it is read and shown:
    a letter from its combining marks, a virama from its consonant, an emoji sequence."""
    before, after = text[index - 1], text[index]
    return (
        unicodedata.category(after).startswith("M")  # accents, vowel signs, selectors
        or after in "\u200c\u200d"  # zero-width (non-)joiners
        or before == "\u200d"
        or unicodedata.combining(before) == 9  # a virama: the next consonant joins it
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tones
    )


def _open_atom(text: str) -> bool:
    """Whether `text` ends inside an atom that has not closed yet."""
    start = text.rfind("<")
    return start >= 0 and ATOM.match(text, start) is None and _may_become_atom(text[start:])


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
