"""The four raw encodings Cartesia streams: float samples in [-1, 1] to their bytes.

What is said is built in speech.py; G.711 (mu-law, A-law) is encoded here by hand,
checked against ffmpeg in the tests.
"""

from __future__ import annotations

import struct

BYTES_PER_SAMPLE = {"pcm_f32le": 4, "pcm_s16le": 2, "pcm_mulaw": 1, "pcm_alaw": 1}


def encode(samples: list[float], encoding: str) -> bytes:
    """Encode float samples in [-1, 1] as raw little-endian PCM / G.711."""
    if encoding == "pcm_f32le":
        return struct.pack(f"<{len(samples)}f", *samples)
    linear = [_to_int16(x) for x in samples]
    if encoding == "pcm_s16le":
        return struct.pack(f"<{len(linear)}h", *linear)
    if encoding == "pcm_mulaw":
        return bytes(mulaw_byte(x) for x in linear)
    if encoding == "pcm_alaw":
        return bytes(alaw_byte(x) for x in linear)
    raise ValueError(f"unknown encoding {encoding!r}")


def _to_int16(x: float) -> int:
    return max(-32768, min(32767, round(x * 32767)))


def mulaw_byte(sample: int) -> int:
    """G.711 mu-law encoding of one 16-bit linear sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), clip) + bias
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def alaw_byte(sample: int) -> int:
    """G.711 A-law encoding of one 16-bit linear sample."""
    sign = 0x80 if sample >= 0 else 0
    magnitude = min(abs(sample) if sample >= 0 else -sample - 1, 32767) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (sign | code) ^ 0x55
