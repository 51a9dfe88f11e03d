"""The last guard on secrets: every registered key is masked, whatever text carries it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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


def test_blank_and_very_short_values_are_not_registered() -> None:
    for value in (None, "", "   ", "k", "abc"):
        redact.remember(value)
    assert redact.redact("a key k abc") == "a key k abc"


def test_forget_all_starts_a_new_run() -> None:
    redact.remember("sk-previous-run")
    redact.forget_all()
    assert redact.redact("sk-previous-run") == "sk-previous-run"
