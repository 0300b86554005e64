"""Announcements for residents: their subscriptions, relay join links, the "forwarded" button."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.common import kelurahan_options, mark, opt_back, opt_cancel, opt_menu
from bot.flows.options import OptionId
from bot.flows.router import leave_flow
from bot.flows.state import FlowState
from bot.i18n import _
from bot.messages import Option
from broadcasts import links
from broadcasts.groups import COMMUNITY, TOPIC, GroupCatalog, kim_key
from broadcasts.subscribers import SubscriberService
from storage.models.broadcast import Subscriber


class SubscribeState(FlowState):
    """What the subscription menu offered (kept as top-level keys of the conversation)."""

    # The kelurahan whose KIM the menu offers.
    sub_kel: str | None = None
    # Kelurahan that a typed name could mean, offered to choose from.
    sub_choices: list[str] | None = None


def catalog_of(ctx: Ctx) -> GroupCatalog:
    return ctx.services.catalog


def subscribers(ctx: Ctx) -> SubscriberService:
    return SubscriberService(session=ctx.services.session, city=ctx.services.city,
                             catalog=catalog_of(ctx), now=ctx.services.now)


async def _me(ctx: Ctx, *, create: bool) -> Subscriber | None:
    service = subscribers(ctx)
    if not create:
        return await service.find(ctx.person.channel, ctx.person.user_key)
    subscriber, _created = await service.for_person(
        channel=ctx.person.channel, address=ctx.person.user_key, identity_id=ctx.person.id,
        locale=ctx.person.locale, name=ctx.person.display_name)
    return subscriber


class SubscribeFlow(Flow):
    """What a resident receives: their kelurahan's KIM, C-Gen, topics; stop and resume."""

    name = "subscribe"
    first_state = "main"

    def routes(self) -> Routes:
        return Routes(buttons={"fw": forwarded_button}, start_args=(start_code,),
                      typed_codes=(typed_code,), group_messages=(link_kim_group,))

    async def ask_main(self, ctx: Ctx) -> None:
        service = subscribers(ctx)
        catalog = catalog_of(ctx)
        me = await _me(ctx, create=False)
        keys = set(await service.subscriptions(me)) if me else set()
        kelurahan = me.kelurahan_code if me and me.kelurahan_code else \
            await service.suggested_kelurahan(ctx.person.id)
        SubscribeState.kept(ctx).sub_kel = kelurahan
        stopped = bool(me and me.stopped)
        lines = [_("📢 Announcements from the city")]
        if stopped:
            lines.append(_("You have stopped all announcements. Tap “Receive announcements "
                           "again” to start them again."))
        elif keys:
            names = [g.name() for k in sorted(keys) if (g := catalog.get(k)) is not None]
            lines.append(_("You receive: {groups}.").format(groups=", ".join(names)))
        else:
            lines.append(_("You do not receive any announcements yet. Choose what interests "
                           "you:"))
        options: list[Option] = []
        if kelurahan and (group := catalog.kim_for_kelurahan(kelurahan)) is not None:
            options.append(Option("sub:kim", mark(group.key in keys) + group.name()))
            options.append(Option("sub:kel", _("📍 Another kelurahan")))
        else:
            options.append(Option("sub:kel", _("📍 Choose my kelurahan (KIM)")))
        for group in [*catalog.of_kind(COMMUNITY), *catalog.of_kind(TOPIC)]:
            options.append(Option(f"sub:g:{group.key}", mark(group.key in keys) + group.name()))
        if stopped:
            options.append(Option("sub:resume", _("▶️ Receive announcements again")))
        elif keys:
            options.append(Option("sub:stop", _("⏸ Stop all announcements")))
        options.append(opt_menu())
        ctx.say("\n\n".join(lines), options=options, edit=True)

    async def on_main(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        service = subscribers(ctx)
        catalog = catalog_of(ctx)
        if picked == "sub:kel":
            ctx.goto("kelurahan")
            return
        if picked is None:
            ctx.say(_("Please choose from the list."))
            ctx.stay()
            return
        me = await _me(ctx, create=True)
        assert me is not None
        if picked == "sub:kim":
            code = SubscribeState.kept(ctx).sub_kel
            if code and ctx.services.city.has_kelurahan(code):
                if me.kelurahan_code != code:
                    await service.set_kelurahan(me, code)
                    await self._resume(ctx, me)
                    ctx.say(_("Subscribed: {group}.").format(
                        group=catalog.kim_for_kelurahan(code).name()))  # type: ignore[union-attr]
                else:
                    await self._toggle(ctx, me, kim_key(code))
        elif (key := OptionId.parse(picked).after("sub", "g")) is not None:
            await self._toggle(ctx, me, key)
        elif picked == "sub:stop":
            await service.set_stopped(me, True)
            ctx.say(_("Done: you will not receive announcements any more. Your choices are "
                      "kept for when you want them again."))
        elif picked == "sub:resume":
            await self._resume(ctx, me)
            ctx.say(_("Welcome back! You will receive announcements again."))
        ctx.stay()

    async def _toggle(self, ctx: Ctx, me: Subscriber, key: str) -> None:
        group = catalog_of(ctx).get(key)
        if group is None:
            return
        now_on = await subscribers(ctx).toggle(me, key)
        if now_on:
            await self._resume(ctx, me)
            ctx.say(_("Subscribed: {group}.").format(group=group.name()))
        else:
            ctx.say(_("Unsubscribed: {group}.").format(group=group.name()))

    async def _resume(self, ctx: Ctx, me: Subscriber) -> None:
        """Choosing announcements is opting in again, even after STOP."""
        if me.stopped:
            await subscribers(ctx).set_stopped(me, False)
        await subscribers(ctx).opt_in_identity(ctx.person.id)

    async def ask_kelurahan(self, ctx: Ctx) -> None:
        ctx.say(_("Which kelurahan do you live in? Type its name, for example “Pahlawan” or "
                  "“Sumber Karya”."), options=[opt_back(), opt_cancel()])

    async def on_kelurahan(self, ctx: Ctx) -> None:
        if ctx.needs_text(_("Please type the name of your kelurahan.")):
            return
        city = ctx.services.city
        matches, confident = city.match_kelurahan(ctx.text)
        if matches and confident:
            await self._choose(ctx, matches[0].code)
            return
        if matches:
            SubscribeState.kept(ctx).sub_choices = [m.code for m in matches[:6]]
            ctx.goto("pick_kelurahan")
            return
        ctx.say(_("We could not find a kelurahan called “{text}” in Binjai. Please check the "
                  "spelling.").format(text=ctx.text[:40]))
        ctx.stay()

    async def ask_pick_kelurahan(self, ctx: Ctx) -> None:
        options = kelurahan_options(ctx.services.city,
                                    SubscribeState.kept(ctx).sub_choices or [], "k")
        ctx.say(_("Which one do you mean?"), options=[*options, opt_back(), opt_cancel()])

    async def on_pick_kelurahan(self, ctx: Ctx) -> None:
        code = ctx.picked().after("k")
        if code is not None and ctx.services.city.has_kelurahan(code):
            await self._choose(ctx, code)
            return
        ctx.say(_("Please choose from the list."))
        ctx.stay()

    async def _choose(self, ctx: Ctx, code: str) -> None:
        me = await _me(ctx, create=True)
        assert me is not None
        await subscribers(ctx).set_kelurahan(me, code)
        await self._resume(ctx, me)
        group = catalog_of(ctx).kim_for_kelurahan(code)
        ctx.say(_("Subscribed: {group}.").format(group=group.name() if group else code))
        SubscribeState.kept(ctx).sub_choices = None
        ctx.goto("main", remember=False)


# --- entry points outside the flow -----------------------------------------------------------


async def _join(ctx: Ctx, code: str) -> bool:
    parsed = links.parse_join_code(code)
    if parsed is None:
        return False
    relay_code, campaign_id = parsed
    leave_flow(ctx)
    result = await subscribers(ctx).join_via_relay(
        relay_code=relay_code, campaign_id=campaign_id, channel=ctx.person.channel,
        address=ctx.person.user_key, identity_id=ctx.person.id, locale=ctx.person.locale)
    if result is None:
        ctx.say(_("This join link is no longer valid. You can still choose your announcements "
                  "here."))
    else:
        await subscribers(ctx).opt_in_identity(ctx.person.id)
        via = result.relay.name or _("your kepala lingkungan")
        group = result.group.name() if result.group else ""
        ctx.say(_("Welcome! Through {via} you now receive the announcements of {group}.")
                .format(via=via, group=group))
    await ctx.services.flows["subscribe"].enter(ctx)
    return True


async def start_code(ctx: Ctx) -> bool:
    """/start with a relay's join code or a kepala lingkungan's invitation."""
    arg = (ctx.inbound.command_arg or "").strip()
    if arg.startswith(links.INVITE_PREFIX):
        return await _accept_invite(ctx, arg)
    return await _join(ctx, arg)


async def typed_code(ctx: Ctx) -> bool:
    """A join code typed or pre-filled (a WhatsApp link opens the chat with it), or a relay's
    "FW <number>" (WhatsApp has no buttons outside templates)."""
    forwarded = links.FORWARD_TEXT.match(ctx.text)
    if forwarded is not None:
        return await _record_forward(ctx, int(forwarded.group(1)))
    found = links.JOIN_TEXT.match(ctx.text)
    if found is None:
        invite = ctx.text.strip().lower()
        if invite.startswith(links.INVITE_PREFIX) and len(invite) == 12 and invite.isalnum():
            return await _accept_invite(ctx, invite)
        return False
    return await _join(ctx, found.group(1).lower())


async def _accept_invite(ctx: Ctx, code: str) -> bool:
    relay = await subscribers(ctx).accept_invite(
        code.lower(), channel=ctx.person.channel, address=ctx.person.user_key,
        identity_id=ctx.person.id, locale=ctx.person.locale,
        display_name=ctx.person.display_name)
    if relay is None:
        ctx.say(_("This invitation is not valid or was already used. Please ask Diskominfo "
                  "for a new one."))
        ctx.goto("main", "menu")
        return True
    kel = ctx.services.city.kelurahan(relay.kelurahan_code)
    join = links.join_code(relay.code, None)
    ctx.say(_("Thank you! You are registered as kepala lingkungan for Kelurahan {kelurahan}. "
              "You will receive the city's announcements with a message ready to forward to "
              "your neighbourhood and your personal join link; residents who join through it "
              "are counted for you.\n\nYour join code: {code}").format(
        kelurahan=kel.name, code=join),
        url_button=(_("My join link"), f"private:{join}") if ctx.person.channel == "telegram"
        else None)
    ctx.goto("main", "menu")
    return True


async def forwarded_button(ctx: Ctx) -> bool:
    """A relay pressed "✅ Forwarded" under a campaign's forwarding kit."""
    delivery_id = OptionId.parse(ctx.inbound.option_id).number_after("fw")
    if delivery_id is None:
        return False
    return await _record_forward(ctx, delivery_id)


async def _record_forward(ctx: Ctx, delivery_id: int) -> bool:
    recorded = await subscribers(ctx).record_forward(
        delivery_id=delivery_id, channel=ctx.person.channel, address=ctx.person.user_key)
    if recorded is None:
        ctx.say(_("This button does not belong to you."))
    elif recorded:
        ctx.say(_("Thank you for forwarding it! ✅"))
    else:
        ctx.say(_("Already recorded, thank you."))
    return True


async def link_kim_group(ctx: Ctx) -> bool:
    """/kim CODE (or /link CODE) in a group chat: the group receives its KIM's announcements."""
    inbound = ctx.inbound
    code = (inbound.command_arg or "").strip().lower()
    if inbound.command not in ("kim", "link") or not code.startswith(links.GROUP_PREFIX):
        return False
    if not inbound.chat_key:
        return False
    group = await subscribers(ctx).link_group_chat(code, channel=inbound.channel,
                                                   chat_key=inbound.chat_key)
    if group is None:
        ctx.say(_("This code is not valid or was already used. Please ask Diskominfo for a new "
                  "one."))
    else:
        ctx.say(_("Done: this group now receives the announcements of {group}.").format(
            group=group.name()))
    return True
