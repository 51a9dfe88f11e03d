"""A `multipart/form-data` body read with the standard library's `email` parser.

The parts may come in any order (the official SDKs put the file last, other
clients may not) and the file part's type is the client's guess, so neither is
relied on. Bodies are bounded by MAX_MULTIPART: an audio clip is larger than
any JSON body (MAX_BODY), but a clip of a few seconds is well under it.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from dataclasses import dataclass
from email import errors
from email.message import Message

from cartesia_cli.mock.validation import Problem, invalid

MAX_MULTIPART = 20 * 1024 * 1024
# A form's parts are fields and files, never multiparts or messages themselves. The parser
# follows those by recursion, so a small body of nested parts would take seconds and then
# overflow the stack: they are refused before parsing.
_NESTED = re.compile(rb"content-type:[ \t]*(?:multipart|message)/", re.IGNORECASE)
# The parser's time grows with the parts and lines it reads (~1 µs a line): a clip and a
# few fields are a handful of parts, and a 20 MiB clip has ~160,000 line-break bytes by
# chance. Past these a body is refused before parsing, so no request holds a thread for long.
MAX_PARTS = 64
MAX_LINE_BREAKS = 1_000_000
_UNFINISHED = (errors.StartBoundaryNotFoundDefect, errors.CloseBoundaryNotFoundDefect)


@dataclass(frozen=True)
class Part:
    data: bytes
    filename: str | None = None


def parse_form(content_type: str, body: bytes) -> dict[str, Part] | Problem:
    """The form's parts by field name (the first of a repeated name), or why it is refused."""
    if content_type.split(";")[0].strip().lower() != "multipart/form-data":
        return invalid("The body must be multipart/form-data.")
    problem = _too_much(content_type, body)
    if problem is not None:
        return problem
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or any(isinstance(d, _UNFINISHED) for d in message.defects):
        return invalid("The body is not complete multipart/form-data.")
    parts: dict[str, Part] = {}
    for part in message.iter_parts():
        name = _param(part, "name")
        data = part.get_payload(decode=True)
        if part.get_content_disposition() != "form-data" or not name:
            return invalid("Each part needs Content-Disposition: form-data with a name.")
        if not isinstance(data, bytes):  # a part the parser took apart: nesting is refused above
            return invalid(f"The part {name!r} is not a plain field or file.")
        parts.setdefault(name, Part(data, part.get_filename()))
    return parts


def _too_much(content_type: str, body: bytes) -> Problem | None:
    """Why the body is not parsed at all: no boundary, nesting, too many parts or lines."""
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_boundary()
    if not boundary:
        return invalid("The multipart/form-data Content-Type needs a boundary.")
    if _NESTED.search(body):
        return invalid("A form field may not itself be multipart.")
    if body.count(b"--" + boundary.encode("latin-1")) > MAX_PARTS + 1:
        return invalid(f"A form may have at most {MAX_PARTS} parts.")
    if body.count(b"\n") + body.count(b"\r") > MAX_LINE_BREAKS:
        return invalid(f"The body has more than {MAX_LINE_BREAKS} line breaks.")
    return None


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

    WAV (`RIFF`…`WAVE`), MP3 (an `ID3` tag, or an MPEG audio frame header), FLAC
    (`fLaC`), Ogg (`OggS`) and WebM (the EBML magic `1A 45 DF A3`).
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
