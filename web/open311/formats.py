"""Open311's two formats: the same answer as JSON or as XML with the specification's element
names, and its error list."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from fastapi.responses import JSONResponse, Response

FORMATS = ("json", "xml")
JSON_TYPE = "application/json"
XML_TYPE = "text/xml"

# A list under one of these keys is written as the key's element holding one element per item.
ITEM_NAMES = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
              "formats": "format"}
# Characters XML 1.0 cannot carry at all (a control character in a staff note, say).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if value is None:
            continue
        child = ET.SubElement(element, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            item = ITEM_NAMES.get(key, "item")
            for each in value:
                node = ET.SubElement(child, item)
                if isinstance(each, Mapping):
                    _fill(node, each)
                else:
                    node.text = _text(each)
        else:
            child.text = _text(value)


def to_xml(root: str, body: Mapping[str, Any] | Sequence[Mapping[str, Any]],
           item: str | None = None) -> bytes:
    """`body` under `root`: a mapping's keys as elements, or each mapping of a list as an
    `item` element."""
    top = ET.Element(root)
    if isinstance(body, Mapping):
        _fill(top, body)
    else:
        for each in body:
            _fill(ET.SubElement(top, item or "item"), each)
    text = ET.tostring(top, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode("utf-8")


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_nulls(v) for v in value]
    return value


def answer(fmt: str, body: Mapping[str, Any] | Sequence[Mapping[str, Any]], *, root: str,
           item: str | None = None, status: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:
    """One answer in the format asked for; a field without a value is left out."""
    cleaned = _without_nulls(body)
    if fmt == "xml":
        return Response(to_xml(root, cleaned, item), status_code=status,
                        media_type=f"{XML_TYPE}; charset=utf-8", headers=dict(headers or {}))
    return JSONResponse(cleaned, status_code=status, headers=dict(headers or {}))


def errors(fmt: str, status: int, *descriptions: str,
           headers: Mapping[str, str] | None = None) -> Response:
    """The specification's error list: [{"code": 400, "description": "..."}], or
    <errors><error><code>400</code><description>...</description></error></errors>."""
    body = [{"code": status, "description": text} for text in descriptions]
    return answer(fmt if fmt in FORMATS else "json", body, root="errors", item="error",
                  status=status, headers=headers)
