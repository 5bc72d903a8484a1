"""Just enough PNG decoding for tests to look at a screenshot's pixels (8-bit RGB/RGBA)."""

from __future__ import annotations

import statistics
import struct
import zlib
from dataclasses import dataclass

__all__ = ["Image", "decode_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {2: 3, 6: 4}  # colour type → bytes per pixel at bit depth 8


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    pixels: bytes  # rows of width * channels bytes, filters undone

    def luminance_stdev(self) -> float:
        """How much the picture varies: 0 for a single colour, tens for a real page."""
        c = self.channels
        values = [
            (self.pixels[i] * 3 + self.pixels[i + 1] * 6 + self.pixels[i + 2]) / 10
            for i in range(0, len(self.pixels), c * 7)
        ]  # every 7th pixel is plenty
        return statistics.pstdev(values)


def decode_png(data: bytes) -> Image:
    """Decode a non-interlaced 8-bit RGB or RGBA PNG, as Chromium writes screenshots."""
    assert data[:8] == _SIGNATURE, "not a PNG"
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    assert header is not None, "no IHDR chunk"
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in _CHANNELS and interlace == 0, header
    channels = _CHANNELS[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = row[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                row[x] = (row[x] + left) & 255
            elif kind == 2:
                row[x] = (row[x] + up) & 255
            elif kind == 3:
                row[x] = (row[x] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[x] = (
                    row[x] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)
                ) & 255
        rows.append(row)
        previous = row
    return Image(width, height, channels, b"".join(rows))
