"""Test data: image bytes, moments in Binjai's time, Binjai's FAQ library, and ready-made
report drafts."""

from __future__ import annotations

import io
import os
import struct
import zlib
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

import content
from faq.library import FaqLibrary, category_words
from storage.city import City
from storage.citypack import load_city_pack

# Binjai's time zone (Western Indonesia Time, UTC+7).
WIB = ZoneInfo("Asia/Jakarta")


def wib(month: int, day: int, hour: int = 9, minute: int = 0, *, year: int = 2026) -> datetime:
    """A moment in Binjai's time, in 2026 unless told."""
    return datetime(year, month, day, hour, minute, tzinfo=WIB)


@cache
def faq_library() -> FaqLibrary:
    """The FAQ library of the Binjai content, as the bot loads it (built once)."""
    city = City(load_city_pack(content.ROOT / "binjai"))
    return FaqLibrary(content.ROOT / "binjai" / "faq", category_words(city.categories))


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


def jpeg_bytes(size: int = 2048, *, exif: bytes | None = None) -> bytes:
    """A real JPEG of noise, of roughly `size` bytes (noise hardly compresses), with `exif`
    (raw EXIF bytes) when given."""
    from PIL import Image

    side = max(8, int((size / 1.2) ** 0.5))
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, **({"exif": exif} if exif else {}))
    return out.getvalue()


def gps_exif(orientation: int = 1) -> bytes:
    """Raw EXIF as a phone writes it: the owner's name, the orientation, a GPS position (in
    Binjai)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x013B] = "Budi Santoso"  # Artist
    exif[0x0112] = orientation  # Orientation
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (3.0, 36.0, 0.0), 3: "E", 4: (98.0, 29.0, 0.0)})
    return exif.tobytes()


def same_picture(kept: bytes, sent: bytes) -> bool:
    """Whether a stored image shows what was sent: same size, pixels within JPEG's loss."""
    from PIL import Image, ImageChops, ImageStat

    with Image.open(io.BytesIO(kept)) as a, Image.open(io.BytesIO(sent)) as b:
        if a.size != b.size:
            return False
        diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        return bool(ImageStat.Stat(diff.convert("L")).mean[0] < 40)
