"""Partners' media URLs are fetched from public addresses only (every redirect checked before
anything is sent there), and never past the size limit."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.handlers.media_url import MediaUnavailable, MediaUrlFetcher, Resolve, is_public
from factories import png_bytes
from storage.media import MediaRejected

Handler = Callable[[httpx.Request], httpx.Response]


def _resolver(table: dict[str, str]) -> Resolve:
    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("unknown host")
        return [table[host]]

    return resolve


def _fetcher(handler: Handler, table: dict[str, str] | None = None,
             max_bytes: int = 1024 * 1024) -> tuple[MediaUrlFetcher, list[str]]:
    seen: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return handler(request)

    fetcher = MediaUrlFetcher(max_bytes=max_bytes, transport=httpx.MockTransport(record),
                              resolve=_resolver(table if table is not None else {
                                  "cdn.mitra.example": "8.8.8.8",
                                  "intranet.mitra.example": "10.0.0.7"}))
    return fetcher, seen


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True), ("2001:4860:4860::8888", True), ("127.0.0.1", False),
    ("10.1.2.3", False), ("192.168.1.1", False), ("169.254.169.254", False), ("::1", False),
    ("::ffff:127.0.0.1", False), ("fe80::1%eth0", False), ("224.0.0.1", False),
    ("0.0.0.0", False), ("not an address", False),
])
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


async def test_a_photo_on_a_public_host_is_downloaded() -> None:
    photo = png_bytes(seed=3)
    fetcher, seen = _fetcher(lambda request: httpx.Response(200, content=photo))
    assert await fetcher.fetcher("https://cdn.mitra.example/1.png")() == photo
    assert seen == ["https://cdn.mitra.example/1.png"]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/admin", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data",
    "https://intranet.mitra.example/foto.png", "file:///etc/passwd", "ftp://cdn.mitra.example/x",
    "http://cdn.mitra.example:99999/x",
])
async def test_a_private_or_odd_address_is_refused_before_any_request(url: str) -> None:
    fetcher, seen = _fetcher(lambda request: httpx.Response(200, content=b"secret"),
                             table={"cdn.mitra.example": "8.8.8.8",
                                    "intranet.mitra.example": "10.0.0.7",
                                    "127.0.0.1": "127.0.0.1", "::1": "::1",
                                    "169.254.169.254": "169.254.169.254"})
    with pytest.raises(MediaRejected):
        await fetcher.download(url)
    assert seen == []


async def test_a_redirect_into_the_private_network_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"location": "https://intranet.mitra.example/x"})

    fetcher, seen = _fetcher(handler)
    with pytest.raises(MediaRejected):
        await fetcher.download("https://cdn.mitra.example/1.png")
    assert seen == ["https://cdn.mitra.example/1.png"]


async def test_too_large_missing_and_failing_files() -> None:
    big, _ = _fetcher(lambda request: httpx.Response(200, content=b"x" * 2048), max_bytes=1024)
    gone, _ = _fetcher(lambda request: httpx.Response(404))
    down, _ = _fetcher(lambda request: httpx.Response(503))
    with pytest.raises(MediaRejected) as too_large:
        await big.download("https://cdn.mitra.example/big.png")
    assert too_large.value.reason == "too_large"
    with pytest.raises(MediaRejected):
        await gone.download("https://cdn.mitra.example/gone.png")
    with pytest.raises(MediaUnavailable):  # worth another try later
        await down.download("https://cdn.mitra.example/later.png")
