"""Keep the API key out of everything printed, whichever source it came from.

Every place that learns a key (the CLI boundary from argv and the environment,
settings.py from the config file) registers it here; the boundary passes every
error line and every --debug traceback through `redact` before printing.
"""

from __future__ import annotations

from collections.abc import Sequence

MASK = "[redacted]"
# Real keys are long; masking a one- or two-letter test value would mangle every
# word of an error line that happens to contain it, and hide nothing worth hiding.
MIN_LENGTH = 6
_secrets: set[str] = set()


def forget_all() -> None:
    """Start a run with nothing registered (runs in one process, as in tests, stay apart)."""
    _secrets.clear()


def remember(secret: str | None) -> None:
    """Treat `secret` as something never to print (blank and very short values are ignored)."""
    if secret and len(secret.strip()) >= MIN_LENGTH:
        _secrets.add(secret.strip())


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
        text = text.replace(secret, MASK)
    return text
