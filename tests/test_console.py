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


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_every_line_of_a_traceback_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    redact.forget_all()
    redact.remember(KEY)
    try:
        Console().traceback(_raised(RuntimeError(f"key {KEY}")))
    finally:
        redact.forget_all()
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n  File ")
    assert err.endswith("RuntimeError: key [redacted]\n") and KEY not in err


def test_a_message_with_newlines_is_one_line_of_the_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hostile = 'bad\nTraceback (most recent call last):\n  File "forged"\x1b[2J'
    try:
        try:
            raise ValueError(hostile)
        except ValueError as first:
            raise RuntimeError("then\r\nthis") from first
    except RuntimeError as second:
        Console().traceback(second)
    lines = capsys.readouterr().err.splitlines()
    assert lines.count("Traceback (most recent call last):") == 2
    forged = 'ValueError: bad\\x0aTraceback (most recent call last):\\x0a  File "forged"\\x1b[2J'
    assert forged in lines
    assert lines[-1] == "RuntimeError: then\\x0d\\x0athis"
    assert "The above exception was the direct cause of the following exception:" in lines
    assert not any("\x1b" in line for line in lines)


KEPT_MODES = ["\t", "\t\n", ""]
BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
# What must never reach a terminal: C0 and C1 controls, DEL, bidirectional overrides and
# isolates, line and paragraph separators, lone surrogates.
UNSAFE = CONTROL | {"\t", "\x7f", "\u2028", "\u2029"} | BIDI
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()))


@given(any_text, st.sampled_from(KEPT_MODES))
@settings(max_examples=300)
def test_sanitized_text_keeps_only_the_controls_asked_for(text: str, keep: str) -> None:
    cleaned = sanitize(text, keep=keep)
    assert not (UNSAFE - set(keep)) & set(cleaned)
    assert not any(0xD800 <= ord(char) <= 0xDFFF for char in cleaned)
    cleaned.encode("utf-8")  # strict: every character is encodable
    if "\n" not in keep:
        assert len(cleaned.splitlines()) <= 1  # one line, by any of Python's line breaks
    else:
        assert cleaned.count("\n") == text.count("\n")
    if not (UNSAFE - set(keep)) & set(text) and not any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        assert cleaned == text  # safe text passes through unchanged


def test_only_tab_and_newline_can_be_kept() -> None:
    with pytest.raises(ValueError, match="only a tab and a newline"):
        sanitize("x", keep="\x1b")
