"""Finding the kelurahan a resident means from what they type, and the city's geofence."""

from __future__ import annotations

import pytest

import content
from storage.citypack import load_city_pack
from storage.places import Gazetteer

BINJAI = content.ROOT / "binjai"


@pytest.fixture(scope="module")
def places() -> Gazetteer:
    return Gazetteer(load_city_pack(BINJAI))


def _names(places: Gazetteer, text: str) -> list[str]:
    return [m.name for m in places.match_kelurahan(text)]


def _sure(places: Gazetteer, text: str) -> str | None:
    match = places.confident_kelurahan(text)
    return match.name if match else None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Jati Negara", "Jati Negara"),
        ("jatinegara", "Jati Negara"),
        ("JATI NEGARA", "Jati Negara"),
        ("kebun lada", "Kebun Lada"),
        ("Kel. Kebun Lada", "Kebun Lada"),
        ("kel.kebun lada", "Kebun Lada"),
        ("Kelurahan Tangsi", "Tangsi"),
        ("kelurahan: jati utomo", "Jati Utomo"),
        ("SM Rejo", "Sumber Mulyorejo"),
        ("s.m. rejo", "Sumber Mulyorejo"),
        ("sm karya", "Sumber Karya"),
        ("payaroba", "Paya Roba"),
        ("Paya Roba", "Paya Roba"),
        ("sukaramai", "Sukaramai"),
        ("Suka Ramai", "Sukaramai"),
        ("suka maju", "Suka Maju"),
        ("sukamaju", "Suka Maju"),
        ("bandar sinembah", "Bandar Senembah"),
        ("pekan binjai", "Pekan Binjai"),
        ("binjai estate", "Binjai Estate"),
        ("setia", "Setia"),
        ("satria", "Satria"),
        ("12.75.02.1005", "Tangsi"),
    ],
)
def test_official_names_and_local_aliases_are_recognised(
    places: Gazetteer, typed: str, expected: str
) -> None:
    assert _sure(places, typed) == expected
    assert _names(places, typed) == [expected]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("jatinegra", "Jati Negara"),
        ("jati negra", "Jati Negara"),
        ("kebon lada", "Kebun Lada"),
        ("tunggorono", "Tunggurono"),
        ("mencirem", "Mencirim"),
        ("timbang lankat", "Timbang Langkat"),
        ("limau mungkor", "Limau Mungkur"),
        ("dataran tingi", "Dataran Tinggi"),
        ("rambung dlm", "Rambung Dalam"),
        ("tanah sribu", "Tanah Seribu"),
        ("sumbr karya", "Sumber Karya"),
        ("brngam", "Berngam"),
        ("setiya", "Setia"),
        ("binjai estet", "Binjai Estate"),
        ("payarobah", "Paya Roba"),
        ("cengkeh turi", "Cengkeh Turi"),
        ("cengkih turi", "Cengkeh Turi"),
        ("bakti karya", "Bhakti Karya"),
        ("puji dadi", "Pujidadi"),
    ],
)
def test_misspellings_still_find_the_kelurahan(
    places: Gazetteer, typed: str, expected: str
) -> None:
    assert _sure(places, typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("rumah saya di kebun lada lingkungan 2 dekat masjid", "Kebun Lada"),
        ("Jl. Sudirman No. 5, Kel. Tangsi", "Tangsi"),
        ("jl setia budi kel tangsi", "Tangsi"),
        ("lampu jalan mati di jalan samanhudi kelurahan pahlawan", "Pahlawan"),
        ("Kelurahan Nangka Lingkungan 3", "Nangka"),
        ("kel jati karya lk IV", "Jati Karya"),
        ("kel.sukaramai kec.binjai barat", "Sukaramai"),
        ("tanah tinggi, binjai timur", "Tanah Tinggi"),
        ("Kota Binjai, kel. Setia", "Setia"),
    ],
)
def test_extra_words_around_the_name_are_ignored(
    places: Gazetteer, typed: str, expected: str
) -> None:
    assert _sure(places, typed) == expected


def test_sukaramai_and_suka_maju_are_never_confused(places: Gazetteer) -> None:
    assert _names(places, "sukaramai") == ["Sukaramai"]
    assert _names(places, "kel suka ramai") == ["Sukaramai"]
    assert _names(places, "suka maju") == ["Suka Maju"]
    assert _names(places, "sukamaju") == ["Suka Maju"]


def test_setia_and_satria_are_never_confused(places: Gazetteer) -> None:
    assert _names(places, "setia") == ["Setia"]
    assert _names(places, "satria") == ["Satria"]


def test_binjai_alone_is_ambiguous_with_the_exact_name_first(places: Gazetteer) -> None:
    matches = places.match_kelurahan("binjai")
    names = [m.name for m in matches]
    assert names[0] == "Binjai" and matches[0].exact
    assert "Pekan Binjai" in names
    assert not any(m.confident for m in matches)
    assert places.confident_kelurahan("binjai") is None
    assert places.confident_kelurahan("kel pekan binjai") is not None


def test_a_stated_kecamatan_narrows_an_ambiguous_name(places: Gazetteer) -> None:
    names = _names(places, "binjai, kec. binjai kota")
    assert names == ["Binjai", "Pekan Binjai"]
    assert _names(places, "jati, binjai utara") == [
        "Jati Negara",
        "Jati Utomo",
        "Jati Makmur",
        "Jati Karya",
    ]


def test_part_of_a_name_offers_every_kelurahan_that_has_it(places: Gazetteer) -> None:
    assert _names(places, "rambung") == ["Rambung Dalam", "Rambung Barat", "Rambung Timur"]
    assert _names(places, "jati") == ["Jati Negara", "Jati Utomo", "Jati Makmur", "Jati Karya"]
    assert set(_names(places, "suka")) == {"Suka Maju", "Sukaramai"}
    assert places.confident_kelurahan("rambung") is None
    # One candidate, but from a fragment: the resident is asked to confirm.
    lone = places.match_kelurahan("lada")
    assert [m.name for m in lone] == ["Kebun Lada"] and not lone[0].confident


def test_a_street_named_like_a_kelurahan_is_only_a_suggestion(places: Gazetteer) -> None:
    matches = places.match_kelurahan("jalan rusak di jl kartini")
    assert [m.name for m in matches] == ["Kartini"]
    assert not matches[0].confident


@pytest.mark.parametrize(
    "typed",
    [
        "Medan",
        "lampu jalan mati di depan rumah",
        "lampu merah mati",
        "rumput tinggi di taman",
        "pohon jati tumbang",
        "Kota Binjai",
        "binjai utara",
        "",
        "   ",
    ],
)
def test_text_without_a_kelurahan_matches_nothing(places: Gazetteer, typed: str) -> None:
    assert places.match_kelurahan(typed) == []


def test_kecamatan_named_in_text(places: Gazetteer) -> None:
    assert [k.name for k in places.match_kecamatan("Kec. Binjai Timur")] == ["Binjai Timur"]
    assert [k.name for k in places.match_kecamatan("binjai selatn")] == ["Binjai Selatan"]
    assert places.match_kecamatan("Kota Binjai") == []


def test_match_carries_its_kecamatan(places: Gazetteer) -> None:
    match = places.match_kelurahan("SM Rejo")[0]
    assert match.code == "12.75.04.1006"
    assert match.kecamatan_code == "12.75.04" and match.kecamatan.name == "Binjai Timur"
    assert match.matched == "sm rejo"


def test_lookups(places: Gazetteer) -> None:
    assert [k.code for k in places.kecamatan_list()] == [
        "12.75.01",
        "12.75.02",
        "12.75.03",
        "12.75.04",
        "12.75.05",
    ]
    assert sum(len(places.kelurahan_in(k.code)) for k in places.kecamatan_list()) == 37
    assert [k.name for k in places.kelurahan_in("12.75.03")] == [
        "Bandar Senembah",
        "Limau Mungkur",
        "Limau Sundai",
        "Paya Roba",
        "Suka Maju",
        "Sukaramai",
    ]
    assert places.kelurahan_in("12.75.99") == []
    pahlawan = places.kelurahan("12.75.01.1001")
    assert pahlawan is not None and pahlawan.name == "Pahlawan"
    assert places.kelurahan("12.75.01.9999") is None
    kecamatan = places.kecamatan_of("12.75.05.1002")
    assert kecamatan is not None and kecamatan.name == "Binjai Selatan"
    assert places.kecamatan_of("nope") is None


@pytest.mark.parametrize(
    ("lat", "lon", "inside"),
    [
        (3.6, 98.485, True),  # city centre
        (3.6233, 98.4858, True),  # Binjai Utara
        (3.5278, 98.4508, True),  # south-west corner of the official bounds
        (3.59, 98.67, False),  # Medan
        (3.75, 98.49, False),  # north, towards Langkat
        (3.6, 98.40, False),  # west
        (-3.6, 98.485, False),  # the southern hemisphere twin
    ],
)
def test_geofence(places: Gazetteer, lat: float, lon: float, inside: bool) -> None:
    assert places.in_city(lat, lon) is inside
