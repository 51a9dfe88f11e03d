"""`say`'s speech queue: one speaks at a time, in the order they came, and nothing blocks it.

Real processes throughout where the queue is between processes (it is: locks held by
processes the kernel releases when they die). A recording stand-in `ffplay` notes
"start", "end" (or "stopped", on SIGTERM) with the utterance's name and the time in
one log under a lock, and reads its audio at a pace; a HOLD one keeps playing until
it is stopped. Each `say` is started once the one before it has taken its ticket
(the queue's counter says so), so the order of arrival is the order of starting.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartesia_cli.mock import FakeCartesia
from cartesia_cli.output import speech_queue
from cartesia_cli.output.speech_queue import SpeechQueue, ticket_name

from .conftest import API_KEY, ENTRY_POINT, RunCli, clean_env, stand_in

RECORDER = f"""#!{sys.executable}
import fcntl, os, signal, sys, time
log, who = os.environ["QUEUE_LOG"], os.environ["UTTERANCE"]
def note(word):
    with open(log, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(f"{{word}} {{who}} {{time.monotonic()}}\\n")
def stopped(signum, frame):
    note("stopping")
    time.sleep(float(os.environ.get("LINGER", "0")))  # a player slow to let go of its device
    note("stopped")
    os._exit(0)
signal.signal(signal.SIGTERM, stopped)
note("start")
while os.read(0, 4096):
    time.sleep(0.003)
if os.environ.get("HOLD"):
    time.sleep(60)
note("end")
"""


def until(condition: Callable[[], object], what: str, seconds: float = 15) -> None:
    """Wait for a condition another process brings about (bounded; fails with `what`)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class Bench:
    """The fake, the recording player, one queue folder and one log, for real `say` processes."""

    def __init__(self, fake: FakeCartesia, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.log = tmp_path / "played.log"
        self.log.touch()
        self.queue = tmp_path / "run" / speech_queue.QUEUE_FOLDER
        player = stand_in(tmp_path / "bin", "ffplay", RECORDER)
        self.env = clean_env(
            PATH=f"{player}:/usr/bin:/bin",
            CARTESIA_API_KEY=API_KEY,
            CARTESIA_BASE_URL=fake.url,
            CARTESIA_CLI_CONFIG_DIR=str(tmp_path / "config"),
            CARTESIA_CLI_RUNTIME_DIR=str(tmp_path / "run"),
            QUEUE_LOG=str(self.log),
        )

    def say(
        self, who: str, *args: str, hold: bool = False, linger: float = 0
    ) -> subprocess.Popen[bytes]:
        env = {
            **self.env,
            "UTTERANCE": who,
            "LINGER": str(linger),
            **({"HOLD": "1"} if hold else {}),
        }
        err = os.open(self.tmp / f"{who}.err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            return subprocess.Popen(
                [str(ENTRY_POINT), "say", "--queue-timeout", "30", *args, f"This is {who}."],
                env=env,
                cwd=self.tmp,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,  # its own group: "killed" takes its player with it
            )
        finally:
            os.close(err)

    def open_queue(self) -> SpeechQueue:
        """The queue as the says see it, for a test to take its own tickets in."""
        return SpeechQueue(speech_queue.runtime_dir(self.env) / speech_queue.QUEUE_FOLDER)

    def stderr(self, who: str) -> str:
        return (self.tmp / f"{who}.err").read_text()

    def tickets_taken(self) -> int:
        try:
            return int((self.queue / speech_queue.COUNTER).read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def events(self) -> list[tuple[str, str, float]]:
        with self.log.open() as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            return [(w, who, float(t)) for w, who, t in (line.split() for line in f)]

    def noted(self, word: str, who: str) -> float | None:
        return next((t for w, name, t in self.events() if (w, name) == (word, who)), None)


@pytest.fixture
def bench(fake: FakeCartesia, tmp_path: Path) -> Bench:
    return Bench(fake, tmp_path)


def test_ten_says_at_once_speak_in_turn_one_killed_one_interrupting(bench: Bench) -> None:
    holders = {"p1", "p5"}  # p1 is killed half-way; p5 is interrupted by p9
    running: dict[str, subprocess.Popen[bytes]] = {}
    for number in range(9):
        who = f"p{number}"
        running[who] = bench.say(who, hold=who in holders)
        until(lambda: bench.tickets_taken() > number, f"{who}'s ticket")  # noqa: B023

    until(lambda: bench.noted("start", "p1"), "p1 to start playing")
    os.killpg(running["p1"].pid, signal.SIGKILL)  # say and its player: a crash
    running["p1"].wait(timeout=10)
    killed_at = time.monotonic()

    until(lambda: bench.noted("start", "p5"), "p5 to start playing")
    running["p9"] = bench.say("p9", "--interrupt")
    codes = {who: proc.wait(timeout=30) for who, proc in running.items()}

    assert codes == {**dict.fromkeys(running, 0), "p1": -signal.SIGKILL, "p5": 143}
    assert "terminated" in bench.stderr("p5")
    events = bench.events()
    starts = [who for word, who, _ in events if word == "start"]
    assert starts == ["p0", "p1", "p2", "p3", "p4", "p5", "p9", "p6", "p7", "p8"]
    # Never two at once: each starts after the one before it ended (or was stopped, or killed).
    for before, after in itertools.pairwise(starts):
        done = killed_at if before == "p1" else bench.noted("end", before)
        done = done or bench.noted("stopped", before)
        started = bench.noted("start", after)
        assert done is not None and started is not None and done < started, (before, after, events)
    assert (bench.noted("start", "p2") or 0) - killed_at < 5  # at once, not after a timeout
    assert bench.noted("stopped", "p5") is not None and bench.noted("end", "p5") is None
    assert bench.open_queue().tickets() == []  # every ticket gone, the killed one's too


def test_a_say_killed_outright_stops_its_player_before_the_next_one_speaks(bench: Bench) -> None:
    """kill -9 of the `say` alone (not its group): its player, which would play on, is
    stopped with it (Linux), and the next `say` starts only once that player has ended
    (it holds the turn's lock), however long it takes to let go (LINGER)."""
    first = bench.say("first", hold=True, linger=0.5)
    until(lambda: bench.noted("start", "first"), "first to start playing")
    second = bench.say("second")
    until(lambda: bench.tickets_taken() == 2, "second's ticket")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    try:
        assert second.wait(timeout=30) == 0, bench.stderr("second")
        stopped, started = bench.noted("stopped", "first"), bench.noted("start", "second")
        assert stopped is not None and started is not None, bench.events()
        assert stopped < started, bench.events()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)  # its player, if it played on


def test_interrupt_stops_a_speaker_that_was_stopped_with_ctrl_z(bench: Bench) -> None:
    """Ctrl-Z stops the speaking `say` and its player (SIGSTOP to the group): SIGTERM alone
    would wait for a SIGCONT that never comes, so the interrupter sends both, and the
    speaker sends both to its player."""
    paused = bench.say("paused", hold=True)
    until(lambda: bench.noted("start", "paused"), "paused to start playing")
    os.killpg(paused.pid, signal.SIGSTOP)
    try:
        urgent = bench.say("urgent", "--interrupt")
        assert urgent.wait(timeout=15) == 0, bench.stderr("urgent")
        assert paused.wait(timeout=5) == 143, bench.stderr("paused")
        assert bench.noted("stopped", "paused") is not None, bench.events()
        assert bench.noted("start", "urgent") is not None, bench.events()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(paused.pid, signal.SIGKILL)
        paused.wait(timeout=5)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_while_waiting_plays_nothing(bench: Bench, signum: int, code: int) -> None:
    queue = bench.open_queue()
    held = queue.take(interrupt=False, timeout=1)  # someone is speaking, for as long as we like
    waiting = bench.say("late")
    until(lambda: len(queue.tickets()) == 2, "the waiting say's ticket")
    waiting.send_signal(signum)
    assert waiting.wait(timeout=10) == code
    assert bench.events() == []
    assert queue.tickets() == [held.name]  # it took its ticket away with it
    queue.release(held)


def test_a_say_that_waits_too_long_gives_up_with_exit_6_and_plays_nothing(
    cli: RunCli, bench: Bench
) -> None:
    queue = bench.open_queue()
    held = queue.take(interrupt=False, timeout=1)
    result = cli("say", "--queue-timeout", "0.1", "Too late", env=bench.env)
    assert result.code == 6, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "cartesia-cli: error: waited 0.1 s for the speech before this one; gave up"
    )
    assert bench.events() == []
    assert queue.tickets() == [held.name]
    queue.release(held)


def test_a_waiter_that_died_blocks_nobody(cli: RunCli, bench: Bench) -> None:
    queue = bench.open_queue()
    dead = queue.take(interrupt=False, timeout=1)
    os.close(dead.fd)  # what a killed say leaves: its file, and no lock on it
    result = cli(
        "say", "--queue-timeout", "5", "After the dead", env={**bench.env, "UTTERANCE": "a"}
    )
    assert result.code == 0, result.stderr
    assert [word for word, _, _ in bench.events()] == ["start", "end"]
    assert queue.tickets() == []  # the dead one's file went with it


def test_interrupt_never_signals_a_crashed_speakers_pid(cli: RunCli, bench: Bench) -> None:
    """A crashed speaker's record may name a pid that is someone else's by now.

    Here the next speaker has the lock and has not written its own record yet.
    """
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        queue = bench.open_queue()
        crashed = queue.take(interrupt=False, timeout=1)
        speaking = os.open(bench.queue / speech_queue.SPEAKING, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(speaking, fcntl.LOCK_EX)
        os.write(speaking, f"{bystander.pid} {crashed.name}\n".encode())
        os.close(crashed.fd)  # it died; its record stays
        result = cli("say", "--interrupt", "--queue-timeout", "0.2", "Urgent", env=bench.env)
        assert result.code == 6, result.stderr
        assert bystander.poll() is None
        os.close(speaking)
    finally:
        bystander.kill()
        bystander.wait()


def test_no_wait_returns_at_once_and_the_speech_plays_in_turn(
    bench: Bench, fake: FakeCartesia
) -> None:
    queue = bench.open_queue()
    held = queue.take(interrupt=False, timeout=1)  # the speech before it goes on meanwhile
    background = bench.say("bg", "--no-wait")
    assert background.wait(timeout=10) == 0  # while `held` still speaks
    assert "queued" in bench.stderr("bg")
    assert len(queue.tickets()) == 2 and bench.events() == []
    queue.release(held)
    until(lambda: bench.noted("end", "bg"), "the background say to play")
    until(lambda: queue.tickets() == [], "the background say to let go of its ticket")
    assert fake.requests[-1].json()["transcript"] == "This is bg."
    log = bench.tmp / "run" / "say.log"

    def played_lines() -> list[str]:
        return [line for line in log.read_text().splitlines() if "played" in line]

    # The copy's lines reach the log through its tagging process, which may lag the player.
    until(lambda: log.exists() and played_lines() != [], "the copy's summary in say.log")
    played = played_lines()
    # Tagged: when, which ticket, which process (copies running side by side can be told apart).
    assert len(played) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d n0{11}2 pid \d+: played: .*", played[0])


def test_no_wait_takes_piped_text_with_it(bench: Bench, fake: FakeCartesia) -> None:
    env = {**bench.env, "UTTERANCE": "piped"}
    done = subprocess.run(
        [str(ENTRY_POINT), "say", "--no-wait"],
        input="Text from a pipe\n",
        env=env,
        cwd=bench.tmp,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 0, done.stderr
    until(lambda: bench.noted("end", "piped"), "the background say to play")
    # Piped text goes over the WebSocket, as it comes: the copy read it from the kept file.
    messages = [json.loads(m) for m in fake.transmissions[-1].messages]
    assert "".join(m.get("transcript", "") for m in messages).strip() == "Text from a pipe"


def test_no_wait_checks_before_it_returns(cli: RunCli, bench: Bench) -> None:
    refused = cli("say", "--no-wait", "Hi", "--json", env=bench.env)
    assert refused.code == 2 and "--no-wait" in refused.stderr
    no_player = cli("say", "--no-wait", "Hi", env={**bench.env, "PATH": "/nonexistent"})
    assert no_player.code == 2 and "ffplay" in no_player.stderr
    assert not (bench.tmp / "run" / "say.log").exists()  # nothing was started


def test_say_no_wait_checks_the_output_before_returning(cli: RunCli, bench: Bench) -> None:
    """The output is checked before the copy is started (its failure would only reach
    say.log), and before a `say` waits for its turn (not after the wait)."""
    (bench.tmp / "kept.wav").write_bytes(b"mine")
    for output, said in [
        ("/nonexistent/x.wav", "output directory does not exist: /nonexistent"),
        ("kept.wav", "kept.wav already exists"),
    ]:
        refused = cli("say", "--no-wait", "-o", output, "Hi", env=bench.env)
        assert refused.code == 2 and said in refused.stderr, refused.stderr
    assert not (bench.tmp / "run" / "say.log").exists()  # nothing was started
    assert bench.tickets_taken() == 0  # no place taken
    assert (bench.tmp / "kept.wav").read_bytes() == b"mine"
    held = bench.open_queue().take(interrupt=False, timeout=1)  # someone speaks, for long
    started = time.monotonic()
    waited = cli("say", "-o", "/nonexistent/x.wav", "Hi", env=bench.env)
    assert waited.code == 2 and time.monotonic() - started < 5, waited.stderr
    assert "waiting" not in waited.stderr
    bench.open_queue().release(held)


@settings(max_examples=50)
@given(
    st.lists(st.tuples(st.integers(1, 10**9), st.booleans()), min_size=1, unique_by=lambda t: t[0])
)
def test_turns_come_interrupters_first_latest_first_then_in_order(
    tickets: list[tuple[int, bool]],
) -> None:
    names = {
        ticket_name(number, interrupt=interrupt): (number, interrupt)
        for number, interrupt in tickets
    }
    expected = sorted(tickets, key=lambda t: (not t[1], -t[0] if t[1] else t[0]))
    assert [names[name] for name in sorted(names)] == expected
    assert all(speech_queue.is_ticket_name(name) for name in names)
