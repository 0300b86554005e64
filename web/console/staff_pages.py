"""The console's staff page (Kominfo): add staff, change a role, remove someone (their
sessions end at once), send a sign-in link to their chat; and the audit log of every staff
action, filterable."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.i18n import N_, _, use_locale
from bot.labels import login_link_text
from reports import access
from reports.roles import Role
from reports.staff import Account, StaffError, account_for, add_staff, remove_staff
from storage import repo_agencies, repo_console
from web.forms import form_text as _text

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console

ROLE_LABELS = {
    Role.KOMINFO: N_("Kominfo (everything)"),
    Role.OFFICER: N_("Agency officer"),
    Role.HEAD: N_("Agency head"),
    Role.LEADERSHIP: N_("Leadership (read-only)"),
}


class Tell(Protocol):
    """Writes one message to one person's chat into the outbox, in the caller's transaction
    (bot.notice_outbox.tell_one)."""

    def __call__(self, session: AsyncSession, *, channel: str, user_key: str, locale: str,
                 text: str, now: datetime) -> Awaitable[None]: ...


def staff_problem(error: StaffError) -> str:
    """Why a staff change was refused, in the reader's language (the domain's codes; the
    console's own checks are worded already)."""
    texts = {
        "telegram_id": _("{value} is not a Telegram user id (digits only)."),
        "phone": _("{value} is not a phone number."),
        "agency": _("There is no agency {value}."),
        "external_agency": _("{value} is not a city government agency."),
        "not_active": _("That staff member has already been removed."),
    }
    text = texts.get(error.code)
    if text is None:
        return str(error)
    return text.format(value="\u201c" + error.value + "\u201d")


class StaffPages:
    def __init__(self, console: Console, *, tell: Tell, base_url: str) -> None:
        self.console = console
        self.tell = tell
        self.base_url = base_url

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/petugas", self.listing, methods=["GET"])
        router.add_api_route("/petugas", self.change, methods=["POST"])
        router.add_api_route("/audit", self.audit, methods=["GET"])

    async def _kominfo(self, request: Request, session: AsyncSession,
                       form: Any = None) -> Any:
        return await self.console.gate(request, session, roles=(Role.KOMINFO,), form=form)

    async def _context(self, session: AsyncSession) -> dict[str, Any]:
        city = self.console.city
        everyone = await repo_agencies.list_staff(session=session, active_only=False)
        return {
            "staff": sorted(everyone, key=lambda s: (not s.active, s.role, s.agency_key or "",
                                                     s.name)),
            "roles": [(role.value, _(label)) for role, label in ROLE_LABELS.items()],
            "role_label": _role_label,
            "agencies": sorted((a for a in city.agencies.values() if not a.external),
                               key=lambda a: a.short_name),
            "agency_label": lambda k: city.agency_label(k, short=True) if k else "",
            "account": _account_text,
            "problem": None, "done": None,
        }

    async def listing(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            context = await self._context(session)
        done = request.query_params.get("done")
        context["done"] = done if done in ("add", "role", "remove", "link") else None
        return console.page(request, "staff.html", context, who=who, raw=raw)

    async def change(self, request: Request) -> Response:
        console = self.console
        form = await request.form(max_files=0, max_fields=300)
        action = _text(form, "action")
        now = console.clock()
        problem: str | None = None
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
            if refused is not None:
                return refused
            try:
                target = await self._apply(session, who, action, form, now)
            except StaffError as error:
                problem = staff_problem(error)
            else:
                await access.record(session=session, staff=who.staff, action=f"staff.{action}",
                                    now=now, target=target)
                return RedirectResponse(f"/console/petugas?done={action}", status_code=303)
        async with console.db.reader() as session:
            context = await self._context(session)
        context["problem"] = problem
        return console.page(request, "staff.html", context, status=400, who=who, raw=raw)

    async def _apply(self, session: AsyncSession, who: access.SignedIn, action: str,
                     form: Any, now: datetime) -> str:
        """Do it; the audit target. Raises StaffError (worded for staff) when it cannot be."""
        console = self.console
        if action in ("add", "role"):
            self._check(form, adding=action == "add")
        if action == "add":
            account = account_for(telegram_id=_text(form, "telegram_id") or None,
                                  phone=_text(form, "phone") or None)
            added = await add_staff(session=session, city=console.city,
                                    role=_text(form, "role"), name=_text(form, "name"),
                                    account=account, agency_key=_text(form, "agency") or None)
            return f"staff:{added.id}"
        staff_id = _text(form, "staff")
        member = await repo_console.get_staff_by_id(
            session=session, staff_id=int(staff_id) if staff_id.isdigit() else 0)
        if member is None:
            raise StaffError(_("There is no such staff member."))
        account = Account(member.channel, member.user_key)
        if action == "role":
            await add_staff(session=session, city=console.city, role=_text(form, "role"),
                            name=member.name, account=account,
                            agency_key=_text(form, "agency") or None)
        elif action == "remove":
            if member.id == who.staff.id:
                raise StaffError(_("You cannot remove yourself; ask another Kominfo staff "
                                   "member."))
            await remove_staff(session=session, account=account, now=now)
        elif action == "link":
            if not member.active:
                raise StaffError(_("A removed staff member gets no sign-in link."))
            token = await access.issue_login_link(session=session, staff=member, now=now,
                                                  limited=False)
            minutes = int(access.LOGIN_LINK_TTL.total_seconds() // 60)
            with use_locale(member.locale):
                text = login_link_text(f"{self.base_url}/console/login/{token}", minutes)
            await self.tell(session, channel=member.channel, user_key=member.user_key,
                            locale=member.locale, text=text, now=now)
        else:
            raise StaffError(_("Unknown action."))
        return f"staff:{member.id}"

    def _check(self, form: Any, *, adding: bool) -> None:
        """The staff form's common mistakes, worded for staff (the domain words the rest)."""
        role = _text(form, "role")
        if role not in {r.value for r in Role}:
            raise StaffError(_("Choose a role."))
        agency = _text(form, "agency")
        if role in (Role.OFFICER, Role.HEAD) and not agency:
            raise StaffError(_("An agency officer or head needs an agency."))
        if role == Role.LEADERSHIP and agency:
            raise StaffError(_("Leadership reads the whole city: leave the agency empty."))
        if adding:
            if not _text(form, "name"):
                raise StaffError(_("Write the staff member's name."))
            if bool(_text(form, "telegram_id")) == bool(_text(form, "phone")):
                raise StaffError(_("Give either a Telegram user id or a WhatsApp number."))

    async def audit(self, request: Request) -> Response:
        console = self.console
        params = request.query_params
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            staff_id = params.get("staff") or ""
            entries = await repo_console.list_audit(
                session=session, staff_id=int(staff_id) if staff_id.isdigit() else None,
                target=(params.get("target") or "").strip() or None,
                action=(params.get("action") or "").strip() or None, limit=300)
            everyone = await repo_agencies.list_staff(session=session, active_only=False)
        names = {s.id: s.name for s in everyone}
        return console.page(request, "audit.html", {
            "entries": entries, "names": names, "staff": everyone, "params": params,
        }, who=who, raw=raw)


def _role_label(role: str) -> str:
    try:
        return _(ROLE_LABELS[Role(role)])
    except (KeyError, ValueError):
        return role


def _account_text(channel: str, user_key: str) -> str:
    """An account as staff recognise it, without spelling out a whole phone number."""
    if channel == "whatsapp":
        return f"WhatsApp …{user_key[-4:]}"
    if channel == "telegram":
        return f"Telegram {user_key}"
    return channel
