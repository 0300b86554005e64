"""Photos are kept without what they carried: no EXIF (GPS, owner), upright, and only what
really decodes as an image, within a sane number of pixels."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from factories import gps_exif, jpeg_bytes, png_bytes
from storage.media import MAX_PIXELS, MediaRejected, MediaStore


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media", max_bytes=10 * 1024 * 1024)


def _stored(store: MediaStore, rel: str) -> Image.Image:
    with Image.open(store.absolute(rel)) as image:
        image.load()
        return image


def test_a_photo_is_kept_without_its_gps_position_or_owner(store: MediaStore) -> None:
    photo = jpeg_bytes(8000, exif=gps_exif())
    assert b"Budi Santoso" in photo and Image.open(io.BytesIO(photo)).getexif()
    kept = store.save_image(photo)
    raw = store.absolute(kept.path).read_bytes()
    assert b"Budi Santoso" not in raw and b"Exif" not in raw
    image = _stored(store, kept.path)
    assert not image.getexif() and image.format == "JPEG"
    assert kept.content_type == "image/jpeg" and kept.path.endswith(".jpg")


def test_a_sideways_photo_is_stored_upright(store: MediaStore) -> None:
    from PIL import Image as PILImage

    out = io.BytesIO()
    PILImage.new("RGB", (40, 20), "red").save(out, format="JPEG",
                                              exif=gps_exif(orientation=6))
    kept = store.save_image(out.getvalue())
    assert _stored(store, kept.path).size == (20, 40)  # turned as the camera said


def test_a_drawing_stays_a_png(store: MediaStore) -> None:
    kept = store.save_image(png_bytes(seed=9))
    assert kept.content_type == "image/png" and _stored(store, kept.path).format == "PNG"


def test_what_only_looks_like_an_image_is_refused(store: MediaStore, tmp_path: Path) -> None:
    with pytest.raises(MediaRejected) as refused:
        store.save_image(b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>" * 40)
    assert refused.value.reason == "not_image"
    assert not any((tmp_path / "media").rglob("*.*"))


def test_a_decompression_bomb_is_refused_before_decoding(store: MediaStore) -> None:
    side = int(MAX_PIXELS ** 0.5) + 1000  # a few hundred bytes that claim ~52 megapixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    bomb = (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))
    with pytest.raises(MediaRejected) as refused:
        store.save_image(bomb)
    assert refused.value.reason == "too_large"


def test_the_same_photo_twice_is_kept_once(store: MediaStore) -> None:
    photo = jpeg_bytes(4000)
    assert store.save_image(photo) == store.save_image(photo)
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1  # no leftover part
