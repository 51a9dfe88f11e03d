"""One TTS WebSocket connection's conversation, without sockets: contexts, buffering, flushes.

Messages come in through `receive(text, now)`; `take(now)` hands out what is
due to be sent by then, and `wait(now)` says how long until more is due. The
model of the real server:

- A context is created by its first piece and keeps that piece's settings;
  every later piece must repeat them (only transcript, continue and flush vary).
- Text waits in the context's buffer until `max_buffer_delay_ms` (3000 ms when
  a piece does not say) has passed since the oldest text in it arrived, or a
  flush or the last piece (`continue: false`) comes; with 0 each piece is
  spoken as it arrives. What leaves the buffer is spoken as one utterance.
- Audio comes in order, one context after another, as `chunk` events (with
  `timestamps` / `phoneme_timestamps` events when asked, times absolute within
  the context). Every event of text sent before flush N carries `flush_id` N
  (text after the last flush carries one more); a flush is answered
  `flush_done` once its text is spoken, and the last piece `done`.
- Cancel drops what a context has not begun to speak; an utterance under way
  finishes. Nothing more is sent for that context.
- Errors end their context (`done: true`); an error without `context_id`
  ends the connection's work altogether.

A scenario's fault fires when its chunk is due (see scenarios.WEBSOCKET_FAULTS).

Memory stays bounded however fast a client sends. Past `unspoken_cap`
characters of text received but not yet spoken (buffered or queued, over all
contexts), `backlogged()` tells the connection to stop reading until speech
catches up (backpressure). A client that reads nothing either cannot be held
back that way without both sides waiting on each other, so input is still
read then; a piece that would take the unspoken text past HARD_CAP_FACTOR
times the cap is refused with an error on its context instead.
"""

from __future__ import annotations

import base64
import json
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cartesia_cli.mock.events import (
    AudioPlan,
    chunk_plan,
    chunk_samples,
    chunk_sizes,
    error_payload,
    phoneme_times,
    take_started,
    timed_block,
)
from cartesia_cli.mock.scenarios import Scenario
from cartesia_cli.mock.speech import job_utterance
from cartesia_cli.mock.validation import Problem, TtsJob
from cartesia_cli.mock.ws_messages import Cancel, Piece, Rejected, parse_message

BATCH = 32  # messages handed out per take(): incoming messages are read between batches
# Error replies waiting to be sent past which input stops being read: a client that
# sends bad messages and never reads its answers holds only this many.
MAX_WAITING_REPLIES = 1024
HARD_CAP_FACTOR = 16  # see the module docstring
# Faults that replace a context's first chunk, whatever the scenario's after_chunks.
_BEFORE_AUDIO = ("error-before-audio", "done-without-audio")
_SERVER_FAILURE = Problem(500, "Internal server error", "Generation failed. Please retry.")
TOO_MUCH_WAITING = Problem(
    429,
    "Too much text waiting",
    "More text was sent than can wait to be spoken; read the audio before sending more.",
)


@dataclass(frozen=True)
class Send:
    """A text frame to send; `audio` is what a chunk carries, for the transmission record."""

    text: str
    audio: bytes = b""


@dataclass(frozen=True)
class Close:
    """End the connection: with a close frame `code`, or, for `cut`/`reset`, without one."""

    how: str = "close"  # "close", "cut" or "reset"
    code: int = 1000
    reason: str = ""


Out = Send | Close


@dataclass
class _Context:
    id: str
    job: TtsJob
    fixed: str
    delay: float  # seconds text may wait in the buffer
    # The buffered pieces, joined when released: adding to one string would copy it per piece.
    pending: list[str] = field(default_factory=list)
    pending_since: float | None = None
    flush_id: int = 1  # the flush_id of text arriving now
    ended: bool = False  # its last piece, an error or a cancel came: nothing more is taken
    spoken: int = 0  # samples sent: the next utterance's time offset


@dataclass(frozen=True)
class _Work:
    context: _Context
    kind: str  # "speak", "flush_done" or "done"
    text: str = ""
    flush_id: int = 0


class WsSession:
    def __init__(
        self,
        *,
        scenario: Scenario,
        legacy_errors: bool,
        request_id: Callable[[], str],
        plan: AudioPlan | None = None,
        pace: float = 0.0,
        unspoken_cap: int = 1_000_000,
        prepare: Callable[[TtsJob], TtsJob | Problem] | None = None,
    ) -> None:
        self._scenario = scenario
        # What the server makes of a new context's job (its voice, its dictionary).
        self._prepare = prepare
        self._unspoken_cap = unspoken_cap
        self._unspoken = 0  # characters in contexts' buffers and queued "speak" work
        self._legacy = legacy_errors
        self._request_id = request_id
        self._plan = plan or AudioPlan()
        self._interval = pace * self._plan.chunk_seconds
        self._contexts: dict[str, _Context] = {}
        self._work: deque[_Work] = deque()
        self._speaking: tuple[_Context, Iterator[Send]] | None = None
        self._replies: deque[Out] = deque()  # errors: sent before any audio still due
        self._next_chunk_at = 0.0
        self._stalled_until = 0.0
        self._held: Send | None = None  # the chunk a stall holds back
        self._fault_fired = scenario.name == "ok"
        self._dead = False  # after a connection-wide error or fault: nothing more is spoken
        self.chunks_sent = 0

    # --- input ---------------------------------------------------------------------------

    def receive(self, text: str, now: float) -> None:
        if self._dead:
            return
        message = parse_message(text)
        if isinstance(message, Rejected):
            self._reject(message.problem, message.context_id)
        elif isinstance(message, Cancel):
            self._cancel(message.context_id)
        else:
            self._add_piece(message, now)

    def backlogged(self) -> bool:
        """More text waits unspoken than the cap: input should wait for speech."""
        return not self._dead and self._unspoken > self._unspoken_cap

    def replies_full(self) -> bool:
        """So many error replies wait unsent that no more input should be read."""
        return len(self._replies) >= MAX_WAITING_REPLIES

    def refuse(self, why: str) -> None:
        """A message that is not text at all (a binary frame, invalid UTF-8)."""
        if not self._dead:
            self._reject(Problem(400, "Invalid request", why))

    def _add_piece(self, piece: Piece, now: float) -> None:
        if self._unspoken + len(piece.transcript) > self._unspoken_cap * HARD_CAP_FACTOR:
            self._reject(TOO_MUCH_WAITING, piece.context_id)  # ends the context, if it has one
            return
        context = self._contexts.get(piece.context_id)
        if context is None:
            job = self._prepare(piece.job) if self._prepare else piece.job
            if isinstance(job, Problem):  # a deleted voice, an unknown dictionary
                self._reject(job, piece.context_id)
                return
            context = _Context(piece.context_id, job, piece.fixed, piece.buffer_ms / 1000)
            self._contexts[piece.context_id] = context
        elif context.ended:
            if piece.transcript == "" and not piece.more and not piece.flush:
                return  # a second "no more inputs": the context is ending already
            # Said, but the context's accepted text is still spoken: nothing is taken back.
            self._reject(
                Problem(400, "Context closed", "This context has ended; use a new context_id."),
                context.id,
                end=False,
            )
            return
        elif piece.fixed != context.fixed:
            self._reject(
                Problem(
                    400,
                    "Invalid request",
                    "Only transcript, continue and flush may change within a context.",
                ),
                context.id,
            )
            return
        if piece.transcript:
            context.pending.append(piece.transcript)
            self._unspoken += len(piece.transcript)
            if context.pending_since is None:
                context.pending_since = now
        self._after_piece(context, piece)

    def _after_piece(self, context: _Context, piece: Piece) -> None:
        if piece.flush:
            self._release(context)
            self._work.append(_Work(context, "flush_done", flush_id=context.flush_id))
            context.flush_id += 1
        if not piece.more:
            self._release(context)
            self._work.append(_Work(context, "done"))
            context.ended = True
        elif context.delay == 0:
            self._release(context)

    def _release(self, context: _Context) -> None:
        """Move the context's buffered text to the work queue, to be spoken as one utterance."""
        if context.pending:
            text = "".join(context.pending)
            self._work.append(_Work(context, "speak", text, context.flush_id))
        context.pending, context.pending_since = [], None

    def _cancel(self, context_id: str) -> None:
        context = self._contexts.get(context_id)
        if context is None:
            return
        context.ended = True
        dropped = [work for work in self._work if work.context is context]
        self._unspoken -= sum(map(len, context.pending)) + sum(len(w.text) for w in dropped)
        context.pending, context.pending_since = [], None
        self._work = deque(work for work in self._work if work.context is not context)

    # --- output --------------------------------------------------------------------------

    def take(self, now: float) -> list[Out]:
        """What is due by `now`, at most BATCH messages."""
        for context in self._contexts.values():
            since = context.pending_since
            if since is not None and now >= since + context.delay:
                self._release(context)
        out: list[Out] = []
        while self._replies and len(out) < BATCH:
            out.append(self._replies.popleft())
        while len(out) < BATCH and not self._dead and now >= self._stalled_until:
            item = self._next_output(now)
            if item is None:
                break
            out.append(item)
        return out

    def wait(self, now: float) -> float | None:
        """Seconds until take() has something (0: now), or None until a message comes."""
        if self._replies or (not self._dead and (self._speaking or self._work)):
            due = max(self._stalled_until, self._next_chunk_at if self._speaking else 0.0)
            return max(0.0, due - now)
        deadlines = [
            context.pending_since + context.delay
            for context in self._contexts.values()
            if context.pending_since is not None
        ]
        return max(0.0, min(deadlines) - now) if deadlines and not self._dead else None

    def _next_output(self, now: float) -> Out | None:
        if self._held is not None:  # take() calls this only once a stall is over
            held, self._held = self._held, None
            self.chunks_sent += 1
            return held
        while True:
            if self._speaking is None:
                if not self._work:
                    return None
                work = self._work.popleft()
                self._unspoken -= len(work.text)  # being spoken now: its text is let go
                if work.kind != "speak":
                    return Send(self._event(work.context, work.kind, work.flush_id))
                self._speaking = (work.context, self._utterance(work))
            context, events = self._speaking
            if now < self._next_chunk_at:
                return None
            event = next(events, None)
            if event is None:
                self._speaking = None
            elif event.audio:
                return self._chunk_due(context, event, now)
            else:
                return event

    def _chunk_due(self, context: _Context, chunk: Send, now: float) -> Out | None:
        if not self._fault_fired:
            first = self._scenario.name in _BEFORE_AUDIO
            if self.chunks_sent == (0 if first else self._scenario.after_chunks):
                self._fault_fired = True
                if self._scenario.name == "stall":
                    self._stalled_until = now + self._scenario.stall_seconds
                    self._held = chunk
                    return None
                return self._fault(context)
        self.chunks_sent += 1
        if self._interval:
            self._next_chunk_at = now + self._interval
        return chunk

    def _utterance(self, work: _Work) -> Iterator[Send]:
        """The chunk and timestamp events of one utterance of a context's text."""
        context = work.context
        job = replace(context.job, transcript=work.text)
        if not work.text.split():
            return  # nothing to say: spaces alone make no sound
        rate = job.sample_rate
        total, per_chunk = chunk_plan(job, self._plan)
        speech = job_utterance(job, per_chunk)
        words = list(speech.words) if job.add_timestamps else []
        phonemes = phoneme_times(words) if job.add_phoneme_timestamps else []
        offset, sent = context.spoken / rate, 0
        for index, count in enumerate(chunk_sizes(total, per_chunk)):
            audio = chunk_samples(job, self._plan, index, count)
            yield Send(self._chunk(context, audio, work.flush_id), audio)
            sent += count
            context.spoken += count
            until = sent / rate if sent < total else float("inf")
            for kind, key, label, pending in (
                ("timestamps", "word_timestamps", "words", words),
                ("phoneme_timestamps", "phoneme_timestamps", "phonemes", phonemes),
            ):
                ready = take_started(pending, until)
                if ready:
                    block = {key: timed_block(label, ready, offset)}
                    yield Send(self._event(context, kind, work.flush_id, **block))

    # --- events --------------------------------------------------------------------------

    def _chunk(self, context: _Context, audio: bytes, flush_id: int) -> str:
        data = base64.b64encode(audio).decode()
        return self._event(context, "chunk", flush_id, data=data, step_time=12.5)

    def _event(self, context: _Context, kind: str, flush_id: int = 0, **fields: Any) -> str:
        payload: dict[str, Any] = {"type": kind, "context_id": context.id}
        if kind == "done":
            payload.update(done=True, status_code=200)
        elif kind == "flush_done":
            payload.update(done=False, flush_done=True, flush_id=flush_id, status_code=206, data="")
        else:
            payload.update(done=False, status_code=206, flush_id=flush_id)
        payload.update(fields)
        return json.dumps(payload, separators=(",", ":"))

    def _reject(
        self,
        problem: Problem,
        context_id: str | None = None,
        *,
        end: bool = True,
        legacy: bool = False,
    ) -> None:
        """An error event; on a context, it ends that context (unless `end=False`)."""
        payload = error_payload(
            legacy=self._legacy or legacy,
            title=problem.title,
            message=problem.message,
            status=problem.status,
            request_id=self._request_id(),
            error_code=problem.error_code,
        )
        if context_id is not None:
            payload["context_id"] = context_id
            context = self._contexts.get(context_id)
            if context is not None and end:
                self._end(context)
        self._replies.append(Send(json.dumps(payload, separators=(",", ":"))))

    def _end(self, context: _Context) -> None:
        """Nothing more for this context: not its buffer, not its queue, not its utterance."""
        self._cancel(context.id)
        if self._speaking is not None and self._speaking[0] is context:
            self._speaking = None

    # --- faults --------------------------------------------------------------------------

    def _fault(self, context: _Context) -> Out:
        """The scenario's fault, in place of the chunk due now."""
        name = self._scenario.name
        if name in ("error-mid-stream", "error-mid-stream-legacy", "error-before-audio"):
            self._reject(_SERVER_FAILURE, context.id, legacy=name.endswith("legacy"))
            return self._replies.popleft()
        if name == "done-without-audio":
            self._end(context)
            return Send(self._event(context, "done"))
        self._dead = True  # what follows ends the connection's work
        if name in _CONNECTION_FAULTS:
            return _CONNECTION_FAULTS[name]
        self._speaking = None
        self._work.clear()
        if name == "malformed-json":
            fault: Out = Send('{"type":"chunk","data":"AAAA"')
        elif name == "bad-base64":
            fault = Send(self._event(context, "chunk", context.flush_id, data="@@not base64@@"))
        else:  # error-no-context, and any fault with no WebSocket meaning
            self._reject(_SERVER_FAILURE)  # a connection-wide error: no context_id
            fault = self._replies.popleft()
        # Then a clean close, as an SSE body ends: a client waiting for more would
        # otherwise wait for ever on a connection that will never speak again.
        self._replies.append(Close(code=1000))
        return fault


_CONNECTION_FAULTS: dict[str, Out] = {
    "truncated": Close(code=1000),
    "close-1011": Close(code=1011, reason="internal error"),
    "cut": Close(how="cut"),
    "reset": Close(how="reset"),
}
