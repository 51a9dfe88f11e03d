"""RIFF/WAVE headers for raw PCM streamed by the API, written locally.

Layout: `RIFF size WAVE`, a `fmt ` chunk, a `fact` chunk for the formats that
are not plain PCM (IEEE float, mu-law, A-law need one), then `data`. The sizes
are unknown while streaming, so the header first carries 0xFFFFFFFF in the RIFF
and data sizes (what ffmpeg writes to a pipe, and what its demuxer and ffplay
read as "until the end") and 0 frames in `fact`; on a seekable file they are
patched to the real sizes on close, partial runs included. No I/O here: the
sink writes and patches.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from cartesia_cli.formats import Encoding

UNKNOWN = 0xFFFFFFFF  # a size not known yet: streaming
FORMAT_TAGS = {
    Encoding.PCM_S16LE: 0x0001,  # WAVE_FORMAT_PCM
    Encoding.PCM_F32LE: 0x0003,  # WAVE_FORMAT_IEEE_FLOAT
    Encoding.PCM_ALAW: 0x0006,  # WAVE_FORMAT_ALAW
    Encoding.PCM_MULAW: 0x0007,  # WAVE_FORMAT_MULAW
}


class Layout(NamedTuple):
    """Where a header's size fields are, for one encoding."""

    encoding: Encoding
    sample_rate: int

    @property
    def has_fact(self) -> bool:
        return FORMAT_TAGS[self.encoding] != 0x0001

    @property
    def header_size(self) -> int:
        return 12 + (8 + 18 + 12 if self.has_fact else 8 + 16) + 8

    @property
    def max_data(self) -> int:
        """Bytes of audio that fit: the RIFF size (file length - 8) must fit in 32 bits."""
        return UNKNOWN - (self.header_size - 8)

    def header(self, data_bytes: int | None = None) -> bytes:
        """The header for `data_bytes` of audio; None while the length is unknown."""
        encoding, rate = self.encoding, self.sample_rate
        width = encoding.bytes_per_sample
        fmt = struct.pack("<HHIIHH", FORMAT_TAGS[encoding], 1, rate, rate * width, width, width * 8)
        chunks = [b"fmt ", struct.pack("<I", len(fmt) + 2 * self.has_fact), fmt]
        if self.has_fact:
            chunks += [b"\0\0", b"fact", struct.pack("<II", 4, self._frames(data_bytes))]
        chunks += [b"data", struct.pack("<I", UNKNOWN if data_bytes is None else data_bytes)]
        body = b"".join(chunks)
        riff = UNKNOWN if data_bytes is None else 4 + len(body) + data_bytes
        return b"RIFF" + struct.pack("<I", riff) + b"WAVE" + body

    def _frames(self, data_bytes: int | None) -> int:
        # Unknown frames are 0, not 0xFFFFFFFF: ffprobe took the latter as a length
        # (27 hours at 44.1 kHz); 0 reads as "not given", like the data size.
        return 0 if data_bytes is None else data_bytes // self.encoding.bytes_per_sample
