"""What every command that talks to the API starts from: the stored config and the connection.

Shared by the jobs and the voices commands; typer-free, so both layers can use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cartesia_cli.settings import location, spec, store
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.api_config import ApiConfig
    from cartesia_cli.settings.resolve import Settings


def config_file() -> Path:
    """Where `config.toml` lives: $CARTESIA_CLI_CONFIG_DIR, else the platform's app dir."""
    return Path(location.config_file())


def load_config(path: Path) -> store.ConfigValues:
    """The stored defaults, warning about each way other users could reach them."""
    values = store.load(path)
    if values:
        warn_if_exposed(path, values)
    return values


def warn_if_exposed(path: Path, values: store.ConfigValues) -> None:
    for warning in store.exposure_warnings(path, values):
        console.warning(warning)


def api_config(settings: Settings) -> ApiConfig:
    """Where and how to connect, from the resolved settings (no httpx: a cache hit needs none)."""
    from cartesia_cli.api.api_config import ApiConfig

    return ApiConfig(
        base_url=settings[spec.BASE_URL],
        api_key=settings[spec.API_KEY],
        api_version=settings[spec.API_VERSION],
        connect_timeout=settings[spec.CONNECT_TIMEOUT],
        idle_timeout=settings[spec.IDLE_TIMEOUT],
        retries=settings[spec.RETRIES],
    )
