"""`narrate`'s records: what the command was given, and the plan every later step reads.

Kept apart from the plan's making (narrate_plan.py) so that the manifest, the
chapters' run and the summary read them without importing one another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any, NamedTuple

from cartesia_cli.input.book import Book, Paragraph
from cartesia_cli.jobs.cast import Cast
from cartesia_cli.settings import spec
from cartesia_cli.settings.resolve import Settings

STDIN = "-"
NARRATOR = "narrator"  # the voicing of every word no speaker says


class Manifest(NamedTuple):
    """What a manifest found in DIR says, once checked."""

    input: str
    title: str
    structure: str
    names: dict[str, str]  # "voices:name" -> the id it stood for
    sizes: dict[str, int]  # part key -> its size, for the paragraphs it lists as done
    built: dict[str, str]  # a file it says was made -> the fingerprint of its recipe


class NarrateOptions(NamedTuple):
    """What the command was given, parsed by typer; settings' raw values in `given`."""

    input: str
    output: str | None
    cast: str | None
    chapter_pattern: str | None
    paragraph_pause: float
    chapter_pause: float
    estimate: bool
    max_credits: int | None
    concurrency: int
    format: str
    json: bool
    quiet: bool
    debug: bool
    given: spec.Given


class Voicing(NamedTuple):
    """How one voicing speaks: the voice as given and as an id, and the request's fields."""

    name: str  # NARRATOR, or the speaker's name as the cast writes it
    voice: str  # as given
    voice_id: str | None  # None: a name not known without a request (an estimate only)
    fields: dict[str, Any]  # the request body but transcript (and context, continue, flush)
    settings: Settings


class Part(NamedTuple):
    """One paragraph of the book, and the part that holds (or will hold) its audio."""

    chapter: int  # 0-based
    number: int  # 0-based, in its chapter
    paragraph: Paragraph
    voicing: str
    key: str | None  # None: its voice is not known yet (an estimate only)


class NarratePlan(NamedTuple):
    options: NarrateOptions
    book: Book
    cast: Cast | None
    folder: Path
    format: str
    ffmpeg: str | None
    settings: Settings
    sample_rate: int
    voicings: Mapping[str, Voicing]
    chapters: Sequence[Sequence[Part]]
    present: Mapping[str, int]  # part key -> its size, for the parts already in DIR
    old: Manifest | None  # the manifest found in DIR
    structure: str  # the book's structure hash

    def missing(self) -> list[list[Part]]:
        """Per chapter, the parts not in DIR: what a run says."""
        return [[p for p in parts if p.key not in self.present] for parts in self.chapters]

    @property
    def bytes_per_second(self) -> int:
        return 2 * self.sample_rate  # pcm_s16le, mono


def input_name(name: str) -> str:
    return "stdin" if name == STDIN else PurePath(name).name
