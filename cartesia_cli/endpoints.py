"""The TTS commands and the endpoints they speak to: one row each, every fact code branches on.

`cli.py` (which commands write a --json object), `stream_target.py` (which
commands stream, and whether their start-up connection takes TLS from us) and
the job (`jobs/`: transport, what the stream carries, timestamps, containers,
the default one, file names) all read this table; none of them names a command. Standard
library only: `stream_target.py` reads it before typer and httpx are imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

SSE_PATH = "/tts/sse"
BYTES_PATH = "/tts/bytes"
WS_PATH = "/tts/websocket"


class Transport(Enum):
    HTTP = "http"  # one POST, one response
    WEBSOCKET = "websocket"  # one context, fed text while audio comes back


class Carries(Enum):
    """What the response stream is: events (audio in base64, timestamps) or the audio itself."""

    EVENTS = "events"
    BODY = "body"


HTTP, WEBSOCKET = Transport.HTTP, Transport.WEBSOCKET
EVENTS, BODY = Carries.EVENTS, Carries.BODY


class TtsEndpoint(NamedTuple):
    """One TTS command: its words, and what its endpoint does."""

    words: tuple[str, ...]  # on the command line: ("tts", "sse")
    path: str
    transport: Transport
    carries: Carries
    timestamps: bool  # can send word (and phoneme) timestamps
    tls_at_start: bool  # the start-up connection completes the TLS handshake for it
    # The containers the server sends (a formats.Container's value); any other is made
    # here from the raw PCM asked for.
    containers: tuple[str, ...]
    default_container: str  # without -o's suffix, --container or the config saying otherwise
    file_prefix: str  # a new file's name: tts_sse_20250101-120000.pcm

    @property
    def command(self) -> str:
        """As --json and the hints name it: `tts sse`."""
        return " ".join(self.words)


TTS_SSE = TtsEndpoint(
    ("tts", "sse"), SSE_PATH, HTTP, EVENTS, timestamps=True, tls_at_start=True,
    containers=("raw",), default_container="raw", file_prefix="tts_sse",
)  # fmt: skip
TTS_BYTES = TtsEndpoint(
    ("tts", "bytes"), BYTES_PATH, HTTP, BODY, timestamps=False, tls_at_start=True,
    containers=("raw", "wav", "mp3"), default_container="wav", file_prefix="tts_bytes",
)  # fmt: skip
# The WebSocket client does its own TLS handshake on the socket it is given.
TTS_WS = TtsEndpoint(
    ("tts", "ws"), WS_PATH, WEBSOCKET, EVENTS, timestamps=True, tls_at_start=False,
    containers=("raw",), default_container="raw", file_prefix="tts_ws",
)  # fmt: skip
SAY = TtsEndpoint(
    ("say",), SSE_PATH, HTTP, EVENTS, timestamps=True, tls_at_start=True,
    containers=("raw",), default_container="raw", file_prefix="say",
)  # fmt: skip
# `say` with its text piped in: spoken as it arrives, over the WebSocket as `tts ws` does.
# Not in ENDPOINTS: the command line names `say`, whose start-up connection is the SSE one.
SAY_PIPED = SAY._replace(path=WS_PATH, transport=WEBSOCKET, tls_at_start=False)
ENDPOINTS = (TTS_SSE, TTS_BYTES, TTS_WS, SAY)


def named(command: str) -> TtsEndpoint | None:
    """The entry for `tts sse`, `say`, …; None for any other command."""
    return next((e for e in ENDPOINTS if e.command == command), None)


def in_argv(args: Sequence[str]) -> TtsEndpoint | None:
    """The entry whose words begin `args` (the arguments after the program's name)."""
    return next((e for e in ENDPOINTS if tuple(args[: len(e.words)]) == e.words), None)
