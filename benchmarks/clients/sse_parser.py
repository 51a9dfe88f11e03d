"""Peer baseline: a standard-library SSE parser for `curl -N ... | python sse_parser.py`.

Reads SSE from stdin, writes decoded chunk audio to stdout as each event completes.
"""

from __future__ import annotations

import base64
import json
import sys


def main() -> None:
    out = sys.stdout.buffer
    data: list[bytes] = []
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\r\n")
        if line.startswith(b"data:"):
            data.append(line[5:].lstrip(b" "))
        elif not line and data:
            event = json.loads(b"\n".join(data))
            data = []
            if event["type"] == "chunk":
                out.write(base64.b64decode(event["data"]))
                out.flush()
            elif event["type"] in ("done", "error"):
                break


if __name__ == "__main__":
    main()
