"""FLAC made here from the PCM streamed: lossless, 16-bit from s16le/mu-law/A-law, 24 from f32le.

A streamed FLAC's STREAMINFO says "length unknown" (the encoder cannot seek
back into a pipe), and players then cannot show its duration. As a WAV's
sizes are, the total of samples is written into it afterwards where the file
can be patched; its MD5 stays zero, which the format reads as "not computed".
"""

from __future__ import annotations

from cartesia_cli.formats import Container, OutputFormat
from cartesia_cli.output.codec import Codec
from cartesia_cli.output.sinks import Sink

# `fLaC`, then the STREAMINFO block's 4-byte header; its bytes 10-17 end in the
# 36-bit total of samples (after rate, channels and bits per sample).
TOTAL_AT = 4 + 4 + 10
TOTAL_BITS = (1 << 36) - 1


def options(audio: OutputFormat) -> list[str]:
    return ["-c:a", "flac", "-f", "flac"]


def with_total(head: bytes, samples: int) -> bytes | None:
    """STREAMINFO's 8 bytes that end in the total of samples, set to `samples`; None if no FLAC.

    The first metadata block of a FLAC stream is always STREAMINFO (type 0).
    """
    if len(head) < TOTAL_AT + 8 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return None
    packed = int.from_bytes(head[TOTAL_AT : TOTAL_AT + 8], "big")
    packed = (packed & ~TOTAL_BITS) | min(samples, TOTAL_BITS)
    return packed.to_bytes(8, "big")


def fix_header(sink: Sink, samples: int) -> None:
    patched = with_total(sink.head, samples)
    if patched is not None:
        sink.rewrite(TOTAL_AT, patched)


CODEC = Codec(Container.FLAC, options, fix_header)
