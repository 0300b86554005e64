"""Schemathesis against the corrected GeoReport v2 swagger, through the ASGI app (no network):
for every operation, cases that fit the swagger and cases that do not; no answer may be a server
error, have an undocumented status or content type, or break the swagger's schemas or the shared
JSON Schemas."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import Container, create_app
from open311_kit import BASE, KARTINI, SWAGGER, MediaDouble, check, partner_key

# Examples per operation and mode: enough to reach every branch of the checks, few enough for
# the suite (about 400 requests in all).
EXAMPLES = 30
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# The shared JSON Schema each successful JSON answer must also satisfy.
SHARED = {
    ("GET", "/services.{response_format}"): "services.json",
    ("GET", "/services/{service_code}.{response_format}"): "service-definition.json",
    ("GET", "/requests.{response_format}"): "requests.json",
    ("GET", "/requests/{service_request_id}.{response_format}"): "requests.json",
}


def _cases(operation: Any, mode: GenerationMode) -> list[Case]:
    collected: list[Case] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None,
                         derandomize=True, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck))
    def collect(case: Case) -> None:
        collected.append(case)

    collect()
    return collected


def _plausible(case: Case, n: int, key: str, codes: list[str],
               known: dict[str, list[str]]) -> None:
    """Turn some generated cases into ones that reach the work behind the checks: the city's
    jurisdiction, a real key, a real service with its required answers and a point in Binjai,
    a ticket or token that exists."""
    path, method = case.operation.path, case.method.upper()
    if case.query and "jurisdiction_id" in case.query and n % 3:
        case.query = {**case.query, "jurisdiction_id": "binjaikota.go.id"}
    if method == "POST":
        case.query = {**(case.query or {}), **({"api_key": key} if n % 4 else {})}
        if n % 2 and isinstance(case.body, dict):
            code = codes[n % len(codes)]
            case.body.update(service_code=code, lat=KARTINI[0], long=KARTINI[1])
            case.body.pop("address_id", None)
            if code == "jalan_rusak":
                case.body["attribute[ukuran]"] = "besar"
            if code == "banjir":
                case.body["attribute[kedalaman]"] = "lutut"
    elif n % 3 == 0 and path.startswith("/requests/") and known["tickets"]:
        case.path_parameters = {**(case.path_parameters or {}),
                                "service_request_id": known["tickets"][n % len(known["tickets"])]}
    elif n % 3 == 0 and path.startswith("/tokens/") and known["tokens"]:
        case.path_parameters = {**(case.path_parameters or {}),
                                "token_id": known["tokens"][n % len(known["tokens"])]}
    elif n % 3 == 0 and path.startswith("/services/"):
        case.path_parameters = {**(case.path_parameters or {}),
                                "service_code": codes[n % len(codes)]}


async def _send(client: httpx.AsyncClient, case: Case) -> httpx.Response:
    sent = case.as_transport_kwargs(base_url=f"http://testserver{BASE}")
    # (The swagger has no cookies: none are sent.)
    return await client.request(sent["method"], sent["url"], params=sent.get("params"),
                                data=sent.get("data"), headers=sent.get("headers"),
                                content=sent.get("content"))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
async def test_no_answer_breaks_the_swagger(container: Container, mode: GenerationMode) -> None:
    container.media_urls = MediaDouble({})
    container.settings = container.settings.model_copy(update={"open311_posts_per_hour": 0})
    schema = schemathesis.openapi.from_path(SWAGGER)
    key = await partner_key(container)
    codes = [c.key for c in container.city.categories]
    known: dict[str, list[str]] = {"tickets": [], "tokens": []}
    app = create_app(container.settings, container=container, start_channels=False)
    counter = itertools.count()
    answered: dict[int, int] = {}
    # POST first, so the reading operations meet requests that exist.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: op.method.upper() != "POST")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as client:
        for operation in operations:
            for case in _cases(operation, mode):
                _plausible(case, next(counter), key, codes, known)
                response = await _send(client, case)
                answered[response.status_code] = answered.get(response.status_code, 0) + 1
                case.validate_response(response, checks=CHECKS)
                if response.status_code != 200 or "json" not in response.headers.get(
                        "content-type", ""):
                    continue
                body = response.json()
                shared = SHARED.get((operation.method.upper(), operation.path))
                if shared is not None:
                    check(shared, body)
                if operation.method.upper() == "POST":
                    known["tickets"] += [r["service_request_id"] for r in body]
                    known["tokens"] += [r["token"] for r in body]
    assert not any(status >= 500 for status in answered)
    if mode == GenerationMode.POSITIVE:
        # The run reached past the refusals: requests were filed and read back.
        assert answered.get(200, 0) > 50 and known["tickets"], answered
