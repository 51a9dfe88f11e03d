"""`narrate`'s cast: who speaks with which voice, from `--cast FILE` or a Markdown front matter.

    narrator = "VOICE"        # optional: the voice for everything no speaker says
    [speakers.ALICE]
    voice = "VOICE"           # required
    emotion = "excited"       # optional: emotion, speed, volume, language, locale

A voice is kept as written, an id or a name, and resolved later as `--voice` is.
The other values are checked by the parsers of the settings they stand for
(settings/spec.py), so a cast refuses what the flag refuses, in the same words.
Unknown keys are refused (a misspelt `emotoin` would silently do nothing), and so
is a speaker name no script line could write as a label. TOML syntax errors name
the file, line and column.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cartesia_cli.errors import UsageError
from cartesia_cli.input.speakers import NAME_LIMIT, Speakers, valid_name
from cartesia_cli.settings import spec

MAX_CAST_BYTES = 1024 * 1024
TOP_KEYS = ("narrator", "speakers")
# A speaker's keys besides `voice`, and the setting whose parser checks each.
SPEAKER_SETTINGS: Mapping[str, spec.Setting[object]] = {
    "emotion": spec.EMOTION,
    "speed": spec.SPEED,
    "volume": spec.VOLUME,
    "language": spec.LANGUAGE,
    "locale": spec.LOCALE,
}
SPEAKER_KEYS = ("voice", *SPEAKER_SETTINGS)
_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


@dataclass(frozen=True)
class Voicing:
    """How one speaker is voiced: the voice as given, and the settings that differ."""

    voice: str
    settings: Mapping[str, object]  # setting name ("speed") -> parsed value


@dataclass(frozen=True)
class Cast:
    source: str  # the cast file, or the Markdown file whose front matter it is
    narrator: str | None  # a voice as given; None: --voice
    speakers: Mapping[str, Voicing]  # by name, as the cast writes it

    def names(self) -> Speakers:
        return Speakers(self.speakers)


def read_cast_file(path: Path) -> Cast:
    """`--cast FILE`: read, parsed and checked, or one clear line."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CAST_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"--cast {path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_CAST_BYTES:
        raise UsageError(f"--cast {path} is larger than a cast can be (1 MiB)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"--cast {path} is not UTF-8 text (byte {exc.start})") from None
    return parse_cast(text, str(path))


def parse_cast(text: str, source: str, first_line: int = 1) -> Cast:
    """The cast in TOML `text`; `first_line` is where that text starts in `source`."""
    return _checked(_toml(text, source, first_line), source)


def _toml(text: str, source: str, first_line: int) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _POSITION.search(message)
        if position is None:  # "at end of document" and the like
            raise UsageError(f"{source}: the cast is not valid TOML: {message}") from None
        line = int(position[1]) + first_line - 1
        reason = message[: position.start()].strip()
        raise UsageError(f"{source}:{line}:{position[2]}: {reason}") from None
    except RecursionError:  # tomllib recurses once per level of `[[[[...`
        raise UsageError(f"{source}: the cast nests too deep to be a cast") from None


def _checked(data: dict[str, Any], source: str) -> Cast:
    _known_keys(data, TOP_KEYS, source, "the cast")
    narrator = data.get("narrator")
    if narrator is not None:
        narrator = _voice(narrator, f"{source}: narrator")
    speakers = data.get("speakers", {})
    if not isinstance(speakers, dict):
        raise UsageError(f"{source}: speakers must be tables, one per speaker ([speakers.NAME])")
    seen: dict[str, str] = {}
    voicings = {}
    for name, table in speakers.items():
        where = f"{source}: [speakers.{_quoted(name)}]"
        if not valid_name(name):
            raise UsageError(
                f"{where}: a speaker's name starts with a letter and has at most {NAME_LIMIT}"
                " letters, digits, spaces, dots, dashes and apostrophes, as a script's label"
            )
        twin = seen.setdefault(" ".join(name.split()).casefold(), name)
        if twin != name:
            raise UsageError(f"{where}: the cast names it twice ({twin}); letter case is ignored")
        voicings[name] = _voicing(table, where)
    return Cast(source, narrator, MappingProxyType(voicings))


def _voicing(table: object, where: str) -> Voicing:
    if not isinstance(table, dict):
        raise UsageError(f'{where} must be a table with at least voice = "VOICE"')
    _known_keys(table, SPEAKER_KEYS, where, "a speaker")
    if "voice" not in table:
        raise UsageError(f'{where} has no voice; add voice = "VOICE" (an id or a name)')
    settings = {}
    for key, setting in SPEAKER_SETTINGS.items():
        if key in table:
            settings[key] = setting.parse(_raw(table[key], f"{where} {key}"), f"{where} {key}")
    if "language" in settings and "locale" in settings:
        raise UsageError(
            f"{where}: language and locale cannot be combined; a locale names the language"
        )
    return Voicing(_voice(table["voice"], f"{where} voice"), MappingProxyType(settings))


def _known_keys(table: dict[str, Any], keys: tuple[str, ...], where: str, what: str) -> None:
    unknown = [key for key in table if key not in keys]
    if unknown:
        raise UsageError(
            f"{where}: {what} has no key {unknown[0]!r}; the keys are {', '.join(keys)}"
        )


def _voice(value: object, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{label} must be a voice: an id or a name, in quotes")
    return value.strip()


def _raw(value: object, label: str) -> str:
    """A TOML value as the text a flag would have given: numbers and strings only."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise UsageError(f"{label} must be a string or a number, got {value!r}")
    return str(value)


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'
