"""A pronunciation dictionary applied to a transcript: a search and replace, before speech.

Whole words (or phrases) only: an entry's text matches where no letter or digit
touches it on either side. Which capitalizations match:

- the old rule (every model for an entry with `case_sensitive: true`, and models
  before sonic-3.6 for every entry): the text as written, and, for an entry
  written in lower case, its capitalized form at the start of a sentence
  (`cat` matches `cat` and `Cat. …`/`… end. Cat`, not `CAT`, not `a Cat`);
- sonic-3.6 with `case_sensitive` false or unset: every capitalization.

Replacements are made in one pass, left to right, the longest match first where
two begin at the same place, so a replacement is never itself replaced.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_SENTENCE_END = ".!?"


class Rule(NamedTuple):
    text: str
    sound: str  # what is said instead: a pronunciation (IPA in `<<…>>`) or sounds-like text
    case_sensitive: bool | None = None


@lru_cache(maxsize=64)
def pronounced(transcript: str, rules: tuple[Rule, ...], every_case: bool) -> str:
    """`transcript` with each rule's text replaced by its sound.

    `every_case`: the model matches every capitalization (sonic-3.6) for rules
    not marked case-sensitive.
    """
    if not rules:
        return transcript
    found: list[tuple[int, int, int, str]] = []  # (start, -length, end, sound)
    for rule in rules:
        for start, end in _matches(transcript, rule, every_case):
            found.append((start, start - end, end, rule.sound))
    found.sort()
    out: list[str] = []
    at = 0
    for start, _, end, sound in found:
        if start < at:
            continue  # overlaps a replacement already made
        out += [transcript[at:start], sound]
        at = end
    out.append(transcript[at:])
    return "".join(out)


def _matches(transcript: str, rule: Rule, every_case: bool) -> list[tuple[int, int]]:
    if not rule.text:
        return []
    if every_case and not rule.case_sensitive:
        return _spans(transcript, rule.text, re.IGNORECASE)
    spans = _spans(transcript, rule.text, 0)
    capital = rule.text[:1].upper() + rule.text[1:]
    if rule.text == rule.text.lower() and capital != rule.text:
        spans += [s for s in _spans(transcript, capital, 0) if _sentence_start(transcript, s[0])]
    return spans


def _spans(transcript: str, text: str, flags: int) -> list[tuple[int, int]]:
    pattern = re.compile(rf"(?<![^\W_]){re.escape(text)}(?![^\W_])", flags)
    return [match.span() for match in pattern.finditer(transcript)]


def _sentence_start(transcript: str, index: int) -> bool:
    at = index - 1
    while at >= 0 and transcript[at].isspace():
        at -= 1
    return at < 0 or transcript[at] in _SENTENCE_END
