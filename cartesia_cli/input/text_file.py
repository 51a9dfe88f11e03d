"""`say -f FILE`: the text of a file, read whole before any request (as macOS `say -f`)."""

from __future__ import annotations

from cartesia_cli.errors import UsageError

MAX_TEXT_BYTES = 16 << 20  # a text file larger than this is not something to speak at once


def read_text_file(path: str) -> str:
    """The file's text (UTF-8, a trailing newline dropped); a usage error says why not."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_TEXT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"cannot read -f {path}: {exc.strerror}") from None
    if len(data) > MAX_TEXT_BYTES:
        raise UsageError(f"-f {path} is over {MAX_TEXT_BYTES >> 20} MB; pipe it in instead")
    try:
        text = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UsageError(f"-f {path} is not valid UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise UsageError(f"-f {path} is empty; give some text to speak")
    return text
