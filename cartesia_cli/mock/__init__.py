"""A fake Cartesia API for tests, demos and offline CI.

Standard library only, but for the WebSocket route, which frames with the
`websockets` package and imports it only when a client upgrades.
"""

from cartesia_cli.mock.events import AudioPlan
from cartesia_cli.mock.scenarios import (
    BYTES_FAULTS,
    STREAM_FAULTS,
    WEBSOCKET_FAULTS,
    WEBSOCKET_ONLY_FAULTS,
    Scenario,
)
from cartesia_cli.mock.server import FakeCartesia, RecordedRequest, Transmission

__all__ = [
    "BYTES_FAULTS",
    "STREAM_FAULTS",
    "WEBSOCKET_FAULTS",
    "WEBSOCKET_ONLY_FAULTS",
    "AudioPlan",
    "FakeCartesia",
    "RecordedRequest",
    "Scenario",
    "Transmission",
]
