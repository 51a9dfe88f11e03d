"""Signals held back around a step that must not be cut in two."""

from __future__ import annotations

import os
import signal

import pytest

from cartesia_cli import process


def test_a_signal_inside_the_block_arrives_when_it_ends() -> None:
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt), process.signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        reached_the_end = True  # not interrupted here
    assert reached_the_end
    assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == set()  # nothing left blocked
