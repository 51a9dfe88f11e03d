"""One module per command group; each defines a `typer.Typer` named `app`."""

from __future__ import annotations

from pathlib import Path

import typer

from cartesia_cli.settings.store import config_path

APP_NAME = "cartesia-cli"


def config_file() -> Path:
    """Where `config.toml` lives: $CARTESIA_CLI_CONFIG_DIR, else typer's app dir."""
    return config_path(Path(typer.get_app_dir(APP_NAME)))
