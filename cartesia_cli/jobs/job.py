"""A TTS job's record: which command (its endpoint's row) and the options it was given.

Small and import-free but for the endpoint table: options.py builds
`JobOptions` on every run, --help included.
"""

from __future__ import annotations

from typing import NamedTuple

from cartesia_cli.endpoints import TtsEndpoint
from cartesia_cli.settings.spec import Given


class JobOptions(NamedTuple):
    """What every job command takes: the text, where the audio goes, how loud the run is."""

    transcript_arg: str | None
    transcript: str | None
    output: str | None
    force: bool
    play: bool  # feed ffplay as the audio arrives (always, for say)
    timestamps: str | None  # --timestamps PATH: .srt, .vtt, .json or -
    words_per_cue: int | None
    json: bool  # --json: the result as one JSON object
    dry_run: bool  # --dry-run: show the request, send nothing
    quiet: bool
    debug: bool
    given: Given  # each setting's flag value, by setting name


class TtsJob(NamedTuple):
    """A TTS command's parsed options."""

    endpoint: TtsEndpoint  # the command: its endpoint, file prefix, name in hints and --json
    options: JobOptions
    buffer_ms: int = 0  # tts ws: max_buffer_delay_ms

    @property
    def command(self) -> str:
        return self.endpoint.command
