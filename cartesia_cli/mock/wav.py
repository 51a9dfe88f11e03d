"""The RIFF/WAVE header `/tts/bytes` writes before the samples (mono, real sizes).

pcm_s16le gets the plain 16-byte PCM `fmt ` chunk (format tag 1). The others are
non-PCM formats to RIFF, so they get an 18-byte WAVEFORMATEX (cbSize 0) and a
`fact` chunk holding the sample count: IEEE float (tag 3, 32 bits), A-law (tag 6)
and mu-law (tag 7), both 8 bits. Then the `data` chunk header.
"""

from __future__ import annotations

import struct

from cartesia_cli.mock.audio import BYTES_PER_SAMPLE

FORMAT_TAGS = {"pcm_s16le": 1, "pcm_f32le": 3, "pcm_alaw": 6, "pcm_mulaw": 7}


def wav_header(encoding: str, sample_rate: int, num_samples: int) -> bytes:
    """Everything before the first sample: RIFF, `fmt `, `fact` when needed, `data`."""
    width = BYTES_PER_SAMPLE[encoding]
    data_size = num_samples * width
    fmt = struct.pack(
        "<HHIIHH", FORMAT_TAGS[encoding], 1, sample_rate, sample_rate * width, width, 8 * width
    )
    chunks = []
    if encoding == "pcm_s16le":
        chunks.append(_chunk(b"fmt ", fmt))
    else:
        chunks.append(_chunk(b"fmt ", fmt + struct.pack("<H", 0)))  # cbSize: no extra bytes
        chunks.append(_chunk(b"fact", struct.pack("<I", num_samples)))
    chunks.append(struct.pack("<4sI", b"data", data_size))
    body = b"WAVE" + b"".join(chunks)
    # The RIFF size counts the pad byte an odd-sized data chunk is followed by.
    riff_size = len(body) + data_size + data_size % 2
    return struct.pack("<4sI", b"RIFF", riff_size) + body


def wav_padding(encoding: str, num_samples: int) -> bytes:
    """The pad byte RIFF wants after an odd-sized data chunk (8-bit, odd count)."""
    return b"\0" * (num_samples * BYTES_PER_SAMPLE[encoding] % 2)


def _chunk(tag: bytes, payload: bytes) -> bytes:
    return struct.pack("<4sI", tag, len(payload)) + payload
