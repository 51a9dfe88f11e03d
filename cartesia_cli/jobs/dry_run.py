"""`--dry-run`: the exact request a job would send, and a curl line that sends it.

Nothing is sent and no connection is opened. The key is never shown: the
headers say `[redacted]`, and the curl line reads `$CARTESIA_API_KEY` from the
shell it is pasted into, so it runs as it stands.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from cartesia_cli.api import protocol
from cartesia_cli.api.protocol import TtsRequest
from cartesia_cli.endpoints import BODY, TtsEndpoint
from cartesia_cli.output.sinks import write_stdout

MASKED = "Bearer [redacted]"
KEY_FROM_SHELL = '"Authorization: Bearer $CARTESIA_API_KEY"'  # double quotes: the shell expands


def show(
    endpoint: TtsEndpoint,
    base_url: str,
    api_version: str,
    request: TtsRequest,
    *,
    output: str | None,
    as_json: bool,
) -> None:
    """Print the request, then the curl line (or, with --json, all of it as one object)."""
    url = base_url.rstrip("/") + endpoint.path
    headers = protocol.headers("", api_version, protocol.accept_for(endpoint.path, request.audio))
    headers["Authorization"] = MASKED
    body = request.encoded_body().decode()
    # A body is the audio itself: the curl line writes it to the file -o names.
    curl = curl_line(url, headers, body, output if endpoint.carries is BODY else None)
    if as_json:
        doc: dict[str, Any] = {
            "method": "POST",
            "url": url,
            "headers": headers,
            "body": json.loads(body),
            "curl": curl,
        }
        write_stdout(json.dumps(doc, ensure_ascii=True, allow_nan=False))
        return
    lines = [f"POST {url}", *(f"{name}: {value}" for name, value in headers.items())]
    write_stdout("\n".join([*lines, "", body, "", curl]))


def curl_line(url: str, headers: dict[str, str], body: str, output: str | None) -> str:
    """One line, no continuations: `curl -sS -N -X POST URL -H … --data-raw BODY [-o FILE]`.

    `-o FILE` only for a file `tts bytes` would write (its body is the audio); an SSE
    body is events, so it goes to stdout for the user to redirect.
    """
    parts = ["curl", "-sS", "-N", "-X", "POST", shlex.quote(url)]
    for name, value in headers.items():
        quoted = KEY_FROM_SHELL if name == "Authorization" else shlex.quote(f"{name}: {value}")
        parts += ["-H", quoted]
    parts += ["--data-raw", shlex.quote(body)]
    if output and output != "-":
        parts += ["-o", shlex.quote(output)]
    return " ".join(parts)
