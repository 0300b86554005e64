"""Test data: image bytes, and ready-made report drafts."""

from __future__ import annotations

import os
import struct
import zlib


def png_bytes(width: int = 4, height: int = 3, *, seed: int = 0) -> bytes:
    """A real, decodable PNG (distinct per seed, so content-addressed storage keeps each)."""
    scan = b"".join(
        b"\x00" + b"".join(bytes([(seed * 31 + x) % 256, (y * 50) % 256, 100])
                           for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scan))
            + chunk(b"IEND", b""))


def jpeg_bytes(size: int = 2048) -> bytes:
    """Bytes that start and end like a JPEG, of roughly `size` bytes."""
    body = os.urandom(max(size - 6, 0))
    return b"\xff\xd8\xff\xe0" + body + b"\xff\xd9"
