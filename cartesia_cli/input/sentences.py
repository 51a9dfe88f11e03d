# ruff: noqa: RUF002, RUF003 -- the marks of other scripts, named as they are written
"""Where a sentence ends: the one rule the WebSocket pieces and the caption cues share.

A word ends its sentence when it ends in a sentence mark, closing quotes and
brackets after it allowed. A single "." is no end after a known abbreviation
("Mr.", "Dr.", "Jan.", "approx.") or after initials ("U.S.", "p.m.", "e.g.",
"J."): cutting there would speak half a sentence as an utterance of its own.
Latin marks end a sentence only where a space follows them ("3.14", "a.m"),
which the caller sees; the marks of scripts written without a space after them
(Chinese and Japanese 。！？, the danda । of Hindi, Bengali, Punjabi and Odia,
the Urdu ۔, the Arabic ؟) end one wherever they stand. The clause marks (, ; :
and their Chinese, Japanese and Arabic forms ，、；：، ؛) are where a sentence
too long for one piece is best cut.
"""

from __future__ import annotations

import re

# Marks that end a sentence only when a space (or the end of the text) follows them.
SPACED_SENTENCE_MARKS = frozenset(".!?\u2026\u203c\u2047\u2048\u2049")  # . ! ? … ‼ ⁇ ⁈ ⁉
# Marks that end a sentence even with no space after: 。｡！？ । ॥ ۔ ؟
SPACELESS_SENTENCE_MARKS = frozenset("\u3002\uff61\uff01\uff1f\u0964\u0965\u06d4\u061f")
SENTENCE_MARKS = SPACED_SENTENCE_MARKS | SPACELESS_SENTENCE_MARKS
SPACED_CLAUSE_MARKS = frozenset(",;:")
SPACELESS_CLAUSE_MARKS = frozenset("\uff0c\u3001\uff64\uff1b\uff1a\u060c\u061b")  # ，、､；：،؛
CLAUSE_MARKS = SPACED_CLAUSE_MARKS | SPACELESS_CLAUSE_MARKS
SPACELESS_MARKS = SPACELESS_SENTENCE_MARKS | SPACELESS_CLAUSE_MARKS
# Quotes and brackets that close what a mark ended: " ' ) ] } » ” ’ › and the CJK ones.
CLOSERS = (
    "\"')]}\u00bb\u201d\u2019\u203a"
    "\u300d\u300f\u3011\u3015\u3009\u300b\u3017\u3019\u301b\u301e\uff09\uff3d\uff5d\uff02\uff07"
)
# What may open a word before an abbreviation: quotes, brackets, ¿ ¡.
_OPENERS = "\"'([{\u00ab\u201c\u2018\u2039\u00bf\u00a1\u300c\u300e\uff08"

# Written capitalised (titles, months and the like): "sat." or "mar." in lower case are words.
_CAPITALISED = frozenset(
    ["Mr", "Mrs", "Ms", "Mx", "Messrs", "Mme", "Mlle", "Dr", "Prof", "Sr", "Sra", "Srta", "Jr",
     "St", "Mt", "Ft", "Rev", "Fr", "Hon", "Gen", "Col", "Maj", "Capt", "Lt", "Sgt", "Cpl", "Adm",
     "Gov", "Sen", "Rep", "Pres", "Supt", "Dept", "Univ", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul",
     "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Fig", "Figs", "Vol", "Vols", "Ch", "Eq", "Nr"]
)  # fmt: skip
_LOWER_CASE = frozenset(["vs", "cf", "viz", "approx", "ca", "esp", "incl", "al", "bzw", "usw"])
ABBREVIATIONS = _CAPITALISED | _LOWER_CASE
# One or two letters and a dot, once or more: "U.S.", "p.m.", "e.g.", "J.", "Ph.D."
_INITIALS = re.compile(r"(?:[^\W\d_]{1,2}\.)*[^\W\d_]\.")


def ends_sentence(word: str) -> bool:
    """Whether `word` (the text between two spaces) is the last word of its sentence.

    Only the word's own text counts: whether a space follows a Latin mark is the
    caller's to see.
    """
    body = word.rstrip(CLOSERS)
    if not body or body[-1] not in SENTENCE_MARKS:
        return False
    if body[-1] != "." or body.endswith(".."):  # ! ? … 。 and an ellipsis of dots
        return True
    return not is_abbreviation(body.lstrip(_OPENERS))


def is_abbreviation(word: str) -> bool:
    """Whether `word`, which ends in a single ".", is a known abbreviation or initials."""
    stem = word[:-1]
    if stem in ABBREVIATIONS or (stem.isupper() and stem.title() in _CAPITALISED):
        return True
    return _INITIALS.fullmatch(word) is not None
