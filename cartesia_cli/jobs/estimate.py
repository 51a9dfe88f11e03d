"""`narrate --estimate`: what a run would bill and how long it would take, with no request.

Arithmetic only, on the texts that would be sent (a resumed run passes only
the paragraphs it still lacks):

- Characters billed: the characters of each text as sent (Unicode code points
  of the NFC text, spaces and inline tags included), each `<break …/>` counted
  as one, as the API bills it. Labels, markup and code blocks are not sent, so
  not counted. The API's own count "can vary slightly": this is an estimate.
- Audio length: the text at SPEECH_CHARS_PER_SECOND (150 words a minute, the
  usual pace of a narrated book, at about 6 characters a word with its space),
  plus every `<break>`'s time, plus the pauses set between paragraphs and
  between chapters.
- Wall time: each chapter takes its audio length times REAL_TIME_FACTOR plus
  FIRST_AUDIO_SECONDS per paragraph; chapters are taken in order by
  `concurrency` workers, each starting the next chapter when it is free.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from cartesia_cli.input.pieces import ATOM

SPEECH_CHARS_PER_SECOND = 15.0  # 150 words a minute x 6 characters a word, / 60
REAL_TIME_FACTOR = 0.25  # seconds of work per second of audio: an assumption, not measured
FIRST_AUDIO_SECONDS = 0.3  # a paragraph's start: its context opened, its first audio back
_BREAK = re.compile(r"<break\b[^<>]*>", re.IGNORECASE)
_BREAK_TIME = re.compile(r"""time\s*=\s*["']?\s*(\d+(?:\.\d+)?)\s*(ms|s)?""", re.IGNORECASE)


class Estimate(NamedTuple):
    chapters: int  # chapters with something to send
    paragraphs: int
    characters: int  # to be billed
    audio_seconds: float
    wall_seconds: float


def billed_characters(text: str) -> int:
    """The characters the API bills for `text`: each `<break …/>` is one."""
    breaks = _BREAK.findall(text)
    return len(text) - sum(len(tag) for tag in breaks) + len(breaks)


def audio_seconds(text: str) -> float:
    """How long `text` takes to say: its spoken characters at the pace, plus its breaks."""
    spoken = len(ATOM.sub("", text))
    return spoken / SPEECH_CHARS_PER_SECOND + sum(_break_seconds(t) for t in _BREAK.findall(text))


def estimate(
    chapters: Iterable[Sequence[str]],
    *,
    concurrency: int,
    paragraph_pause: float = 0.0,
    chapter_pause: float = 0.0,
) -> Estimate:
    """The estimate for `chapters`, each the texts of the paragraphs to be sent."""
    counted = [texts for texts in chapters if texts]
    characters = sum(billed_characters(text) for texts in counted for text in texts)
    lengths = [_chapter_seconds(texts, paragraph_pause) for texts in counted]
    audio = sum(lengths) + chapter_pause * max(0, len(counted) - 1)
    work = [
        seconds * REAL_TIME_FACTOR + FIRST_AUDIO_SECONDS * len(texts)
        for seconds, texts in zip(lengths, counted, strict=True)
    ]
    paragraphs = sum(len(texts) for texts in counted)
    return Estimate(len(counted), paragraphs, characters, audio, wall_seconds(work, concurrency))


def wall_seconds(work: Sequence[float], concurrency: int) -> float:
    """When the last of `work` (seconds each, taken in order) ends on `concurrency` workers."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    free_at = [0.0] * min(concurrency, len(work))
    for seconds in work:  # the next job goes to the worker free soonest
        heapq.heapreplace(free_at, free_at[0] + seconds)
    return max(free_at, default=0.0)


def _chapter_seconds(texts: Sequence[str], paragraph_pause: float) -> float:
    return sum(audio_seconds(text) for text in texts) + paragraph_pause * (len(texts) - 1)


def _break_seconds(tag: str) -> float:
    match = _BREAK_TIME.search(tag)
    if match is None:
        return 0.0
    value = float(match[1])
    return value / 1000 if (match[2] or "s").lower() == "ms" else value
