"""A container the stream does not carry (mp3, flac, ogg), made as the audio arrives.

An `ffmpeg` process reads the PCM on its stdin and writes the container on its
stdout; a thread copies that into the real sink (the file, stdout, a named
pipe), so every rule of the plain sinks holds: the name claimed before the
request, no clobbering, a reader's exit seen as one.

- Bounded: the PCM waits in one pipe (the kernel's 64 KiB), the encoded audio
  in another and in one read of the copy. A slow output holds the stream
  back; nothing is ever held whole. An encoder that takes no PCM for
  ENCODER_STALL seconds while its output has room is given up (exit 7), and
  its end is waited for FINISH_TIMEOUT seconds at most.
- Accounted: the PCM written into the encoder is counted as every sink's bytes
  are (`audio_bytes`); the output's bytes by the sink they land in. An MP3 is
  timed by the frames written (`Sink.time_as_mp3`), as the server's is: the
  encoder adds its delay and padding, and may lower the bit rate asked for.
- Stopped cleanly: the encoder runs in a session of its own, so a Ctrl-C at
  the terminal reaches this process alone, which then closes the encoder's
  stdin. At that end of input ffmpeg finishes the file: a cut or stopped run
  leaves a playable file of what arrived. Whatever happens, `close` leaves no
  encoder running (SIGTERM, then SIGKILL, and reaped).

ffmpeg is started at the first audio, not before: a request that fails early
leaves no file, as with every other container.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING

from cartesia_cli import process
from cartesia_cli.errors import NO_ENCODER, BrokenPipe, OutputError, UsageError
from cartesia_cli.formats import Container, OutputFormat
from cartesia_cli.output import child, flac, mp3, ogg
from cartesia_cli.output.codec import Codec
from cartesia_cli.output.mp3_frames import Mp3Clock
from cartesia_cli.output.sinks import HEAD_BYTES, Sink

if TYPE_CHECKING:
    import subprocess
    import threading

# subprocess, threading and shutil are imported where used: only encoded outputs need them.
ENCODER = "ffmpeg"
CODECS: dict[Container, Codec] = {
    codec.container: codec for codec in (mp3.CODEC, flac.CODEC, ogg.CODEC)
}
FINISH_TIMEOUT = 10.0  # seconds the encoder gets to write out what it holds after the end
# Seconds the encoder may leave its full pipe unread, its output not waiting, before it is
# given up: ffmpeg encodes some 80 times faster than the audio plays, so 20 s is no slow encoder.
ENCODER_STALL = 20.0
STOP_GRACE = 2.0  # seconds an encoder gets to exit on SIGTERM before SIGKILL
COPY_BYTES = 65536  # one read of the encoder's output


def find_encoder(container: Container) -> str:
    """ffmpeg's path, or a usage error (before any request) naming what to install."""
    import shutil

    path = shutil.which(ENCODER)
    if path is None:
        raise UsageError(
            f"writing {container.value} needs {ENCODER}, which is not on PATH", kind=NO_ENCODER
        )
    return path


def command(executable: str, audio: OutputFormat) -> list[str]:
    """The encoder's command line: mono PCM of `audio.received` in, its container out."""
    encoding = audio.encoding
    assert encoding is not None, "only PCM is encoded here"
    source = ["-f", encoding.ffmpeg_format, "-ar", str(audio.sample_rate), "-ac", "1"]
    quiet = ["-hide_banner", "-nostdin", "-nostats", "-v", "error"]
    options = CODECS[audio.container].options(audio)
    return [executable, *quiet, *source, "-i", "pipe:0", *options, "pipe:1"]


class EncoderSink(Sink):
    """PCM in, `audio.container` out into `output`, through an ffmpeg process."""

    def __init__(self, executable: str, audio: OutputFormat, output: Sink) -> None:
        super().__init__(output.label)
        self.keeps_audio = output.keeps_audio
        self._command = command(executable, audio)
        self._codec = CODECS[audio.container]
        self._bytes_per_sample = audio.encoding.bytes_per_sample if audio.encoding else 1
        self._output = output
        if audio.container is Container.MP3:  # timed by its frames: what the file holds
            output.time_as_mp3()
        self._process: subprocess.Popen[bytes] | None = None
        self._pcm: Sink | None = None  # the encoder's stdin
        self._threads: list[threading.Thread] = []
        self._failure: BaseException | None = None  # the copy's, which stops the encoder
        self._last_line = ""  # the encoder's last word on stderr
        self._landing = False  # the copy is writing into the output (which may be slow)
        self._finish_by: float | None = None  # the deadline of the encoder's end, once asked
        self._finished = False

    @property
    def is_stdout(self) -> bool:
        return self._output.is_stdout

    @property
    def bytes_written(self) -> int:
        """The encoded bytes that reached the output: the file's size, as --json says."""
        return self._output.bytes_written

    @property
    def audio_bytes(self) -> int:
        """The PCM fed to the encoder: what the audio's seconds are counted in."""
        return self._pcm.bytes_written if self._pcm is not None else 0

    def mp3_clock(self) -> Mp3Clock | None:
        """An MP3's frames as written to the output: its length and its real bit rate."""
        return self._output.mp3_clock()

    def write(self, data: bytes) -> None:
        if self._failure is not None:
            raise self._failure
        pcm = self._pcm if self._pcm is not None else self._launch()
        if len(self.head) < HEAD_BYTES:  # the PCM as received
            self.head = (self.head + data)[:HEAD_BYTES]
        try:
            pcm.write(data)
        except BrokenPipe:  # the encoder is gone: the copy failed, or ffmpeg itself did
            raise self._why_stopped() from None
        except child.Stalled:
            self._finished = True  # nothing more to finish: what it wrote stays as it is
            self._stop()
            raise OutputError(
                f"{ENCODER} read none of its input for {ENCODER_STALL:g} s "
                f"(encoding {self.label}); stopped it"
            ) from None

    def _launch(self) -> Sink:
        import subprocess
        import threading

        self._process = child.start(self._command, ENCODER, stdout=subprocess.PIPE)
        assert self._process.stdin is not None
        self._pcm = child.ChildInput(
            self._process.stdin.fileno(),
            ENCODER,
            stall_after=ENCODER_STALL,
            excused=lambda: self._landing,  # a slow output holds the encoder up, not a hang
        )
        for target, name in ((self._copy, "encoder-output"), (self._drain, "encoder-stderr")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            process.start_thread(thread)  # stop signals go to the main thread only
            self._threads.append(thread)
        return self._pcm

    def _copy(self) -> None:
        """The encoder's output into the real sink as it comes; a failure there stops it."""
        assert self._process is not None and self._process.stdout is not None
        with self._process.stdout as encoded:
            try:
                while chunk := os.read(encoded.fileno(), COPY_BYTES):
                    self._landing = True
                    try:
                        self._output.write(chunk)
                    finally:
                        self._landing = False
            except (OutputError, BrokenPipe) as failure:
                self._failure = failure
            except OSError as exc:
                self._failure = OutputError(f"could not read what {ENCODER} made: {exc.strerror}")
        if self._failure is not None:
            with contextlib.suppress(OSError):
                self._process.kill()  # the next PCM write fails, and says why

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        with self._process.stderr as stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").strip()
                if line:
                    self._last_line = line[-300:]

    def _why_stopped(self) -> BaseException:
        if self._failure is not None:
            return self._failure
        code = self._wait(1.0)  # ffmpeg quit on its own: its exit and its last line say why
        how = "still running" if code is None else f"exit {code}"
        said = f": {self._last_line}" if self._last_line else ""
        return OutputError(f"{ENCODER} stopped encoding {self.label} ({how}){said}")

    def _wait(self, timeout: float) -> int | None:
        import subprocess

        assert self._process is not None
        try:
            code = self._process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        for thread in self._threads:
            thread.join(timeout=timeout)
        return code

    def finish(self) -> None:
        """End of the PCM: the encoder writes out the rest and ends; the header gets its figures.

        Bounded by FINISH_TIMEOUT from the first call. Interrupted (a stop raised
        again while it waits), it is not done: the next call waits out the rest.
        """
        if self._finished or self._process is None:
            self._finished = True
            return
        if self._finish_by is None:
            self._finish_by = time.monotonic() + FINISH_TIMEOUT
            assert self._process.stdin is not None
            with contextlib.suppress(OSError):
                self._process.stdin.close()  # end of input: ffmpeg finishes the file
        code = self._wait(max(0.0, self._finish_by - time.monotonic()))
        self._finished = True
        if code is None:
            self._stop()
            raise OutputError(
                f"{ENCODER} had not finished {self.label} after {FINISH_TIMEOUT:g} s; stopped it"
            )
        if self._failure is not None:
            raise self._failure
        if code != 0:
            said = f": {self._last_line}" if self._last_line else ""
            raise OutputError(f"{ENCODER} could not finish {self.label} (exit {code}){said}")
        if self._codec.fix_header is not None:
            self._codec.fix_header(self._output, self.audio_bytes // self._bytes_per_sample)

    def _stop(self) -> None:
        """No encoder left running: stopped (SIGTERM, then SIGKILL) and reaped, its threads done."""
        if self._process is None:
            return
        child.stop(self._process, STOP_GRACE)
        for thread in self._threads:
            thread.join(timeout=1)

    def close(self, *, keep: bool) -> None:
        """Finish the encoder if that is not done (a failed run's file is finished too)."""
        try:
            with contextlib.suppress(OutputError, BrokenPipe):  # the run's own failure is told
                self.finish()
        finally:
            self._stop()  # whatever cut the finish short, the encoder does not outlive the run
            self._output.close(keep=keep)
            self.is_regular_file = self._output.is_regular_file
