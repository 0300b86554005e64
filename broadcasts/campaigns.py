"""Campaigns: compose, preview, approve, send, pause, resume, cancel, and their status."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from broadcasts import links
from broadcasts.audience import CHANNELS, Audience
from broadcasts.config import BroadcastConfig
from broadcasts.groups import GroupCatalog
from broadcasts.limiter import HEADROOM
from broadcasts.problems import N_, Problem, ProblemsError, problem
from broadcasts.reach import campaign_reach
from broadcasts.subscribers import ensure_groups
from storage import repo_broadcasts as repo
from storage.city import City
from storage.db import Database
from storage.models.broadcast import Campaign, CampaignStatus

TITLE_LIMIT = 200
TEXT_LIMIT = 1500  # fits a WhatsApp message with the link and join lines added
TELEGRAM_TEXT_LIMIT = 3500  # fits Telegram's 4096 with escaping and the added lines
WINDOW = timedelta(hours=24)
_TEMPLATE_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

EDITABLE = (CampaignStatus.DRAFT, CampaignStatus.PENDING_APPROVAL, CampaignStatus.APPROVED)
LIVE = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING, CampaignStatus.PAUSED)
FINAL = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


class CampaignError(ProblemsError):
    """A campaign cannot be created or moved; `problems` say why (worded by the bot layer)."""


@dataclass
class CampaignDraft:
    title: str
    texts: dict[str, str]
    audience: Audience
    image_path: str | None = None  # relative to the media store
    link_url: str | None = None
    link_label: str | None = None
    template_sid: str | None = None
    send_at: datetime | None = None
    repeat_weekly: bool = False

    @classmethod
    def of(cls, campaign: Campaign, texts: dict[str, str]) -> CampaignDraft:
        return cls(title=campaign.title, texts=texts,
                   audience=Audience.model_validate(campaign.audience),
                   image_path=campaign.image_path, link_url=campaign.link_url,
                   link_label=campaign.link_label, template_sid=campaign.whatsapp_template_sid,
                   send_at=campaign.send_at, repeat_weekly=campaign.repeat_weekly)


def channel_rate(settings: BroadcastConfig, channel: str) -> float:
    rate = settings.broadcast_telegram_rate if channel == "telegram" \
        else settings.broadcast_whatsapp_rate
    return rate * HEADROOM


def channel_enabled(settings: BroadcastConfig, channel: str) -> bool:
    return settings.telegram_enabled if channel == "telegram" else settings.whatsapp_enabled


class CampaignService:
    def __init__(self, *, session: AsyncSession, city: City, catalog: GroupCatalog,
                 settings: BroadcastConfig, now: Callable[[], datetime]) -> None:
        self.session = session
        self.city = city
        self.catalog = catalog
        self.settings = settings
        self.now = now

    # -- composing ----------------------------------------------------------------------------

    def problems(self, draft: CampaignDraft) -> list[Problem]:
        out = list(draft.audience.problems(self.catalog, self.city))
        if not draft.title.strip():
            out.append(problem(N_("The title is empty.")))
        elif len(draft.title) > TITLE_LIMIT:
            out.append(problem(N_("The title is longer than {n} characters."), n=TITLE_LIMIT))
        if not (draft.texts.get("id") or "").strip():
            out.append(problem(N_("The Indonesian text is required.")))
        limit = TELEGRAM_TEXT_LIMIT if draft.audience.channels == ["telegram"] else TEXT_LIMIT
        for locale, text in draft.texts.items():
            if locale not in ("id", "en"):
                out.append(problem(N_("Texts may be in Indonesian (id) or English (en) only.")))
            elif len(text) > limit:
                out.append(problem(N_("The {locale} text is longer than {n} characters."), locale=locale, n=limit))
        if draft.link_url and not _URL.match(draft.link_url):
            out.append(problem(N_("The link must start with http:// or https://.")))
        if draft.link_label and len(draft.link_label) > 40:
            out.append(problem(N_("The link button label is longer than 40 characters.")))
        if draft.template_sid and not _TEMPLATE_SID.match(draft.template_sid):
            out.append(problem(N_("A WhatsApp template id looks like HX followed by 32 hexadecimal "
                         "characters.")))
        if draft.send_at is not None and draft.send_at.tzinfo is None:
            out.append(problem(N_("The sending time needs a time zone.")))
        return out

    async def create(self, draft: CampaignDraft, *, created_by: str,
                     notify: tuple[str, str, str] | None = None) -> Campaign:
        problems = self.problems(draft)
        if problems:
            raise CampaignError(problems)
        await ensure_groups(self.session, self.catalog)
        texts = {k: v.strip() for k, v in draft.texts.items() if v and v.strip()}
        campaign = Campaign(
            title=draft.title.strip(), status=CampaignStatus.DRAFT, audience=draft.audience.model_dump(),
            image_path=draft.image_path, link_url=draft.link_url,
            link_label=(draft.link_label or "").strip() or None,
            whatsapp_template_sid=draft.template_sid, send_at=draft.send_at,
            repeat_weekly=draft.repeat_weekly, created_by=created_by[:128],
            notify_channel=notify[0] if notify else None,
            notify_address=notify[1] if notify else None,
            notify_locale=notify[2] if notify else None,
            requires_approval=self.settings.broadcast_require_approval,
            link_salt=links.new_salt(), created_at=self.now(),
        )
        return await repo.create_campaign(session=self.session, campaign=campaign, texts=texts)

    async def get(self, campaign_id: int) -> Campaign:
        campaign = await repo.get_campaign(session=self.session, campaign_id=campaign_id)
        if campaign is None:
            raise CampaignError([problem(N_("There is no campaign #{id}."), id=campaign_id)])
        return campaign

    async def texts(self, campaign: Campaign) -> dict[str, str]:
        assert campaign.id is not None
        return await repo.get_campaign_texts(session=self.session, campaign_id=campaign.id)

    async def recent(self, limit: int = 10) -> list[Campaign]:
        return list(await repo.list_campaigns(session=self.session, limit=limit))

    # -- the audience -------------------------------------------------------------------------

    def audience_query(self, audience: Audience) -> repo.AudienceQuery:
        area = audience.area_kelurahan(self.city)
        return repo.AudienceQuery(
            group_keys=self.catalog.expand(audience.groups),
            area_kelurahan=area,
            roles=audience.roles,
            channels=audience.channels or list(CHANNELS),
            languages=audience.languages,
            relays=audience.relays,
            relay_kelurahan=audience.relay_kelurahan(self.catalog, area),
            poll_respondents=audience.poll_respondents,
        )

    async def preview(self, draft: CampaignDraft) -> dict[str, Any]:
        """Audience size per channel, the time it takes at the platforms' limits, and how many
        WhatsApp recipients are outside the 24-hour window (they need the template)."""
        problems = draft.audience.problems(self.catalog, self.city)
        if problems:
            raise CampaignError(problems)
        rows = await repo.preview_audience(session=self.session,
                                           audience=self.audience_query(draft.audience),
                                           window_start=self.now() - WINDOW)
        channels: dict[str, dict[str, Any]] = {}
        for channel in draft.audience.channels or CHANNELS:
            channels[channel] = {"recipients": 0, "people": 0, "group_chats": 0, "relays": 0,
                                 "opted_out": 0, "needs_template": 0,
                                 "skipped_no_template": 0, "messages": 0, "seconds": 0,
                                 "enabled": channel_enabled(self.settings, channel)}
        longest = max((len(t) for t in draft.texts.values()), default=0)
        for row in rows:
            # The query keeps to the audience's channels, so each row's channel is listed.
            figures = channels[row.channel]
            figures["recipients"] += row.count
            if row.opted_out:
                figures["opted_out"] += row.count
                continue
            figures["group_chats" if row.is_group else "people"] += row.count
            if row.relay:
                figures["relays"] += row.count
            needs = row.channel == "whatsapp" and row.outside_window and not row.is_group
            if needs:
                figures["needs_template"] += row.count
                if not draft.template_sid:
                    figures["skipped_no_template"] += row.count
                    continue
            per = 1
            if row.relay and not needs:
                per += 1
            if draft.image_path and longest > 1024 and row.channel == "telegram":
                per += 1
            figures["messages"] += per * row.count
        for channel, figures in channels.items():
            rate = channel_rate(self.settings, channel)
            figures["seconds"] = math.ceil(figures["messages"] / rate) if figures["messages"] \
                else 0
            figures["rate_per_second"] = round(rate, 2)
        return {
            "channels": channels,
            "recipients": sum(c["recipients"] for c in channels.values()),
            "opted_out": sum(c["opted_out"] for c in channels.values()),
            "needs_template": sum(c["needs_template"] for c in channels.values()),
            "skipped_no_template": sum(c["skipped_no_template"] for c in channels.values()),
            # Channels send side by side: the slowest one decides.
            "seconds": max((c["seconds"] for c in channels.values()), default=0),
        }

    # -- moving a campaign --------------------------------------------------------------------

    async def send(self, campaign_id: int, *, by: str) -> Campaign:
        """Send (now or at its time); waits for approval first where that is required."""
        campaign = await self.get(campaign_id)
        if campaign.status not in EDITABLE:
            raise CampaignError([problem(N_("Campaign #{id} is already {status}."),
                                         id=campaign_id, status=CampaignStatus(campaign.status))])
        if campaign.requires_approval and not campaign.approved_by:
            await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                     from_status=EDITABLE, to_status=CampaignStatus.PENDING_APPROVAL)
            return await self._fresh(campaign)
        await self._start(campaign, from_status=EDITABLE)
        return await self._fresh(campaign)

    async def approve(self, campaign_id: int, *, by: str) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.PENDING_APPROVAL):
            raise CampaignError([problem(N_("Campaign #{id} is not waiting for approval."), id=campaign_id)])
        if by == campaign.created_by:
            raise CampaignError([problem(N_("A campaign must be approved by another staff member "
                                            "than the one who wrote it."))])
        campaign.approved_by = by[:128]
        campaign.approved_at = self.now()
        await repo.save_campaign(session=self.session, campaign=campaign)
        if campaign.status == CampaignStatus.PENDING_APPROVAL:
            await self._start(campaign, from_status=(CampaignStatus.PENDING_APPROVAL,))
        else:
            await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                     from_status=(CampaignStatus.DRAFT,), to_status=CampaignStatus.APPROVED)
        return await self._fresh(campaign)

    async def pause(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id)
        if not await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                        from_status=(CampaignStatus.SENDING, CampaignStatus.SCHEDULED),
                                        to_status=CampaignStatus.PAUSED):
            raise CampaignError([problem(N_("Only a campaign that is sending or scheduled can be "
                                            "paused."))])
        return await self._fresh(campaign)

    async def resume(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id)
        if campaign.status != CampaignStatus.PAUSED:
            raise CampaignError([problem(N_("Campaign #{id} is not paused."), id=campaign_id)])
        if campaign.started_at is None and campaign.send_at and campaign.send_at > self.now():
            await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                     from_status=(CampaignStatus.PAUSED,), to_status=CampaignStatus.SCHEDULED)
        else:
            await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                     from_status=(CampaignStatus.PAUSED,), to_status=CampaignStatus.SENDING,
                                     started_at=campaign.started_at or self.now())
        return await self._fresh(campaign)

    async def cancel(self, campaign_id: int) -> Campaign:
        campaign = await self.get(campaign_id)
        if not await repo.move_campaign(session=self.session, campaign_id=campaign_id,
                                        from_status=(*EDITABLE, *LIVE), to_status=CampaignStatus.CANCELLED,
                                        finished_at=self.now()):
            raise CampaignError([problem(N_("Campaign #{id} has already ended."), id=campaign_id)])
        await repo.skip_queued(session=self.session, campaign_id=campaign_id,
                               reason="cancelled")
        return await self._fresh(campaign)

    async def begin_due(self) -> list[int]:
        """Scheduled campaigns whose time has come start sending; returns their ids."""
        started = []
        for campaign_id in await repo.due_campaigns(session=self.session, now=self.now()):
            campaign = await self.get(campaign_id)
            if await self._begin_sending(campaign, from_status=(CampaignStatus.SCHEDULED,)):
                started.append(campaign_id)
        return started

    async def _start(self, campaign: Campaign, *, from_status: tuple[str, ...]) -> None:
        if campaign.send_at is not None and campaign.send_at > self.now():
            await repo.move_campaign(session=self.session, campaign_id=campaign.id or 0,
                                     from_status=from_status, to_status=CampaignStatus.SCHEDULED)
            return
        await self._begin_sending(campaign, from_status=from_status)

    async def _begin_sending(self, campaign: Campaign, *, from_status: tuple[str, ...]) -> bool:
        assert campaign.id is not None
        moved = await repo.move_campaign(session=self.session, campaign_id=campaign.id,
                                         from_status=from_status, to_status=CampaignStatus.SENDING,
                                         started_at=self.now())
        if moved and campaign.repeat_weekly:
            await self._schedule_next(campaign)
        return moved

    async def _schedule_next(self, campaign: Campaign) -> Campaign:
        """A weekly campaign: the next occurrence, a week after this one, already approved."""
        assert campaign.id is not None
        base = campaign.send_at or self.now()
        nxt = base + timedelta(days=7)
        while nxt <= self.now():
            nxt += timedelta(days=7)
        texts = await self.texts(campaign)
        follow = Campaign(
            title=campaign.title, status=CampaignStatus.SCHEDULED, audience=dict(campaign.audience),
            image_path=campaign.image_path, link_url=campaign.link_url,
            link_label=campaign.link_label,
            whatsapp_template_sid=campaign.whatsapp_template_sid, send_at=nxt,
            repeat_weekly=True, parent_id=campaign.id, created_by=campaign.created_by,
            notify_channel=campaign.notify_channel, notify_address=campaign.notify_address,
            notify_locale=campaign.notify_locale,
            requires_approval=campaign.requires_approval, approved_by=campaign.approved_by,
            approved_at=campaign.approved_at, link_salt=links.new_salt(),
            created_at=self.now(),
        )
        return await repo.create_campaign(session=self.session, campaign=follow, texts=texts)

    async def _fresh(self, campaign: Campaign) -> Campaign:
        return await repo.refresh_campaign(session=self.session, campaign=campaign)

    async def status(self, campaign_id: int) -> dict[str, Any]:
        campaign = await self.get(campaign_id)
        return await campaign_reach(session=self.session, city=self.city, campaign=campaign)


def tracked_url(public_url: str | None, salt: str, delivery_id: int, url: str) -> str:
    """The link a recipient gets: through `/l/<code>` (counted) when the bot has a public URL."""
    if not public_url:
        return url
    return f"{public_url.rstrip('/')}/l/{links.click_code(salt, delivery_id)}"


class LinkFollower:
    """Tracked links for one process: each recipient's first click is counted; any later
    click on the same code (the same person again, or a flood of requests) is answered from
    memory, with no database read or write."""

    def __init__(self, *, remember: int = 100_000) -> None:
        self.remember = remember
        self._known: OrderedDict[str, str] = OrderedDict()

    async def follow(self, *, db: Database, code: str, now: datetime) -> str | None:
        """The campaign's page for `code`, or None for an unknown or forged code."""
        url = self._known.get(code)
        if url is not None:
            self._known.move_to_end(code)
            return url
        async with db.session() as session:
            url = await follow_link(session=session, code=code, now=now)
        if url is not None:
            self._known[code] = url
            while len(self._known) > self.remember:
                self._known.popitem(last=False)
        return url


async def follow_link(*, session: AsyncSession, code: str, now: datetime) -> str | None:
    """Count a click on a tracked link (once per recipient); the campaign's link, or None for
    an unknown code."""
    delivery_id = links.click_delivery_id(code)
    if delivery_id is None:
        return None
    delivery = await repo.get_delivery(session=session, delivery_id=delivery_id)
    if delivery is None:
        return None
    campaign = await repo.get_campaign(session=session, campaign_id=delivery.campaign_id)
    if campaign is None or not campaign.link_url \
            or not links.click_code_valid(code, campaign.link_salt, delivery_id):
        return None
    await repo.record_click(session=session, delivery=delivery, now=now)
    return campaign.link_url
