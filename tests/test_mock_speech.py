"""The mock's speech-shaped audio: voiced where the word timestamps say, silent between."""

from __future__ import annotations

import itertools
import struct

import pytest

from cartesia_cli.mock.speech import SENTENCE_PAUSE_SECONDS, syllables, utterance

RATE = 16000


def loudness(samples: tuple[int, ...]) -> float:
    return max((abs(s) for s in samples), default=0) / 32767


def test_words_are_voiced_and_the_gaps_between_them_silent() -> None:
    speech = utterance("Hello there. How are you?", "pcm_s16le", RATE, 1600)
    samples = struct.unpack(f"<{len(speech.cycle) // 2}h", speech.cycle)
    words = speech.words
    assert [w for w, _, _ in words] == ["Hello", "there.", "How", "are", "you?"]
    for _, start, end in words:
        assert loudness(samples[round(start * RATE) : round(end * RATE)]) > 0.2
    after_sentence = samples[round(words[1][2] * RATE) + 1 : round(words[2][1] * RATE) - 1]
    assert loudness(after_sentence) == 0.0
    assert words[2][1] - words[1][2] == pytest.approx(SENTENCE_PAUSE_SECONDS, abs=0.002)
    assert all(a[2] < b[1] for a, b in itertools.pairwise(words))


def test_a_word_lasts_as_long_as_its_syllables() -> None:
    words = utterance("cat banana", "pcm_s16le", RATE, 1600).words
    (_, cat_start, cat_end), (_, ba_start, ba_end) = words
    assert syllables("banana") == 3 and syllables("cat") == 1
    assert (ba_end - ba_start) > 2.5 * (cat_end - cat_start)


@pytest.mark.parametrize("encoding", ["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"])
def test_the_same_text_gives_the_same_bytes_in_whole_chunks(encoding: str) -> None:
    first = utterance("Deterministic, please.", encoding, RATE, 1600)
    utterance.cache_clear()
    again = utterance("Deterministic, please.", encoding, RATE, 1600)
    assert first == again
    width = {"pcm_f32le": 4, "pcm_s16le": 2}.get(encoding, 1)
    assert len(first.cycle) % (1600 * width) == 0
