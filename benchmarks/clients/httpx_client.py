"""Peer: plain httpx + httpx-sse, no CLI layer, audio to stdout.

Usage: python httpx_client.py BASE_URL TRANSCRIPT (key from CARTESIA_API_KEY)
"""

from __future__ import annotations

import base64
import json
import os
import sys

import httpx
from httpx_sse import connect_sse


def main() -> None:
    base_url, transcript = sys.argv[1], sys.argv[2]
    body = {
        "model_id": "sonic-3.5",
        "transcript": transcript,
        "voice": {"mode": "id", "id": "6ccbfb76-1fc6-48f7-b71d-91ac6298247b"},
        "output_format": {"container": "raw", "encoding": "pcm_f32le", "sample_rate": 44100},
    }
    headers = {
        "Authorization": f"Bearer {os.environ['CARTESIA_API_KEY']}",
        "Cartesia-Version": "2026-08-14",
    }
    out = sys.stdout.buffer
    with (
        httpx.Client(timeout=60) as client,
        connect_sse(client, "POST", f"{base_url}/tts/sse", json=body, headers=headers) as source,
    ):
        for sse in source.iter_sse():
            event = json.loads(sse.data)
            if event["type"] == "chunk":
                out.write(base64.b64decode(event["data"]))
                out.flush()
            elif event["type"] == "done":
                break
            elif event["type"] == "error":
                raise SystemExit(f"{event.get('title')}: {event.get('message')}")


if __name__ == "__main__":
    main()
