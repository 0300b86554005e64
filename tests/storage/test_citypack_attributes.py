"""The questions a category asks beyond the description (Open311 service attributes) and the
city's Open311 presentation: read from the city pack in both languages, and a mistake in them
named by file and entry."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import content
from storage.city import City
from storage.citypack import CityPackError, load_city_pack

BINJAI = content.ROOT / "binjai"


def _pack_with(tmp_path: Path, name: str, change: Callable[[Any], None]) -> Path:
    target = tmp_path / "binjai"
    shutil.copytree(BINJAI, target)
    path = target / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def test_attributes_are_read_in_each_language() -> None:
    language = ["id"]
    city = City(load_city_pack(BINJAI), reader=lambda: language[0])
    pothole = city.category("jalan_rusak")
    assert pothole is not None
    size = pothole.attributes[0]
    assert (size.code, size.datatype, size.required) == ("ukuran", "singlevaluelist", True)
    assert size.description() == "Seberapa besar kerusakannya?"
    assert size.value("besar") is not None and size.value("raksasa") is None
    language[0] = "en"
    assert size.description() == "How large is the damage?"
    assert size.values[2].name() == "Large (over 1 m)"
    assert city.open311.jurisdiction_id == "binjaikota.go.id"
    assert "Diskominfo" in city.open311.key_service()
    drain = city.category("drainase")
    assert drain is not None and drain.attributes == ()


@pytest.mark.parametrize(("change", "words"), [
    (lambda a: a[0].pop("values"), "is a singlevaluelist and needs values"),
    (lambda a: a.append({"code": "catatan", "datatype": "string", "description":
                         {"id": "Catatan", "en": "Note"}, "values": [
                             {"key": "x", "names": {"id": "X", "en": "X"}}]}),
     "values are only for singlevaluelist"),
    (lambda a: a.append(dict(a[0])), "duplicate attribute"),
    (lambda a: a[0].update(datatype="colour"), "datatype"),
    (lambda a: a[0].update(description={"id": "Seberapa besar?"}), "missing: en"),
    (lambda a: a.append({"code": "info", "variable": False, "required": True,
                         "description": {"id": "Info", "en": "Info"}}),
     "cannot be required"),
])
def test_a_mistake_in_the_attributes_is_named(tmp_path: Path,
                                              change: Callable[[list[Any]], None],
                                              words: str) -> None:
    def edit(data: dict[str, Any]) -> None:
        pothole = next(c for c in data["categories"] if c["key"] == "jalan_rusak")
        change(pothole["attributes"])

    with pytest.raises(CityPackError) as refused:
        load_city_pack(_pack_with(tmp_path, "categories.yaml", edit))
    assert str(refused.value).startswith("categories.yaml:")
    assert "jalan_rusak" in str(refused.value) and words in str(refused.value)


def test_a_pack_without_open311_uses_its_ticket_prefix(tmp_path: Path) -> None:
    pack = load_city_pack(_pack_with(tmp_path, "city.yaml", lambda d: d.pop("open311")))
    city = City(pack)
    assert city.open311.jurisdiction_id == "bji"
    assert city.open311.contact() == ""
