"""docs/reference.md, made from the app itself: every command's `--help`, as a user sees it.

`python -m tests.reference_doc > docs/reference.md` writes it; tests/test_reference.py fails
when the file and the app differ, so the reference cannot drift from the code.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import typer

from cartesia_cli.cli import app
from cartesia_cli.ui.console import PROG

WIDTH = 100  # fixed, so the text does not depend on the terminal that made it

HEADER = """# Command reference

Every command's `--help`, generated from the app (`python -m tests.reference_doc >
docs/reference.md`; a test fails when this file and the app differ). The usage guide with
examples by task is [usage.md](usage.md); exit codes and failure behaviour are in
[behaviour.md](behaviour.md).

"""


# typer's commands are its vendored click's, whose module is private: typed loosely here.
def _commands(
    command: Any, path: list[str], parent: typer.Context | None
) -> Iterator[tuple[str, typer.Context]]:
    context = typer.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH)
    context.max_content_width = WIDTH
    yield " ".join(path), context
    if hasattr(command, "list_commands"):  # a group
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                yield from _commands(sub, [*path, name], context)


def render() -> str:
    """The whole page: one section per command, its help text as printed."""
    root = typer.main.get_command(app())
    sections = [HEADER]
    for name, context in _commands(root, [PROG], None):
        help_text = context.command.get_help(context).rstrip()
        sections.append(f"## `{name}`\n\n```text\n{help_text}\n```\n\n")
    return "".join(sections).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
