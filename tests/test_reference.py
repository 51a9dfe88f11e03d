"""docs/reference.md is the app's own help, so it cannot drift from the code."""

from __future__ import annotations

from pathlib import Path

from tests.reference_doc import render

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def test_the_reference_is_what_the_app_prints() -> None:
    assert REFERENCE.read_text() == render(), (
        "docs/reference.md differs from the app's help; "
        "regenerate it: python -m tests.reference_doc > docs/reference.md"
    )


def test_the_reference_covers_every_command() -> None:
    text = render()
    for command in ("tts sse", "tts bytes", "tts ws", "say", "voices list", "voices get"):
        assert f"## `cartesia-cli {command}`" in text
    for command in ("config set", "config get", "mock"):
        assert f"## `cartesia-cli {command}`" in text
