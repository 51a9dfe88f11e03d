"""A chapter over the TTS WebSocket: several contexts on one connection, a flush per paragraph.

`narrate` speaks a chapter's paragraphs in order on one connection. Each voicing
(a voice and its settings: the narrator, each speaker of the cast) has a context
of its own, opened when it first speaks and fed with `continue: true` whenever
it speaks again, so its prosody runs on across its paragraphs. After each
paragraph's text comes a flush: the audio and word timestamps the server sends
for a context before that flush's `flush_done` are that paragraph's, and the
`flush_done` says the paragraph is complete. Contexts carry their own ids, so
audio is mapped by context and by order within it (and checked against the
events' `flush_id` when they carry one).

The connection (its proxy, TLS, upgrade and retries before any text) is
`ws_client.WsClient`'s. As there: writes go through a thread of their own, the
idle timeout counts only while the server owes us audio, and no more than
MAX_AHEAD characters are sent ahead of the audio. The stream ends normally
once every paragraph's flush is answered and every context has said `done`
(or CLOSE_SECONDS after the last flush, for a server that never says it).
Any other ending raises a CliError; the paragraphs whose `PartDone` came
before it are complete.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from cartesia_cli import process
from cartesia_cli.api import contract, protocol
from cartesia_cli.api.events import AudioChunk, Done, ErrorEvent, WordTimestamps, parse_event
from cartesia_cli.api.ws_client import (
    CLOSE_SECONDS,
    POLL_SECONDS,
    WsClient,
    _closed_failure,
    _Gone,
)
from cartesia_cli.errors import StreamError

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

# Characters sent whose audio has not all come: a minute or so of speech ahead.
MAX_AHEAD = 1000
BUFFER_MS = 3000  # the flush after each paragraph releases its text; this only bounds a wait


class Said(NamedTuple):
    """One paragraph to speak: `voicing` names its context (same voicing, same context)."""

    item: int  # the caller's number for it, handed back in its events
    voicing: str
    fields: Mapping[str, Any]  # the request body but transcript, continue, flush, context_id
    pieces: Sequence[str]


class PartAudio(NamedTuple):
    item: int
    audio: bytes


class PartWords(NamedTuple):
    """Word times in seconds from the start of the paragraph's own audio."""

    item: int
    words: WordTimestamps


class PartDone(NamedTuple):
    item: int


PartEvent = PartAudio | PartWords | PartDone


class _Context:
    def __init__(self, fields: Mapping[str, Any]) -> None:
        self.id = str(uuid.uuid4())
        self.base = {**fields, "context_id": self.id, "max_buffer_delay_ms": BUFFER_MS}
        self.waiting: deque[int] = deque()  # paragraphs flushed, in order, not yet answered
        self.answered = 0  # flushes answered
        self.received = 0  # audio bytes received
        self.head_start = 0  # `received` when the paragraph at the head began
        self.ending = False  # its last message (`continue: false`) is going or gone
        self.done = False


class _State:
    """What the sender and the receiver share, under one condition."""

    def __init__(self, bytes_per_second: float) -> None:
        self.changed = threading.Condition()
        self.contexts: dict[str, _Context] = {}  # by voicing
        self.by_id: dict[str, _Context] = {}
        self.ahead = 0  # characters sent whose flush is not answered
        self.sizes: dict[int, int] = {}  # characters of each paragraph in flight
        self.finished_sending = False
        self.failure: BaseException | None = None
        self.bytes_per_second = bytes_per_second

    def in_flight(self) -> bool:
        return any(context.waiting for context in self.contexts.values())


class ChapterSocket(WsClient):
    """One chapter's paragraphs on one connection (made by WsClient's `_connect`)."""

    def speak(
        self, said: Sequence[Said], *, bytes_per_second: float
    ) -> Generator[PartEvent, None, None]:
        """Speak `said` in order; yield each paragraph's audio, words and completion."""
        connection = self._connect()
        state = _State(bytes_per_second)
        thread = threading.Thread(
            target=self._feed, args=(connection, said, state), name="ws-sender", daemon=True
        )
        process.start_thread(thread)
        stopped = False
        try:
            yield from self._hear(connection, state)
        except BaseException as exc:
            stopped = not isinstance(exc, Exception)
            self._cancel_all(connection, state)
            raise
        finally:
            self._close(connection, stopped=stopped)

    def stop(self) -> None:
        """Called from another thread: the run ends at its next step (raising a StreamError)."""
        self.cancelled = True

    # --- sending ------------------------------------------------------------------------

    def _feed(self, connection: ClientConnection, said: Sequence[Said], state: _State) -> None:
        try:
            for paragraph in said:
                size = sum(map(len, paragraph.pieces))
                with state.changed:
                    while state.ahead and state.ahead + size > MAX_AHEAD and not self.cancelled:
                        state.changed.wait(POLL_SECONDS)
                    context = state.contexts.get(paragraph.voicing)
                    if context is None:
                        context = state.contexts[paragraph.voicing] = _Context(paragraph.fields)
                        state.by_id[context.id] = context
                    context.waiting.append(paragraph.item)
                    state.ahead += size
                    state.sizes[paragraph.item] = size
                for piece in paragraph.pieces:
                    self._send(connection, {**context.base, "transcript": piece, "continue": True})
                flush = {**context.base, "transcript": "", "continue": True, "flush": True}
                self._send(connection, flush)
            with state.changed:
                state.finished_sending = True
                for context in state.contexts.values():
                    context.ending = True
            for context in list(state.contexts.values()):
                self._send(connection, {**context.base, "transcript": "", "continue": False})
        except Exception as exc:  # the connection gone, or cancelled
            state.failure = exc
        finally:
            with state.changed:
                state.changed.notify_all()

    # --- receiving ----------------------------------------------------------------------

    def _hear(
        self, connection: ClientConnection, state: _State
    ) -> Generator[PartEvent, None, None]:
        from websockets.exceptions import ConnectionClosed

        idle = self._config.idle_timeout
        progress = time.monotonic()
        all_answered_at: float | None = None
        while True:
            if self.cancelled:
                raise StreamError("cancelled")
            self._raise_failure(state)
            now = time.monotonic()
            with state.changed:
                answered = state.finished_sending and not state.in_flight()
                ended = answered and all(c.done for c in state.contexts.values())
                owed = state.in_flight() or (state.finished_sending and not ended)
            if ended:
                return
            if answered:  # every paragraph in: `done` is a courtesy, waited for briefly
                all_answered_at = all_answered_at or now
                if now >= all_answered_at + CLOSE_SECONDS:
                    return
            if not owed:
                progress = now
            elif now >= progress + idle:
                raise contract.idle_failure(self._config, "audio")
            try:
                raw = connection.recv(timeout=min(POLL_SECONDS, max(progress + idle - now, 0.01)))
            except TimeoutError:
                continue
            except ConnectionClosed as closed:
                if answered:
                    return  # all audio is in; the server closed instead of saying `done`
                raise _closed_failure(closed) from None
            event = self._taken(raw, state)
            if event is not None:
                progress = time.monotonic()
                yield event

    def _taken(self, raw: str | bytes, state: _State) -> PartEvent | None:
        """One server message as a paragraph's event (None: nothing for the caller)."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        event = parse_event("", text)  # malformed JSON or base64 raises a StreamError
        message: dict[str, Any] = json.loads(text)
        context = state.by_id.get(message.get("context_id"))  # type: ignore[arg-type]
        if isinstance(event, ErrorEvent):
            if context is not None or message.get("context_id") is None:
                raise protocol.error_event_failure(
                    event.message, event.request_id, title=event.title, status=event.status_code
                )
            return None
        if context is None:
            return None
        if message.get("type") == "flush_done":
            return self._answered(context, state)
        if isinstance(event, Done):
            if not context.ending:
                raise StreamError("the server sent `done` before the end of the text")
            context.done = True
            return None
        if not isinstance(event, AudioChunk | WordTimestamps):
            return None
        index = self._head(context, message)
        if isinstance(event, AudioChunk):
            context.received += len(event.audio)
            return PartAudio(index, event.audio)
        return PartWords(index, self._shifted(event, context, state))

    def _head(self, context: _Context, message: Mapping[str, Any]) -> int:
        """The paragraph the context's audio belongs to now: the oldest unanswered flush's."""
        if not context.waiting:
            raise StreamError("the server sent audio after the last paragraph's flush was answered")
        flush_id = message.get("flush_id")
        if isinstance(flush_id, int) and flush_id != context.answered + 1:
            raise StreamError(
                f"the server sent audio for flush {flush_id} while flush"
                f" {context.answered + 1} was due (audio out of order)"
            )
        return context.waiting[0]

    def _answered(self, context: _Context, state: _State) -> PartEvent | None:
        with state.changed:
            if not context.waiting:
                return None  # answers no flush of ours
            index = context.waiting.popleft()
            context.answered += 1
            context.head_start = context.received
            state.ahead -= state.sizes.pop(index, 0)
            state.changed.notify_all()
        return PartDone(index)

    @staticmethod
    def _shifted(words: WordTimestamps, context: _Context, state: _State) -> WordTimestamps:
        """Times from the paragraph's start. A continued context may count them from the
        context's start (the fake does): then the audio received before it is taken off."""
        offset = context.head_start / state.bytes_per_second if state.bytes_per_second else 0.0
        if offset and words.start and min(words.start) >= offset - 0.05:
            start = tuple(max(0.0, t - offset) for t in words.start)
            end = tuple(max(0.0, t - offset) for t in words.end)
            return words._replace(start=start, end=end)
        return words

    def _raise_failure(self, state: _State) -> None:
        failure = state.failure
        if failure is None:
            return
        from websockets.exceptions import ConnectionClosed

        if isinstance(failure, ConnectionClosed | _Gone):
            return  # the receiver meets the connection's end itself, and says how it ended
        if isinstance(failure, StreamError) and self.cancelled:
            raise failure
        raise StreamError(f"could not send to the server: {failure}")

    # --- ending -------------------------------------------------------------------------

    def _cancel_all(self, connection: ClientConnection, state: _State) -> None:
        self.cancelled = True
        with state.changed:
            state.changed.notify_all()
            ids = [context.id for context in state.contexts.values() if not context.done]
        for context_id in ids:
            self._cancel(connection, context_id)
