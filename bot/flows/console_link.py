"""`/konsol` (Telegram) and `KONSOL` (WhatsApp): a staff member asks for a console login link.

The link goes only to the staff member's own private chat; it works once, for 15 minutes.
"""

from __future__ import annotations

from bot.flows.base import Ctx
from bot.flows.options import normalize
from bot.i18n import _
from bot.labels import login_link_text
from reports import access
from reports.staff import staff_for

WORDS = frozenset({"konsol", "console"})


async def console_link(ctx: Ctx) -> bool:
    services = ctx.services
    staff = await staff_for(session=services.session, channel=ctx.person.channel,
                            user_key=ctx.person.user_key)
    ctx.stay()
    if staff is None or not staff.active:
        ctx.say(_("The staff console is for city staff. To report a problem or ask about the "
                  "city's apps, choose from the menu."))
        return True
    now = services.now()
    try:
        token = await access.issue_login_link(session=services.session, staff=staff, now=now)
    except access.TooManyLinks:
        ctx.say(_("Several sign-in links were sent in the last 15 minutes; please use the "
                  "latest one, or ask again later."))
        return True
    await access.record(session=services.session, staff=staff, action="login_link", now=now,
                        source="chat", target=f"staff:{staff.id}")
    minutes = int(access.LOGIN_LINK_TTL.total_seconds() // 60)
    url = f"{services.settings.base_url}/console/login/{token}"
    ctx.say(login_link_text(url, minutes))
    return True


async def console_link_typed(ctx: Ctx) -> bool:
    """The bare word KONSOL, as WhatsApp users type commands."""
    if normalize(ctx.text) not in WORDS:
        return False
    return await console_link(ctx)


async def console_link_in_group(ctx: Ctx) -> bool:
    ctx.say(_("Sign-in links are sent only in a private chat: send /konsol to the bot there."))
    return True
