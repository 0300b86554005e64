"""Reading a file a resident sent, over HTTP, never past the size limit."""

from __future__ import annotations

import httpx

from storage.media import MediaRejected


async def read_capped(response: httpx.Response, limit: int) -> bytes:
    """The body of a streamed response; refused as too large from its Content-Length, or as
    soon as more than ``limit`` bytes have arrived (a file with no declared size stops there,
    not at its end)."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise MediaRejected("too_large")
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > limit:
            raise MediaRejected("too_large")
    return bytes(data)
