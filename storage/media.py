"""The media store: report photos kept on disk under EMAS_DATA_DIR/media, checked by content."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

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
        self.reason = reason  # "not_image" | "too_large" | "empty"


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


class MediaStore:
    """Content-addressed files: the same photo sent twice is kept once."""

    def __init__(self, root: Path, *, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def save_image(self, data: bytes) -> StoredMedia:
        if not data:
            raise MediaRejected("empty")
        if len(data) > self.max_bytes:
            raise MediaRejected("too_large")
        kind = sniff_image(data)
        if kind is None:
            raise MediaRejected("not_image")
        ctype, ext = kind
        digest = hashlib.sha256(data).hexdigest()
        now = utcnow()
        rel = Path(f"{now:%Y}") / f"{now:%m}" / f"{digest}{ext}"
        target = self.root / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(target)
        return StoredMedia(path=str(rel), content_type=ctype, size=len(data), sha256=digest)

    def absolute(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("media path escapes the store")
        return path
