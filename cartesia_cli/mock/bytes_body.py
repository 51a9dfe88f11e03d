"""The body `/tts/bytes` sends for one job: raw PCM, a WAV file or an MP3, in pieces.

Each piece goes out as one HTTP chunk, one per chunk of the plan the SSE stream
uses, so pacing and faults line up with `/tts/sse`:

- raw: exactly the samples the SSE chunks carry for the same job, chunk by chunk;
- wav: the same samples in the job's encoding, the header (real sizes) prepended
  to the first piece and, after an odd-sized data chunk, a pad byte appended to the
  last one;
- mp3: the job's samples as s16le, encoded once by ffmpeg (cached), then split into
  as many pieces as there are chunks.

Faults (`with_bytes_fault`), counted in pieces: `cut` closes the write side (FIN)
after `after_chunks` pieces, without the terminating zero-length chunk; `reset`
resets the connection (RST) there; `stall` sends nothing at all for `stall_seconds`
there (less if the server stops), then goes on. `ok`, `drop`, `http-NNN` and
`wrong-content-type` are handled by the server as for SSE. The SSE-only faults
(error events, malformed-json, bad-base64, done-without-audio, truncated,
error-before-audio) have no meaning in a bare audio body and behave as `ok`;
`BYTES_FAULTS` lists the faults that do apply.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache

from cartesia_cli.mock.events import AudioPlan, Outgoing, chunk_plan, chunk_samples, chunk_sizes
from cartesia_cli.mock.mp3 import encode_mp3, ffmpeg
from cartesia_cli.mock.scenarios import Scenario
from cartesia_cli.mock.validation import TtsJob
from cartesia_cli.mock.wav import wav_header, wav_padding

CONTENT_TYPES = {"raw": "application/octet-stream", "wav": "audio/wav", "mp3": "audio/mpeg"}


def body_pieces(job: TtsJob, plan: AudioPlan) -> Iterator[bytes]:
    """The body, piece by piece; never an empty piece (that would end the chunked body).

    An mp3 is encoded here, before any piece: this raises Mp3Unavailable or Mp3Failed.
    """
    total, per_chunk = chunk_plan(job, plan)
    if job.container == "mp3":
        assert job.bit_rate is not None
        as_pcm = replace(job, encoding="pcm_s16le")  # the PCM fed to the encoder
        return iter(_mp3_pieces(ffmpeg(), as_pcm, plan, total, per_chunk, job.bit_rate))
    pieces = pcm_pieces(job, plan, total, per_chunk)
    if job.container == "wav":
        head = wav_header(job.encoding, job.sample_rate, total)
        return _framed(pieces, head, wav_padding(job.encoding, total))
    return pieces


def pcm_pieces(job: TtsJob, plan: AudioPlan, total: int, per_chunk: int) -> Iterator[bytes]:
    """The audio of each chunk, exactly as the SSE chunk events carry it."""
    for index, count in enumerate(chunk_sizes(total, per_chunk)):
        yield chunk_samples(job, plan, index, count)


def with_bytes_fault(
    pieces: Iterable[bytes], scenario: Scenario, stopping: threading.Event
) -> Iterator[Outgoing | str]:
    """The pieces as outgoing chunks, with a cut, reset or stall after `after_chunks`."""
    for index, piece in enumerate(pieces):
        if index == scenario.after_chunks:
            if scenario.name in ("cut", "reset"):
                yield scenario.name  # a connection-level action for the server
                return
            if scenario.name == "stall":
                stopping.wait(scenario.stall_seconds)  # no bytes at all meanwhile
        yield Outgoing(piece, piece)


def split_evenly(data: bytes, parts: int) -> list[bytes]:
    """`data` in `parts` non-empty pieces of near-equal size (fewer if `data` is short)."""
    parts = max(1, min(parts, len(data)))
    size, extra = divmod(len(data), parts)
    pieces, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        pieces.append(data[start:end])
        start = end
    return pieces


def _framed(pieces: Iterator[bytes], head: bytes, tail: bytes) -> Iterator[bytes]:
    """`head` joined to the first piece, `tail` to the last (there is at least one)."""
    previous = head + next(pieces)
    for piece in pieces:
        yield previous
        previous = piece
    yield previous + tail


@lru_cache(maxsize=8)
def _mp3_pieces(
    executable: str, job: TtsJob, plan: AudioPlan, total: int, per_chunk: int, bit_rate: int
) -> tuple[bytes, ...]:
    pcm = b"".join(pcm_pieces(job, plan, total, per_chunk))
    chunks = -(-total // per_chunk)
    encoded = encode_mp3(executable, pcm, job.sample_rate, bit_rate)
    return tuple(split_evenly(encoded, chunks))
