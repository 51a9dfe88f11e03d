"""Peer: the official `cartesia` SDK, used as in Cartesia's SSE example, audio to stdout.

Usage: python sdk_client.py BASE_URL TRANSCRIPT (key from CARTESIA_API_KEY)
"""

from __future__ import annotations

import os
import sys
from typing import Any

from cartesia import Cartesia


def main() -> None:
    base_url, transcript = sys.argv[1], sys.argv[2]
    client = Cartesia(api_key=os.environ["CARTESIA_API_KEY"], base_url=base_url)
    # The voice as Cartesia's example writes it (SDK 4 types only {"id": ...}).
    voice: Any = {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"}
    stream = client.tts.generate_sse(
        model_id="sonic-3.5",
        transcript=transcript,
        voice=voice,
        output_format={"container": "raw", "encoding": "pcm_f32le", "sample_rate": 44100},
    )
    out = sys.stdout.buffer
    for event in stream:
        if event.type == "chunk":
            if event.audio:
                out.write(event.audio)
                out.flush()
        elif event.type == "done":
            break
        elif event.type == "error":
            raise Exception(f"{event.title}: {event.message}")


if __name__ == "__main__":
    main()
