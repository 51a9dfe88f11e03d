"""One chapter of `narrate`: its missing paragraphs said over one WebSocket, each kept as a part.

Paragraphs are said in order, each voicing in a context of its own
(api/ws_chapter.py); each paragraph's audio goes to a part file as it comes
and is named (complete) when its flush is answered. A failure the API may not
meet again (a dropped connection, an idle timeout, a 5xx, a 429) is retried
up to --retries times after a backoff, with only the paragraphs still missing:
what was finished is never said again. A 429 while other chapters are speaking
lowers the run's concurrency instead (as a batch does) and the chapter waits its
turn under the new limit: that costs no retry. A refusal (a voice the API does not
know: 404) fails the chapter at once with the API's words; an authentication
failure or a disk that cannot be written fails the whole run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from cartesia_cli.api import retry
from cartesia_cli.api.contract import ApiConfig
from cartesia_cli.api.events import WordTimestamps
from cartesia_cli.api.ws_chapter import ChapterSocket, PartAudio, PartDone, PartWords, Said
from cartesia_cli.errors import AuthError, CliError, OutputError, RequestRejected, StreamError
from cartesia_cli.jobs.narration import NarratePlan, Part
from cartesia_cli.output.book_parts import PartsFolder, PartWriter, Word
from cartesia_cli.ui.console import console

TOO_MANY = 429


class ChapterHooks:
    """What the run hears from a chapter: audio as it comes, parts as they complete, the
    socket in use (so a stop can end it), and whether the run is stopping."""

    def __init__(
        self,
        *,
        audio: Callable[[int], None],
        done: Callable[[Part, int], None],
        socket: Callable[[ChapterSocket | None], None],
        stop: threading.Event,
        refused: Callable[[int], bool] | None = None,
    ) -> None:
        self.audio, self.done, self.socket, self.stop = audio, done, socket, stop
        # A 429: whether the run's concurrency came down for it (then the chapter waits
        # its turn under the new limit, the argument's refusals so far spreading the wait).
        self.refused = refused


def speak_chapter(
    planned: NarratePlan, parts: Sequence[Part], api: ApiConfig, hooks: ChapterHooks
) -> None:
    """Say `parts` (a chapter's missing ones, in order); raise its failure after the retries."""
    store = PartsFolder(planned.folder)
    remaining = _unique(parts)
    tries = refusals = 0
    while remaining:
        try:
            _attempt(planned, remaining, api, store, hooks)
            return
        except CliError as failure:
            if hooks.stop.is_set():
                raise
            if _over_the_limit(failure) and hooks.refused is not None and hooks.refused(refusals):
                refusals += 1  # ours to fix, and fixed: not a retry spent
                continue
            if not _worth_retrying(failure) or tries >= api.retries:
                raise
            delay = retry.retry_delay(tries)
            tries += 1
            console.debug_line(f"chapter retry {tries} in {delay:.2f} s after: {failure.message}")
            if hooks.stop.wait(delay):
                raise
        finally:
            remaining = [part for part in remaining if part.key not in _said(store, remaining)]


def _attempt(
    planned: NarratePlan,
    parts: Sequence[Part],
    api: ApiConfig,
    store: PartsFolder,
    hooks: ChapterHooks,
) -> None:
    by_index = dict(enumerate(parts))
    said = [
        Said(i, part.voicing, planned.voicings[part.voicing].fields, part.paragraph.pieces())
        for i, part in by_index.items()
    ]
    socket = ChapterSocket(api, buffer_ms=0, debug=console.debug_log())
    writers: dict[int, PartWriter] = {}
    hooks.socket(socket)
    try:
        if hooks.stop.is_set():
            raise StreamError("cancelled")
        for event in socket.speak(said, bytes_per_second=planned.bytes_per_second):
            part = by_index[event.item]
            assert part.key is not None  # a run has every voice as an id
            if isinstance(event, PartAudio):
                writers.setdefault(event.item, store.writer(part.key)).write(event.audio)
                hooks.audio(len(event.audio))
            elif isinstance(event, PartWords):
                writer = writers.setdefault(event.item, store.writer(part.key))
                writer.add_words(_words(event.words))
            elif isinstance(event, PartDone):
                found = writers.pop(event.item, None)
                writer = found if found is not None else store.writer(part.key)
                hooks.done(part, writer.commit())
    finally:
        hooks.socket(None)
        for writer in writers.values():
            writer.abandon()


def _worth_retrying(failure: CliError) -> bool:
    if isinstance(failure, AuthError | OutputError):
        return False
    if isinstance(failure, RequestRejected):
        return failure.status is not None and retry.should_retry(failure.status, {})
    return True  # the network, the stream, a server error


def _over_the_limit(failure: CliError) -> bool:
    """A 429: over the WebSocket, the plan's concurrency limit (its only limit on TTS)."""
    return isinstance(failure, RequestRejected) and failure.status == TOO_MANY


def _unique(parts: Sequence[Part]) -> list[Part]:
    """Each part once: a paragraph said twice the same way is paid for once."""
    seen: set[str | None] = set()
    unique = []
    for part in parts:
        if part.key not in seen:
            seen.add(part.key)
            unique.append(part)
    return unique


def _said(store: PartsFolder, parts: Sequence[Part]) -> set[str]:
    return {p.key for p in parts if p.key is not None and store.size(p.key) is not None}


def _words(words: WordTimestamps) -> list[Word]:
    return [Word(*item) for item in zip(words.words, words.start, words.end, strict=False)]
