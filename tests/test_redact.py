"""The last guard on secrets: every registered key is masked, whatever text carries it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli import redact


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    redact.forget_all()
    yield
    redact.forget_all()


def test_keys_from_argv_in_both_spellings_are_masked() -> None:
    redact.remember_from_argv(["tts", "sse", "--api-key", "sk-one-111111", "--api-key=sk-two-2222"])
    text = redact.redact("a sk-one-111111 b sk-two-2222 c")
    assert text == "a [redacted] b [redacted] c"


def test_a_key_containing_another_is_masked_whole() -> None:
    redact.remember("sk-abcdef")
    redact.remember("sk-abcdef-longer")
    assert redact.redact("key sk-abcdef-longer") == "key [redacted]"


def test_blank_values_are_ignored_and_short_keys_are_masked_as_tokens() -> None:
    for value in (None, "", "   ", "k", "abc"):
        redact.remember(value)
    assert redact.redact("a key k abc") == "a key [redacted] [redacted]"
    assert redact.redact("Bearer k. kayak abcd") == "Bearer [redacted]. kayak abcd"


def test_the_escaped_form_of_a_key_is_masked_too() -> None:
    redact.remember("sk-back\\slash")
    assert redact.redact(repr("sk-back\\slash")) == "'[redacted]'"
    assert redact.redact('{"key": "sk-back\\\\slash"}') == '{"key": "[redacted]"}'


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_a_key_on_its_own_line_is_always_masked(key: str) -> None:
    redact.forget_all()
    redact.remember(key)
    # The frame is not ASCII, so it can never be (part of) the key.
    assert redact.redact(f"¶ {key} ¶") == f"¶ {redact.MASK} ¶"
