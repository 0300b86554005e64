"""The console's campaigns: Kominfo composes an announcement, sees whom it reaches and how long
it takes at the platforms' limits, has it approved by a second staff member where the city
requires it, sends or schedules it, and watches it go out (the same campaign domain and
dispatcher as `emas campaign`)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from bot.broadcast_texts import campaign_status_label, describe_audience, problem_texts
from bot.i18n import TZ, _, ngettext
from broadcasts.audience import Audience
from broadcasts.campaigns import EDITABLE, LIVE, CampaignDraft, CampaignError, CampaignService
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from broadcasts.impact import campaign_impact
from reports import access
from reports.roles import Role
from reports.staff import signature
from storage.media import MediaRejected
from storage.models import CampaignStatus
from web.forms import form_list
from web.forms import form_text as _text
from web.maps import legend

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from web.console import Console

CHANNELS = ("telegram", "whatsapp")
MOVES = ("send", "approve", "pause", "resume", "cancel")


def _kelurahan_figures(reach: dict[str, Any], key: str) -> dict[str, int]:
    """One reach figure per kelurahan code, from the campaign's reach."""
    return {kel["code"]: int(kel[key]) for kec in reach.get("kecamatan", ())
            for kel in kec.get("kelurahan", ())}


class CampaignPages:
    def __init__(self, console: Console, *, catalog: GroupCatalog,
                 config: BroadcastConfig) -> None:
        self.console = console
        self.catalog = catalog
        self.config = config

    def add_routes(self, router: APIRouter) -> None:
        router.add_api_route("/kampanye", self.listing, methods=["GET"])
        router.add_api_route("/kampanye/baru", self.compose, methods=["GET"])
        router.add_api_route("/kampanye/baru", self.create, methods=["POST"])
        router.add_api_route("/kampanye/{campaign_id}", self.show, methods=["GET"])
        router.add_api_route("/kampanye/{campaign_id}/progres", self.progress, methods=["GET"])
        router.add_api_route("/kampanye/{campaign_id}", self.move, methods=["POST"])

    def _service(self, session: AsyncSession) -> CampaignService:
        console = self.console
        return CampaignService(session=session, city=console.city, catalog=self.catalog,
                               settings=self.config, now=console.clock)

    async def _kominfo(self, request: Request, session: AsyncSession,
                       form: Any = None) -> Any:
        return await self.console.gate(request, session, roles=(Role.KOMINFO,), form=form)

    # -- the list ------------------------------------------------------------------------------

    async def listing(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            campaigns = await self._service(session).recent(limit=50)
        return console.page(request, "campaigns.html", {
            "campaigns": campaigns, "status_of": campaign_status_label,
            "audience_of": lambda c: describe_audience(Audience.model_validate(c.audience),
                                                       self.catalog, console.city),
        }, who=who, raw=raw)

    # -- composing -----------------------------------------------------------------------------

    def _form_context(self, values: dict[str, Any]) -> dict[str, Any]:
        city = self.console.city
        return {
            "values": values,
            "groups": sorted(self.catalog.groups, key=lambda g: (g.kind, g.position, g.key)),
            "kecamatan": city.kecamatan,
            "kelurahan": sorted(city.all_kelurahan(), key=lambda k: k.name),
            "channels": CHANNELS, "preview": None, "problems": [], "image": None,
        }

    async def compose(self, request: Request) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
        if refused is not None:
            return refused
        return console.page(request, "campaign_compose.html", self._form_context(
            {"relays": True, "channels": list(CHANNELS)}), who=who, raw=raw)

    # -- the picture ---------------------------------------------------------------------------

    def _image_seal(self, path: str) -> str:
        """The stored picture's path as the form carries it between preview and save, sealed
        so that a forged form cannot attach another stored photo (a resident's) instead."""
        mac = hmac.new(self.console.secret_key.encode(), b"campaign-image:" + path.encode(),
                       hashlib.sha256).hexdigest()[:32]
        return f"{path}|{mac}"

    def _unseal(self, sealed: str) -> str | None:
        path, _sep, _mac = sealed.rpartition("|")
        if path and hmac.compare_digest(self._image_seal(path), sealed):
            return path
        return None

    async def _image(self, form: Any, problems: list[str]) -> str | None:
        """The campaign's picture: a new upload (stored without its metadata, like every photo
        the city keeps), else the one chosen before, unless the staff member removed it."""
        upload = form.get("image_file")
        if upload is not None and not isinstance(upload, str) and upload.filename:
            store = self.console.media_store
            data = await upload.read(store.max_bytes + 1)
            try:
                return (await store.save_image_later(data)).path
            except MediaRejected as refused:
                problems.append(
                    _("The picture is larger than {mb} MB.").format(
                        mb=store.max_bytes // (1024 * 1024)) if refused.reason == "too_large"
                    else _("The picture cannot be read: choose a JPEG or PNG photo."))
                return None
        if form.get("drop_image"):
            return None
        return self._unseal(_text(form, "image"))

    def _draft(self, form: Any,
               image_path: str | None = None) -> tuple[CampaignDraft, dict[str, Any], list[str]]:
        """The form as a draft; times are typed in WIB."""
        problems: list[str] = []
        values: dict[str, Any] = {
            "title": _text(form, "title"), "text_id": _text(form, "text_id"),
            "text_en": _text(form, "text_en"), "link_url": _text(form, "link_url"),
            "link_label": _text(form, "link_label"), "groups": form_list(form, "groups"),
            "kecamatan": form_list(form, "kecamatan"), "kelurahan": form_list(form, "kelurahan"),
            "channels": [c for c in form_list(form, "channels") if c in CHANNELS],
            "relays": bool(form.get("relays")), "send_at": _text(form, "send_at"),
            "repeat_weekly": bool(form.get("repeat_weekly")),
        }
        send_at = None
        if values["send_at"]:
            try:
                send_at = datetime.fromisoformat(values["send_at"]).replace(tzinfo=TZ)
            except ValueError:
                problems.append(_("The sending time is not a date and time."))
            else:
                if send_at <= self.console.clock():
                    problems.append(_("The sending time has passed; choose a later time or "
                                      "leave it empty to send at once."))
        texts = {"id": values["text_id"]}
        if values["text_en"]:
            texts["en"] = values["text_en"]
        audience = Audience(groups=values["groups"], kecamatan=values["kecamatan"],
                            kelurahan=values["kelurahan"], channels=values["channels"],
                            relays=values["relays"])
        draft = CampaignDraft(title=values["title"], texts=texts, audience=audience,
                              image_path=image_path, link_url=values["link_url"] or None,
                              link_label=values["link_label"] or None, send_at=send_at,
                              repeat_weekly=values["repeat_weekly"])
        return draft, values, problems

    async def create(self, request: Request) -> Response:
        async with request.form(max_files=1, max_fields=300) as form:  # closes the upload
            return await self._create(request, form)

    async def _create(self, request: Request, form: Any) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
        if refused is not None:
            return refused
        # The picture is stored before the transaction (no slow work while a write lock is held).
        image_problems: list[str] = []
        image_path = await self._image(form, image_problems)
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
            if refused is not None:
                return refused
            service = self._service(session)
            draft, values, problems = self._draft(form, image_path)
            problems = image_problems + problems + problem_texts(service.problems(draft))
            context = self._form_context(values)
            if image_path is not None:
                context["image"] = {"sealed": self._image_seal(image_path),
                                    "url": console.media.url(image_path, now=console.clock())}
            if not problems:
                try:
                    context["preview"] = await service.preview(draft)
                except CampaignError as error:
                    problems += problem_texts(error.problems)
            if problems or form.get("intent") != "save":
                context["problems"] = problems
                context["texts"] = draft.texts
                return console.page(request, "campaign_compose.html", context,
                                    status=400 if problems else 200, who=who, raw=raw)
            staff = who.staff
            campaign = await service.create(draft, created_by=signature(staff),
                                            notify=(staff.channel, staff.user_key,
                                                    staff.locale))
            await access.record(session=session, staff=staff, action="campaign.create",
                                now=console.clock(), target=f"campaign:{campaign.id}")
        return RedirectResponse(f"/console/kampanye/{campaign.id}", status_code=303)

    # -- one campaign --------------------------------------------------------------------------

    async def _context(self, session: AsyncSession, campaign_id: int,
                       who: access.SignedIn) -> dict[str, Any] | None:
        service = self._service(session)
        try:
            campaign = await service.get(campaign_id)
        except CampaignError:
            return None
        texts = await service.texts(campaign)
        audience = Audience.model_validate(campaign.audience)
        preview = None
        if campaign.status in EDITABLE:
            preview = await service.preview(CampaignDraft.of(campaign, texts))
        reach = await service.status(campaign_id)
        impact = await campaign_impact(session=session, city=self.console.city,
                                       catalog=self.catalog, campaign=campaign,
                                       now=self.console.clock())
        me = signature(who.staff)
        moves = []
        if campaign.status in EDITABLE:
            moves.append("send")
        if (campaign.status in (CampaignStatus.DRAFT, CampaignStatus.PENDING_APPROVAL)
                and campaign.requires_approval and not campaign.approved_by
                and campaign.created_by != me):
            moves.append("approve")
        if campaign.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED):
            moves.append("pause")
        if campaign.status == CampaignStatus.PAUSED:
            moves.append("resume")
        if campaign.status in (*EDITABLE, *LIVE):
            moves.append("cancel")
        console = self.console
        delivered = _kelurahan_figures(reach, "delivered")
        names = {k.code: k.name for k in console.city.all_kelurahan()}
        reach_map = console.figures.map.draw(
            delivered, names, title=_("Messages delivered per kelurahan"),
            describe=lambda name, n: ngettext(
                "{name}: {n} message delivered", "{name}: {n} messages delivered", n,
            ).format(name=name, n=n))
        image_url = (console.media.url(campaign.image_path, now=console.clock())
                     if campaign.image_path else None)
        return {"campaign": campaign, "texts": texts, "preview": preview, "reach": reach,
                "impact": impact, "reach_map": reach_map, "image_url": image_url,
                "reach_legend": legend(max(delivered.values(), default=0)),
                "audience": describe_audience(audience, self.catalog, self.console.city),
                "status_label": campaign_status_label(campaign.status), "moves": moves,
                "live": campaign.status in (CampaignStatus.SENDING, CampaignStatus.SCHEDULED),
                "waiting_for_other": (campaign.status == CampaignStatus.PENDING_APPROVAL
                                      and campaign.created_by == me)}

    async def show(self, request: Request, campaign_id: int) -> Response:
        done = request.query_params.get("done")
        return await self._shown(request, campaign_id, "campaign.html",
                                 done=done if done in MOVES else None, problems=[])

    async def progress(self, request: Request, campaign_id: int) -> Response:
        """The progress block alone, for the page to refresh while the campaign sends."""
        return await self._shown(request, campaign_id, "campaign_progress.html")

    async def _shown(self, request: Request, campaign_id: int, template: str,
                     **more: Any) -> Response:
        console = self.console
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session)
            if refused is not None:
                return refused
            context = await self._context(session, campaign_id, who)
        if context is None:
            return console.hidden(request, who, raw)
        return console.page(request, template, {**context, **more}, who=who, raw=raw)

    async def move(self, request: Request, campaign_id: int) -> Response:
        console = self.console
        form = await request.form(max_files=0, max_fields=300)
        action = _text(form, "action")
        async with console.db.session() as session:
            refused, who, raw = await self._kominfo(request, session, form)
            if refused is not None:
                return refused
            context = await self._context(session, campaign_id, who)
            if context is None:
                return console.hidden(request, who, raw)
            service = self._service(session)
            problems: list[str] = []
            if action not in context["moves"]:
                problems.append(_("That is not possible for this campaign now."))
            else:
                try:
                    await self._apply(service, campaign_id, action, who)
                except CampaignError as error:
                    problems += problem_texts(error.problems)
            if not problems:
                await access.record(session=session, staff=who.staff,
                                    action=f"campaign.{action}", now=console.clock(),
                                    target=f"campaign:{campaign_id}")
                return RedirectResponse(f"/console/kampanye/{campaign_id}?done={action}",
                                        status_code=303)
        async with console.db.reader() as session:
            who = await access.signed_in(session=session, raw=raw, now=console.clock(),
                                         touch=False)
            assert who is not None
            context = await self._context(session, campaign_id, who)
        assert context is not None
        context["problems"] = problems
        context["done"] = None
        return console.page(request, "campaign.html", context, status=409, who=who, raw=raw)

    async def _apply(self, service: CampaignService, campaign_id: int, action: str,
                     who: access.SignedIn) -> None:
        me = signature(who.staff)
        if action == "send":
            await service.send(campaign_id, by=me)
        elif action == "approve":
            await service.approve(campaign_id, by=me)
        elif action == "pause":
            await service.pause(campaign_id)
        elif action == "resume":
            await service.resume(campaign_id)
        else:
            await service.cancel(campaign_id)
