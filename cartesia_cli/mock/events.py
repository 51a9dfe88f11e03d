"""The SSE events the fake streams for one job: chunks, timestamps, done, errors.

Framing as the real API frames it: an `event:` line and a `data:` line with the
JSON payload (whose `type` repeats the event name), then a blank line. The chunk
plan (`chunk_plan`, `chunk_sizes`) is shared with `/tts/bytes`, so both endpoints
carry the same samples in the same pieces.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cartesia_cli.mock.audio import BYTES_PER_SAMPLE
from cartesia_cli.mock.speech import audio_slice, job_utterance
from cartesia_cli.mock.validation import TtsJob


@dataclass(frozen=True)
class Outgoing:
    """One framed SSE event and the audio bytes it carries (empty for non-chunk events)."""

    frame: bytes
    audio: bytes = b""


@dataclass(frozen=True)
class AudioPlan:
    chunk_seconds: float = 0.1  # the real API sends 20-100 ms chunks
    audio_seconds: float | None = None  # a fixed length: the speech repeats to fill it


def frame(name: str, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"))
    return f"event: {name}\ndata: {data}\n\n".encode()


def job_events(job: TtsJob, plan: AudioPlan) -> Iterator[Outgoing]:
    """Chunks with word/phoneme timestamps interleaved, then `done`."""
    rate = job.sample_rate
    total, per_chunk = chunk_plan(job, plan)
    speech = job_utterance(job, per_chunk)
    words = list(speech.words) if job.add_timestamps else []
    phonemes = phoneme_times(words) if job.add_phoneme_timestamps else []
    cycle_chunks = len(speech.cycle) // (per_chunk * _width(job.encoding))
    sent = 0
    for index, count in enumerate(chunk_sizes(total, per_chunk)):
        yield _chunk_event(job, plan, index % cycle_chunks, count)
        sent += count
        # After the last chunk, flush whatever rounding left behind.
        until = sent / rate if sent < total else float("inf")
        yield from _timestamp_events("timestamps", "word_timestamps", "words", words, until, job)
        yield from _timestamp_events(
            "phoneme_timestamps", "phoneme_timestamps", "phonemes", phonemes, until, job
        )
    yield Outgoing(
        frame("done", _with_context({"type": "done", "done": True, "status_code": 206}, job))
    )


def error_event(
    job: TtsJob | None,
    *,
    legacy: bool,
    title: str,
    message: str,
    status: int,
    request_id: str,
    error_code: str | None = None,
) -> Outgoing:
    payload = error_payload(
        legacy=legacy,
        title=title,
        message=message,
        status=status,
        request_id=request_id,
        error_code=error_code,
    )
    return Outgoing(frame("error", _with_context(payload, job)))


def error_payload(
    *,
    legacy: bool,
    title: str,
    message: str,
    status: int,
    request_id: str,
    error_code: str | None = None,
) -> dict[str, Any]:
    """An error event's JSON: the 2026-03-01 shape, or the legacy `{"error": "..."}` one."""
    payload: dict[str, Any] = {"type": "error", "done": True, "status_code": status}
    if legacy:
        payload["error"] = f"{title}: {message}"
    else:
        payload.update(title=title, message=message, request_id=request_id, error_code=error_code)
    return payload


@lru_cache(maxsize=256)
def _chunk_event(job: TtsJob, plan: AudioPlan, index_in_cycle: int, count: int) -> Outgoing:
    """A framed chunk event; cached, since a long stream repeats its utterance's chunks.

    Long benchmark streams then cost the fake a write per chunk, not an encode.
    """
    context_id = job.context_id
    audio = chunk_samples(job, plan, index_in_cycle, count)
    payload: dict[str, Any] = {
        "type": "chunk",
        "done": False,
        "status_code": 206,
        "step_time": 12.5,
        "data": base64.b64encode(audio).decode(),
    }
    if context_id is not None:
        payload["context_id"] = context_id
    return Outgoing(frame("chunk", payload), audio)


def _with_context(payload: dict[str, Any], job: TtsJob | None) -> dict[str, Any]:
    # Without a context_id in the request the key is left out, as the real API does.
    if job is not None and job.context_id is not None:
        payload["context_id"] = job.context_id
    return payload


def chunk_plan(job: TtsJob, plan: AudioPlan) -> tuple[int, int]:
    """(samples in the whole job, samples per chunk): always at least one of each.

    The job's length is its speech (padded to whole chunks), or the plan's fixed length.
    """
    per_chunk = max(1, round(plan.chunk_seconds * job.sample_rate))
    if plan.audio_seconds is not None:
        return max(1, round(plan.audio_seconds * job.sample_rate)), per_chunk
    speech = job_utterance(job, per_chunk)
    return len(speech.cycle) // _width(job.encoding), per_chunk


def chunk_samples(job: TtsJob, plan: AudioPlan, index: int, count: int) -> bytes:
    """The audio of chunk `index` (`count` samples), in the job's encoding."""
    per_chunk = max(1, round(plan.chunk_seconds * job.sample_rate))
    speech = job_utterance(job, per_chunk)
    return audio_slice(speech, job.encoding, index * per_chunk, count)


def _width(encoding: str) -> int:
    return BYTES_PER_SAMPLE[encoding]


def chunk_sizes(total: int, per_chunk: int) -> Iterator[int]:
    """The sample count of each chunk, in order: all `per_chunk` but maybe the last."""
    for start in range(0, total, per_chunk):
        yield min(per_chunk, total - start)


Timed = list[tuple[str, float, float]]


def phoneme_times(words: Timed) -> Timed:
    """Each word's letters as its "phonemes", sharing the word's time evenly."""
    result: Timed = []
    for word, start, end in words:
        letters = [c for c in word.lower() if c.isalpha()] or ["?"]
        step = (end - start) / len(letters)
        result += [
            (c, round(start + i * step, 3), round(start + (i + 1) * step, 3))
            for i, c in enumerate(letters)
        ]
    return result


def _timestamp_events(
    name: str, key: str, label: str, pending: Timed, until: float, job: TtsJob
) -> Iterator[Outgoing]:
    """Emit (and drop from `pending`) the entries that start by `until`, as one batch.

    By their start, as a server that knows a word's end once it has begun it: a
    stream cut after its first chunk then still carries a timestamp or two.
    """
    ready = take_started(pending, until)
    if ready:
        payload = {"type": name, "done": False, "status_code": 206, key: timed_block(label, ready)}
        yield Outgoing(frame(name, _with_context(payload, job)))


def take_started(pending: Timed, until: float) -> Timed:
    """Remove from `pending` and return the entries that start by `until`."""
    ready = [entry for entry in pending if entry[1] <= until + 1e-9]
    del pending[: len(ready)]
    return ready


def timed_block(label: str, entries: Timed, offset: float = 0.0) -> dict[str, list[Any]]:
    """`{label: [...], "start": [...], "end": [...]}`, times moved by `offset` seconds."""
    return {
        label: [e[0] for e in entries],
        "start": [round(e[1] + offset, 3) for e in entries],
        "end": [round(e[2] + offset, 3) for e in entries],
    }
