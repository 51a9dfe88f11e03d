"""The one door to stderr: redaction, terminal sanitising, --quiet and --debug."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli import redact
from cartesia_cli.ui.console import Console, safe, sanitize

KEY = "sk-console-5e6f7a8b9c"
CONTROL = {chr(c) for c in (*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0))}


@given(st.text())
def test_sanitized_text_carries_no_control_character(text: str) -> None:
    cleaned = sanitize(text)
    assert not CONTROL & set(cleaned)
    # Printable text (tabs included) passes through unchanged.
    if not CONTROL & set(text):
        assert cleaned == text


@given(st.text(alphabet=st.characters(codec="utf-8")), st.text())
@settings(max_examples=200)
def test_a_key_is_masked_wherever_it_sits(before: str, after: str) -> None:
    redact.forget_all()
    redact.remember(KEY)
    try:
        assert KEY not in safe(before + KEY + after)
    finally:
        redact.forget_all()


def test_escapes_are_visible_not_executed() -> None:
    assert sanitize("title\x1b]0;owned\x07 \r\n") == "title\\x1b]0;owned\\x07 \\x0d\\x0a"
    assert sanitize("tab\tstays, ünïcode stays") == "tab\tstays, ünïcode stays"


def test_quiet_silences_summaries_but_never_errors(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console()
    console.configure(quiet=True, debug=False)
    console.info("wrote out.pcm")
    console.debug_line("request header")
    console.warning("plain http")
    console.error("it failed")
    assert capsys.readouterr().err == (
        "cartesia-cli: warning: plain http\ncartesia-cli: error: it failed\n"
    )
    assert console.debug_log() is None


def test_debug_lines_only_with_debug(capsys: pytest.CaptureFixture[str]) -> None:
    console = Console()
    console.configure(quiet=False, debug=True)
    log = console.debug_log()
    assert log is not None
    log("response header: x-evil: \x1b[2J")
    assert capsys.readouterr().err == "debug: response header: x-evil: \\x1b[2J\n"


def test_every_line_of_a_traceback_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    redact.forget_all()
    redact.remember(KEY)
    try:
        Console().traceback(f"Traceback:\n  File x\nRuntimeError: {KEY}\n")
    finally:
        redact.forget_all()
    err = capsys.readouterr().err
    assert err == "Traceback:\n  File x\nRuntimeError: [redacted]\n"
