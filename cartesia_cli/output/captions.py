"""Subtitles from word timestamps: SRT, WebVTT, or every word (and phoneme) as JSON.

The server sends words in batches with absolute times, interleaved with the
audio in any order. Here they are put in order, grouped into readable cues
(a cue ends at a sentence's end, by the rule the WebSocket pieces follow, so
never at "Mr." or "p.m.", or before it would pass about 42 characters or 7
seconds; a sentence's last word is not left alone in a cue if the cue before
can spare it a word; `words_per_cue` asks for a fixed count instead), and given
times that only go forward and never overlap. A cue stays up at least half a
second, or until the next one starts if that is sooner.
No I/O: the job writes the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import NamedTuple

from cartesia_cli.errors import UsageError
from cartesia_cli.input.sentences import ends_sentence

FORMATS = ("srt", "vtt", "json")
MAX_CHARS = 42  # a subtitle line most guidelines allow
MAX_SECONDS = 7.0  # longer cues are hard to read along with
MIN_CUE = 0.001  # seconds: a cue that would end before it starts gets this much
# Seconds a cue stays up at least (into the silence after it, never over the next cue):
# a one-word cue shown for its 0.1 s of speech is gone before it can be read.
MIN_SHOWN = 0.5


class Timed(NamedTuple):
    """One word or phoneme and its times, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


class Cue(NamedTuple):
    start: float
    end: float
    text: str
    speaker: str | None = None  # who says it: a WebVTT voice tag (`<v Alice>`); None, nobody named


_WHOLE_TAG = re.compile(r"<<[^<>]*>>|<[A-Za-z/][^<>]*>")
_OPENED_TAG = re.compile(r"(<<|<[A-Za-z/])[^<>]*$")  # a tag that may go on in the next words
TAG_WORDS = 8  # words a tag split at its spaces may run over (`<emotion value="x"/>`: 2)


def without_tags(words: Sequence[Timed]) -> list[Timed]:
    """The words with inline tags (`<break time="1s"/>`, `<emotion …/>`, `<spell>`, `<<…>>`)
    taken out, a tag split over several words too (`<break` `time="1s"/>`): a caption shows
    what is said, never markup. `<spell>ABC</spell>` keeps ABC; a word left empty goes. A
    `<` that no `>` closes within TAG_WORDS words is prose, and stays."""
    kept: list[Timed] = []
    closes_at = -1  # the index of the word that ends the tag being skipped
    for index, word in enumerate(words):
        text = word.text
        if index <= closes_at:
            if index < closes_at:
                continue
            text = text[text.find(">") + 1 :].lstrip(">")
        text = _WHOLE_TAG.sub("", text)
        opened = _OPENED_TAG.search(text)
        if opened is not None:
            end = _tag_end(words, index + 1)
            if end is not None:
                text, closes_at = text[: opened.start()], end
        if text.strip():
            kept.append(word._replace(text=text))
    return kept


def _tag_end(words: Sequence[Timed], first: int) -> int | None:
    """The index of the word whose `>` closes a tag opened before `first`; None when none
    does within TAG_WORDS words, or a `<` comes first (a tag holds no `<`: it was prose)."""
    for index in range(first, min(first + TAG_WORDS, len(words))):
        text = words[index].text
        close, opening = text.find(">"), text.find("<")
        if opening >= 0 and (close < 0 or opening < close):
            return None
        if close >= 0:
            return index
    return None


def format_of(path: str) -> str:
    """`srt`, `vtt` or `json` from the file's suffix; `-` (stdout) is SRT."""
    if path == "-":
        return "srt"
    suffix = PurePath(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UsageError(f"--timestamps needs a .srt, .vtt or .json file name, got {path!r}")
    return suffix


def in_order(
    batches: Iterable[tuple[Sequence[str], Sequence[float], Sequence[float]]],
) -> list[Timed]:
    """Every entry of every batch, by start time (a stable sort keeps equal starts in order)."""
    entries = [
        Timed(str(text), float(start), max(float(start), float(end)))
        for labels, starts, ends in batches
        for text, start, end in zip(labels, starts, ends, strict=False)
    ]
    return sorted(entries, key=lambda entry: entry.start)


def cues(words: Sequence[Timed], *, words_per_cue: int | None = None) -> list[Cue]:
    groups = _fixed(words, words_per_cue) if words_per_cue else _readable(words)
    return _shown_long_enough(_forward_only([_cue(group) for group in groups if group]))


def _readable(words: Sequence[Timed]) -> list[list[Timed]]:
    groups: list[list[Timed]] = [[]]
    for word in words:
        group = groups[-1]
        if group and _too_long(group, word):
            groups.append(group := [])
        group.append(word)
        if ends_sentence(word.text):
            groups.append([])
    return _no_lone_last_word([group for group in groups if group])


def _no_lone_last_word(groups: list[list[Timed]]) -> list[list[Timed]]:
    """A sentence's last word, cut off alone by a limit, takes the last word of the cue
    before ("…readable cues for the" / "viewer!" -> "…cues for" / "the viewer!").
    A sentence of one word ("Yes.") is no lone word: it keeps a cue of its own."""
    result: list[list[Timed]] = []
    for group in groups:
        before = result[-1] if result else []
        last_word = len(group) == 1 and (ends_sentence(group[0].text) or group is groups[-1])
        same_sentence = len(before) > 2 and not ends_sentence(before[-1].text)
        if last_word and same_sentence and not _too_long(before[-1:], group[0]):
            group = [before.pop(), group[0]]
        result.append(group)
    return result


def _too_long(group: list[Timed], word: Timed) -> bool:
    chars = sum(len(w.text) + 1 for w in group) + len(word.text)
    return chars > MAX_CHARS or word.end - group[0].start > MAX_SECONDS


def _fixed(words: Sequence[Timed], size: int) -> list[list[Timed]]:
    return [list(words[i : i + size]) for i in range(0, len(words), size)]


def _cue(group: list[Timed]) -> Cue:
    return Cue(group[0].start, group[-1].end, " ".join(_clean(w.text) for w in group))


def _clean(text: str) -> str:
    # A line break would end the cue; "-->" is the timing separator in both formats.
    return " ".join(text.split()).replace("-->", "→")


def _forward_only(raw: list[Cue]) -> list[Cue]:
    result: list[Cue] = []
    for cue in raw:
        start = max(cue.start, result[-1].end if result else 0.0)
        result.append(Cue(start, max(cue.end, start + MIN_CUE), cue.text))
    return result


def _shown_long_enough(timed: list[Cue]) -> list[Cue]:
    """Each cue lengthened to `MIN_SHOWN` seconds, but never past the next cue's start."""
    if not timed:
        return []  # no words came (all dropped as unusable, or none sent)
    starts = [cue.start for cue in timed[1:]] + [float("inf")]
    return [
        cue._replace(end=max(cue.end, min(cue.start + MIN_SHOWN, next_start)))
        for cue, next_start in zip(timed, starts, strict=True)
    ]


VTT_HEADER = "WEBVTT\n"
CUE_SEPARATOR = "\n"  # between two cues' blocks (each block ends with its own line break)


def srt(all_cues: Iterable[Cue]) -> str:
    blocks = (srt_block(index, cue) for index, cue in enumerate(all_cues, start=1))
    return CUE_SEPARATOR.join(blocks)


def vtt(all_cues: Iterable[Cue]) -> str:
    return CUE_SEPARATOR.join([VTT_HEADER, *map(vtt_block, all_cues)])


def srt_block(index: int, cue: Cue) -> str:
    """One cue in SRT (numbered from 1): a book's captions are written a cue at a time."""
    return f"{index}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.text}\n"


def vtt_block(cue: Cue) -> str:
    """One cue in WebVTT, its speaker as a voice tag; the file starts with VTT_HEADER."""
    return (
        f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n"
        f"{_voice(cue.speaker)}{_vtt_text(cue.text)}\n"
    )


def _voice(speaker: str | None) -> str:
    """`<v NAME>` before a cue's text; a name is one line, with no `>` to end the tag early."""
    if not speaker or not (name := _clean(speaker)):
        return ""
    return f"<v {_vtt_text(name)}>"


def _vtt_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def as_json(words: Sequence[Timed], phonemes: Sequence[Timed], *, complete: bool) -> str:
    def entries(timed: Sequence[Timed], key: str) -> list[dict[str, object]]:
        return [{key: t.text, "start": t.start, "end": t.end} for t in timed]

    document = {
        "complete": complete,  # false: the stream failed part-way, these are what arrived
        "words": entries(words, "word"),
        "phonemes": entries(phonemes, "phoneme"),
    }
    # Strict JSON: a NaN here would be a bug upstream (api/events.py drops them), not output.
    return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _clock(seconds: float, decimal: str) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"
