"""`python -m cartesia_cli.mock`: the same as `cartesia-cli mock`, with the same options.

The one module of the fake that imports the CLI: it is a program entry, not
part of the server library, which stays standard-library only.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from cartesia_cli.launch import main as launch

    sys.argv = [sys.argv[0], "mock", *(sys.argv[1:] if argv is None else argv)]
    launch()  # exits
    return 0


if __name__ == "__main__":
    sys.exit(main())
