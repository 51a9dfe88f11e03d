"""A `multipart/form-data` body: split at its boundary here, each part's headers read
with the standard library's `email` parser.

The parts may come in any order (the official SDKs put the file last, other
clients may not) and the file part's type is the client's guess, so neither is
relied on. Bodies are bounded by MAX_MULTIPART: an audio clip is larger than
any JSON body (MAX_BODY), but a clip of a few seconds is well under it.

Only the top level is split, and only a part's headers go to the parser (never
its body): the parser follows nested multiparts by recursion, so a small body of
nested parts would hold a thread for seconds and then overflow the stack. A part
that says it is a multipart or a message (its headers unfolded first) is refused.
The work is bounded: at most MAX_PARTS parts of at most MAX_HEADER bytes of headers,
each found by one search of the body.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email.message import Message

from cartesia_cli.mock.validation import Problem, invalid

MAX_MULTIPART = 20 * 1024 * 1024
MAX_PARTS = 64  # a clip and a few fields are a handful
MAX_HEADER = 8 * 1024  # a part's headers are two or three short lines
# After a boundary: `--` (the last one), or optional padding and the line's end.
_LINE_END = re.compile(rb"[ \t]{0,64}\r?\n")
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_PARSER = email.parser.BytesHeaderParser(policy=email.policy.HTTP)


@dataclass(frozen=True)
class Part:
    data: bytes
    filename: str | None = None


def parse_form(content_type: str, body: bytes) -> dict[str, Part] | Problem:
    """The form's parts by field name (the first of a repeated name), or why it is refused."""
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        return invalid("The body must be multipart/form-data.")
    boundary = _boundary(content_type)
    if not boundary:
        return invalid("The multipart/form-data Content-Type needs a boundary.")
    dash = b"--" + boundary
    if body.count(dash) > MAX_PARTS + 1:
        return invalid(f"A form may have at most {MAX_PARTS} parts.")
    pieces = _split(body, dash)
    if pieces is None:
        return invalid("The body is not complete multipart/form-data.")
    parts: dict[str, Part] = {}
    for piece in pieces:
        part = _part(piece)
        if not isinstance(part, tuple):
            return part
        parts.setdefault(*part)
    return parts


def _boundary(content_type: str) -> bytes | None:
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_boundary()
    return boundary.encode("latin-1", "replace") if boundary else None


def _split(body: bytes, dash: bytes) -> list[bytes] | None:
    """The parts between the delimiters (`--boundary` at a line's start), or None when
    the closing one (`--boundary--`) is missing. The preamble and epilogue are left out."""
    pieces: list[bytes] = []
    start: int | None = None  # where the current part begins
    at = 0
    while (found := body.find(dash, at)) >= 0:  # bounded: the delimiters were counted
        at = found + len(dash)
        if found > 0 and body[found - 1 : found] != b"\n":
            continue  # the boundary's text inside a line, not a delimiter
        closing = body[at : at + 2] == b"--"
        line_end = _LINE_END.match(body, at)
        if not closing and line_end is None:
            continue  # a longer line that begins with the boundary's text
        if start is not None:  # the line break before the delimiter is part of it
            end = found - 2 if body[found - 2 : found] == b"\r\n" else found - 1
            pieces.append(body[start : max(start, end)])
        if closing:
            return pieces
        assert line_end is not None
        start = line_end.end()
    return None


def _part(piece: bytes) -> tuple[str, Part] | Problem:
    """A part's field name and contents; its headers alone are parsed (folding undone)."""
    if piece.startswith((b"\r\n", b"\n")):
        return invalid("Each part needs Content-Disposition: form-data with a name.")
    blank = _HEADERS_END.search(piece, 0, MAX_HEADER + 4)
    if blank is None and len(piece) > MAX_HEADER:
        return invalid(f"A part's headers may be at most {MAX_HEADER} bytes.")
    head, data = (piece, b"") if blank is None else (piece[: blank.start()], piece[blank.end() :])
    headers = _PARSER.parsebytes(head + b"\r\n\r\n")
    if headers.get_content_maintype() in ("multipart", "message"):
        return invalid("A form field may not itself be multipart.")
    name = _param(headers, "name")
    if headers.get_content_disposition() != "form-data" or not name:
        return invalid("Each part needs Content-Disposition: form-data with a name.")
    return name, Part(data, headers.get_filename())


def text_field(parts: dict[str, Part], name: str) -> str | Problem | None:
    """A text field's value (None when absent), or a 400 if it is not UTF-8."""
    part = parts.get(name)
    if part is None:
        return None
    try:
        return part.data.decode("utf-8")
    except UnicodeDecodeError:
        return invalid(f"{name} must be UTF-8 text.")


def _param(part: Message, name: str) -> str | None:
    value = part.get_param(name, header="content-disposition")
    if value is None:
        return None
    return email.utils.collapse_rfc2231_value(value)


def is_audio(data: bytes) -> bool:
    """Whether the first bytes are those of a clip format the API takes.

    WAV (`RIFF`…`WAVE`: not its RF64 or Wave64 variants), MP3 (an `ID3` tag, or an
    MPEG audio frame header), FLAC (`fLaC`), Ogg (`OggS`) and WebM (the EBML magic
    `1A 45 DF A3`). The CLI's own check (input/clip.py `sniff`, which the fake may not
    import) sends only what this takes: tests/test_clip.py holds the two together.
    """
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return True
    if data.startswith((b"ID3", b"fLaC", b"OggS", b"\x1a\x45\xdf\xa3")):
        return True
    return _mpeg_frame(data[:4])


def _mpeg_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then no reserved version, layer,
    bit rate or sample rate."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bit_rate, sample_rate = head[2] >> 4, (head[2] >> 2) & 3
    return version != 1 and layer != 0 and bit_rate != 0xF and sample_rate != 3
