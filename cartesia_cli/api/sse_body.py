"""An SSE response body as text for httpx-sse, with the two rules httpx-sse leaves to us.

One UTF-8 byte-order mark at the very start is dropped, as the SSE standard
says (otherwise the first field name would be "\\ufeffdata" and the first chunk
lost). And no event may grow past EVENT_LIMIT: a `data:` line that never ends
would otherwise be buffered until memory runs out. Shared by the sync and the
async client; each reads it its own way (`iter_text`, `aiter_text`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from cartesia_cli.errors import StreamError

EVENT_LIMIT = 16 * 1024 * 1024  # characters; the largest real chunk event is far smaller


class FramedText:
    """What httpx-sse's EventSource reads of a response: `headers` and its text.

    `pending` counts the text since the last complete event, to the piece; the
    reader sets it back to 0 at each event.
    """

    def __init__(self, response: httpx.Response) -> None:
        self.headers = response.headers
        self.pending = 0
        self._response = response

    def iter_text(self) -> Iterator[str]:
        first = True
        for text in self._response.iter_text():
            if first:
                text, first = text.removeprefix("\ufeff"), False
            yield from self._counted(text)

    async def aiter_text(self) -> AsyncIterator[str]:
        first = True
        async for text in self._response.aiter_text():
            if first:
                text, first = text.removeprefix("\ufeff"), False
            for piece in self._counted(text):
                yield piece

    def _counted(self, text: str) -> Iterator[str]:
        self.pending += len(text)
        if self.pending > EVENT_LIMIT:
            raise StreamError(
                f"an event from the server grew past {EVENT_LIMIT // (1024 * 1024)} MB "
                "without ending; stopped reading"
            )
        if text:
            yield text
