"""The Binjai city pack: what it holds, how a broken pack is refused, and idempotent seeding."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import SQLModel, func, select

import content
import storage.models  # noqa: F401  (registers every table)
from storage.citypack import CityPack, CityPackError, load_city_pack, seed
from storage.db import Database
from storage.models import Agency, Category, Kecamatan, Kelurahan, RoutingOverride

BINJAI = content.ROOT / "binjai"


@pytest.fixture(scope="module")
def pack() -> CityPack:
    return load_city_pack(BINJAI)


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "binjai"
    shutil.copytree(BINJAI, target)
    return target


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _category(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(c for c in data["categories"] if c["key"] == key)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path}/t.db", create=True)
    async with database.engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    try:
        yield database
    finally:
        await database.dispose()


# --- the real pack ----------------------------------------------------------------------------


def test_binjai_pack_has_every_area_and_category(pack: CityPack) -> None:
    assert pack.city.code == "BJI"
    assert pack.city.region_code == "12.75"
    assert [k.name for k in pack.kecamatan] == [
        "Binjai Utara",
        "Binjai Kota",
        "Binjai Barat",
        "Binjai Timur",
        "Binjai Selatan",
    ]
    assert len(pack.kelurahan) == 37
    assert len({k.code for k in pack.kelurahan}) == 37
    assert all(k.code.startswith(k.kecamatan_code + ".") for k in pack.kelurahan)
    assert [c.key for c in pack.categories] == [
        "jalan_rusak", "drainase", "banjir", "sampah", "pju", "lampu_lalin", "parkir", "pohon",
        "pkl", "ketertiban", "air", "listrik", "adminduk", "bansos", "kesehatan", "perizinan",
        "fasum", "pungli", "lainnya",
    ]  # fmt: skip


def test_binjai_pack_routes_and_refers_as_the_city_does(pack: CityPack) -> None:
    assert pack.category("pju").agency == "perkim"
    assert pack.category("banjir").agency == "bpbd"
    assert pack.category("pungli").confidential
    assert not any(c.confidential for c in pack.categories if c.key != "pungli")

    listrik = pack.category("listrik")
    assert pack.agency(listrik.agency).external
    assert "123" in listrik.referral["id"] and "PLN Mobile" in listrik.referral["en"]
    assert {a.key for a in pack.agencies if a.external} == {"pln", "provinsi"}
    assert all(not c.referral for c in pack.categories if c.key != "listrik")

    assert {c.key for c in pack.categories if c.emergency_hint} >= {"banjir", "pohon"}
    assert pack.city.emergency_numbers[0].number == "112"


def test_every_category_speaks_both_languages_and_has_deadlines(pack: CityPack) -> None:
    for category in pack.categories:
        for texts in (category.names, category.hints, category.keywords):
            assert texts["id"] and texts["en"], category.key
        assert category.verify_days == pack.city.service_levels.verify_days == 3
        assert category.answer_days == pack.city.service_levels.answer_days == 5
    assert "jalan bolong" in pack.category("jalan_rusak").keywords["id"]
    assert "got mampet" in pack.category("drainase").keywords["id"]
    assert "PJU" in pack.category("pju").keywords["id"]


def test_local_aliases_are_in_the_pack(pack: CityPack) -> None:
    aliases = {a: k.name for k in pack.kelurahan for a in k.aliases}
    assert aliases["Jatinegara"] == "Jati Negara"
    assert aliases["Payaroba"] == "Paya Roba"
    assert aliases["Suka Ramai"] == "Sukaramai"
    assert aliases["Bandar Sinembah"] == "Bandar Senembah"
    assert aliases["SM Rejo"] == "Sumber Mulyorejo"
    assert aliases["SM Karya"] == "Sumber Karya"


def test_geofence_contains_the_centre_not_medan(pack: CityPack) -> None:
    fence = pack.city.geofence
    assert fence.contains(pack.city.centre.lat, pack.city.centre.lon)
    assert not fence.contains(3.59, 98.67)


# --- a broken pack ----------------------------------------------------------------------------


def test_category_with_unknown_agency_is_refused(pack_copy: Path) -> None:
    _edit(
        pack_copy / "categories.yaml",
        lambda d: _category(d, "sampah").update(agency="dinas_sampah"),
    )
    with pytest.raises(CityPackError, match=r"^categories\.yaml: .*'sampah'.*'dinas_sampah'"):
        load_city_pack(pack_copy)


def test_duplicate_kelurahan_code_is_refused(pack_copy: Path) -> None:
    def duplicate(data: dict[str, Any]) -> None:
        kelurahan = data["kecamatan"][0]["kelurahan"]
        kelurahan.append({"code": kelurahan[0]["code"], "name": "Pahlawan Baru"})

    _edit(pack_copy / "areas.yaml", duplicate)
    with pytest.raises(
        CityPackError, match=r"^areas\.yaml: duplicate kelurahan code.*12\.75\.01\.1001"
    ):
        load_city_pack(pack_copy)


def test_kelurahan_under_the_wrong_kecamatan_is_refused(pack_copy: Path) -> None:
    def misplace(data: dict[str, Any]) -> None:
        data["kecamatan"][0]["kelurahan"][0]["code"] = "12.75.02.1099"

    _edit(pack_copy / "areas.yaml", misplace)
    with pytest.raises(CityPackError) as caught:
        load_city_pack(pack_copy)
    message = str(caught.value)
    assert message.startswith("areas.yaml: ")
    assert "12.75.02.1099" in message and "12.75.01" in message


def test_duplicate_category_and_agency_keys_are_refused(pack_copy: Path) -> None:
    _edit(pack_copy / "agencies.yaml", lambda d: d["agencies"].append(dict(d["agencies"][0])))
    with pytest.raises(CityPackError, match=r"^agencies\.yaml: duplicate agency key: 'putr'"):
        load_city_pack(pack_copy)


def test_missing_translation_names_the_file_and_entry(pack_copy: Path) -> None:
    _edit(pack_copy / "categories.yaml", lambda d: _category(d, "pju")["names"].pop("en"))
    with pytest.raises(CityPackError, match=r"^categories\.yaml: categories\[4\] \(pju\)\.names"):
        load_city_pack(pack_copy)


def test_external_category_without_referral_is_refused(pack_copy: Path) -> None:
    _edit(pack_copy / "categories.yaml", lambda d: _category(d, "listrik").pop("referral"))
    with pytest.raises(CityPackError, match=r"^categories\.yaml: .*'listrik'.*referral"):
        load_city_pack(pack_copy)


def test_misspelt_field_is_refused_not_ignored(pack_copy: Path) -> None:
    _edit(pack_copy / "categories.yaml", lambda d: _category(d, "pungli").update(confidental=True))
    with pytest.raises(CityPackError, match=r"^categories\.yaml: .*\(pungli\)\.confidental"):
        load_city_pack(pack_copy)


def test_routing_to_unknown_kecamatan_is_refused(pack_copy: Path) -> None:
    _edit(
        pack_copy / "categories.yaml",
        lambda d: _category(d, "parkir").update(routing={"12.75.09": "dishub"}),
    )
    with pytest.raises(CityPackError, match=r"^categories\.yaml: .*'12\.75\.09'"):
        load_city_pack(pack_copy)


def test_missing_or_unreadable_files_are_named(pack_copy: Path) -> None:
    (pack_copy / "agencies.yaml").unlink()
    with pytest.raises(CityPackError, match=r"^agencies\.yaml: missing"):
        load_city_pack(pack_copy)

    (pack_copy / "agencies.yaml").write_text("agencies: [unclosed\n", encoding="utf-8")
    with pytest.raises(CityPackError, match=r"^agencies\.yaml: is not valid YAML"):
        load_city_pack(pack_copy)


def test_region_code_written_as_number_is_refused(pack_copy: Path) -> None:
    # YAML reads an unquoted 12.75 as a float; it must be quoted.
    text = (pack_copy / "city.yaml").read_text(encoding="utf-8")
    (pack_copy / "city.yaml").write_text(text.replace('"12.75"', "12.75"), encoding="utf-8")
    with pytest.raises(CityPackError, match=r"^city\.yaml: region_code"):
        load_city_pack(pack_copy)


def test_category_may_override_the_city_deadlines(pack_copy: Path) -> None:
    _edit(pack_copy / "categories.yaml", lambda d: _category(d, "pungli").update(answer_days=14))
    pack = load_city_pack(pack_copy)
    assert pack.category("pungli").answer_days == 14
    assert pack.category("pungli").verify_days == 3
    assert pack.category("sampah").answer_days == 5


# --- seeding ----------------------------------------------------------------------------------


async def _count(db: Database, model: type[SQLModel]) -> int:
    async with db.reader() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_seed_fills_the_reference_tables(db: Database, pack: CityPack) -> None:
    async with db.session() as s:
        stats = await seed(session=s, pack=pack)
    assert stats["kecamatan"] == 5 and stats["kelurahan"] == 37 and stats["category"] == 19
    assert stats["created"] == 5 + 37 + len(pack.agencies) + 19
    assert stats["updated"] == 0

    async with db.reader() as s:
        listrik = await s.get(Category, "listrik")
        tangsi = await s.get(Kelurahan, "12.75.02.1005")
        pln = await s.get(Agency, "pln")
        pungli = await s.get(Category, "pungli")
    assert listrik is not None and tangsi is not None and pln is not None and pungli is not None
    assert listrik.agency_key == "pln" and "123" in listrik.referral["id"]
    assert listrik.names == {"id": "Listrik padam", "en": "Power outage"}
    assert listrik.position == 12 and listrik.emergency_hint
    assert "mati lampu" in listrik.keywords["id"]
    assert pungli.confidential and not pungli.emergency_hint
    assert tangsi.name == "Tangsi" and tangsi.kecamatan_code == "12.75.02"
    assert pln.external and pln.contact and "123" in pln.contact


async def test_seeding_twice_changes_nothing(db: Database, pack: CityPack) -> None:
    async with db.session() as s:
        await seed(session=s, pack=pack)
    async with db.session() as s:
        again = await seed(session=s, pack=pack)
    assert (again["created"], again["updated"], again["removed"]) == (0, 0, 0)
    assert await _count(db, Kecamatan) == 5
    assert await _count(db, Kelurahan) == 37
    assert await _count(db, Agency) == len(pack.agencies)
    assert await _count(db, Category) == 19


async def test_changed_yaml_updates_rows(db: Database, pack: CityPack, pack_copy: Path) -> None:
    async with db.session() as s:
        await seed(session=s, pack=pack)

    def retarget(data: dict[str, Any]) -> None:
        parkir = _category(data, "parkir")
        parkir["hints"]["id"] = "Sebutkan lokasinya."
        parkir["routing"] = {"12.75.04": "satpolpp"}

    _edit(pack_copy / "categories.yaml", retarget)
    _edit(
        pack_copy / "areas.yaml",
        lambda d: d["kecamatan"][1]["kelurahan"][4]["aliases"].append("Tangsi Lama"),
    )
    changed = load_city_pack(pack_copy)
    async with db.session() as s:
        stats = await seed(session=s, pack=changed)
    assert (stats["created"], stats["updated"]) == (1, 2)  # the override; parkir and Tangsi

    async with db.reader() as s:
        parkir = await s.get(Category, "parkir")
        tangsi = await s.get(Kelurahan, "12.75.02.1005")
        override = await s.get(RoutingOverride, ("parkir", "12.75.04"))
    assert parkir is not None and parkir.hints["id"] == "Sebutkan lokasinya."
    assert tangsi is not None and tangsi.aliases == ["Tangsi Lama"]
    assert override is not None and override.agency_key == "satpolpp"

    # Dropping the override from the pack drops it from the table.
    async with db.session() as s:
        stats = await seed(session=s, pack=pack)
    assert stats["removed"] == 1
    assert await _count(db, RoutingOverride) == 0
    assert await _count(db, Category) == 19
