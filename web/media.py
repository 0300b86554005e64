"""Signed links to stored media (`/media/<token>`): a report's photos and voice notes for the
console and for Twilio to fetch; no link lasts long or opens anything but its own file."""

from __future__ import annotations

import base64
import hashlib
import hmac
import mimetypes
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response

MEDIA_LINK_TTL = timedelta(hours=1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class MediaLinks:
    """Makes and checks the tokens; `path` is relative to the media folder."""

    def __init__(self, *, secret_key: str, media_dir: Path) -> None:
        self._key = hashlib.sha256(b"media:" + secret_key.encode()).digest()
        self.media_dir = media_dir

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:20])

    def token(self, path: str, *, now: datetime, ttl: timedelta = MEDIA_LINK_TTL) -> str:
        body = f"{_b64(path.encode())}.{int((now + ttl).timestamp())}"
        return f"{body}.{self._sign(body)}"

    def url(self, path: str, *, now: datetime) -> str:
        return f"/media/{self.token(path, now=now)}"

    def open(self, token: str, *, now: datetime) -> Path | None:
        """The file a valid, unexpired token names, or None."""
        try:
            encoded, expires, signature = token.split(".")
            body = f"{encoded}.{expires}"
            if not hmac.compare_digest(signature, self._sign(body)):
                return None
            if int(expires) < now.timestamp():
                return None
            relative = _unb64(encoded).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        root = self.media_dir.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None
        return target


def media_router(links: MediaLinks, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter()

    @router.get("/media/{token}")
    async def media(token: str) -> Response:
        found = links.open(token, now=clock())
        if found is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        return FileResponse(found, media_type=kind,
                            headers={"Cache-Control": "private, max-age=3600"})

    return router
