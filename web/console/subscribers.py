"""The console's subscribers page (Kominfo): who the announcements reach, per group and per
kelurahan; a CSV import by upload, checked in a dry run that lists the rejected rows before
anything is written; the kepala lingkungan (relays) with how often they forward."""

from __future__ import annotations

import dataclasses
import io
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bot.i18n import _
from broadcasts.groups import GroupCatalog
from broadcasts.subscribers import (
    COLUMNS,
    FIELD_LIMIT,
    ROLES,
    CsvImportError,
    decode_csv,
    import_subscribers,
)
from reports import access
from reports.roles import Role
from storage import repo_broadcasts

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console

CSV_MAX = 5 * 1024 * 1024


def file_problem(error: CsvImportError) -> str:
    """Why a file cannot be imported, in the reader's language."""
    if error.code == "columns":
        return _("the column(s) {columns} are missing; the columns are {expected}").format(
            columns=error.value, expected=", ".join(COLUMNS))
    if error.code == "empty":
        return _("the file is empty")
    return _("this is not a CSV text file (save it as CSV from the spreadsheet)")


def row_problem(code: str, value: str) -> str:
    """Why a row is refused, in the reader's language (codes of broadcasts.subscribers)."""
    quoted = "\u201c" + value + "\u201d"
    texts = {
        "channel": _("the channel must be telegram or whatsapp, not {value}"),
        "whatsapp": _("{value} is not a valid WhatsApp number"),
        "telegram": _("{value} is not a Telegram chat id"),
        "name_long": _("the name is longer than 128 characters"),
        "kelurahan": _("there is no kelurahan {value} in the city"),
        "role": _("unknown role {value} (one of {roles})"),
        "consent": _("the consent source is required"),
        "consent_long": _("the consent source is longer than 200 characters"),
        "kim_kelurahan": _("the KIM group needs the kelurahan column"),
        "group": _("unknown group {value}"),
        "kepling_kelurahan": _("a kepala lingkungan needs the kelurahan column"),
        "no_group": _("no group to subscribe to (fill in groups or kelurahan)"),
        "field_long": _("the {value} column is longer than {limit} characters"),
        "duplicate": _("the same address as an earlier row"),
    }
    return texts.get(code, _("the row cannot be read")).format(
        value=value if code == "field_long" else quoted, roles=", ".join(ROLES),
        limit=FIELD_LIMIT)


class SubscriberPages:
    def __init__(self, console: Console, *, catalog: GroupCatalog) -> None:
        self.console = console
        self.catalog = catalog

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/pelanggan", self.overview, methods=["GET"])
        router.add_api_route("/pelanggan/impor", self.upload, methods=["POST"])

    async def _context(self, session: AsyncSession) -> dict[str, Any]:
        city = self.console.city
        by_kel = await repo_broadcasts.subscriber_counts_by_kelurahan(session=session)
        by_group = await repo_broadcasts.subscriber_counts_by_group(session=session)
        per_channel = await repo_broadcasts.count_subscribers(session=session)
        relays = await repo_broadcasts.list_relays(session=session)
        figures = await repo_broadcasts.relay_figures(session=session)
        places = []
        for kec in city.kecamatan:
            for kel in sorted(city.kelurahan_in(kec.code), key=lambda k: k.name):
                active, stopped = by_kel.get(kel.code, (0, 0))
                places.append({"kecamatan": kec.name, "name": kel.name, "active": active,
                               "stopped": stopped})
        nowhere = by_kel.get(None, (0, 0))
        groups = [{"name": g.name(), "kind": g.kind, "count": by_group.get(g.key, 0)}
                  for g in sorted(self.catalog.groups, key=lambda g: (g.kind, g.position))]
        relay_rows = []
        for relay, subscriber in relays:
            received, forwarded, joins = figures.get(relay.id or 0, (0, 0, 0))
            relay_rows.append({
                "name": relay.name or "–", "lingkungan": relay.lingkungan or "",
                "kelurahan": (city.kelurahan(relay.kelurahan_code).name
                              if city.has_kelurahan(relay.kelurahan_code) else ""),
                "channel": subscriber.channel, "active": relay.active, "received": received,
                "forwarded": forwarded, "joins": joins,
                "rate": round(100 * forwarded / received) if received else None})
        return {"places": places, "nowhere": nowhere, "groups": groups,
                "per_channel": per_channel, "relays": relay_rows, "result": None,
                "problem": None}

    async def overview(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await console.gate(request, session, roles=(Role.KOMINFO,))
            if refused is not None:
                return refused
            context = await self._context(session)
        return console.page(request, "subscribers.html", context, who=who, raw=raw)

    async def upload(self, request: Request) -> Response:
        console = self.console
        async with request.form(max_files=1, max_fields=10) as form:
            async with console.db.session() as session:
                refused, _who, raw = await console.gate(request, session,
                                                        roles=(Role.KOMINFO,), form=form)
                if refused is not None:
                    return refused
            upload = form.get("file")
            data = b""
            if upload is not None and not isinstance(upload, str):
                data = await upload.read(CSV_MAX + 1)
            apply = form.get("apply") == "1"
            partial = form.get("partial") == "1"
        problem = None
        result: dict[str, Any] | None = None
        if not data:
            problem = _("Choose a CSV file.")
        elif len(data) > CSV_MAX:
            problem = _("The file is larger than 5 MB; split it.")
        else:
            try:
                text = decode_csv(data)
                report = await import_subscribers(
                    db=console.db, city=console.city, catalog=self.catalog,
                    stream=io.StringIO(text, newline=""), now=console.clock,
                    partial=partial, dry_run=not apply)
            except CsvImportError as error:
                problem = _("The file cannot be imported: {reason}").format(
                    reason=file_problem(error))
            else:
                result = {**dataclasses.asdict(report), "dry_run": not apply,
                          "partial": partial}
                for row in result["rejected"]:
                    row["reason"] = row_problem(row["code"], row["value"])
        async with console.db.session() as session:
            who = await access.signed_in(session=session, raw=raw, now=console.clock(),
                                         touch=False)
            if who is None:
                return console._to_signin()
            if result is not None and result["applied"]:
                await access.record(session=session, staff=who.staff,
                                    action="subscribers.import", now=console.clock(),
                                    detail={"rows": result["rows"],
                                            "created": result["created"],
                                            "rejected": len(result["rejected"])})
            context = await self._context(session)
        context["result"] = result
        context["problem"] = problem
        return console.page(request, "subscribers.html", context,
                            status=400 if problem else 200, who=who, raw=raw)
