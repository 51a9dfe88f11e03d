"""Asking before something is destroyed: a question on a terminal, `--yes` everywhere else.

Not on a terminal (a script, CI, a pipe), nothing can answer, so a deletion
without `--yes` is refused as a usage error before any request. On a terminal,
the question names what goes and anything but "y" or "yes" keeps it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cartesia_cli.errors import UsageError
from cartesia_cli.ui.console import console, isatty


def may_delete(what: Sequence[str], *, yes: bool, flag: str = "--yes") -> bool:
    """Whether `what` (one line each, for people) may be deleted: False when the user says no.

    A UsageError when not on a terminal and `yes` is not given. A "no" (or the
    end of the input) is the user's choice, not a failure: the caller says that
    nothing was deleted and exits 0, as `rm -i` does.
    """
    if yes:
        return True
    if not (isatty(0) and console.is_terminal()):
        raise UsageError(f"deleting needs {flag} when not on a terminal (nothing was deleted)")
    for line in what:
        console.note(f"  {line}")
    console.note(f"Delete {_count(what)}? [y/N]")
    answer = sys.stdin.readline(64)
    return answer.strip().lower() in ("y", "yes")


def _count(what: Sequence[str]) -> str:
    return "this" if len(what) == 1 else f"these {len(what)}"
