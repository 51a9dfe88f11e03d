"""G.711 μ-law and A-law samples widened to 16-bit PCM, for players that cannot read them.

mpv and pw-play read no companded PCM, so a pipe into them carries s16le made
here, one table look-up per sample (each 8-bit code has one 16-bit value).
"""

from __future__ import annotations

from cartesia_cli.formats import Encoding


def _mulaw(code: int) -> int:
    code = ~code & 0xFF
    magnitude = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return (0x84 - magnitude) if code & 0x80 else (magnitude - 0x84)


def _alaw(code: int) -> int:
    code ^= 0x55
    exponent = (code & 0x70) >> 4
    value = (code & 0x0F) << 4
    value = value + 8 if exponent == 0 else (value + 0x108) << (exponent - 1)
    return value if code & 0x80 else -value


def _table(decode: object) -> tuple[bytes, ...]:
    assert callable(decode)
    return tuple(int(decode(code)).to_bytes(2, "little", signed=True) for code in range(256))


_TABLES = {Encoding.PCM_MULAW: _table(_mulaw), Encoding.PCM_ALAW: _table(_alaw)}


def widen(encoding: Encoding, data: bytes) -> bytes:
    """`data` (μ-law or A-law codes) as little-endian 16-bit samples."""
    table = _TABLES[encoding]
    return b"".join(map(table.__getitem__, data))


def needs_widening(encoding: Encoding | None, fed: Encoding | None) -> bool:
    return encoding is not None and encoding != fed and encoding in _TABLES
