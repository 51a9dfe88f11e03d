"""The voices commands' glue: settings, one client for every page, the name cache, the output.

Same settings, errors and exit codes as the TTS jobs; the listing goes to
stdout (the answer), every line for people through the console.
"""

from __future__ import annotations

import json
import os
from typing import NamedTuple

from cartesia_cli.api import voices
from cartesia_cli.api.protocol import VOICES_PATH
from cartesia_cli.errors import UsageError
from cartesia_cli.jobs import names
from cartesia_cli.jobs.context import api_config, config_file, load_config
from cartesia_cli.output.sinks import write_stdout
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings, insecure_url_warning, resolve
from cartesia_cli.settings.spec import Given
from cartesia_cli.ui import voices_view
from cartesia_cli.ui.console import console, isatty


class Filters(NamedTuple):
    query: str | None
    gender: str | None
    language: str | None
    limit: int | None

    @property
    def narrows(self) -> bool:
        """Whether the listing may leave voices out (then the cache is added to, not replaced)."""
        return any(value is not None for value in self)


def list_voices(
    given: Given, filters: Filters, *, as_json: bool, debug: bool
) -> list[voices.Voice]:
    """List the voices, show them, and return them (for `--try`)."""
    from cartesia_cli.api.client import CartesiaClient

    settings = _settings(given, debug)
    params = voices.query(
        text=filters.query,
        gender=filters.gender,
        language=filters.language,
        limit=filters.limit,
        api_version=settings[spec.API_VERSION],
    )
    language = filters.language
    listing = voices.Listing()
    with CartesiaClient(api_config(settings), debug=console.debug_log()) as client:
        found = list(
            voices.every_voice(
                lambda page: client.get_json(VOICES_PATH, page),
                params,
                limit=filters.limit,
                warn=console.warning,
                listing=listing,
                keep=(lambda voice: voices.speaks(voice, language)) if language else lambda _: True,
            )
        )
    # Only a whole, unfiltered listing may drop voices from the cache.
    complete = listing.complete and not filters.narrows
    names.remember(names.VOICE, settings[spec.BASE_URL], found, complete=complete)
    _show(found, as_json=as_json, one=False)
    return found


def get_voice(given: Given, wanted: str, *, as_json: bool, debug: bool) -> None:
    """One voice, by its id or its name (the cache first, else one listing)."""
    from cartesia_cli.api.client import CartesiaClient

    if wanted.strip() in ("", ".", ".."):
        raise UsageError(f"not a voice id or name: {wanted!r}")
    settings = _settings(given, debug)
    api = api_config(settings)
    named = names.Resolver(api, cache_only=False).named(names.VOICE, wanted)
    path = voices.path(named.id)
    with CartesiaClient(api, debug=console.debug_log()) as client:
        voice = voices.check_voice(client.get_json(path))  # a stale cached name: cli.py says
    names.remember(names.VOICE, api.base_url, [voice], complete=False)
    _show([voice], as_json=as_json, one=True)


def _settings(given: Given, debug: bool) -> Settings:
    console.configure(quiet=False, debug=debug)
    settings = resolve(given, os.environ, load_config(config_file()))
    warning = insecure_url_warning(settings[spec.BASE_URL])
    if warning:
        console.warning(warning)
    return settings


def _show(found: list[voices.Voice], *, as_json: bool, one: bool) -> None:
    if as_json:
        write_stdout(json.dumps(found[0] if one else found, ensure_ascii=True, allow_nan=False))
        return
    rows = [[voices.field(v, column) for column in voices_view.COLUMNS] for v in found]
    voices_view.show(rows, terminal=isatty(1))
