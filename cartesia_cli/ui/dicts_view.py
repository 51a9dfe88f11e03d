"""Pronunciation dictionaries, and one dictionary's words, as a listing on stdout.

A table on a terminal, tab-separated lines (a header first) otherwise, as the
voices listing is. Every cell is the server's text: control characters are
shown escaped, and a cell is plain text (rich markup in a name is shown, not
obeyed); tabs and line breaks in a cell become spaces, so a row stays a row.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.ui.console import sanitize

LIST_COLUMNS = ("id", "name", "words", "created_at")
WORD_COLUMNS = ("text", "pronunciation", "case_sensitive")
Row = Sequence[str]


def show(columns: Sequence[str], rows: Sequence[Row], *, terminal: bool) -> None:
    cells = [[sanitize(" ".join(cell.split())) for cell in row] for row in rows]
    if terminal:
        _table(columns, cells)
    else:
        write_stdout("\n".join("\t".join(row) for row in [list(columns), *cells]))


def _table(columns: Sequence[str], rows: Sequence[Row]) -> None:
    from rich.console import Console  # ~40 ms: only for a terminal
    from rich.table import Table
    from rich.text import Text

    table = Table(*columns, box=None, pad_edge=False)
    for column in table.columns:
        column.no_wrap, column.overflow = True, "ellipsis"
    if columns and columns[0] == "id":  # an id is copied: never cut
        table.columns[0].min_width = max((len(row[0]) for row in rows), default=2)
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    Console(file=sys.stdout).print(table)
