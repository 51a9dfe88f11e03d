"""Process concerns the entry point owns: descriptors 0-2, signal handling, holding signals.

`launch.py` makes sure descriptors 0-2 are open and installs the handlers before
anything else runs. The life of a stop: the first SIGINT, SIGTERM or SIGHUP
raises (KeyboardInterrupt or StopRequested); until the boundary takes it
(`stop_taken()`), it is raised again every REPEAT_SECONDS, in case Python
dropped it; once taken, further signals are ignored, so a second Ctrl-C cannot
cut the clean-up short. `hold()`/`release()` and `signals_held()` make a step
indivisible (claiming the output file, one write and its count), so a signal
lands before it or after it, never in the middle. `stops_watched()` is for an
event loop: there a stop is not raised where it lands but told to the loop,
which stops its own work at its await points.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # threading loads only when a thread is started: the handlers come first
    import threading

_closed_at_start: frozenset[int] = frozenset()


def open_standard_descriptors() -> None:
    """Put /dev/null on any of descriptors 0-2 that the parent left closed.

    Otherwise the next file or socket opened takes that number: with stdout
    closed, `-o -` would write the audio into the connection to the API.
    """
    global _closed_at_start
    closed = set()
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(fd)
            null = os.open(os.devnull, os.O_RDWR)  # the lowest free number: fd itself
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    _closed_at_start = frozenset(closed)
    if closed:
        _replace_missing_streams()


def closed_at_start() -> frozenset[int]:
    """The descriptors among 0-2 that were closed when the process started."""
    return _closed_at_start


def stdout_reader_gone() -> bool:
    """Is stdout a pipe or socket whose reader has closed it (writes would fail with EPIPE)?"""
    import select

    watcher = select.poll()
    watcher.register(1, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in watcher.poll(0))


def silence_stdout() -> None:
    """Point fd 1 at /dev/null, so the interpreter's last flush cannot fail on a closed pipe."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)


def _replace_missing_streams() -> None:
    # Python leaves sys.std* as None for a descriptor closed at start-up.
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives until exit
    if sys.stdout is None:
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# How often a stop that has not reached the boundary is raised again (see _on_repeat).
REPEAT_SECONDS = 1.0

_installed = False
_holding = False
_pending: int | None = None  # a stop signal that arrived while held
_raised: int | None = None  # the stop signal raised and not yet taken by the boundary
_taken = False
_watcher: Callable[[], None] | None = None  # told of a stop instead of raising it (an event loop)


def install_handlers() -> None:
    """SIGTERM (143) and SIGHUP (129) unwind like Ctrl-C (130): files closed, audio kept."""
    global _installed
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_stop_signal)
    signal.signal(signal.SIGALRM, _on_repeat)
    sys.unraisablehook = _on_unraisable
    _installed = True


def _on_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """A stop raised where Python can only ignore it (a finaliser, a weakref callback).

    Python would print it as "Exception ignored in ..." with a traceback and go
    on; instead the stop is raised again at once, from the next SIGALRM.
    """
    if _raised is not None and _is_stop(unraisable.exc_value):
        if not _taken:
            signal.setitimer(signal.ITIMER_REAL, 0.001, REPEAT_SECONDS)
        return
    sys.__unraisablehook__(unraisable)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _taken or _raised is not None:
        return  # already stopping: a second quick Ctrl-C must not cut the clean-up short
    if _watcher is not None:
        _note_stop(signum)
        _watcher()
        return
    if _holding:
        _pending = _pending or signum
        return
    _raise_stop(signum)


def _on_repeat(signum: int, frame: FrameType | None) -> None:
    """SIGALRM, every REPEAT_SECONDS after a stop was raised, until the boundary takes it.

    Python drops an exception that a signal handler raises inside a finaliser (it
    is only printed), and a run blocked in a read would then never stop. Raising
    the same stop again makes one signal enough, whatever code it landed in.
    """
    global _pending
    if _taken or _raised is None:
        return
    if _holding:
        _pending = _pending or _raised
        return
    raise _stop_for(_raised)


def _raise_stop(signum: int) -> None:
    _note_stop(signum)
    raise _stop_for(signum)


def _note_stop(signum: int) -> None:
    """The stop is under way: its exit code known, and raised again until it is taken."""
    global _raised
    _raised = signum
    if _installed:
        signal.setitimer(signal.ITIMER_REAL, REPEAT_SECONDS, REPEAT_SECONDS)


def hang_up() -> None:
    """The terminal went away under a run (its writes fail with EIO): stop as SIGHUP would.

    The kernel sends SIGHUP only to a terminal's own session; a run whose stderr is
    some other pseudo-terminal (a closed pane, a dropped `script`) learns it from a
    failed write instead, often on the live display's thread. The signal goes to the
    main thread, where it interrupts a blocking read and unwinds the run like a real
    one: audio kept, --json written, exit 129. Once the stop is taken, it is ignored.
    """
    if not _installed or _taken:
        return  # not the real entry point (an in-process test run): leave the host alone
    import threading

    signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGHUP)


def imports_done() -> None:
    """The run has imported what it streams with: collect garbage again from here on.

    launch.py turns the collector off for the start-up of a stream (it only pays
    for scanning fresh modules); what is loaded by now lives until exit, so it is
    frozen out of every later collection.
    """
    gc.freeze()
    gc.enable()


def stop_taken() -> None:
    """The boundary has the stop, or the work is done: no signal may cut what is left short.

    Later stop signals are ignored by the kernel from here on, which also covers
    the interpreter's own shutdown, where a Ctrl-C would print a traceback from
    threading or, once Python has put the default actions back, kill a run that
    succeeded.
    """
    global _taken
    if not _installed:
        return  # not the real entry point (an in-process test run): leave the host alone
    _taken = True
    signal.setitimer(signal.ITIMER_REAL, 0)
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def _stop_for(signum: int) -> BaseException:
    """KeyboardInterrupt for SIGINT, StopRequested (with its exit code) for the others.

    The error classes are looked up, not imported: a signal can land while the
    CLI's first modules are still being imported, and importing from inside the
    handler could then fail. Until they exist, every stop is a
    KeyboardInterrupt, and `stop_exit_code()` still knows which signal it was.
    """
    errors = sys.modules.get("cartesia_cli.errors")
    stop, codes = getattr(errors, "StopRequested", None), getattr(errors, "ExitCode", None)
    if signum == signal.SIGINT or stop is None or codes is None:
        return KeyboardInterrupt()
    return stop(codes.HANGUP if signum == signal.SIGHUP else codes.TERMINATED)  # type: ignore[no-any-return]


def _is_stop(exc: BaseException | None) -> bool:
    errors = sys.modules.get("cartesia_cli.errors")
    stop = getattr(errors, "StopRequested", KeyboardInterrupt)
    return isinstance(exc, KeyboardInterrupt | stop)


def stop_exit_code() -> int:
    """The exit code of the stop signal raised: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP)."""
    return 128 + (_raised if _raised is not None else signal.SIGINT)


def terminate(pid: int) -> None:
    """Ask process `pid` to stop as SIGTERM does (exit 143); gone already is fine.

    For `say --interrupt`, which stops the `say` speaking now, and for a helper
    we started (a player): signals are this module's and launch.py's alone. A
    stopped process (Ctrl-Z, SIGSTOP) only acts on SIGTERM once continued, so
    SIGCONT follows: the SIGTERM is pending by then and is taken first.
    """
    import contextlib

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGCONT)


def ends_with_us() -> Callable[[], None] | None:
    """A hook for `subprocess.Popen(preexec_fn=…)`: the child gets SIGTERM when we die.

    Linux only (prctl PR_SET_PDEATHSIG; elsewhere None): a player must not play
    on after its `say` was killed (SIGKILL runs no clean-up of ours), over the
    next one. The kernel sends it when the thread that started the child ends,
    so it is offered to the main thread only. The hook runs in the child between
    fork and exec: it only calls what was looked up here.
    """
    import threading

    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent, set_death_signal, term = os.getpid(), 1, int(signal.SIGTERM)

    def hook() -> None:
        prctl(set_death_signal, term)
        if os.getppid() != parent:  # we died before the child asked: go now
            os.kill(os.getpid(), term)

    return hook


def start_thread(thread: threading.Thread) -> None:
    """Start a helper thread that never takes a stop signal from the main thread.

    The kernel may deliver a process-directed signal to any thread that does not
    block it. Taken by a helper, it would not interrupt the main thread's blocking
    read, so the Python handler would not run until that read ended (a SIGTERM
    seen "lost" while waiting for response headers). A thread inherits the signal
    mask of the thread that starts it, so the mask is set around `start()`; a
    signal arriving meanwhile stays pending and reaches the main thread after.
    """
    stops = {*STOP_SIGNALS, signal.SIGALRM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def stops_blocked_here() -> Iterator[None]:
    """A block that starts threads (a library's own): they never take a stop signal.

    The same mask as `start_thread`, for threads started where we cannot reach the
    `start()` call (the WebSocket client's reader). A signal arriving meanwhile stays
    pending and reaches the main thread at the end of the block.
    """
    stops = {*STOP_SIGNALS, signal.SIGALRM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def hold() -> None:
    """Hold stop signals back until `release()`: for steps that must not be cut in two.

    Python runs signal handlers in the main thread, whichever thread the kernel
    delivered the signal to, so a flag the handler reads is enough (a signal
    mask would hold back only this thread's share). Only for steps that cannot
    block: a held signal cannot interrupt a wait.
    """
    global _holding
    _holding = True


def release() -> None:
    """End a `hold()`; a stop signal that arrived meanwhile is raised now."""
    global _holding, _pending
    _holding = False
    if _pending is not None:
        signum, _pending = _pending, None
        _raise_stop(signum)


@contextmanager
def signals_held() -> Iterator[None]:
    """`hold()` for a block: a stop signal takes effect only at its end."""
    hold()
    try:
        yield
    finally:
        release()


@contextmanager
def stops_watched(notice: Callable[[], None]) -> Iterator[None]:
    """In the block, a stop signal calls `notice()` instead of raising where it lands.

    For an event loop running many tasks: raised, the stop lands in whichever
    task or loop callback was running, and ends that task alone, or the loop with
    the other tasks still pending, so their clean-up and their reports never run.
    `notice` runs inside the signal handler, so it only schedules (with
    `loop.call_soon_threadsafe`); the loop then cancels its tasks at their await
    points, awaits them all, and takes the stop (`stop_taken()`). A loop stuck in
    a step that does not await cannot see the notice: REPEAT_SECONDS later the
    stop is raised there, as outside the block (holds respected).
    """
    global _watcher
    _watcher = notice
    try:
        yield
    finally:
        _watcher = None
