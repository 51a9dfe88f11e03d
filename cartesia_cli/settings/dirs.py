"""Where the CLI keeps what it can make again: the user's cache directory.

The operating system's convention, as platformdirs knows it (XDG_CACHE_HOME or
~/.cache on Linux, ~/Library/Caches on macOS, the local app data folder on
Windows), or $CARTESIA_CLI_CACHE_DIR when set (tests, and users who want it
elsewhere). platformdirs is imported only when a cache is used: --help,
--version and completion never load it.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "CARTESIA_CLI_CACHE_DIR"
APP_NAME = "cartesia-cli"


def cache_dir() -> Path:
    """$CARTESIA_CLI_CACHE_DIR, else the platform's user cache directory for cartesia-cli."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
