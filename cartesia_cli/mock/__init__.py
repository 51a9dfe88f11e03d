"""A fake Cartesia API for tests, demos and offline CI (standard library only)."""

from cartesia_cli.mock.events import AudioPlan
from cartesia_cli.mock.scenarios import BYTES_FAULTS, STREAM_FAULTS, Scenario
from cartesia_cli.mock.server import FakeCartesia, RecordedRequest, Transmission

__all__ = [
    "BYTES_FAULTS",
    "STREAM_FAULTS",
    "AudioPlan",
    "FakeCartesia",
    "RecordedRequest",
    "Scenario",
    "Transmission",
]
