"""Audio formats, models, languages and emotions the API knows: the choices the CLI offers."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


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
    "sonic-3.6",
    "sonic-3.6-2026-08-27",
    "sonic-preview",
    "sonic-3",
    "sonic-latest",
    "sonic-3-latest",
    "sonic-3.5-2026-05-04",
    "sonic-3-2026-01-12",
    "sonic-3-2025-10-27",
)

# Model ids that point at a newer model without notice: their audio is never cached
# unless asked (--cache-aliases), since the same request may sound different tomorrow.
MODEL_ALIASES = ("sonic-latest", "sonic-3-latest", "sonic-preview")

# Models that take region codes in `locale` and `normalization`; earlier ones answer 400.
LOCALE_MODELS = ("sonic-3.6", "sonic-3.6-2026-08-27", "sonic-preview")
# Offered by completion for --locale and --normalization; any code is sent.
LOCALES = (
    "en-US", "en-GB", "en-AU", "en-IN", "en-IE", "en-NZ", "en-SG", "en-ZA",
    "es-ES", "es-MX", "es-US", "fr-FR", "fr-CA", "nl-NL", "nl-BE", "pt-BR", "pt-PT",
    "zh-CN", "de-DE", "it-IT", "ja-JP", "ko-KR", "hi-IN",
)  # fmt: skip
NORMALIZATIONS = ("auto", "off", *LOCALES)
# The Cartesia-Version from which the body's voice is the bare id, not {"mode": "id", "id": …}.
BARE_VOICE_SINCE = "2026-08-14"


def is_region_code(code: str) -> bool:
    """`en-GB`, `pt_BR`: a language with a region, which only LOCALE_MODELS take."""
    return "-" in code or "_" in code


# The API's language codes for sonic-3 models; offered by completion, any code is sent.
LANGUAGES = (
    "en",
    "fr",
    "de",
    "es",
    "pt",
    "zh",
    "ja",
    "hi",
    "it",
    "ko",
    "nl",
    "pl",
    "ru",
    "sv",
    "tr",
    "tl",
    "bg",
    "ro",
    "ar",
    "cs",
    "el",
    "fi",
    "hr",
    "ms",
    "sk",
    "da",
    "ta",
    "uk",
    "hu",
    "no",
    "vi",
    "bn",
    "th",
    "he",
    "ka",
    "id",
    "te",
    "gu",
    "kn",
    "ml",
    "mr",
    "pa",
    "or",
    "ur",
)

# The API's named emotions (generation_config.emotion); any other string is sent as given.
EMOTIONS = (
    "neutral",
    "happy",
    "excited",
    "enthusiastic",
    "elated",
    "euphoric",
    "triumphant",
    "amazed",
    "surprised",
    "flirtatious",
    "curious",
    "content",
    "peaceful",
    "serene",
    "calm",
    "grateful",
    "affectionate",
    "trust",
    "sympathetic",
    "anticipation",
    "mysterious",
    "angry",
    "mad",
    "outraged",
    "frustrated",
    "agitated",
    "threatened",
    "disgusted",
    "contempt",
    "envious",
    "sarcastic",
    "ironic",
    "sad",
    "dejected",
    "melancholic",
    "disappointed",
    "hurt",
    "guilty",
    "bored",
    "tired",
    "rejected",
    "nostalgic",
    "wistful",
    "apologetic",
    "hesitant",
    "insecure",
    "confused",
    "resigned",
    "anxious",
    "panicked",
    "alarmed",
    "scared",
    "proud",
    "confident",
    "distant",
    "skeptical",
    "contemplative",
    "determined",
)

MP3_BIT_RATES = (32000, 64000, 96000, 128000, 192000)
DEFAULT_MP3_BIT_RATE = 128000


class Container(str, Enum):
    """What wraps the audio that is written: raw PCM, or a WAV, MP3, FLAC or Ogg Opus file.

    The API sends raw PCM (every endpoint), WAV and MP3 (`/tts/bytes` only);
    whatever it does not send is made here from the PCM it does.
    """

    RAW = "raw"
    WAV = "wav"
    MP3 = "mp3"
    FLAC = "flac"
    OGG = "ogg"  # Opus in an Ogg file


# The suffixes of `-o NAME` that pick the container; any other suffix is refused.
SUFFIXES = {
    ".pcm": Container.RAW,
    ".raw": Container.RAW,
    ".wav": Container.WAV,
    ".mp3": Container.MP3,
    ".flac": Container.FLAC,
    ".ogg": Container.OGG,
    ".opus": Container.OGG,
}


class RequestedFormat(NamedTuple):
    """What the request's `output_format` asks the API to send, and so what arrives.

    `container` is one the endpoint sends (raw, or wav/mp3 from /tts/bytes);
    `encoding` is None for mp3, `bit_rate` set for mp3 only.
    """

    container: Container
    encoding: Encoding | None
    sample_rate: int
    bit_rate: int | None = None

    def seconds(self, num_bytes: int, header_bytes: int = 0) -> float:
        """Duration of `num_bytes` received; `header_bytes` precede a WAV's samples.

        Raw and WAV count samples exactly; an MP3's length is its bytes over its
        (constant) bit rate, the only length its bytes give.
        """
        if self.container is Container.MP3:
            return num_bytes * 8 / (self.bit_rate or DEFAULT_MP3_BIT_RATE)
        encoding = self.encoding or Encoding.PCM_S16LE
        return max(0, num_bytes - header_bytes) / (encoding.bytes_per_sample * self.sample_rate)

    def describe(self) -> str:
        """`pcm_f32le 44100 Hz`, `wav pcm_s16le 16000 Hz`, `mp3 44100 Hz 128 kbps`."""
        if self.container is Container.MP3:
            return f"mp3 {self.sample_rate} Hz {(self.bit_rate or 0) // 1000} kbps"
        encoding = self.encoding.value if self.encoding is not None else "?"
        prefix = "wav " if self.container is Container.WAV else ""
        return f"{prefix}{encoding} {self.sample_rate} Hz"


class OutputFormat(NamedTuple):
    """What is written: `container`, made from the audio `received`.

    Three ways: written as received (raw PCM, or the server's own WAV or MP3);
    the received PCM framed as a WAV here; or the received PCM encoded here
    (mp3, flac, ogg) by an encoder. `bit_rate` is an MP3's, made here or there.
    """

    container: Container
    received: RequestedFormat
    bit_rate: int | None = None

    @property
    def encoded_here(self) -> bool:
        """Made here by an encoder from the PCM received (mp3, flac or ogg)."""
        return self.container in ENCODED and self.received.container is Container.RAW

    @property
    def framed_here(self) -> bool:
        """A WAV whose header is written here around the PCM received."""
        return self.container is Container.WAV and self.received.container is Container.RAW

    @property
    def encoding(self) -> Encoding | None:
        """The PCM the output is made of (None: an MP3 made by the server)."""
        return self.received.encoding

    @property
    def extension(self) -> str:
        return "pcm" if self.container is Container.RAW else self.container.value

    @property
    def sample_rate(self) -> int:
        """The PCM's rate, as received: what a raw file plays at (Opus resamples to 48 kHz)."""
        return self.received.sample_rate

    def describe(self) -> str:
        """As received, or what was made of it: `ogg opus from pcm_f32le 44100 Hz`."""
        if not self.encoded_here:
            return self.received._replace(container=self.container).describe()
        if self.container is Container.MP3:
            return RequestedFormat(Container.MP3, None, self.sample_rate, self.bit_rate).describe()
        name = "ogg opus" if self.container is Container.OGG else self.container.value
        return f"{name} from {self.received.describe()}"


# The containers only an encoder makes from PCM (the server makes mp3 for /tts/bytes).
ENCODED = (Container.MP3, Container.FLAC, Container.OGG)


PLAYER = "ffplay"
# What --player takes: auto, the in-process player (the `play` extra), the external ones,
# in auto's order (output/players.py knows how to start each).
PLAYER_NAMES = (
    "auto",
    "miniaudio",
    "ffplay",
    "mpv",
    "afplay",
    "paplay",
    "pw-play",
    "aplay",
    "play",
)


def player_args(audio: OutputFormat, target: str | None) -> list[str]:
    """An ffplay command line that plays this audio; `target=None` reads a pipe on stdin.

    Raw PCM needs its demuxer and rate; every other container carries them in
    the file (ffplay reads files by their content). The player hint prints
    exactly this, and --play runs exactly this.
    """
    demuxer: list[str] = []
    if audio.container is Container.RAW and audio.encoding is not None:
        demuxer = ["-f", audio.encoding.ffmpeg_format, "-ar", str(audio.sample_rate)]
    source = ["-i", "-"] if target is None else [target]
    return [PLAYER, "-autoexit", "-nodisp", *demuxer, *source]


def wav_data_offset(head: bytes) -> int | None:
    """Where the samples of a RIFF/WAVE file start, from its first bytes; None if unknown.

    Walks the chunks after `RIFF....WAVE` until the `data` chunk's header.
    """
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    offset = 12
    while offset + 8 <= len(head):
        size = int.from_bytes(head[offset + 4 : offset + 8], "little")
        if head[offset : offset + 4] == b"data":
            return offset + 8
        offset += 8 + size + (size & 1)  # chunks are padded to an even length
    return None
