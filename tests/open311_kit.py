"""Test helpers for Open311: an outside client over the ASGI transport, partner keys, Kominfo
passing a report on, a media URL double, and the GeoReport v2 artefacts (the JSON Schemas, the
corrected swagger) to check every answer against."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft4Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from agencies_kit import actions
from bot.app import Container, create_app
from factories import png_bytes
from reports.partners import create_key
from storage import repo

HERE = Path(__file__).parent / "web" / "open311"
SCHEMAS = HERE / "schemas"
SWAGGER = HERE / "swagger.json"
BASE = "/open311/v2"

# Points in Binjai (kelurahan Kartini, Binjai Kota; Tanah Seribu, Binjai Selatan) and one in
# Medan, outside the city.
KARTINI = (3.60396, 98.48602)
KARTINI_CODE = "12.75.02.1004"
TANAH_SERIBU = (3.56232, 98.48677)
MEDAN = (3.5952, 98.6722)
# All a request carries while Kominfo has not passed it on (still being checked, or not
# processed).
CHECKING_FIELDS = {"service_request_id", "status", "status_notes", "service_name",
                   "service_code", "requested_datetime", "updated_datetime"}


@cache
def _registry() -> Registry:
    resources = [(path.name, Resource.from_contents(json.loads(path.read_text()),
                                                    default_specification=DRAFT202012))
                 for path in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


def check(schema: str, instance: Any) -> None:
    """Validate an answer against one of the shared GeoReport v2 JSON Schemas (formats
    checked: a date-time must be RFC 3339, with its offset)."""
    document = json.loads((SCHEMAS / schema).read_text())
    Draft202012Validator(document, registry=_registry(),
                         format_checker=Draft202012Validator.FORMAT_CHECKER).validate(instance)


@cache
def _swagger() -> dict[str, Any]:
    return dict(json.loads(SWAGGER.read_text()))


def check_definition(name: str, instance: Any, *, many: bool = False) -> None:
    """Validate against a definition of the corrected swagger (the POST answer, a token, the
    error list), or a list of it."""
    target: dict[str, Any] = {"$ref": f"#/definitions/{name}"}
    if many:
        target = {"type": "array", "items": target}
    schema = {**target, "definitions": _swagger()["definitions"]}
    Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER).validate(instance)


@asynccontextmanager
async def open311_client(box: Container, *,
                         language: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
    """An outside client of the app's Open311 API (no network: the ASGI transport)."""
    app = create_app(box.settings, container=box, start_channels=False)
    headers = {"Accept-Language": language} if language else {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url=f"http://testserver{BASE}/", headers=headers) as client:
        yield client


async def one_request(client: httpx.AsyncClient, ticket: str) -> dict[str, Any]:
    """GET requests/<ticket>.json: the one request, checked against the schemas."""
    answer = await client.get(f"requests/{ticket}.json")
    assert answer.status_code == 200, answer.text
    check("requests.json", answer.json())
    [request] = answer.json()
    check("request.json", request)
    return dict(request)


async def partner_key(box: Container, name: str = "Aplikasi Mitra") -> str:
    """A partner's key, made as `emas apikey create` makes it."""
    async with box.db.session() as session:
        _key, raw = await create_key(session=session, name=name, now=box.engine.clock())
    return raw


async def passed_on(box: Container, *tickets: str) -> None:
    """Kominfo verifies each report and passes it to its agency (the lifecycle's verify, as
    the console's button does): from then on the report is public."""
    async with box.db.session() as session:
        for ticket in tickets:
            report = await repo.get_report_by_ticket(session=session, ticket=ticket)
            assert report is not None
            await actions(box, session).verify(report, actor_id=None)


async def post_request(client: httpx.AsyncClient, key: str | None, fmt: str = "json",
                       **fields: str) -> httpx.Response:
    data = dict(fields)
    if key is not None:
        data["api_key"] = key
    return await client.post(f"requests.{fmt}", data=data)


def pothole(**extra: str) -> dict[str, str]:
    """A well-formed pothole request in kelurahan Kartini."""
    return {"service_code": "jalan_rusak", "lat": str(KARTINI[0]), "long": str(KARTINI[1]),
            "attribute[ukuran]": "besar", "description": "Lubang besar di depan SD Negeri 5",
            **extra}


class MediaDouble:
    """Stands in for the media URL downloader: known URLs give their bytes, others fail."""

    def __init__(self, files: dict[str, bytes] | None = None) -> None:
        self.files = files if files is not None else {
            "https://cdn.mitra.example/foto/1.png": png_bytes(seed=7)}
        self.asked: list[str] = []

    def __call__(self, url: str) -> Callable[[], Awaitable[bytes]]:
        async def fetch() -> bytes:
            self.asked.append(url)
            if url not in self.files:
                raise httpx.ConnectError("no such host")
            return self.files[url]

        return fetch
