"""/siaran: Kominfo staff compose, preview, send and steer campaigns from chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.broadcast_texts import (
    campaign_status_label,
    describe_audience,
    problem_texts,
    summary_lines,
)
from bot.flows.base import Ctx, Flow, Routes
from bot.flows.common import mark, more_option, opt_back, opt_cancel, opt_menu, screen
from bot.flows.faq import kominfo_staff
from bot.flows.options import OptionId
from bot.flows.router import leave_flow
from bot.flows.state import FlowState, Moment
from bot.flows.subscribe import catalog_of
from bot.i18n import _, format_datetime, format_number, ngettext
from bot.messages import Kind, Option
from broadcasts.audience import Audience
from broadcasts.campaigns import (
    FINAL,
    CampaignDraft,
    CampaignError,
    CampaignService,
    CampaignStatus,
)
from broadcasts.groups import COMMUNITY, TOPIC
from reports import access
from reports.staff import signature
from storage.media import MediaRejected
from storage.models.agency import StaffMember

KEY = "compose"


def _service(ctx: Ctx) -> CampaignService:
    return CampaignService(session=ctx.services.session, city=ctx.services.city,
                           catalog=catalog_of(ctx), settings=ctx.services.settings,
                           now=ctx.services.now)


def actor(ctx: Ctx, staff: StaffMember | None) -> str:
    """Who acts, as campaigns record it (approval needs a different one): the staff member's
    signature, the same as in the console, so that no one approves in one place what they wrote
    in the other."""
    if staff is None:
        return f"{ctx.person.channel}:{ctx.person.user_key}"
    return signature(staff)


async def _audit(ctx: Ctx, staff: StaffMember | None, action: str,
                 campaign_id: int | None) -> None:
    """A staff member's campaign action from the chat, in the audit log as the console's are."""
    await access.record(session=ctx.services.session, staff=staff,
                        action=f"campaign.{action}", now=ctx.services.now(), source="chat",
                        target=f"campaign:{campaign_id}")


async def _allowed(ctx: Ctx) -> bool:
    """Only an active Kominfo staff account composes, approves and sends campaigns."""
    return await kominfo_staff(ctx) is not None


# Groups on one screen of the audience picker (then "Lainnya ›"): with the controls, a
# Telegram message keeps to 12 buttons.
AUDIENCE_PAGE = 7


class Compose(FlowState):
    """An announcement being composed, step by step."""

    key = KEY

    groups: list[str] = []
    title: str | None = None
    text_id: str | None = None
    text_en: str | None = None
    image: str | None = None
    link: str | None = None
    weekly: bool | None = None
    send_at: Moment | None = None
    # The screen of the audience picker being looked at.
    page: int | None = None

    def campaign(self) -> CampaignDraft:
        """The campaign as composed so far, for the campaign service."""
        texts = {"id": self.text_id or ""}
        if self.text_en:
            texts["en"] = self.text_en
        return CampaignDraft(title=self.title or "", texts=texts,
                             audience=Audience(groups=list(self.groups)),
                             image_path=self.image, link_url=self.link,
                             send_at=self.send_at, repeat_weekly=bool(self.weekly))


class Shown(FlowState):
    """The campaign whose status is shown (kept as a top-level key of the conversation)."""

    c_show: int | None = None


def _draft(ctx: Ctx) -> Compose:
    return Compose.kept(ctx)


def _shown(ctx: Ctx) -> int:
    state = Shown.get(ctx)
    return (state.c_show or 0) if state is not None else 0


# The steps of composing an announcement, in order (choosing a kelurahan's KIM is part of
# the audience); the preview sends it.
STEPS = ("title", "text_id", "text_en", "image", "link", "audience", "when", "preview")


def _skip() -> Option:
    return Option("c:skip", _("Skip"))


CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp"}


def _duration(seconds: int) -> str:
    if seconds < 60:
        return ngettext("{n} second", "{n} seconds", seconds).format(n=seconds)
    if seconds < 3600:
        minutes = round(seconds / 60)
        return ngettext("about {n} minute", "about {n} minutes", minutes).format(n=minutes)
    return _("about {n} hours").format(n=format_number(round(seconds / 3600, 1)))


def preview_text(preview: dict[str, Any]) -> str:
    n = format_number
    lines = [_("Audience: {n} recipients").format(n=n(preview["recipients"]))]
    for channel, figures in preview["channels"].items():
        line = _("• {channel}: {people} people, {groups} group chats, {relays} kepala "
                 "lingkungan").format(channel=CHANNEL_NAMES.get(channel, channel), people=n(figures["people"]),
                                      groups=n(figures["group_chats"]),
                                      relays=n(figures["relays"]))
        if figures["opted_out"]:
            line += " · " + _("{n} opted out").format(n=n(figures["opted_out"]))
        if not figures["enabled"]:
            line += " · " + _("channel not switched on")
        lines.append(line)
    if preview["needs_template"]:
        lines.append(_("WhatsApp recipients outside the 24-hour window: {n} (they need the "
                       "template; without one they are skipped)").format(
            n=n(preview["needs_template"])))
    lines.append(_("Time to send at the platforms' limits: {time}").format(
        time=_duration(int(preview["seconds"]))))
    return "\n".join(lines)


class CampaignFlow(Flow):
    name = "campaign"
    first_state = "start"

    def _onward(self, ctx: Ctx) -> None:
        """On to the step after this one (STEPS)."""
        ctx.goto(STEPS[STEPS.index(ctx.state) + 1])

    def routes(self) -> Routes:
        return Routes(commands={"siaran": siaran_command, "broadcast": siaran_command})

    async def enter(self, ctx: Ctx) -> None:
        leave_flow(ctx)
        ctx.goto("start", self.name)

    # -- the staff menu ---------------------------------------------------------------------

    async def ask_start(self, ctx: Ctx) -> None:
        ctx.say(_("📢 Broadcasts (Kominfo)"), options=[
            Option("c:new", _("✍️ New announcement")),
            Option("c:list", _("📋 Recent campaigns")),
            opt_menu(),
        ])

    async def on_start(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked == "c:new":
            Compose.start(ctx)
            ctx.goto(STEPS[0])
        elif picked == "c:list":
            ctx.goto("list")
        else:
            ctx.say(_("Please choose from the list."))
            ctx.stay()

    # -- composing --------------------------------------------------------------------------

    async def ask_title(self, ctx: Ctx) -> None:
        ctx.say(_("Step 1 of 6: the title (for you and the reports, not sent to residents)."),
                options=[opt_cancel()])

    async def on_title(self, ctx: Ctx) -> None:
        if ctx.needs_text(_("Please type a title.")):
            return
        _draft(ctx).title = ctx.text[:200]
        self._onward(ctx)

    async def ask_text_id(self, ctx: Ctx) -> None:
        ctx.say(_("Step 2 of 6: the announcement in Indonesian, exactly as residents will "
                  "read it."), options=[opt_back(), opt_cancel()])

    async def on_text_id(self, ctx: Ctx) -> None:
        if ctx.needs_text(_("Please type the announcement.")):
            return
        _draft(ctx).text_id = ctx.inbound.text or ""
        self._onward(ctx)

    async def ask_text_en(self, ctx: Ctx) -> None:
        ctx.say(_("Step 3 of 6: the same announcement in English, for residents who chose "
                  "English (optional)."), options=[_skip(), opt_back(), opt_cancel()])

    async def on_text_en(self, ctx: Ctx) -> None:
        if ctx.choice() != "c:skip":
            if ctx.needs_text(_("Please type the English text, or tap Skip.")):
                return
            _draft(ctx).text_en = ctx.inbound.text or ""
        self._onward(ctx)

    async def ask_image(self, ctx: Ctx) -> None:
        ctx.say(_("Step 4 of 6: send a picture to go with it (optional)."),
                options=[_skip(), opt_back(), opt_cancel()])

    async def on_image(self, ctx: Ctx) -> None:
        if ctx.choice() == "c:skip":
            self._onward(ctx)
            return
        if ctx.inbound.kind != Kind.PHOTO or not ctx.inbound.media:
            ctx.say(_("Please send a picture, or tap Skip."))
            ctx.stay()
            return
        try:
            stored = await ctx.services.save_media(ctx.inbound.media[0])
        except MediaRejected:
            ctx.say(_("That picture could not be used. Please send a JPEG or PNG photo."))
            ctx.stay()
            return
        _draft(ctx).image = stored.path
        self._onward(ctx)

    async def ask_link(self, ctx: Ctx) -> None:
        ctx.say(_("Step 5 of 6: a link for a button under the announcement (optional), e.g. "
                  "https://binjaikota.go.id/..."), options=[_skip(), opt_back(), opt_cancel()])

    async def on_link(self, ctx: Ctx) -> None:
        if ctx.choice() != "c:skip":
            link = ctx.text
            if not link.lower().startswith(("http://", "https://")) or " " in link:
                ctx.say(_("The link must start with http:// or https://."))
                ctx.stay()
                return
            _draft(ctx).link = link
        self._onward(ctx)

    async def ask_audience(self, ctx: Ctx) -> None:
        catalog = catalog_of(ctx)
        chosen = set(_draft(ctx).groups)
        groups = [*catalog.kim_kecamatan(), *catalog.of_kind(COMMUNITY), *catalog.of_kind(TOPIC)]
        shown = {g.key for g in groups}
        groups += [g for g in (catalog.get(k) for k in sorted(chosen) if k not in shown)
                   if g is not None]
        # A screen holds AUDIENCE_PAGE groups and five controls: at most 12 buttons.
        on_screen, following = screen(groups, _draft(ctx).page, AUDIENCE_PAGE)
        options = [Option(f"c:g:{g.key}", mark(g.key in chosen) + g.name()) for g in on_screen]
        if following is not None:
            options.append(more_option("c:more", following))
        options.append(Option("c:kel", _("➕ KIM of one kelurahan")))
        options.append(Option("c:done", _("Continue ➡️")))
        options += [opt_back(), opt_cancel()]
        ctx.say(_("Step 6 of 6: who receives it? Tap to choose, then Continue. Kepala "
                  "lingkungan of the areas chosen receive it too, to forward."),
                options=options, edit=True)

    async def on_audience(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        draft = _draft(ctx)
        key = OptionId.parse(picked).after("c", "g")
        if key is not None:
            if key in draft.groups:
                draft.groups.remove(key)
            elif key in catalog_of(ctx):
                draft.groups.append(key)
            ctx.stay()
        elif picked == "c:more":
            draft.page = (draft.page or 0) + 1
            ctx.stay()
        elif picked == "c:kel":
            ctx.goto("kelurahan")
        elif picked == "c:done":
            if not draft.groups:
                ctx.say(_("Choose at least one group."))
                ctx.stay()
                return
            self._onward(ctx)
        else:
            ctx.say(_("Please choose from the list."))
            ctx.stay()

    async def ask_kelurahan(self, ctx: Ctx) -> None:
        ctx.say(_("Type the kelurahan's name."), options=[opt_back(), opt_cancel()])

    async def on_kelurahan(self, ctx: Ctx) -> None:
        matches, confident = ctx.services.city.match_kelurahan(ctx.text) if ctx.text \
            else ([], False)
        group = catalog_of(ctx).kim_for_kelurahan(matches[0].code) \
            if matches and confident else None
        if group is None:
            ctx.say(_("We could not find that kelurahan. Please check the spelling."))
            ctx.stay()
            return
        if group.key not in _draft(ctx).groups:
            _draft(ctx).groups.append(group.key)
        ctx.goto("audience", remember=False)

    async def ask_when(self, ctx: Ctx) -> None:
        weekly = bool(_draft(ctx).weekly)
        ctx.say(_("When? Send now, or type a date and time (WIB) such as 2026-12-24 08:00."),
                options=[Option("c:now", _("Now")),
                         Option("c:weekly", mark(weekly) + _("Repeat every week")),
                         opt_back(), opt_cancel()])

    async def on_when(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        draft = _draft(ctx)
        if picked == "c:weekly":
            draft.weekly = not draft.weekly
            ctx.stay()
            return
        if picked == "c:now":
            draft.send_at = None
            self._onward(ctx)
            return
        try:
            moment = datetime.strptime(ctx.text.strip() + " +0700", "%Y-%m-%d %H:%M %z")
        except ValueError:
            ctx.say(_("Please type the time as YYYY-MM-DD HH:MM, e.g. 2026-12-24 08:00."))
            ctx.stay()
            return
        if moment <= ctx.services.now():
            ctx.say(_("That time has passed. Please choose a later one."))
            ctx.stay()
            return
        draft.send_at = moment
        self._onward(ctx)

    async def ask_preview(self, ctx: Ctx) -> None:
        draft = _draft(ctx).campaign()
        service = _service(ctx)
        try:
            preview = await service.preview(draft)
        except CampaignError as error:
            ctx.say("\n".join(problem_texts(error.problems)), options=[opt_back(), opt_cancel()])
            return
        when = format_datetime(draft.send_at) if draft.send_at else _("now")
        groups = describe_audience(draft.audience, catalog_of(ctx), ctx.services.city)
        head = _("“{title}” to {groups}, sending {when}.").format(
            title=draft.title, groups=groups, when=when)
        if draft.repeat_weekly:
            head += " " + _("Repeats every week.")
        needs = ctx.services.settings.broadcast_require_approval
        ctx.say(head + "\n\n" + preview_text(preview) + "\n\n" + _("Text:") + "\n"
                + (draft.texts.get("id") or ""),
                options=[Option("c:send", _("🚀 Submit for approval") if needs
                                else _("🚀 Send")),
                         opt_back(), opt_cancel()])

    async def on_preview(self, ctx: Ctx) -> None:
        if ctx.choice() != "c:send":
            ctx.say(_("Please choose from the list."))
            ctx.stay()
            return
        staff = await kominfo_staff(ctx)
        if staff is None:
            ctx.say(_("Only Kominfo staff may send announcements."))
            ctx.goto("main", "menu")
            return
        service = _service(ctx)
        try:
            campaign = await service.create(
                _draft(ctx).campaign(), created_by=actor(ctx, staff),
                notify=(ctx.person.channel, ctx.person.user_key, ctx.person.locale))
            assert campaign.id is not None
            await _audit(ctx, staff, "create", campaign.id)
            campaign = await service.send(campaign.id, by=actor(ctx, staff))
            await _audit(ctx, staff, "send", campaign.id)
        except CampaignError as error:
            ctx.say("\n".join(problem_texts(error.problems)))
            ctx.stay()
            return
        Compose.drop(ctx)
        ctx.say(self._sent_text(campaign.id or 0, campaign.status))
        ctx.goto("main", "menu")

    @staticmethod
    def _sent_text(campaign_id: int, status: str) -> str:
        if status == CampaignStatus.PENDING_APPROVAL:
            return _("Campaign #{id} is waiting for approval by another Kominfo staff member "
                     "(/siaran → Recent campaigns).").format(id=campaign_id)
        if status == CampaignStatus.SCHEDULED:
            return _("Campaign #{id} is scheduled. You will receive a reach summary when it "
                     "has been sent.").format(id=campaign_id)
        return _("Campaign #{id} is being sent. You will receive a reach summary when it "
                 "finishes.").format(id=campaign_id)

    # -- steering existing campaigns --------------------------------------------------------

    async def ask_list(self, ctx: Ctx) -> None:
        campaigns = await _service(ctx).recent(8)
        if not campaigns:
            ctx.say(_("No campaigns yet."), options=[Option("c:new", _("✍️ New announcement")),
                                                     opt_menu()])
            return
        options = [Option(f"c:show:{c.id}", f"#{c.id} {c.title[:30]} ({campaign_status_label(c.status)})")
                   for c in campaigns]
        ctx.say(_("Recent campaigns:"), options=[*options, opt_back(), opt_menu()])

    async def on_list(self, ctx: Ctx) -> None:
        picked = ctx.picked()
        if picked.after("c") == "new":
            Compose.start(ctx)
            ctx.goto(STEPS[0])
            return
        campaign_id = picked.number_after("c", "show")
        if campaign_id is not None:
            Shown.start(ctx, c_show=campaign_id)
            ctx.goto("show")
            return
        ctx.say(_("Please choose from the list."))
        ctx.stay()

    async def ask_show(self, ctx: Ctx) -> None:
        service = _service(ctx)
        campaign_id = _shown(ctx)
        try:
            campaign = await service.get(campaign_id)
            reach = await service.status(campaign_id)
        except CampaignError as error:
            ctx.say("\n".join(problem_texts(error.problems)), options=[opt_back(), opt_menu()])
            return
        text = _("Campaign #{id} “{title}”: {status}").format(
            id=campaign_id, title=campaign.title, status=campaign_status_label(campaign.status))
        if reach["targeted"]:
            text += "\n\n" + "\n".join(summary_lines(reach))
        options = []
        if campaign.status == CampaignStatus.PENDING_APPROVAL \
                and campaign.created_by != actor(ctx, await kominfo_staff(ctx)):
            options.append(Option("c:approve", _("✅ Approve and send")))
        if campaign.status in ("draft", "approved"):
            options.append(Option("c:go", _("🚀 Send")))
        if campaign.status in ("sending", "scheduled"):
            options.append(Option("c:pause", _("⏸ Pause")))
        if campaign.status == "paused":
            options.append(Option("c:resume", _("▶️ Resume")))
        if campaign.status not in FINAL:
            options.append(Option("c:cancel", _("🛑 Cancel the campaign")))
        options += [Option("c:refresh", _("🔄 Refresh")), opt_back(), opt_menu()]
        ctx.say(text, options=options)

    async def on_show(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        campaign_id = _shown(ctx)
        service = _service(ctx)
        staff = await kominfo_staff(ctx)
        if picked in ("c:approve", "c:go", "c:pause", "c:resume", "c:cancel") and staff is None:
            ctx.say(_("Only Kominfo staff may send announcements."))
            ctx.goto("main", "menu")
            return
        try:
            if picked == "c:approve":
                campaign = await service.approve(campaign_id, by=actor(ctx, staff))
                await _audit(ctx, staff, "approve", campaign_id)
                ctx.say(self._sent_text(campaign_id, campaign.status))
            elif picked == "c:go":
                campaign = await service.send(campaign_id, by=actor(ctx, staff))
                await _audit(ctx, staff, "send", campaign_id)
                ctx.say(self._sent_text(campaign_id, campaign.status))
            elif picked == "c:pause":
                await service.pause(campaign_id)
                await _audit(ctx, staff, "pause", campaign_id)
                ctx.say(_("Paused."))
            elif picked == "c:resume":
                await service.resume(campaign_id)
                await _audit(ctx, staff, "resume", campaign_id)
                ctx.say(_("Resumed."))
            elif picked == "c:cancel":
                await service.cancel(campaign_id)
                await _audit(ctx, staff, "cancel", campaign_id)
                ctx.say(_("Cancelled: nothing more of it will be sent."))
            elif picked != "c:refresh":
                ctx.say(_("Please choose from the list."))
        except CampaignError as error:
            ctx.say("\n".join(problem_texts(error.problems)))
        ctx.stay()


async def siaran_command(ctx: Ctx) -> bool:
    """/siaran (or /broadcast): only Kominfo staff; to anyone else it is an unknown command."""
    if not await _allowed(ctx):
        return False
    await ctx.services.flows["campaign"].enter(ctx)
    return True
