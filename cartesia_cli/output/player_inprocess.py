"""The in-process player (the `play` extra): PCM to the sound card through miniaudio.

miniaudio bundles its audio backends (Core Audio, WASAPI, PulseAudio, ALSA…)
in its wheel: no ffmpeg, no system library, the same code on every OS. Its
device thread calls back for each period of samples; the callback takes them
from the `PlayBuffer` the stream fills, and plays silence while the buffer is
empty. The library is imported here only, and only when playing.

The device is opened before the request: no device (a machine without audio)
is an output failure with miniaudio's reason, before anything is sent.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from cartesia_cli.errors import OutputError
from cartesia_cli.formats import Encoding
from cartesia_cli.output.pcm_feed import PcmFeed
from cartesia_cli.output.play_buffer import PlayBuffer

if TYPE_CHECKING:
    import miniaudio

NAME = "miniaudio"
PERIOD_MS = 10  # the device asks for this much audio at a time: the latency it adds
# The backends tried, by name (miniaudio's order); its null backend, which plays into
# nothing, is never picked by itself: a machine without audio is told so.
BACKENDS: Sequence[str] | None = None  # None: every real backend; tests name NULL
# What the device is given for each encoding; companded samples are widened first.
_FORMATS = {Encoding.PCM_F32LE: "FLOAT32", Encoding.PCM_S16LE: "SIGNED16"}


def fed_encoding(encoding: Encoding) -> Encoding:
    return encoding if encoding in _FORMATS else Encoding.PCM_S16LE


class InProcessPlayer:
    """A miniaudio playback device fed from a buffer; `feed` never waits."""

    def __init__(self, encoding: Encoding, rate: int, *, wav_header: bool) -> None:
        import miniaudio

        self.name = NAME
        fed = fed_encoding(encoding)
        self._feed = PcmFeed(wav_header=wav_header, encoding=encoding, fed=fed)
        self._width = fed.bytes_per_sample
        self._rate = rate
        self._buffer = PlayBuffer()
        self._drained = threading.Event()  # the end of the audio was handed to the device
        self.first_sound: float | None = None  # perf_counter() when audio first went out
        self._device = _open_device(miniaudio, getattr(miniaudio.SampleFormat, _FORMATS[fed]), rate)
        callback = self._frames()
        next(callback)
        self._device.start(callback)

    @property
    def backend(self) -> str:
        return str(self._device.backend)

    def feed(self, data: bytes) -> None:
        self._buffer.put(self._feed(data))

    def trouble(self) -> str | None:
        return None  # a device that opened keeps playing: miniaudio drops nothing

    def finish(self, timeout: float, seconds: float) -> str | None:
        """Wait until the device has played all it was given, bounded by `timeout`."""
        self._buffer.close()
        if not self._drained.wait(timeout):
            self.stop()
            return f"{NAME} had not finished after {timeout:.0f} s; stopped it"
        time.sleep(3 * PERIOD_MS / 1000)  # the last periods leave the device's own buffer
        self.stop()
        return None

    def stop(self) -> None:
        self._buffer.abandon()
        self._device.close()

    def _frames(self) -> Generator[bytes, int, None]:
        """The device's callback: given the frames wanted, the samples (whole ones) to play."""
        frame = self._width
        carry = b""  # a sample cut in two by the buffer's pieces
        wanted = yield b""
        while True:
            data = carry
            while len(data) < wanted * frame:
                piece = self._buffer.take(wanted * frame - len(data), timeout=0)
                if not piece:
                    if piece == b"" and not carry and not data:
                        self._drained.set()
                    break
                data += piece
            whole = len(data) - len(data) % frame
            data, carry = data[:whole], data[whole:]
            if data and self.first_sound is None:
                self.first_sound = time.perf_counter()
            wanted = yield data


def _open_device(library: Any, sample_format: Any, rate: int) -> miniaudio.PlaybackDevice:
    """The playback device, mono at `rate`; its reason as an OutputError when none opens.

    The native backends may print on the process's stderr as they probe (ALSA
    does): that goes into a file of its own, not onto the terminal, and its
    last line is the reason given when no device opens.
    """
    Backend = library.Backend
    names = BACKENDS or [b.name for b in Backend if b not in (Backend.NULL, Backend.CUSTOM)]
    backends = [getattr(Backend, name) for name in names]
    with _stderr_captured() as said:
        try:
            return library.PlaybackDevice(
                output_format=sample_format,
                nchannels=1,
                sample_rate=rate,
                buffersize_msec=PERIOD_MS,
                backends=backends,
                app_name="cartesia-cli",
            )
        except library.MiniaudioError as exc:
            failure = exc
    no_device = OutputError(f"{NAME} could not open an audio device ({_reason(said(), failure)})")
    no_device.hint = "-o FILE keeps the audio; --player NAME picks another player"
    raise no_device


def _reason(said: str, failure: Exception) -> str:
    """The backends' last word: ALSA's reason without its source line, else the last line
    said, else miniaudio's own."""
    from cartesia_cli.output.player import ALSA_LINE

    lines = [line.strip() for line in said.splitlines() if line.strip()]
    for line in reversed(lines):
        if alsa := ALSA_LINE.match(line):
            return f"ALSA: {alsa.group(1)}"
    return lines[-1] if lines else str(failure.args[0] if failure.args else failure)


class _stderr_captured:
    """Descriptor 2 pointed at a temporary file for a moment; `said()` reads what landed."""

    def __enter__(self) -> Any:
        import tempfile

        self._file = tempfile.TemporaryFile()
        self._saved = os.dup(2)
        os.dup2(self._file.fileno(), 2)
        return self.said

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)
        with self._file:
            self._file.seek(0)
            self._text = self._file.read(1 << 16).decode("utf-8", "replace")

    def said(self) -> str:
        return self._text
