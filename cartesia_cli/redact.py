"""Keep the API key out of everything printed, whichever source it came from.

Every place that learns a key (the CLI boundary from argv and the environment,
settings/spec.py from the config file) registers it here; ui/console.py passes
every line it writes through `redact` before anything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MASK = "[redacted]"
# A key this long is masked wherever it appears. A shorter one (a test value, a
# typo) is masked only as a whole token: masking every "k" inside other words
# would mangle the line and hide nothing.
WHOLE_TEXT_LENGTH = 6
_secrets: set[str] = set()


def forget_all() -> None:
    """Start a run with nothing registered (runs in one process, as in tests, stay apart)."""
    _secrets.clear()


def remember(secret: str | None) -> None:
    """Treat `secret`, and the escaped forms repr() and JSON give it, as never to print."""
    if not secret or not secret.strip():
        return
    value = secret.strip()
    _secrets.add(value)
    _secrets.add(value.replace("\\", "\\\\"))  # how repr() and JSON show a backslash


def remember_from_argv(argv: Sequence[str]) -> None:
    """Keys given as `--api-key KEY` or `--api-key=KEY`, before any parsing can fail."""
    for index, arg in enumerate(argv):
        if arg.startswith("--api-key="):
            remember(arg.partition("=")[2])
        elif arg == "--api-key" and index + 1 < len(argv):
            remember(argv[index + 1])


def redact(text: str) -> str:
    # Longest first, so a key that contains another registered value is masked whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if len(secret) >= WHOLE_TEXT_LENGTH:
            text = text.replace(secret, MASK)
        elif secret in text:
            text = _token(secret).sub(MASK, text)
    return text


def _token(secret: str) -> re.Pattern[str]:
    """`secret` standing alone: not inside a longer run of key-like characters."""
    return re.compile(rf"(?<![\w-]){re.escape(secret)}(?![\w-])")
