"""Which lines of a script are spoken by whom: `ALICE: Hello` and `**ALICE:** Hello`.

A label is a name (a letter first, then at most 40 letters, digits, spaces, `.`,
`-` and apostrophes) and a colon followed by a space or the end of the line.
Without a cast no line is a speaker line: every word is the narrator's, labels included. With
a cast, a label is a speaker's when it names one of the cast (letter case
ignored); a label the cast does not name is narration when it is written as
prose is ("Note: this", "Time: 10:30", "Chapter 3: The Storm"), and an error
when it is written as script labels are, in capitals (`NOTE: this`) or bold
(`**Note:** this`): a misspelt speaker would otherwise be read aloud, label and
all, in the narrator's voice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

NAME_LIMIT = 40  # characters in a speaker's name
_LABEL = re.compile(rf"\s*(?P<name>[^\W\d_][\w.'\u2019\- ]{{0,{NAME_LIMIT - 1}}}?)\s*:(?:\s+|$)")
# A name in capitals, as scripts write their labels: words of letters, no digits.
_CAPITALS = re.compile(r"[^\W\d_]+(?:[ .'\u2019-]+[^\W\d_]+)*\.?")


class Label(NamedTuple):
    """A line's speaker label: the name as the cast spells it (None: not in the cast)."""

    speaker: str | None
    written: str  # the name as the line writes it
    rest: str  # the line after the label: what is spoken


class Speakers:
    """The cast's names, looked up with letter case ignored."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        self._by_key = {_key(name): name for name in self.names}

    def find(self, written: str) -> str | None:
        return self._by_key.get(_key(written))

    def label(self, line: str, *, bold: bool = False) -> Label | None:
        """The line's label if it has one that counts; `speaker` None means one the cast
        lacks but the line writes as a label (capitals or bold): the caller's error."""
        match = _LABEL.match(line)
        if match is None:
            return None
        written = match["name"].strip()
        rest = line[match.end() :]
        speaker = self.find(written)
        if speaker is not None:
            return Label(speaker, written, rest)
        if bold or (written.isupper() and _CAPITALS.fullmatch(written)):
            return Label(None, written, rest)
        return None


def valid_name(name: str) -> bool:
    """Whether `name` can be written as a label (a cast's speaker names must be)."""
    match = _LABEL.fullmatch(name + ": ")
    return match is not None and match["name"].strip() == name


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()
