"""Text for `tts ws` as it is written: pieces from a pipe or a file, never waiting for EOF.

Bytes are read as they come (one `os.read` at a time, what the writer has
flushed), decoded as UTF-8 across read boundaries, and cut into pieces by
`pieces.Chunker`. When the writer pauses (the pipe stays silent for
`PAUSE_SECONDS`) after finishing a line, or after a sentence mark, what is held
back is sent as it stands: a heading, a `tail -f` line or a last sentence is
spoken at once, not when the next text or the end comes. Text that stops in the
middle of a line with no sentence mark ("The answer is") waits for the rest.
Bad input gets the treatment `tts sse` gives it: not UTF-8, or nothing but
spaces, is a usage error (exit 2), raised where it is found.
"""

from __future__ import annotations

import codecs
import os
import select
from collections.abc import Iterator

from cartesia_cli.errors import UsageError
from cartesia_cli.input.pieces import Chunker

READ_SIZE = 65536
# A writer silent this long after a line break or a sentence mark has finished what it
# was writing: send it, rather than wait for the next character to rule out "3.5". Short
# enough not to delay the first audio; long enough that a writer's burst (a paragraph
# printed line by line) is read whole.
PAUSE_SECONDS = 0.05


def pieces_of(text: str) -> Iterator[str]:
    """A whole text (from the arguments) as pieces."""
    chunker = Chunker()
    yield from chunker.feed(text)
    yield from chunker.finish()


def pieces_from(fd: int) -> Iterator[str]:
    """The pieces of what is written to `fd`, each as soon as it is complete."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunker = Chunker()
    read = spoken = 0
    while True:
        if chunker.ready_on_pause() and not _readable(fd, PAUSE_SECONDS):
            for piece in chunker.finish():  # what is held, as if the text ended here
                spoken += 1
                yield piece
            continue
        data = os.read(fd, READ_SIZE)
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise UsageError(f"stdin is not valid UTF-8 text (byte {read + exc.start})") from None
        read += len(data)
        for piece in chunker.feed(text) if data else chunker.finish():
            if piece.strip():
                spoken += 1
            yield piece
        if not data:
            break
    if not spoken:
        raise UsageError("the transcript is empty; give some text to speak")


def _readable(fd: int, seconds: float) -> bool:
    """Whether `fd` has something to read (or its end) within `seconds`."""
    try:
        return bool(select.select([fd], [], [], seconds)[0])
    except (OSError, ValueError):  # not selectable (a regular file always is): just read
        return True
