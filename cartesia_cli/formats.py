"""Audio formats and model ids the API knows: the choices the CLI offers."""

from __future__ import annotations

from enum import Enum


class Encoding(str, Enum):
    """Raw encodings `/tts/sse` can stream (SSE supports only the `raw` container)."""

    PCM_F32LE = "pcm_f32le"
    PCM_S16LE = "pcm_s16le"
    PCM_MULAW = "pcm_mulaw"
    PCM_ALAW = "pcm_alaw"

    @property
    def bytes_per_sample(self) -> int:
        return _BYTES_PER_SAMPLE[self]

    @property
    def ffmpeg_format(self) -> str:
        """The ffmpeg/ffplay raw demuxer name (`-f`) for this encoding."""
        return _FFMPEG_FORMAT[self]


_BYTES_PER_SAMPLE = {
    Encoding.PCM_F32LE: 4,
    Encoding.PCM_S16LE: 2,
    Encoding.PCM_MULAW: 1,
    Encoding.PCM_ALAW: 1,
}

_FFMPEG_FORMAT = {
    Encoding.PCM_F32LE: "f32le",
    Encoding.PCM_S16LE: "s16le",
    Encoding.PCM_MULAW: "mulaw",
    Encoding.PCM_ALAW: "alaw",
}


class SampleRate(str, Enum):
    """Sample rates the API accepts. String values so the CLI can offer them as choices."""

    HZ_8000 = "8000"
    HZ_16000 = "16000"
    HZ_22050 = "22050"
    HZ_24000 = "24000"
    HZ_44100 = "44100"
    HZ_48000 = "48000"

    @property
    def hz(self) -> int:
        return int(self.value)


# Offered by completion; any other model id is still sent as given.
KNOWN_MODELS = (
    "sonic-3.5",
    "sonic-3",
    "sonic-latest",
    "sonic-3-latest",
    "sonic-3.5-2026-05-04",
    "sonic-3-2026-01-12",
    "sonic-3-2025-10-27",
)


def audio_seconds(num_bytes: int, encoding: Encoding, sample_rate: int) -> float:
    """Duration of `num_bytes` of mono audio in this encoding and rate."""
    return num_bytes / (encoding.bytes_per_sample * sample_rate)
