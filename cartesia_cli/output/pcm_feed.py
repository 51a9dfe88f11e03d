"""What a player's pipe carries: the audio as received, turned into plain PCM.

A pipe into a player carries raw PCM whenever the audio has an encoding: the
server's WAV header is dropped (the player is told the format by its flags),
and μ-law or A-law is widened to 16-bit for a player that cannot read it.
MP3 passes as it is.
"""

from __future__ import annotations

from cartesia_cli.formats import Encoding, wav_data_offset
from cartesia_cli.output import pcm16

_HEADER_LIMIT = 1 << 16  # a WAV header longer than this is not one: its bytes pass as audio


class PcmFeed:
    """Called with each piece of the audio received; returns what the player is fed."""

    def __init__(
        self,
        *,
        wav_header: bool = False,
        encoding: Encoding | None = None,
        fed: Encoding | None = None,
    ) -> None:
        self._head: bytearray | None = bytearray() if wav_header else None
        self._widen = encoding if pcm16.needs_widening(encoding, fed) else None

    def __call__(self, data: bytes) -> bytes:
        if self._head is not None:
            data = self._past_header(data)
        if self._widen is not None and data:
            data = pcm16.widen(self._widen, data)
        return data

    def _past_header(self, data: bytes) -> bytes:
        assert self._head is not None
        self._head += data
        offset = wav_data_offset(bytes(self._head))
        if offset is None and len(self._head) < _HEADER_LIMIT:
            return b""  # the header is not all here yet
        rest = bytes(self._head[offset or 0 :])
        self._head = None
        return rest
