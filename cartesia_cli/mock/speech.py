"""Speech-shaped audio for a transcript: a voiced sound per syllable, pauses between words.

Deterministic for a transcript and format, with no model and no external
program. Each word gets one voiced sound per syllable (a vowel group; a
fundamental and three harmonics under a smooth envelope, its pitch chosen
from the word), a short pause after it, and a longer one after `,` `;` `:`
or a sentence's end. Word times come from the same timeline, so timestamps
match the sound. The utterance is padded with silence to whole chunks and,
when a plan asks for a fixed length, repeated: long streams then cost the
server a slice per chunk, not a synthesis.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import NamedTuple

from cartesia_cli.mock.audio import BYTES_PER_SAMPLE, encode
from cartesia_cli.mock.pronounce import pronounced
from cartesia_cli.mock.validation import LOCALE_MODELS, TtsJob

SYLLABLE_SECONDS = 0.16
SYLLABLE_GAP_SECONDS = 0.02
WORD_GAP_SECONDS = 0.08
CLAUSE_PAUSE_SECONDS = 0.15  # after , ; :
SENTENCE_PAUSE_SECONDS = 0.30  # after . ! ?
LEAD_SECONDS = 0.05
PITCHES = 12  # distinct pitches: at most this many syllable sounds per format
_VOWELS = re.compile(r"[aeiouyàáâäãåèéêëìíîïòóôöõùúûüæœø]+", re.IGNORECASE)
SILENCE = {
    "pcm_f32le": b"\0\0\0\0",
    "pcm_s16le": b"\0\0",
    "pcm_mulaw": b"\xff",
    "pcm_alaw": b"\xd5",
}

Timed = list[tuple[str, float, float]]


class Utterance(NamedTuple):
    """One transcript's audio in one format: a cycle of whole chunks, and its word times."""

    cycle: bytes  # the encoded samples, a whole number of chunks long
    words: Timed  # (word, start, end) in seconds, for the first pass through the cycle
    speech_samples: int  # samples before the padding: the utterance's natural length


def syllables(word: str) -> int:
    return max(1, len(_VOWELS.findall(word)))


def job_utterance(job: TtsJob, per_chunk: int) -> Utterance:
    """The job's speech: its transcript as its pronunciation dictionary has it said.

    The one place a dictionary is applied, so every route's audio (and the word
    timestamps, which carry the words as said) differs where a word was replaced.
    """
    every_case = job.model_id in LOCALE_MODELS  # sonic-3.6 matches every capitalization
    said = pronounced(job.transcript, job.pronunciations, every_case)
    return utterance(said, job.encoding, job.sample_rate, per_chunk)


@lru_cache(maxsize=32)
def utterance(transcript: str, encoding: str, rate: int, per_chunk: int) -> Utterance:
    parts: list[bytes] = [_silence(encoding, round(LEAD_SECONDS * rate))]
    words: Timed = []
    at = round(LEAD_SECONDS * rate)
    for word in transcript.split():
        start = at
        pitch = sum(word.encode("utf-8", "surrogatepass")) % PITCHES  # JSON allows lone surrogates
        for index in range(syllables(word)):
            if index:
                parts.append(_silence(encoding, round(SYLLABLE_GAP_SECONDS * rate)))
                at += round(SYLLABLE_GAP_SECONDS * rate)
            parts.append(_syllable(encoding, rate, pitch))
            at += round(SYLLABLE_SECONDS * rate)
        words.append((word, round(start / rate, 3), round(at / rate, 3)))
        pause = round(_pause_after(word) * rate)
        parts.append(_silence(encoding, pause))
        at += pause
    chunks = max(1, -(-at // per_chunk))
    parts.append(_silence(encoding, chunks * per_chunk - at))
    return Utterance(b"".join(parts), words, at)


def audio_slice(speech: Utterance, encoding: str, first: int, count: int) -> bytes:
    """`count` samples from sample `first` on, the cycle repeating as often as needed."""
    width = BYTES_PER_SAMPLE[encoding]
    cycle = speech.cycle
    start = (first * width) % len(cycle)
    end = start + count * width
    if end <= len(cycle):
        return cycle[start:end]
    repeats = -(-end // len(cycle))
    return (cycle * repeats)[start:end]


def _pause_after(word: str) -> float:
    if word.endswith((".", "!", "?")):
        return SENTENCE_PAUSE_SECONDS
    if word.endswith((",", ";", ":")):
        return CLAUSE_PAUSE_SECONDS
    return WORD_GAP_SECONDS


def _silence(encoding: str, samples: int) -> bytes:
    return SILENCE[encoding] * max(0, samples)


@lru_cache(maxsize=256)
def _syllable(encoding: str, rate: int, pitch: int) -> bytes:
    """A voiced syllable: 110-220 Hz with three harmonics, under a raised-cosine envelope."""
    count = round(SYLLABLE_SECONDS * rate)
    f0 = 110.0 * 2 ** (pitch / PITCHES)
    samples = []
    for n in range(count):
        t = n / rate
        envelope = 0.5 - 0.5 * math.cos(2 * math.pi * n / max(1, count - 1))
        voice = sum(math.sin(2 * math.pi * f0 * k * t) / k for k in (1, 2, 3, 4))
        samples.append(0.3 * envelope * voice)
    return encode(samples, encoding)
