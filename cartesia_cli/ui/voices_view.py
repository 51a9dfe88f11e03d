"""Voices as a listing on stdout: a table on a terminal, tab-separated lines otherwise.

The listing is what the user asked for, so it goes to stdout (`voices list |
cut -f1` works), but its text comes from the server: every cell has its
control characters escaped, as on stderr, and a table cell is plain text
(rich markup in a voice's name is shown, not obeyed).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.ui.console import sanitize

COLUMNS = ("id", "name", "language", "gender", "description")
Row = Sequence[str]


def show(rows: Sequence[Row], *, terminal: bool) -> None:
    cells = [[sanitize(cell) for cell in row] for row in rows]
    if terminal:
        _table(cells)
    else:
        write_stdout("\n".join("\t".join(row) for row in [list(COLUMNS), *cells]))


def _table(rows: Sequence[Row]) -> None:
    from rich.console import Console  # ~40 ms: only for a terminal
    from rich.table import Table
    from rich.text import Text

    console = Console(file=sys.stdout)
    table = Table(*COLUMNS, box=None, pad_edge=False)
    widths = [max([len(name), *(len(row[i]) for row in rows)]) for i, name in enumerate(COLUMNS)]
    for column, width in zip(table.columns[:-1], widths, strict=False):
        column.no_wrap, column.min_width = True, width  # shown whole: an id is copied
    # The description is cut to what the terminal has left: one line per voice.
    last = table.columns[-1]
    last.no_wrap, last.overflow = True, "ellipsis"
    last.max_width = max(12, console.width - sum(widths[:-1]) - 2 * (len(COLUMNS) - 1))
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
