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
    # The id whole (it is copied); name, language and gender cut at a cap, so no column
    # is ever squeezed out; the description gets what is left, or is left out.
    caps = (None, NAME_WIDTH, 8, 14)
    widths = [
        min(cap or 10**6, max([len(name), *(len(row[i]) for row in rows)]))
        for i, (name, cap) in enumerate(zip(COLUMNS, caps, strict=False))
    ]
    others = widths[0] + widths[2] + widths[3] + 2 * 3
    widths[1] = max(8, min(widths[1], console.width - others - 1))  # a narrow terminal
    room = console.width - sum(widths) - 2 * (len(widths) - 1) - 2
    shown = COLUMNS if room >= MIN_DESCRIPTION else COLUMNS[:-1]
    table = Table(*shown, box=None, pad_edge=False)
    for column, width in zip(table.columns, widths, strict=False):
        column.no_wrap, column.overflow = True, "ellipsis"
        column.min_width = column.max_width = width
    if len(shown) == len(COLUMNS):
        last = table.columns[-1]
        last.no_wrap, last.overflow, last.max_width = True, "ellipsis", room
    for row in rows:
        table.add_row(*(Text(cell) for cell in row[: len(shown)]))
    console.print(table)


NAME_WIDTH = 24
MIN_DESCRIPTION = 12  # columns: a description narrower than this is left out
