"""One zstd frame read as it streams by, so that nothing after it goes unseen.

A backup is one zstd frame (RFC 8878). A decompressor fed more bytes goes on into what
follows: another frame, or a "skippable" frame that it passes over without a word. So
bytes appended to a backup would pass verification unseen. ``OneFrame`` reads where
the frame ends from the frame's own headers as the bytes pass through it on their way
to the decompressor, and refuses any byte after that end.

Written here because zstandard offers the end of a frame only through
``decompressobj`` (``eof``, ``unused_data``), whose ``decompress`` returns a chunk's
whole output at once: a few kilobytes of a bomb would be gigabytes in memory before
any bound could be checked. The stream writer used instead bounds what it hands on,
but does not stop at the frame's end.
"""

from __future__ import annotations

from typing import Any


class NotOneFrame(ValueError):
    """The bytes are not one whole zstd frame: cut short, not zstd, or followed by more."""


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class OneFrame:
    """Passes one zstd frame on to ``out`` (a decompressor) and refuses any byte after it.

    Where the frame ends is read from its headers as they pass: the frame header, then
    blocks each with a 3-byte header giving its size and whether it is the last, then a
    4-byte checksum if the frame header says so. ``finish`` refuses a frame cut short.
    """

    def __init__(self, out: Any) -> None:
        self.out = out
        self.head = bytearray()  # the header being gathered
        self.wanted = 5  # its length: first the magic number and the frame header descriptor
        self.then = self._frame_header  # what reads it once it is whole
        self.skip = 0  # bytes passed on unread: the rest of the frame header, a block's body
        self.checksum = 0  # bytes of the checksum after the last block (0 or 4)
        self.ended = False

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            if self.ended:
                raise NotOneFrame("bytes follow the end of its compressed data")
            if self.skip:
                count = min(self.skip, len(view))
                self.skip -= count
            else:
                count = min(self.wanted - len(self.head), len(view))
                self.head += view[:count]
            self.out.write(view[:count])
            view = view[count:]
            while not self.ended and not self.skip and len(self.head) == self.wanted:
                self.then()
        return len(data)

    def finish(self) -> None:
        if not self.ended:
            raise NotOneFrame("the file ends before the compressed data does (cut short?)")

    def _expect(self, wanted: int, then: Any) -> None:
        self.head.clear()
        self.wanted, self.then = wanted, then

    def _frame_header(self) -> None:
        if bytes(self.head[:4]) != ZSTD_MAGIC:
            raise NotOneFrame("it does not start with zstd data")
        descriptor = self.head[4]
        single_segment = bool(descriptor & 0x20)
        self.checksum = 4 if descriptor & 0x04 else 0
        window = 0 if single_segment else 1
        dictionary = (0, 1, 2, 4)[descriptor & 0x03]
        content_size = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
        self.skip = window + dictionary + content_size
        self._expect(3, self._block_header)

    def _block_header(self) -> None:
        header = int.from_bytes(self.head, "little")
        last, kind, size = header & 1, (header >> 1) & 3, header >> 3
        if kind == 3:
            raise NotOneFrame("a zstd block of a reserved type")
        self.skip = 1 if kind == 1 else size  # an RLE block is one byte, repeated
        if last:
            self.skip += self.checksum
            self._expect(0, self._end)
        else:
            self._expect(3, self._block_header)

    def _end(self) -> None:
        self.ended = True
