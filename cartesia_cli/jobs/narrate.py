"""`narrate`, start to end: the plan, the estimate or the run, the book assembled, the summary.

The run: chapters with something to say are taken in book order by up to
--concurrency workers (threads; each chapter on a WebSocket of its own). The
main thread keeps the progress display and the manifest, and takes the stop
signals: a Ctrl-C or SIGTERM ends every chapter's connection, waits for the
workers (each leaves only complete parts), writes the manifest and exits 130
or 143. A chapter that fails is reported and the others go on; at the end the
run exits with the most severe chapter failure's code (the batch's order: 1,
3, 7, 5, 6, 4) and names what is missing and how to resume. A failure no
chapter could escape (authentication, a disk that cannot be written) stops
them all.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from cartesia_cli import process
from cartesia_cli.api import retry
from cartesia_cli.api.ws_chapter import ChapterSocket
from cartesia_cli.errors import (
    AuthError,
    CliError,
    ExitCode,
    Interrupted,
    OutputError,
    StopRequested,
    internal_error,
    stop_word,
)
from cartesia_cli.jobs import narrate_assembly, narrate_plan, narrate_report
from cartesia_cli.jobs.context import api_config, config_file, load_config
from cartesia_cli.jobs.estimate import billed_characters
from cartesia_cli.jobs.narrate_assembly import Built
from cartesia_cli.jobs.narrate_chapter import ChapterHooks, speak_chapter
from cartesia_cli.jobs.narrate_manifest import MANIFEST, ManifestWriter, RunState, build
from cartesia_cli.jobs.narrate_report import Outcome
from cartesia_cli.jobs.narration import NarrateOptions, NarratePlan, Part
from cartesia_cli.output.book_parts import PARTS, PartsFolder
from cartesia_cli.output.pcm_concat import DamagedPart
from cartesia_cli.settings.resolve import resolve
from cartesia_cli.ui import narrate_display
from cartesia_cli.ui.console import console
from cartesia_cli.ui.narrate_display import NarrateProgress

ASSEMBLY_ROUNDS = 3  # made, found damaged parts and said them again: at most this often
JOIN_SECONDS = 0.2  # how often the main thread looks up from waiting (display, manifest)
M_ARENA_MAX = -8  # glibc's mallopt parameter: how many malloc arenas the threads may have
MALLOC_ARENAS = 2  # the main thread's and one for every chapter's thread


def narrate(options: NarrateOptions) -> None:
    """Run the command; raise a CliError (with its --json object when asked) on failure."""
    console.configure(quiet=options.quiet, debug=options.debug)
    outcome = Outcome(options)
    try:
        _narrate(options, outcome)
    except (KeyboardInterrupt, StopRequested) as stop:
        process.stop_taken()
        code = stop.exit_code if isinstance(stop, StopRequested) else ExitCode.INTERRUPTED
        failure: CliError = Interrupted(stop_word(code), code)
        _attach(options, outcome, failure)
        raise failure from None
    except CliError as failure:
        _attach(options, outcome, failure)
        raise
    except Exception as exc:
        bug = internal_error(exc)
        _attach(options, outcome, bug)
        raise bug from exc


def _attach(options: NarrateOptions, outcome: Outcome, failure: CliError) -> None:
    if failure.hint is None and outcome.resumable:
        failure.hint = outcome.resume_hint()
    if options.json:
        failure.result_json = (narrate_report.json_text(outcome, failure), True)


def _narrate(options: NarrateOptions, outcome: Outcome) -> None:
    stdin = sys.stdin.buffer if sys.stdin is not None else None
    planned = narrate_plan.plan(options, stdin)
    outcome.plan = planned
    if options.estimate:
        narrate_report.show_estimate(planned)
        return
    narrate_report.check_credits(planned)  # before any request, names' look-ups included
    if any(planned.missing()):
        resolve(options.given, os.environ, load_config(config_file()))  # the key, or exit 3
        planned = outcome.plan = narrate_plan.with_voices(planned)
    parts = PartsFolder(planned.folder)
    planned.folder.mkdir(exist_ok=True)
    parts.prepare()
    with parts.locked():
        parts.clean({MANIFEST, *narrate_assembly.own_names(planned)})  # a killed run's
        _run(planned, outcome)
    narrate_report.finish(outcome)


def _run(planned: NarratePlan, outcome: Outcome) -> None:
    state = _Shared(planned)
    outcome.state = state
    writer = ManifestWriter(planned.folder / MANIFEST, state.manifest)
    writer.write(now=True)
    outcome.resumable = True
    _say_missing(planned, state, writer)
    built = _assemble(planned, state, writer)
    with state.lock:
        state.built = built
    writer.write(now=True)
    for name in narrate_assembly.remove_other_format(planned, built):
        console.info(f"removed {planned.folder / name} (made before in another format)")


def _say_missing(planned: NarratePlan, state: _Shared, writer: ManifestWriter) -> None:
    sizes = state.sizes_now()
    work = [
        (i, missing)
        for i, parts in enumerate(planned.chapters)
        if (missing := [p for p in parts if p.key not in sizes])
    ]
    if work:
        try:
            _speak(planned, work, state, writer)
        finally:
            _settle(writer)


def _assemble(planned: NarratePlan, state: _Shared, writer: ManifestWriter) -> Built:
    """The files made; a part found not to be the audio received is removed and said again
    (every such part at once), then the files are made again: never from such a part."""
    for _ in range(ASSEMBLY_ROUNDS):
        try:
            return narrate_assembly.assemble(planned, state.sizes_now())
        except DamagedPart as first:
            sizes = state.sizes_now()
            keys = [p.key for parts in planned.chapters for p in parts if p.key in sizes]
            bad = narrate_assembly.damaged(planned, keys) or [first.path.stem]
            _forget(planned, state, bad)
            resolve(planned.options.given, os.environ, load_config(config_file()))  # or exit 3
            _say_missing(planned, state, writer)
    raise OutputError(
        f"parts in {planned.folder / PARTS} keep changing while the book is made;"
        " make sure nothing else writes there, and run again"
    )


def _forget(planned: NarratePlan, state: _Shared, keys: list[str]) -> None:
    store = PartsFolder(planned.folder)
    where = {p.key: p for parts in planned.chapters for p in parts}
    for key in keys:
        store.remove(key)
        with state.lock:
            state.sizes.pop(key, None)
        part = where.get(key)
        said = f"chapter {part.chapter + 1}, paragraph {part.number + 1}" if part else key[:12]
        console.warning(
            f"the audio kept for {said} is not what was received (changed or replaced"
            " in .parts); it was removed and is said again"
        )


def _settle(writer: ManifestWriter) -> None:
    """The manifest as the parts are now, whatever ended the run (a stop: signals held)."""
    try:
        with process.signals_held():
            writer.write(now=True)
    except OutputError as exc:
        console.warning(f"the manifest could not be updated: {exc.message}")


def _speak(
    planned: NarratePlan, work: list[tuple[int, list[Part]]], state: _Shared, writer: ManifestWriter
) -> None:
    api = api_config(planned.settings)
    characters = sum(billed_characters(p.paragraph.text) for _, parts in work for p in parts)
    progress = NarrateProgress(
        chapters=len(work), characters=characters, bytes_per_second=planned.bytes_per_second
    )
    state.progress = progress
    _few_malloc_arenas()
    chapters: queue.Queue[tuple[int, list[Part]]] = queue.Queue()
    for item in work:
        chapters.put(item)
    workers = [
        threading.Thread(
            target=state.worker, args=(chapters, api), name=f"chapter-{n}", daemon=True
        )
        for n in range(min(planned.options.concurrency, len(work)))
    ]
    with narrate_display.shown(progress), _stopping(state):
        for thread in workers:
            process.start_thread(thread)
        while any(thread.is_alive() for thread in workers):
            for thread in workers:
                thread.join(JOIN_SECONDS)
            writer.write()
            if state.fatal is not None:
                state.stop_all()
    if state.fatal is not None:
        raise state.fatal
    if state.limit < planned.options.concurrency:
        console.info(
            f"the server refused chapters over its concurrency limit: the book went on"
            f" {state.limit} at a time (--concurrency {state.limit} starts there)"
        )


def _few_malloc_arenas() -> None:
    """The chapters' threads share one malloc arena (glibc's, on Linux), before they start.

    glibc gives each new thread an arena of its own, and a chapter's freed buffers
    (frames, audio, words) stay in its thread's arena: with three workers that is
    ~5 MB more for a long book than for a short one, for nothing. Shared, they reuse
    each other's freed memory; the contention is nil next to a WebSocket's pace.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without mallopt: nothing to tune
        return
    mallopt(M_ARENA_MAX, MALLOC_ARENAS)


@contextmanager
def _stopping(state: _Shared) -> Iterator[None]:
    """A stop (signal) ends every chapter and waits for their workers before going on up."""
    try:
        yield
    except BaseException:
        state.stop_all()
        state.wait_for_workers()
        raise


class _Shared:
    """What the workers and the main thread share: parts done, failures, sockets in use."""

    def __init__(self, planned: NarratePlan) -> None:
        self.planned = planned
        self.lock = threading.Lock()
        self.sizes: dict[str, int] = dict(planned.present)
        self.failed: dict[int, CliError] = {}
        self.said: dict[int, int] = {}  # chapter -> paragraphs said this run
        self.characters_billed = 0
        self.built: Built | None = None
        self.fatal: CliError | None = None
        self.stop = threading.Event()
        self.sockets: set[ChapterSocket] = set()
        self.running = 0
        self.idle = threading.Condition(self.lock)
        self.progress: NarrateProgress | None = None
        self.limit = planned.options.concurrency  # chapters speaking at once; lowered by 429s
        self.speaking = 0

    def sizes_now(self) -> dict[str, int]:
        with self.lock:
            return dict(self.sizes)

    def manifest(self) -> Mapping[str, Any]:
        with self.lock:
            failed = {index: error.message for index, error in self.failed.items()}
            run = RunState(dict(self.sizes), failed, self.built)
        return build(self.planned, run, narrate_plan.recorded_names(self.planned))

    def stop_all(self) -> None:
        self.stop.set()
        with self.lock:
            for socket in self.sockets:
                socket.stop()

    def wait_for_workers(self) -> None:
        with self.idle:
            while self.running:
                self.idle.wait(JOIN_SECONDS)

    def worker(self, chapters: queue.Queue[tuple[int, list[Part]]], api: Any) -> None:
        with self.lock:
            self.running += 1
        try:
            while not self.stop.is_set():
                try:
                    index, parts = chapters.get_nowait()
                except queue.Empty:
                    return
                self._take_place()
                try:
                    self._chapter(index, parts, api)
                finally:
                    self._give_place()
        finally:
            with self.idle:
                self.running -= 1
                self.idle.notify_all()

    def _take_place(self) -> None:
        """Wait until fewer chapters speak than the limit allows (or the run stops)."""
        with self.idle:
            while self.speaking >= self.limit and not self.stop.is_set():
                self.idle.wait(JOIN_SECONDS)
            self.speaking += 1

    def _give_place(self) -> None:
        with self.idle:
            self.speaking -= 1
            self.idle.notify_all()

    def refused(self, refusals: int) -> bool:
        """A chapter got a 429: lower the limit as a batch does (retry.lowered_limit), then
        that chapter waits out a spread pause and its turn. False: no other chapter was
        speaking, so the limit is not ours to fix (the chapter retries as after a 5xx)."""
        with self.lock:
            lowered = retry.lowered_limit(self.limit, self.speaking)
            if lowered is None:
                return False
            self.limit = lowered
        console.debug_line(f"over the server's concurrency limit: {lowered} chapters at once")
        self._give_place()
        self.stop.wait(retry.retry_delay(refusals, spread=True))
        self._take_place()
        return True

    def _chapter(self, index: int, parts: list[Part], api: Any) -> None:
        hooks = ChapterHooks(
            audio=self._audio, done=self._done, socket=self._socket_hook(), stop=self.stop,
            refused=self.refused,
        )  # fmt: skip
        try:
            speak_chapter(self.planned, parts, api, hooks)
        except CliError as failure:
            if self.stop.is_set() and self.fatal is None:
                return  # stopped: not a failure of the chapter's
            with self.lock:
                self.failed[index] = failure
                if self.progress is not None:
                    self.progress.chapters_failed += 1
                if isinstance(failure, AuthError | OutputError) and self.fatal is None:
                    self.fatal = failure
            if not isinstance(failure, AuthError | OutputError):
                title = self.planned.book.chapters[index].title
                console.warning(f"chapter {index + 1} ({title}) failed: {failure.message}")
            return
        except Exception as exc:  # a bug: reported as the chapter's failure, exit 1
            with self.lock:
                self.failed[index] = internal_error(exc)
            return
        self._chapter_done(index)

    def _chapter_done(self, index: int) -> None:
        planned = self.planned
        with self.lock:
            said = self.said.get(index, 0)
            size = sum(self.sizes.get(p.key or "", 0) for p in planned.chapters[index])
            if self.progress is not None:
                self.progress.chapters_done += 1
        if not console.wants_live_display():
            title = planned.book.chapters[index].title
            seconds = size / planned.bytes_per_second
            total = len(planned.chapters)
            line = narrate_display.chapter_line(index + 1, total, title, seconds=seconds, said=said)
            console.info(line)

    def _audio(self, size: int) -> None:
        if self.progress is not None:
            with self.lock:
                self.progress.audio_bytes += size

    def _done(self, part: Part, size: int) -> None:
        assert part.key is not None
        billed = billed_characters(part.paragraph.text)
        with self.lock:
            self.sizes[part.key] = size
            self.said[part.chapter] = self.said.get(part.chapter, 0) + 1
            self.characters_billed += billed
            if self.progress is not None:
                self.progress.characters += billed

    def _socket_hook(self) -> Callable[[ChapterSocket | None], None]:
        """A chapter's socket kept where a stop can reach it, for as long as it is in use."""
        current: list[ChapterSocket] = []

        def hook(socket: ChapterSocket | None) -> None:
            with self.lock:
                for old in current:
                    self.sockets.discard(old)
                current.clear()
                if socket is not None:
                    current.append(socket)
                    self.sockets.add(socket)
                    if self.stop.is_set():
                        socket.stop()

        return hook
