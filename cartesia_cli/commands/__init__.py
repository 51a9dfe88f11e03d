"""One module per command group (each defines a `typer.Typer` named `app`) or command (`say`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cartesia_cli.errors import CliError, ExitCode, Interrupted, OutputError, stop_word
from cartesia_cli.settings import location, spec, store
from cartesia_cli.ui.console import console

if TYPE_CHECKING:
    from cartesia_cli.api.contract import ApiConfig
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


def api_config(settings: Settings) -> ApiConfig:
    """Where and how to connect, from the resolved settings (httpx is imported here)."""
    from cartesia_cli.api.contract import ApiConfig

    return ApiConfig(
        base_url=settings[spec.BASE_URL],
        api_key=settings[spec.API_KEY],
        api_version=settings[spec.API_VERSION],
        connect_timeout=settings[spec.CONNECT_TIMEOUT],
        idle_timeout=settings[spec.IDLE_TIMEOUT],
        retries=settings[spec.RETRIES],
    )


def emit_result(text: str, to_stdout: bool) -> None:
    """A job's --json object: on stdout, or (audio there) as the last line on stderr.

    A reader that left raises BrokenPipeError (exit 141, by the caller). Any other
    failed write is a CliError: EIO is a terminal that went away (a hang-up, 129),
    the rest an output error (7); never a bug (1).
    """
    if not to_stdout:
        console.machine_line(text)
        return
    from cartesia_cli.output.sinks import write_stdout

    try:
        write_stdout(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise _stdout_failure(exc) from None


def _stdout_failure(exc: OSError) -> CliError:
    import errno

    if exc.errno == errno.EIO:
        return Interrupted(stop_word(ExitCode.HANGUP), ExitCode.HANGUP)
    return OutputError(f"could not write the --json object to stdout: {exc.strerror}")


def warn_if_exposed(path: Path, values: store.ConfigValues) -> None:
    for warning in store.exposure_warnings(path, values):
        console.warning(warning)
