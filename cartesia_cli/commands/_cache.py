"""`cache info` and `cache clear` below their options: the figures, for people or as JSON."""

from __future__ import annotations

import json
import os

from cartesia_cli.errors import OutputError
from cartesia_cli.jobs import caching
from cartesia_cli.jobs.context import config_file, load_config
from cartesia_cli.output.audio_cache import AudioCache
from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import resolve
from cartesia_cli.ui.console import console, safe


def here() -> AudioCache:
    """The user's audio cache, with the cap the config file (or the default) gives it."""
    settings = resolve({}, os.environ, load_config(config_file()), key_required=False)
    return caching.cache_here(settings[spec.CACHE_MAX_MB])


def info(*, as_json: bool) -> None:
    cache = here()
    usage = cache.usage()
    if as_json:
        _json(
            location=str(cache.folder),
            entries=usage.entries,
            bytes=usage.bytes,
            max_bytes=cache.max_bytes,
        )
        return
    lines = [
        f"location: {safe(str(cache.folder))}",
        f"entries: {usage.entries}",
        f"size: {megabytes(usage.bytes)} ({usage.bytes} bytes)",
        f"cap: {megabytes(cache.max_bytes)} (cache_max_mb)",
    ]
    write_stdout("\n".join(lines))


def clear(*, as_json: bool) -> None:
    cache = here()
    try:
        removed = cache.clear()
    except OSError as exc:
        raise OutputError(
            f"could not clear the audio cache {cache.folder}: {exc.strerror}"
        ) from None
    if as_json:
        _json(
            location=str(cache.folder), removed_entries=removed.entries, removed_bytes=removed.bytes
        )
        return
    if removed.entries == 0:
        console.info(f"the audio cache was empty: {cache.folder}")
        return
    entries = "entry" if removed.entries == 1 else "entries"
    console.info(
        f"removed {removed.entries} {entries} ({megabytes(removed.bytes)}) from {cache.folder}"
    )


def megabytes(size: int) -> str:
    """`1.2 MB`: sizes in MB, as the cap (cache_max_mb) is given."""
    return f"{size / caching.MB:.1f} MB"


def _json(**values: object) -> None:
    write_stdout(json.dumps(values, ensure_ascii=True))
