"""Which kelurahan a shared location lies in, from the city pack's boundaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shapely.geometry import shape

from storage.boundaries import EDGE_METRES
from storage.city import City
from storage.citypack import CityPackError, load_city_pack

PACK = Path(__file__).resolve().parents[2] / "content" / "binjai"


@pytest.fixture(scope="module")
def city() -> City:
    return City(load_city_pack(PACK))


def _features() -> list[dict]:  # type: ignore[type-arg]
    return json.loads((PACK / "boundaries.geojson").read_text())["features"]


def test_a_point_in_each_of_the_37_kelurahan_is_found_in_it(city: City) -> None:
    features = _features()
    assert len(features) == 37
    for feature in features:
        point = shape(feature["geometry"]).representative_point()
        located = city.locate(point.y, point.x)
        assert located is not None and located.inside, feature["properties"]
        assert located.kelurahan_code == feature["properties"]["kode"]
        assert city.in_city(point.y, point.x)


def _south_of_the_city(metres: float) -> tuple[float, float, str]:
    """A point ``metres`` due south of the city's southernmost corner, and its kelurahan."""
    best = None
    for feature in _features():
        for lon, lat in feature["geometry"]["coordinates"][0]:
            if best is None or lat < best[0]:
                best = (lat, lon, feature["properties"]["kode"])
    assert best is not None
    return best[0] - metres / 110_574, best[1], best[2]


def test_a_point_just_outside_the_edge_is_near_its_kelurahan(city: City) -> None:
    lat, lon, code = _south_of_the_city(150)
    located = city.locate(lat, lon)
    assert located is not None and not located.inside
    assert located.kelurahan_code == code
    assert 140 <= located.metres_outside <= 160
    assert city.in_city(lat, lon)


def test_a_point_farther_out_is_outside_the_city(city: City) -> None:
    lat, lon, _code = _south_of_the_city(EDGE_METRES + 200)
    assert city.locate(lat, lon) is None
    assert not city.in_city(lat, lon)
    assert city.locate(3.5952, 98.6722) is None  # Medan
    assert city.locate(float("nan"), 98.5) is None


def test_a_pack_whose_boundaries_name_an_unknown_kelurahan_is_refused(tmp_path: Path) -> None:
    import shutil

    pack = tmp_path / "pack"
    shutil.copytree(PACK, pack)
    data = json.loads((pack / "boundaries.geojson").read_text())
    data["features"][0]["properties"]["kode"] = "12.75.09.9999"
    (pack / "boundaries.geojson").write_text(json.dumps(data))
    with pytest.raises(CityPackError) as refused:
        load_city_pack(pack)
    assert "boundaries.geojson" in str(refused.value) and "12.75.09.9999" in str(refused.value)


def test_the_attribution_travels_with_the_boundaries() -> None:
    notice = (PACK / "boundaries.NOTICE.md").read_text()
    assert "MIT License" in notice and "Cahya DSN" in notice
