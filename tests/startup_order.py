"""Run the entry point with the start-up threads' work forced before or after the CLI's imports.

Usage: python startup_order.py ORDER REPORT ARGS...

ORDER "threads-during-imports": the main thread stops in the middle of importing
httpx until every start-up thread has finished. ORDER "threads-after-imports":
the start-up threads wait to begin until the main thread, all its imports done,
asks for the TLS context. Either way, every module found by a thread other than
the main one is written to REPORT (one "thread module" per line): a start-up
thread must import nothing, as an import there races the main thread's.

Imports nothing before the finder is in place beyond what launch.py itself
imports first (process, preconnect, tls), so the run's imports are all seen.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

ORDER, REPORT, ARGS = sys.argv[1], sys.argv[2], sys.argv[3:]
WAIT = 20.0  # bounded: a thread that never ends fails the test, it does not hang it
MAIN = threading.main_thread()
started: list[threading.Thread] = []
begin = threading.Event()  # the start-up threads may begin
off_main: list[str] = []


class Watch:
    """A meta-path finder that finds nothing: it records, and holds the main thread once."""

    held = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        thread = threading.current_thread()
        if thread is not MAIN:
            off_main.append(f"{thread.name} {name}")
        elif ORDER == "threads-during-imports" and name == "httpx" and not self.held:
            self.held = True
            for helper in started:  # they run while the main thread holds httpx's import
                helper.join(WAIT)


sys.meta_path.insert(0, Watch())

from cartesia_cli import process  # noqa: E402 - after the finder, as launch.py's first import
from cartesia_cli.api import preconnect, tls  # noqa: E402

start_thread = process.start_thread


def held_start(thread: threading.Thread) -> None:
    if ORDER == "threads-after-imports":
        run = thread.run

        def later() -> None:
            begin.wait(WAIT)
            run()

        thread.run = later  # type: ignore[method-assign]
    started.append(thread)
    start_thread(thread)


def released(original: Any) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        begin.set()  # the client is being made: every import of the run is done
        return original(*args, **kwargs)

    return call


process.start_thread = held_start
tls.context = released(tls.context)
preconnect.claim = released(preconnect.claim)

from cartesia_cli import launch  # noqa: E402

sys.argv = ["cartesia-cli", *ARGS]
try:
    launch.main()
    code = 0
except SystemExit as exit:
    code = int(exit.code or 0)
finally:
    with open(REPORT, "w") as report:
        report.writelines(f"{line}\n" for line in off_main)
sys.exit(code)
