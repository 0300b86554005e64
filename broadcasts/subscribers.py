"""Subscribers: residents' own choices, relay joins and invitations, linked KIM groups, CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

import phonenumbers
from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts import links
from broadcasts.audience import ROLES
from broadcasts.groups import GroupCatalog, GroupInfo, kim_key
from storage import repo as identities
from storage import repo_broadcasts as repo
from storage import repo_outbound
from storage.city import City
from storage.db import Database
from storage.models.broadcast import BroadcastCode, Relay, Subscriber
from storage.places import fold

INVITE_DAYS = 14
ROLE_ALIASES = {
    "resident": "resident", "warga": "resident", "": "resident",
    "kim": "kim", "pengurus kim": "kim", "anggota kim": "kim",
    "kepling": "kepling", "kepala lingkungan": "kepling", "kaling": "kepling",
}


async def ensure_groups(session: AsyncSession, catalog: GroupCatalog) -> None:
    """Make the group rows exist (subscriptions refer to them); cheap when nothing changed."""
    if await repo.count_groups(session=session) != len(catalog.groups):
        await repo.sync_groups(session=session, rows=[g.row() for g in catalog.groups])


@dataclass
class JoinResult:
    relay: Relay
    subscriber: Subscriber
    new: bool
    group: GroupInfo | None


class SubscriberService:
    """Subscriptions as residents, relays and KIM group admins change them from chat."""

    def __init__(self, *, session: AsyncSession, city: City, catalog: GroupCatalog,
                 now: Callable[[], datetime]) -> None:
        self.session = session
        self.city = city
        self.catalog = catalog
        self.now = now

    async def find(self, channel: str, address: str) -> Subscriber | None:
        return await repo.get_subscriber(session=self.session, channel=channel, address=address)

    async def for_person(self, *, channel: str, address: str, identity_id: int | None,
                         locale: str | None, name: str | None = None,
                         source: str = "chat") -> tuple[Subscriber, bool]:
        """The person's subscriber row, created when missing; (row, created)."""
        found = await self.find(channel, address)
        if found is not None:
            if identity_id is not None and found.identity_id != identity_id:
                found.identity_id = identity_id
                await repo.save_subscriber(session=self.session, subscriber=found)
            return found, False
        subscriber = Subscriber(channel=channel, address=address, identity_id=identity_id,
                                locale=locale, name=name, source=source,
                                consent_source="chat", created_at=self.now(),
                                updated_at=self.now())
        await repo.save_subscriber(session=self.session, subscriber=subscriber)
        return subscriber, True

    async def subscriptions(self, subscriber: Subscriber) -> list[str]:
        assert subscriber.id is not None
        return await repo.list_subscriptions(session=self.session, subscriber_id=subscriber.id)

    async def subscribe(self, subscriber: Subscriber, keys: Iterable[str]) -> None:
        assert subscriber.id is not None
        await ensure_groups(self.session, self.catalog)
        await repo.set_subscriptions(session=self.session, subscriber_id=subscriber.id,
                                     add=[k for k in keys if k in self.catalog])

    async def unsubscribe(self, subscriber: Subscriber, keys: Iterable[str]) -> None:
        assert subscriber.id is not None
        await repo.set_subscriptions(session=self.session, subscriber_id=subscriber.id,
                                     remove=list(keys))

    async def toggle(self, subscriber: Subscriber, key: str) -> bool:
        """Subscribe or unsubscribe one group; True when now subscribed."""
        if key in await self.subscriptions(subscriber):
            await self.unsubscribe(subscriber, [key])
            return False
        await self.subscribe(subscriber, [key])
        if subscriber.stopped:
            await self.set_stopped(subscriber, False)
        return True

    async def set_kelurahan(self, subscriber: Subscriber, code: str) -> None:
        """Move a resident to another kelurahan: their KIM subscription moves with them."""
        old = subscriber.kelurahan_code
        subscriber.kelurahan_code = code
        await repo.save_subscriber(session=self.session, subscriber=subscriber)
        if old and old != code and kim_key(old) in await self.subscriptions(subscriber):
            await self.unsubscribe(subscriber, [kim_key(old)])
        await self.subscribe(subscriber, [kim_key(code)])

    async def set_stopped(self, subscriber: Subscriber, stopped: bool) -> None:
        subscriber.stopped = stopped
        subscriber.stopped_at = self.now() if stopped else None
        subscriber.stop_reason = "resident" if stopped else None
        await repo.save_subscriber(session=self.session, subscriber=subscriber)

    async def opt_in_identity(self, identity_id: int) -> None:
        """Choosing announcements again lifts an earlier STOP."""
        await repo_outbound.set_opted_out(session=self.session, identity_id=identity_id,
                                          opted_out=False)

    async def suggested_kelurahan(self, identity_id: int) -> str | None:
        """The kelurahan of the person's latest report, to offer first."""
        code = await repo.last_report_kelurahan(session=self.session, identity_id=identity_id)
        return code if code and self.city.has_kelurahan(code) else None

    # -- relays -------------------------------------------------------------------------------

    async def relay_of(self, subscriber: Subscriber) -> Relay | None:
        assert subscriber.id is not None
        return await repo.get_relay_for(session=self.session, subscriber_id=subscriber.id)

    async def make_relay(self, subscriber: Subscriber, *, kelurahan_code: str,
                         name: str | None, lingkungan: str | None) -> Relay:
        """Make a subscriber a relay (kepala lingkungan) with a personal join code."""
        subscriber.role = "kepling"
        subscriber.kelurahan_code = kelurahan_code
        if name:
            subscriber.name = name
        await repo.save_subscriber(session=self.session, subscriber=subscriber)
        relay = await self.relay_of(subscriber)
        if relay is None:
            assert subscriber.id is not None
            relay = Relay(subscriber_id=subscriber.id, code=await self._free_relay_code(),
                          kelurahan_code=kelurahan_code, lingkungan=lingkungan, name=name,
                          created_at=self.now())
        else:
            relay.kelurahan_code = kelurahan_code
            relay.lingkungan = lingkungan or relay.lingkungan
            relay.name = name or relay.name
            relay.active = True
        return await repo.save_relay(session=self.session, relay=relay)

    async def _free_relay_code(self) -> str:
        while True:
            code = links.random_code(8)
            if await repo.get_relay_by_code(session=self.session, code=code) is None:
                return code

    async def create_invite(self, *, kelurahan_code: str, name: str | None,
                            lingkungan: str | None, created_by: str,
                            days: int = INVITE_DAYS) -> str:
        """A one-time code a kepala lingkungan opens to register as a relay."""
        code = links.INVITE_PREFIX + links.random_code(10)
        await repo.create_code(session=self.session, code=BroadcastCode(
            code=code, purpose="relay_invite", created_by=created_by, created_at=self.now(),
            expires_at=self.now() + timedelta(days=days),
            payload={"kelurahan": kelurahan_code, "name": name, "lingkungan": lingkungan}))
        return code

    async def accept_invite(self, code: str, *, channel: str, address: str,
                            identity_id: int | None, locale: str | None,
                            display_name: str | None) -> Relay | None:
        payload = await repo.take_code(session=self.session, code=code, purpose="relay_invite",
                                       now=self.now())
        if payload is None or not self.city.has_kelurahan(payload.get("kelurahan") or ""):
            return None
        subscriber, _new = await self.for_person(channel=channel, address=address,
                                                 identity_id=identity_id, locale=locale,
                                                 source="relay")
        if subscriber.stopped:
            await self.set_stopped(subscriber, False)
        relay = await self.make_relay(subscriber, kelurahan_code=payload["kelurahan"],
                                      name=payload.get("name") or display_name,
                                      lingkungan=payload.get("lingkungan"))
        await self.subscribe(subscriber, [kim_key(payload["kelurahan"])])
        return relay

    async def join_via_relay(self, *, relay_code: str, campaign_id: int | None, channel: str,
                             address: str, identity_id: int | None,
                             locale: str | None) -> JoinResult | None:
        """A resident opened a relay's join link: subscribe them to the relay's KIM and count
        them for the relay (and campaign) when they are new."""
        relay = await repo.get_relay_by_code(session=self.session, code=relay_code)
        if relay is None or not relay.active:
            return None
        subscriber, created = await self.for_person(channel=channel, address=address,
                                                    identity_id=identity_id, locale=locale,
                                                    source="relay")
        if subscriber.id == relay.subscriber_id:
            return JoinResult(relay=relay, subscriber=subscriber, new=False, group=None)
        had = await self.subscriptions(subscriber)
        new = created or not had
        if subscriber.stopped:
            await self.set_stopped(subscriber, False)
            new = True
        if subscriber.kelurahan_code is None:
            subscriber.kelurahan_code = relay.kelurahan_code
        if new and subscriber.joined_relay_id is None:
            subscriber.joined_relay_id = relay.id
            subscriber.joined_campaign_id = campaign_id
        await repo.save_subscriber(session=self.session, subscriber=subscriber)
        group = self.catalog.kim_for_kelurahan(relay.kelurahan_code)
        if group is not None:
            await self.subscribe(subscriber, [group.key])
        if new:
            assert relay.id is not None and subscriber.id is not None
            new = await repo.record_relay_join(session=self.session, relay_id=relay.id,
                                               campaign_id=campaign_id,
                                               subscriber_id=subscriber.id)
        return JoinResult(relay=relay, subscriber=subscriber, new=new, group=group)

    async def record_forward(self, *, delivery_id: int, channel: str, address: str) -> bool | None:
        """A relay pressed "forwarded": True the first time, False again, None if not theirs."""
        new, delivery = await repo.record_relay_forward(
            session=self.session, delivery_id=delivery_id, channel=channel, address=address)
        if delivery is None:
            return None
        return new

    # -- KIM group chats ------------------------------------------------------------------

    async def create_group_code(self, *, group_key: str, created_by: str,
                                days: int = INVITE_DAYS) -> str:
        code = links.GROUP_PREFIX + links.random_code(8)
        await repo.create_code(session=self.session, code=BroadcastCode(
            code=code, purpose="group_link", created_by=created_by, created_at=self.now(),
            expires_at=self.now() + timedelta(days=days), payload={"group": group_key}))
        return code

    async def link_group_chat(self, code: str, *, channel: str,
                              chat_key: str) -> GroupInfo | None:
        payload = await repo.take_code(session=self.session, code=code.strip().lower(),
                                       purpose="group_link", now=self.now())
        group = self.catalog.get(payload.get("group") or "") if payload else None
        if group is None:
            return None
        subscriber, _created = await self.for_person(channel=channel, address=chat_key,
                                                     identity_id=None, locale="id",
                                                     name=group.name(), source="group_link")
        subscriber.is_group = True
        subscriber.role = "kim"
        subscriber.kelurahan_code = group.kelurahan_code or subscriber.kelurahan_code
        if subscriber.stopped:
            subscriber.stopped, subscriber.stop_reason, subscriber.stopped_at = False, None, None
        await repo.save_subscriber(session=self.session, subscriber=subscriber)
        await self.subscribe(subscriber, [group.key])
        return group


# --- CSV import ------------------------------------------------------------------------------

COLUMNS = ("channel", "address", "name", "kelurahan", "groups", "role", "consent_source")
REQUIRED = ("channel", "address", "consent_source")
_HEADER_ALIASES = {"consent": "consent_source", "consent source": "consent_source",
                   "group": "groups", "phone": "address", "chat id": "address"}
_TELEGRAM_ID = re.compile(r"^-?\d{3,20}$")


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_stopped: int = 0
    relays: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False  # False: rejected rows, and nothing was written


@dataclass
class _Row:
    line: int
    channel: str
    address: str
    name: str | None
    kelurahan_code: str | None
    groups: list[str]
    role: str
    consent: str


class CsvImportError(ValueError):
    """The file cannot be imported at all (e.g. a required column is missing). `code` names
    the problem for the layers that word it in the reader's language; the message is English."""

    def __init__(self, code: str, message: str, *, value: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.value = value


# A field longer than this is refused with its row (no column of the import needs more); the
# csv module's own limit, well above it, keeps one runaway field from stopping the import.
FIELD_LIMIT = 1000

# Why a row is refused: a code the console words in the reader's language, and the English
# wording the command line prints. `{value}` is the offending text (or the column's name).
REFUSALS = {
    "channel": "channel must be telegram or whatsapp, not {value!r}",
    "whatsapp": "not a valid WhatsApp number: {value!r}",
    "telegram": "not a Telegram chat id: {value!r}",
    "name_long": "name longer than 128 characters",
    "kelurahan": "unknown kelurahan: {value!r}",
    "role": "unknown role: {value!r} (one of " + ", ".join(ROLES) + ")",
    "consent": "consent source is required",
    "consent_long": "consent source longer than 200 characters",
    "kim_kelurahan": "group 'KIM' needs the kelurahan column",
    "group": "unknown group: {value!r}",
    "kepling_kelurahan": "a kepala lingkungan needs the kelurahan column",
    "no_group": "no group to subscribe to (give groups or kelurahan)",
    "field_long": "{value} is longer than " + str(FIELD_LIMIT) + " characters",
    "duplicate": "duplicate of an earlier row",
}


def _refused(line: int, address: str, code: str, value: str = "") -> dict[str, Any]:
    return {"line": line, "address": address, "code": code, "value": value,
            "reason": REFUSALS[code].format(value=value)}


def _header(name: str) -> str:
    key = " ".join(name.strip().lower().replace("_", " ").split())
    key = _HEADER_ALIASES.get(key, key)
    return key.replace(" ", "_")


def _whatsapp_address(raw: str) -> str | None:
    text = raw.strip().removeprefix("whatsapp:").strip()
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _kelurahan(city: City, raw: str) -> str | None:
    text = raw.strip()
    if city.has_kelurahan(text):
        return text
    wanted = fold(text.removeprefix("Kelurahan ").removeprefix("Kel. "))
    for kel in city.all_kelurahan():
        if fold(kel.name) == wanted:
            return kel.code
    matches, confident = city.match_kelurahan(text)
    return matches[0].code if matches and confident else None


def _parse_row(line: int, raw: dict[str, str], city: City,
               catalog: GroupCatalog) -> _Row | tuple[str, str]:
    """A validated row, or why it is rejected: a code of REFUSALS and the offending text."""
    channel = (raw.get("channel") or "").strip().lower()
    address_raw = (raw.get("address") or "").strip()
    if channel not in ("telegram", "whatsapp"):
        return "channel", channel
    if channel == "whatsapp":
        address = _whatsapp_address(address_raw)
        if address is None:
            return "whatsapp", address_raw
    else:
        if not _TELEGRAM_ID.match(address_raw):
            return "telegram", address_raw
        address = address_raw
    name = (raw.get("name") or "").strip() or None
    if name and len(name) > 128:
        return "name_long", ""
    kel_raw = (raw.get("kelurahan") or "").strip()
    kelurahan_code = _kelurahan(city, kel_raw) if kel_raw else None
    if kel_raw and kelurahan_code is None:
        return "kelurahan", kel_raw
    role_raw = (raw.get("role") or "").strip().lower()
    role = ROLE_ALIASES.get(role_raw, role_raw)
    if role not in ROLES:
        return "role", role_raw
    consent = (raw.get("consent_source") or "").strip()
    if not consent:
        return "consent", ""
    if len(consent) > 200:
        return "consent_long", ""
    groups: list[str] = []
    for item in re.split(r"[;|,]", raw.get("groups") or ""):
        item = item.strip()
        if not item:
            continue
        if fold(item) == "kim":
            if kelurahan_code is None:
                return "kim_kelurahan", ""
            groups.append(kim_key(kelurahan_code))
            continue
        group = catalog.resolve(item)
        if group is None:
            return "group", item
        groups.append(group.key)
    if role == "kepling" and kelurahan_code is None:
        return "kepling_kelurahan", ""
    if not groups and kelurahan_code and role != "kepling":
        groups.append(kim_key(kelurahan_code))
    if not groups and role != "kepling":
        return "no_group", ""
    return _Row(line=line, channel=channel, address=address, name=name,
                kelurahan_code=kelurahan_code, groups=sorted(set(groups)), role=role,
                consent=consent)


_CSV_FIELD_LIMIT = 1 << 20
# Workbooks, documents and images that are sometimes picked instead of the CSV export.
_BINARY_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff",
                 b"GIF8")


def decode_csv(data: bytes) -> str:
    """The text of a CSV file as offices save it: UTF-8 with or without a BOM, UTF-16 (Excel's
    "Unicode text"), or Windows-1252/Latin-1 (older Excel). Anything else, a spreadsheet's
    binary format or an image, is refused in one line.

    Decided by fixed rules rather than a guessing library: a short file of Indonesian names
    is valid in several encodings, and only these are what the city's offices produce."""
    not_text = CsvImportError("not_csv", "this is not a CSV text file (save it as CSV)")
    if data.startswith(_BINARY_MAGIC):
        raise not_text
    head = data[:4096]
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = data.decode("utf-16")
        elif head.count(b"\x00") > len(head) // 4:
            # UTF-16 without a byte order mark: every other byte is zero in Latin script.
            even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
            text = data.decode("utf-16-le" if odd > even else "utf-16-be")
        elif b"\x00" in head:
            raise not_text
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = data.decode("cp1252", errors="strict")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    sample = text[:4096]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > len(sample) // 100:
        raise not_text
    return text


def read_rows(stream: IO[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by canonical column name), streaming."""
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        raise CsvImportError("empty", "the file is empty") from None
    names = [_header(h) for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise CsvImportError("columns", "missing column(s): " + ", ".join(missing)
                             + "; expected " + ", ".join(COLUMNS), value=", ".join(missing))
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        yield reader.line_num, dict(zip(names, values, strict=False))


class _Rehearsal(Exception):  # noqa: N818 - rolls a dry run's transaction back
    pass


async def import_subscribers(*, db: Database, city: City, catalog: GroupCatalog,
                             stream: IO[str], now: Callable[[], datetime],
                             partial: bool = False, dry_run: bool = False) -> ImportReport:
    """Check every row, then import all of them in one transaction, or none: with a rejected
    row nothing is written unless `partial` (then the good rows are). `applied` says which.
    A `dry_run` counts what the import would create, update and keep, and writes nothing.

    Running the same file again changes nothing. A subscriber who opted out stays opted out.
    """
    report = ImportReport()
    seen: set[tuple[str, str]] = set()
    pending: list[_Row] = []
    for line, raw in read_rows(stream):
        report.rows += 1
        too_long = next((name for name, value in raw.items() if len(value) > FIELD_LIMIT),
                        None)
        if too_long is not None:
            report.rejected.append(_refused(line, "", "field_long", too_long))
            continue
        parsed = _parse_row(line, raw, city, catalog)
        if isinstance(parsed, tuple):
            report.rejected.append(_refused(line, (raw.get("address") or "").strip(), *parsed))
            continue
        key = (parsed.channel, parsed.address)
        if key in seen:
            report.rejected.append(_refused(line, parsed.address, "duplicate"))
            continue
        seen.add(key)
        pending.append(parsed)
    if report.rejected and not partial and not dry_run:
        return report
    try:
        async with db.session() as session:
            await ensure_groups(session, catalog)
            service = SubscriberService(session=session, city=city, catalog=catalog, now=now)
            for row in pending:
                await _upsert(service, row, report)
            if dry_run:
                raise _Rehearsal()
    except _Rehearsal:
        return report
    report.applied = True
    return report


async def _upsert(service: SubscriberService, row: _Row, report: ImportReport) -> None:
    session = service.session
    subscriber = await service.find(row.channel, row.address)
    created = subscriber is None
    changed = False
    # Someone who said STOP in chat stays stopped, whatever a list says about them.
    person = await identities.get_identity(session=session, channel=row.channel,
                                           user_key=row.address)
    said_stop = person is not None and person.opted_out
    if subscriber is None:
        subscriber = Subscriber(channel=row.channel, address=row.address, name=row.name,
                                kelurahan_code=row.kelurahan_code, role=row.role,
                                consent_source=row.consent, source="import",
                                is_group=row.channel == "telegram" and row.address.startswith("-"),
                                created_at=service.now(), updated_at=service.now())
        if said_stop:
            subscriber.stopped, subscriber.stop_reason = True, "resident"
            subscriber.stopped_at = service.now()
            report.kept_stopped += 1
        await repo.save_subscriber(session=session, subscriber=subscriber)
    else:
        for attr, value in (("name", row.name), ("kelurahan_code", row.kelurahan_code),
                            ("role", row.role), ("consent_source", row.consent)):
            if value is not None and getattr(subscriber, attr) != value:
                setattr(subscriber, attr, value)
                changed = True
        if said_stop and not subscriber.stopped:
            subscriber.stopped, subscriber.stop_reason = True, "resident"
            subscriber.stopped_at = service.now()
            changed = True
        if changed:
            await repo.save_subscriber(session=session, subscriber=subscriber)
        if subscriber.stopped:
            # An opt-out is the person's own word; a list never overrides it.
            report.kept_stopped += 1
    assert subscriber.id is not None
    added = await repo.set_subscriptions(session=session, subscriber_id=subscriber.id,
                                         add=row.groups)
    if row.role == "kepling" and row.kelurahan_code:
        relay = await service.relay_of(subscriber)
        if relay is None or relay.kelurahan_code != row.kelurahan_code or not relay.active:
            await service.make_relay(subscriber, kelurahan_code=row.kelurahan_code,
                                     name=row.name, lingkungan=None)
            report.relays += 1
            changed = True
    if created:
        report.created += 1
    elif changed or added:
        report.updated += 1
    else:
        report.unchanged += 1
