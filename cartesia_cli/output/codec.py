"""What one container made by the encoder needs: ffmpeg's output options, and a header fix.

Each such container is one module beside this one (mp3.py, flac.py, ogg.py)
that defines its `CODEC`; `encoder.py` runs them all the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from cartesia_cli.formats import Container, OutputFormat
from cartesia_cli.output.sinks import Sink


class Codec(NamedTuple):
    container: Container
    # ffmpeg's output options (encoder, bit rate, muxer) for this audio.
    options: Callable[[OutputFormat], list[str]]
    # After the encoder ended: figures it could not write into a header it streamed,
    # written into the output where it can be patched. Given the samples encoded.
    fix_header: Callable[[Sink, int], None] | None = None
