"""Where `config.toml` lives, without typer: launch.py reads it before the CLI is imported.

The same folder typer's `get_app_dir` gives (tests/test_config.py holds the two
together): the platform's per-user config folder, unless $CARTESIA_CLI_CONFIG_DIR
names another.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

APP_NAME = "cartesia-cli"
CONFIG_DIR_ENV = "CARTESIA_CLI_CONFIG_DIR"
FILE_NAME = "config.toml"


def app_dir(env: Mapping[str, str] = os.environ) -> str:
    """The platform's per-user config folder for this program."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return os.path.join(env.get("APPDATA") or os.path.expanduser("~"), APP_NAME)
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        return os.path.join(os.path.expanduser("~/Library/Application Support"), APP_NAME)
    home = env.get("XDG_CONFIG_HOME", os.path.expanduser("~/.config"))
    return os.path.join(home, APP_NAME)


def config_file(env: Mapping[str, str] = os.environ) -> str:
    """`$CARTESIA_CLI_CONFIG_DIR/config.toml`, else `config.toml` in the app folder."""
    return os.path.join(env.get(CONFIG_DIR_ENV) or app_dir(env), FILE_NAME)
