"""What a failed change to the account says: voices and dictionaries made, changed, deleted.

A request that creates (or changes) something and whose answer was lost may
have been acted on all the same: the error line says so and names the command
that shows whether it was. Deleting a list goes one by one; a failure says which
ones went, which one may have gone, and which surely did not, and --json still
tells a script what was deleted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from cartesia_cli import errors
from cartesia_cli.errors import CliError, ServerError, StreamError
from cartesia_cli.ui.error_line import HINTS, joined

T = TypeVar("T")


@contextlib.contextmanager
def may_have_happened(what: str, look: str) -> Iterator[None]:
    """A request whose answer was lost may have been acted on: "`what` all the same"."""
    try:
        yield
    except CliError as exc:
        if reached_server(exc):
            exc.hint = with_notes(exc, f"{what} all the same: check with `{look}`")
        raise


def creating(noun: str, look: str) -> contextlib.AbstractContextManager[None]:
    """A creating request: "the voice may have been made all the same: check with `look`"."""
    return may_have_happened(f"the {noun} may have been made", look)


def delete_each(
    doomed: Sequence[T],
    delete: Callable[[T], None],
    *,
    shown: Callable[[T], str],
    look: Callable[[T], str],
    report: Callable[[list[T]], None] | None = None,
) -> list[T]:
    """Delete `doomed` in order with `delete`; the ones deleted, also to `report` (--json),
    which is called even when one fails, since the ones before it are gone."""
    deleted: list[T] = []
    try:
        for index, one in enumerate(doomed):
            try:
                delete(one)
            except CliError as exc:
                notes = []
                if reached_server(exc):
                    notes.append(f"{shown(one)} may have been deleted: check with `{look(one)}`")
                after = doomed[index + 1 :]
                if after:
                    notes.append("not deleted: " + ", ".join(shown(a) for a in after))
                exc.hint = with_notes(exc, *notes)
                raise
            deleted.append(one)
    finally:
        if report is not None:
            report(deleted)
    return deleted


def reached_server(exc: CliError) -> bool:
    """Whether the failed request may have been acted on: a 5xx, or a connection lost
    (or an answer unreadable) after it was sent; not a refused or unmade connection."""
    if isinstance(exc, ServerError):
        return True
    if not isinstance(exc, StreamError):
        return False  # a 4xx: refused, nothing done
    not_sent = exc.kind in (errors.CONNECT_TIMEOUT, errors.TLS_SETUP)
    return not (not_sent or exc.message.startswith("could not connect"))


def with_notes(exc: CliError, *notes: str) -> str:
    """The failure's own hint (it names a flag), then `notes`."""
    return joined(exc.hint or HINTS.get(exc.kind or ""), *notes)
