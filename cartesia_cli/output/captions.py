"""Subtitles from word timestamps: SRT, WebVTT, or every word (and phoneme) as JSON.

The server sends words in batches with absolute times, interleaved with the
audio in any order. Here they are put in order, grouped into readable cues
(a cue ends at a sentence's end, or before it would pass about 42 characters
or 7 seconds; `words_per_cue` asks for a fixed count instead), and given
times that only go forward and never overlap. No I/O: the job writes the text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import NamedTuple

from cartesia_cli.errors import UsageError

FORMATS = ("srt", "vtt", "json")
MAX_CHARS = 42  # a subtitle line most guidelines allow
MAX_SECONDS = 7.0  # longer cues are hard to read along with
# Latin, and the ideographic full stop with the full-width ! and ? of CJK text.
SENTENCE_ENDS = (".", "!", "?", "\u2026", "\u3002", "\uff01", "\uff1f")
MIN_CUE = 0.001  # seconds: a cue that would end before it starts gets this much


class Timed(NamedTuple):
    """One word or phoneme and its times, in seconds from the start of the audio."""

    text: str
    start: float
    end: float


class Cue(NamedTuple):
    start: float
    end: float
    text: str


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
    return _forward_only([_cue(group) for group in groups if group])


def _readable(words: Sequence[Timed]) -> list[list[Timed]]:
    groups: list[list[Timed]] = [[]]
    for word in words:
        group = groups[-1]
        if group and _too_long(group, word):
            groups.append(group := [])
        group.append(word)
        if word.text.endswith(SENTENCE_ENDS):
            groups.append([])
    return groups


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


def srt(all_cues: Sequence[Cue]) -> str:
    blocks = [
        f"{index}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{cue.text}\n"
        for index, cue in enumerate(all_cues, start=1)
    ]
    return "\n".join(blocks)


def vtt(all_cues: Sequence[Cue]) -> str:
    blocks = [
        f"{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{_vtt_text(cue.text)}\n"
        for cue in all_cues
    ]
    return "\n".join(["WEBVTT\n", *blocks])


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
