"""`say`'s place in the speech queue (`output/speech_queue.py`), for `jobs/speak.py`.

The queue covers the request and the playing: a `say` takes its ticket once
every local check has passed, waits for its turn, then asks for the audio and
plays it, and lets the next one go when its player has finished. (Asking
while waiting would start the sound a little sooner, but would hold a
connection open for as long as the wait, and pay for audio that a timeout,
a Ctrl-C or an interruption then throws away.)

With --no-wait the ticket is taken here, in the order of arrival, and handed
to a copy of the command started in a session of its own, which waits, asks
and plays; this one returns at once. Text from stdin goes to the copy in a
file (removed already: only the two processes can read it); the copy's lines
go to `say.log` in the runtime folder, each tagged with the time, the ticket
and the copy's pid.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from cartesia_cli import process
from cartesia_cli.errors import CliError, OutputError, UsageError
from cartesia_cli.input.transcript import STDIN
from cartesia_cli.jobs.job import TtsJob
from cartesia_cli.jobs.speak import Turn, refuse
from cartesia_cli.output.player import held_by_players
from cartesia_cli.output.sinks import check_output, is_stdout
from cartesia_cli.output.speech_queue import QUEUE_FOLDER, SpeechQueue, Ticket, runtime_dir
from cartesia_cli.ui.console import console, isatty

TICKET_VAR = "_CARTESIA_CLI_SPEECH_TICKET"  # "NAME:FD": the ticket a --no-wait parent took
LOG_NAME = "say.log"
LOG_LIMIT = 1 << 20  # bytes: a longer log is started afresh by the next --no-wait


class Queueing(NamedTuple):
    """How a `say` takes its place: --interrupt, --no-wait, --queue-timeout."""

    interrupt: bool
    no_wait: bool
    timeout: float  # seconds, for the turn (and for the ticket, taken in a moment)


def turn(job: TtsJob, queueing: Queueing, argv: Sequence[str]) -> Turn:
    """The turn `job` speaks in; with --no-wait, first the checks that need this process.

    A failure here is the job's (with its --json object when asked for one).
    """
    try:
        return _turn(job, queueing, argv)
    except CliError as failure:
        refuse(job, failure)
        raise


def _turn(job: TtsJob, queueing: Queueing, argv: Sequence[str]) -> Turn:
    inherited = os.environ.pop(TICKET_VAR, None) if queueing.no_wait else None
    if inherited is not None:  # the copy a --no-wait started: it waits here, in its place
        return lambda: _in_turn(queueing, inherited, None)
    if not queueing.no_wait:
        return lambda: _in_turn(queueing, None, job)
    _check_detachable(job)
    stdin_text = _stdin_kept(job)
    return lambda: _handed_off(job, queueing, argv, stdin_text)


def _check_output(job: TtsJob) -> None:
    """The output's checks, once the plan's are made and before a place is taken: the file
    is claimed only when the turn comes (or in the --no-wait copy), but a folder that is
    not there is said now, not after the wait (nor only in say.log)."""
    options = job.options
    if options.output is not None and not is_stdout(options.output):
        check_output(options.output, force=options.force, stdout_is_tty=False)


@contextlib.contextmanager
def _in_turn(queueing: Queueing, inherited: str | None, job: TtsJob | None) -> Iterator[bool]:
    """Wait for the turn (bounded), speak, then let the next one go, whatever happened.

    `job`: the output is checked first (the copy a --no-wait started passes None: its
    parent checked it; the claim checks again).
    """
    if job is not None:
        _check_output(job)
    queue = _queue()
    with process.signals_held():  # a ticket taken is always released below
        ticket = _adopted(queue, inherited) or queue.take(
            interrupt=queueing.interrupt, timeout=queueing.timeout
        )
    speaking = None
    try:
        speaking = queue.wait_turn(ticket, queueing.timeout, lambda: _waiting(queueing))
        with held_by_players(speaking):  # the next turn waits for our player's end too
            yield True
    finally:
        with process.signals_held():
            queue.release(ticket, speaking)


def _waiting(queueing: Queueing) -> None:
    if queueing.interrupt:
        console.info("stopping the speech before this one")
    else:
        console.info(f"waiting for the speech before this one (up to {queueing.timeout:g} s)")


def _adopted(queue: SpeechQueue, inherited: str | None) -> Ticket | None:
    name, _, fd = (inherited or "").partition(":")
    return queue.adopt(name, int(fd)) if fd.isdigit() else None


@contextlib.contextmanager
def _handed_off(
    job: TtsJob, queueing: Queueing, argv: Sequence[str], stdin_text: bool
) -> Iterator[bool]:
    """The place taken now; the waiting, asking and playing left to a process of its own."""
    _check_output(job)  # here: the copy's failure would only reach say.log
    queue = _queue()
    with process.signals_held():
        ticket = queue.take(interrupt=queueing.interrupt, timeout=queueing.timeout)
    try:
        if queueing.interrupt:
            queue.stop_speaker(ticket)  # now, not once the copy has started
        log = _log(queue.folder.parent, ticket)
        try:
            _start_copy(argv, ticket, stdin_text, log)
        finally:
            os.close(log)
    except BaseException:
        with process.signals_held():
            queue.release(ticket)
        raise
    os.close(ticket.fd)  # the copy holds the ticket now
    console.info(f"queued: it speaks in turn (messages: {queue.folder.parent / LOG_NAME})")
    yield False


def _queue() -> SpeechQueue:
    return SpeechQueue(runtime_dir(os.environ) / QUEUE_FOLDER)


def _check_detachable(job: TtsJob) -> None:
    """What --no-wait cannot do: hand back what is made after it has returned."""
    options = job.options
    if options.json:
        raise UsageError("--no-wait returns before the speech is made: no --json result")
    if is_stdout(options.output) or is_stdout(options.timestamps):
        raise UsageError("--no-wait returns before the speech is made: write files, not stdout")


def _stdin_kept(job: TtsJob) -> bool:
    """When the text comes from stdin, keep it for the copy: read whole, into a hidden file.

    The file is put on descriptor 0 in this process too, so the checks read it
    there; the copy reads it from the start again.
    """
    options = job.options
    given = options.transcript if options.transcript is not None else options.transcript_arg
    if given not in (None, STDIN) or isatty(0):
        return False  # the text is in the arguments (or missing: the checks will say)
    import tempfile

    folder = runtime_dir(os.environ)
    try:
        with tempfile.TemporaryFile(dir=folder) as kept:
            while chunk := os.read(0, 1 << 16):
                kept.write(chunk)
            kept.flush()
            os.dup2(kept.fileno(), 0)
    except OSError as exc:
        raise OutputError(f"cannot keep the text from stdin in {folder}: {exc.strerror}") from None
    os.lseek(0, 0, os.SEEK_SET)
    return True


def _log(folder: Path, ticket: Ticket) -> int:
    """The copy's stderr: `say.log`, appended to (started afresh past LOG_LIMIT)."""
    path = folder / LOG_NAME
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size > LOG_LIMIT:
            flags |= os.O_TRUNC
    log = os.open(path, flags, 0o600)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    os.write(log, f"--- {stamp} say --no-wait, ticket {ticket.name}, pid {os.getpid()}\n".encode())
    return log


# Between the copy's stderr and say.log: each line tagged with the time, the ticket and the
# copy's pid, so that the lines of copies running side by side can be told apart. A program
# of its own (the standard library only), not a thread of the copy's: it ends when the copy
# does, however it ends, and loses no line the copy wrote.
_TAGGER = """\
import sys, time
tag = sys.argv[1].encode()
for line in sys.stdin.buffer:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S").encode()
    sys.stdout.buffer.write(stamp + b" " + tag + b": " + line)
    sys.stdout.buffer.flush()
"""


def _start_copy(argv: Sequence[str], ticket: Ticket, stdin_text: bool, log: int) -> None:
    """This command again, in a session of its own, holding `ticket`: not a child to wait for.

    Its stderr goes to `log` through the tagger.
    """
    import subprocess
    import sys

    if stdin_text:
        os.lseek(0, 0, os.SEEK_SET)  # the checks read it here already
    env = {**os.environ, TICKET_VAR: f"{ticket.name}:{ticket.fd}"}
    lines, said = os.pipe()
    try:
        copy = subprocess.Popen(
            [sys.executable, "-m", "cartesia_cli", *argv],
            stdin=0 if stdin_text else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=said,
            pass_fds=(ticket.fd,),
            start_new_session=True,  # no terminal, no Ctrl-C of the shell it was started from
            env=env,
        )
        tag = f"{ticket.name} pid {copy.pid}"
        subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _TAGGER, tag],
            stdin=lines,
            stdout=log,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        raise OutputError(f"cannot start the background say: {exc.strerror}") from None
    finally:
        os.close(lines)
        os.close(said)
