"""A container made here is a function of the PCM: the same request, the same file, byte for byte.

Without it a cache hit would not write the miss's bytes (the Ogg muxer draws its
stream serial at random unless told to be bit-exact).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from cartesia_cli.mock import FakeCartesia

from .conftest import RunCli


@pytest.mark.parametrize("suffix", ["ogg", "mp3", "flac"])
def test_the_same_request_makes_the_same_file(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path, suffix: str
) -> None:
    for name in ("one", "two"):
        made = cli("tts", "sse", "Same words, same file.", "-o", f"{name}.{suffix}")
        assert made.code == 0, made.stderr
    one, two = ((tmp_path / f"{name}.{suffix}").read_bytes() for name in ("one", "two"))
    assert len(one) > 1000 and one == two


def serials(data: bytes) -> list[int]:
    """Each Ogg page's stream serial, page after page (27-byte header, segment table, body)."""
    found, at = [], 0
    while at < len(data):
        assert data[at : at + 4] == b"OggS", f"no page at {at}"
        serial, segments = struct.unpack_from("<I", data, at + 14)[0], data[at + 26]
        found.append(serial)
        at += 27 + segments + sum(data[at + 27 : at + 27 + segments])
    return found


def test_an_ogg_has_one_fixed_stream_serial(
    cli: RunCli, fake: FakeCartesia, tmp_path: Path
) -> None:
    assert cli("tts", "sse", "Serial.", "-o", "a.ogg").code == 0
    found = serials((tmp_path / "a.ogg").read_bytes())
    assert len(found) > 2 and set(found) == {0}
