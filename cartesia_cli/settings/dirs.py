"""Where the CLI keeps what it can make again: the user's cache directory.

One rule for every cache (the audio cache, the name cache): $CARTESIA_CLI_CACHE_DIR
when set (tests, and users who want it elsewhere), else the operating system's
convention as platformdirs knows it: XDG_CACHE_HOME or ~/.cache on Linux,
~/Library/Caches on macOS, the local app data folder on Windows.

Linux's rule is the XDG Base Directory one (an absolute XDG_CACHE_HOME, else
~/.cache), written out here as platformdirs applies it (a test holds the two
equal): shell completion reads the name cache on every Tab press, and
platformdirs' import (tempfile, random) would cost it more than the rest of
the lookup. Elsewhere platformdirs is imported, only when a cache is used.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_DIR_ENV = "CARTESIA_CLI_CACHE_DIR"
APP_NAME = "cartesia-cli"


def cache_dir() -> Path:
    """$CARTESIA_CLI_CACHE_DIR, else the platform's user cache directory for cartesia-cli."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override)
    if sys.platform.startswith("linux") and not hasattr(sys, "getandroidapilevel"):
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"  # relative: ignored
        return base / APP_NAME
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
