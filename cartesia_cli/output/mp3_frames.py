"""How long an MP3 stream is, from its frames as they are written: no decoding, no seeking.

An MP3's length is not its bytes over the requested bit rate: the encoder may
lower a bit rate that the sample rate cannot carry (lame does, below 32 kHz), and
a frame holds 1152 samples (MPEG-1, 32-48 kHz) or 576 (MPEG-2 and 2.5, 8-24 kHz).
So each Layer III frame header is read, and its samples counted: exact for
constant and variable bit rates alike. An ID3v2 tag at the start and the
encoder's Xing/Info frame (no audio: a table for seeking) are not counted.
Pure: the sink feeds it every byte it writes.
"""

from __future__ import annotations

# Layer III bit rates (kbit/s) by the header's 4-bit index; 0 ("free") and 15 are unusable.
_KBPS_MPEG1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_KBPS_MPEG2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
# Sample rates by the header's version bits (3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5; 1 is reserved).
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_HEADER = 4
_ID3_HEADER = 10
# Where a Xing/Info tag starts in the first frame: after the header and the side
# information, whose size depends on the version and on mono or stereo.
_XING_AT = {(True, True): 21, (True, False): 36, (False, True): 13, (False, False): 21}


class Frame:
    """One Layer III frame header, read from its four bytes."""

    __slots__ = ("bit_rate", "length", "mono", "mpeg1", "sample_rate", "samples")

    def __init__(
        self, length: int, samples: int, sample_rate: int, bit_rate: int, mpeg1: bool, mono: bool
    ) -> None:
        self.length, self.samples, self.sample_rate = length, samples, sample_rate
        self.bit_rate, self.mpeg1, self.mono = bit_rate, mpeg1, mono


def read_header(header: bytes | bytearray) -> Frame | None:
    """The frame these four bytes start, or None when they are not a Layer III header."""
    b0, b1, b2, b3 = header[0], header[1], header[2], header[3]
    if b0 != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    index, rate_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer != 1 or index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    rate = _RATES[version][rate_index]
    bits = (_KBPS_MPEG1 if mpeg1 else _KBPS_MPEG2)[index] * 1000
    length = (144 if mpeg1 else 72) * bits // rate + padding
    return Frame(length, 1152 if mpeg1 else 576, rate, bits, mpeg1, (b3 >> 6) == 3)


class Mp3Clock:
    """Seconds of audio in the MP3 bytes fed so far (whole frames only)."""

    __slots__ = ("_first", "_pending", "_skip", "bit_rate", "frames", "seconds")

    def __init__(self) -> None:
        self.seconds = 0.0
        self.frames = 0  # audio frames counted
        # bits/s of every audio frame so far; None before the first, or when they differ (VBR)
        self.bit_rate: int | None = None
        self._pending = bytearray()  # bytes not yet read: a header split between writes
        self._skip = 0  # bytes of the current frame (or tag) still to pass over
        self._first = True  # the next frame may be the encoder's Xing/Info frame

    def feed(self, data: bytes) -> None:
        if self._skip >= len(data):
            self._skip -= len(data)
            return
        pending = self._pending
        pending += data[self._skip :]
        self._skip = 0
        offset = 0
        if self._first:
            if len(pending) < _ID3_HEADER and b"ID3".startswith(bytes(pending[:3])):
                return  # maybe the start of a tag: wait for its header
            offset = self._skip_id3(pending)
        while self._skip == 0 and offset + _HEADER <= len(pending):
            frame = read_header(pending[offset : offset + _HEADER])
            if frame is None:
                offset += 1  # not a frame here (a stray byte, an ID3v1 tag): look further on
                continue
            if self._first and not self._xing_readable(pending, offset, frame):
                break  # wait for the bytes that say whether this frame is audio
            self._count(pending, offset, frame)
            offset += frame.length
            if offset > len(pending):
                self._skip = offset - len(pending)
        del pending[: min(offset, len(pending))]

    def _skip_id3(self, pending: bytearray) -> int:
        """Past an ID3v2 tag at the very start (its size is in its 10-byte header)."""
        if len(pending) < _ID3_HEADER or pending[:3] != b"ID3":
            return 0
        size = 0
        for byte in pending[6:10]:  # "syncsafe": 7 bits a byte
            size = size << 7 | (byte & 0x7F)
        size += _ID3_HEADER + (_ID3_HEADER if pending[5] & 0x10 else 0)  # and its footer
        if size > len(pending):
            self._skip = size - len(pending)
        return min(size, len(pending))

    def _xing_readable(self, pending: bytearray, offset: int, frame: Frame) -> bool:
        return offset + _XING_AT[(frame.mpeg1, frame.mono)] + 4 <= len(pending)

    def _count(self, pending: bytearray, offset: int, frame: Frame) -> None:
        if self._first:
            self._first = False
            at = offset + _XING_AT[(frame.mpeg1, frame.mono)]
            if bytes(pending[at : at + 4]) in (b"Xing", b"Info"):
                return  # the encoder's table, not audio
        same = self.frames == 0 or frame.bit_rate == self.bit_rate
        self.bit_rate = frame.bit_rate if same else None
        self.frames += 1
        self.seconds += frame.samples / frame.sample_rate
