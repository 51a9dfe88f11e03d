"""`narrate --estimate`'s arithmetic: characters billed, audio length, wall time."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.jobs import estimate as estimate_module
from cartesia_cli.jobs.estimate import (
    FIRST_AUDIO_SECONDS,
    REAL_TIME_FACTOR,
    SPEECH_CHARS_PER_SECOND,
    audio_seconds,
    billed_characters,
    estimate,
    wall_seconds,
)


def test_characters_are_billed_as_sent_with_a_break_counted_as_one() -> None:
    assert billed_characters("Héllo, world.") == 13
    assert billed_characters('Wait <break time="1s"/> now.') == len("Wait x now.")
    assert billed_characters("<spell>ABC</spell>") == len("<spell>ABC</spell>")


def test_audio_is_the_text_at_the_pace_plus_its_breaks() -> None:
    assert audio_seconds("x" * 150) == pytest.approx(150 / SPEECH_CHARS_PER_SECOND)
    text = 'Wait <break time="1.5s"/> and <break time="500ms"/>.'
    spoken = len("Wait  and .")
    assert audio_seconds(text) == pytest.approx(spoken / SPEECH_CHARS_PER_SECOND + 2.0)


def test_the_estimate_counts_chapters_paragraphs_characters_and_pauses() -> None:
    chapters = [["a" * 30, "b" * 15], [], ["c" * 45]]
    result = estimate(chapters, concurrency=1, paragraph_pause=0.5, chapter_pause=2.0)
    assert (result.chapters, result.paragraphs, result.characters) == (2, 3, 90)
    assert result.audio_seconds == pytest.approx(90 / SPEECH_CHARS_PER_SECOND + 0.5 + 2.0)
    work = (45 / SPEECH_CHARS_PER_SECOND + 0.5) * REAL_TIME_FACTOR + 2 * FIRST_AUDIO_SECONDS
    work += 45 / SPEECH_CHARS_PER_SECOND * REAL_TIME_FACTOR + FIRST_AUDIO_SECONDS
    assert result.wall_seconds == pytest.approx(work)


def test_nothing_left_to_do_is_an_estimate_of_nothing() -> None:
    assert estimate([[], []], concurrency=4) == (0, 0, 0, 0.0, 0.0)


def test_wall_time_takes_chapters_in_order_on_the_workers_free_first() -> None:
    assert wall_seconds([4, 1, 1, 1, 1], concurrency=2) == 4
    assert wall_seconds([4, 1, 1, 1, 1], concurrency=1) == 8
    assert wall_seconds([1, 1, 1, 4], concurrency=2) == 5
    assert wall_seconds([3, 3], concurrency=8) == 3
    with pytest.raises(ValueError):
        wall_seconds([1], concurrency=0)


@given(st.lists(st.floats(min_value=0, max_value=1e4), max_size=30), st.integers(1, 16))
def test_the_wall_time_is_between_the_longest_job_and_all_of_them_in_a_row(
    work: list[float], concurrency: int
) -> None:
    wall = wall_seconds(work, concurrency)
    assert max(work, default=0.0) <= wall + 1e-6
    assert wall <= sum(work) + 1e-6


@given(st.text(max_size=200))
def test_billing_never_counts_more_than_the_text_nor_less_than_nothing(text: str) -> None:
    assert 0 <= billed_characters(text) <= len(text)
    assert audio_seconds(text) >= 0


def test_the_rates_are_the_documented_ones() -> None:
    # 150 words a minute at about 6 characters a word: docs/narrate-input.md says so.
    assert estimate_module.SPEECH_CHARS_PER_SECOND == 150 * 6 / 60
