"""Review of issue 22 (review22): failing tests that prove defects. Each test states the
guarantee it checks; none of them is expected to pass on cb392f3."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.settings import name_cache

from .conftest import RunCli
from .test_voice_admin import wav_clip

KATIE = "f786b574-daa5-4673-aa0c-cbe3e8534c02"  # the fake's library Katie


# 1. Two voices named alike must give exit 2 listing both, whatever the cache holds.
def test_a_clone_named_like_a_library_voice_makes_the_name_ambiguous(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_clip())
    made = cli("voices", "clone", str(clip), "--name", "Katie", "--language", "en")
    assert made.code == 0, made.stderr
    # The fake now holds two voices named Katie; the cache only the one just made.
    result = cli("tts", "sse", "hi", "--voice", "katie", "-o", "out.pcm")
    assert result.code == 2, (result.code, result.stderr)
    assert KATIE in result.stderr and made.stdout.decode().strip() in result.stderr


# 2. A name typed in NFD (macOS input, copied file names) names the NFC voice.
def test_a_name_in_nfd_finds_the_voice_named_in_nfc(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    clip = tmp_path / "me.wav"
    clip.write_bytes(wav_clip())
    nfc = unicodedata.normalize("NFC", "Zoé Test")
    assert cli("voices", "clone", str(clip), "--name", nfc, "--language", "fr").code == 0
    (tmp_path / "cache" / "names.json").unlink()  # resolved by the listing, not the cache
    nfd = unicodedata.normalize("NFD", nfc)
    result = cli("tts", "sse", "hi", "--voice", nfd, "-o", "out.pcm")
    # today: "no voice named 'Zoé Test'; did you mean 'Zoé Test'?"
    assert result.code == 0, result.stderr


# 5. "An id never becomes a path of its own": ids `.` and `..` (kept by the name cache,
#    as any server listing may send them) must not turn into the collection or the root.
def test_an_id_of_dots_never_reaches_another_path(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    name_cache.remember(name_cache.DICTIONARIES, fake.url, [(".", "Dot")], complete=False,
                        path=tmp_path / "cache" / "names.json")  # fmt: skip
    name_cache.remember(name_cache.VOICES, fake.url, [("..", "Dots")], complete=False,
                        path=tmp_path / "cache" / "names.json")  # fmt: skip
    (tmp_path / "w.toml").write_text('[words]\nx = "y"\n')
    cli("dicts", "update", "Dot", "w.toml")
    cli("voices", "update", "Dots", "--name", "x")
    paths = [(r.method, r.path) for r in fake.requests]
    assert ("PATCH", "/pronunciation-dicts") not in paths, paths
    assert not any(method == "PATCH" and path == "/" for method, path in paths), paths
