"""The media store: report photos kept on disk under EMAS_DATA_DIR/media, decoded and stored
again without their metadata."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from storage.types import utcnow

_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"GIF87a", "image/gif", ".gif"),
    (b"GIF89a", "image/gif", ".gif"),
)


class MediaRejected(ValueError):
    """The file is not an image we keep, or is too large."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "not_image" | "not_audio" | "too_large" | "empty"


@dataclass(frozen=True, slots=True)
class StoredMedia:
    path: str  # relative to the media root
    content_type: str
    size: int
    sha256: str


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """The real image type from the first bytes, whatever the sender declared."""
    for magic, ctype, ext in _SIGNATURES:
        if data.startswith(magic):
            return ctype, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp"
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "image/heic", ".heic"
    return None


def sniff_audio(data: bytes) -> tuple[str, str] | None:
    """The real type of a voice note from its first bytes: Ogg/Opus (Telegram, WhatsApp on
    Android), AMR, MP3, or an MPEG-4 audio file (WhatsApp on iPhone)."""
    if data.startswith(b"OggS"):
        return "audio/ogg", ".ogg"
    if data.startswith(b"#!AMR"):
        return "audio/amr", ".amr"
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg", ".mp3"
    if data[4:8] == b"ftyp" and data[8:11] in (b"M4A", b"mp4", b"iso", b"3gp"):
        return "audio/mp4", ".m4a"
    return None


# A photo larger than this many pixels is refused before it is decoded: a few kilobytes of
# compressed data can claim billions of pixels (a decompression bomb). 50 MP is above any
# phone camera's photo as the chat apps send it.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85


def _clean(data: bytes, out: IO[bytes]) -> tuple[str, str]:
    """Decode the image and encode it again into ``out`` without any metadata (EXIF with its
    GPS position and camera owner, XMP, comments), turned upright as its EXIF orientation said;
    what does not decode is refused. PNG stays PNG (drawings, screenshots); everything else is
    JPEG.

    ``out`` is a real file: Pillow then encodes with the GIL released, where into memory it
    holds the GIL for the whole encoding (about 100 ms for a phone photo, during which the
    event loop, whose thread this is not, stands still)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.width * opened.height > MAX_PIXELS:
                raise MediaRejected("too_large")
            opened.load()
            image = ImageOps.exif_transpose(opened) or opened
            keep_png = opened.format == "PNG"
    except MediaRejected:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            SyntaxError):
        raise MediaRejected("not_image") from None
    if keep_png:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        image.save(out, format="PNG", optimize=True)  # no info, no EXIF: nothing carried over
        return "image/png", ".png"
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return "image/jpeg", ".jpg"


# Photos stored at once; more wait their turn.
IMAGE_WORKERS = 2
_pool: ThreadPoolExecutor | None = None


def _lower_priority() -> None:
    """Nice this worker thread (on Linux a thread's nice value is its own): the scheduler then
    gives a busy core to the event loop first."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _image_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(IMAGE_WORKERS, thread_name_prefix="images",
                                   initializer=_lower_priority)
    return _pool


class MediaStore:
    """Content-addressed files: the same photo sent twice is kept once. Every image is
    decoded and stored again without metadata, so nothing it carried (a GPS position, the
    owner's name) is kept or shown to anyone."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save_image(self, data: bytes) -> StoredMedia:
        if not data:
            raise MediaRejected("empty")
        if len(data) > self.max_bytes:
            raise MediaRejected("too_large")
        if sniff_image(data) is None:
            raise MediaRejected("not_image")
        self.root.mkdir(parents=True, exist_ok=True)
        # Written beside its final place (same file system), then renamed to its content's name.
        with tempfile.NamedTemporaryFile(dir=self.root, suffix=".part", delete=False) as out:
            tmp = Path(out.name)
            try:
                ctype, ext = _clean(data, out)
                out.flush()
                size = out.tell()
                out.seek(0)
                digest = hashlib.file_digest(out, "sha256").hexdigest()  # type: ignore[arg-type]
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        now = utcnow()
        rel = Path(f"{now:%Y}") / f"{now:%m}" / f"{digest}{ext}"
        target = self.root / rel
        if target.exists():
            tmp.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.chmod(0o644)
            tmp.replace(target)
        return StoredMedia(path=str(rel), content_type=ctype, size=size, sha256=digest)

    def save_audio(self, data: bytes) -> StoredMedia:
        """A voice note, kept as it came (its container holds the sound, no position or
        owner's name): staff listen to it; it is never shown to the public."""
        if not data:
            raise MediaRejected("empty")
        if len(data) > self.max_bytes:
            raise MediaRejected("too_large")
        sniffed = sniff_audio(data)
        if sniffed is None:
            raise MediaRejected("not_audio")
        ctype, ext = sniffed
        digest = hashlib.sha256(data).hexdigest()
        now = utcnow()
        rel = Path("voice") / f"{now:%Y}" / f"{now:%m}" / f"{digest}{ext}"
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part",
                                             delete=False) as out:
                out.write(data)
            Path(out.name).chmod(0o640)
            Path(out.name).replace(target)
        return StoredMedia(path=str(rel), content_type=ctype, size=len(data), sha256=digest)

    async def save_image_later(self, data: bytes) -> StoredMedia:
        """`save_image` off the event loop, on a low-priority thread: decoding and encoding a
        phone photo takes a core for a quarter of a second, which residents' replies should
        not have to share."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_image_pool(), self.save_image, data)

    def absolute(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("media path escapes the store")
        return path
