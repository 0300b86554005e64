"""Outreach in chat: a tracked source's code arriving (Telegram `/start <code>`, the words of a
WhatsApp link), the answers to "how did you hear of this service?", and the questions residents
ask, counted for the sources and campaigns that brought them."""

from __future__ import annotations

import logging

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.heard import PREFIX, heard_button, heard_typed
from bot.flows.menu import MenuFlow
from bot.flows.router import leave_flow
from bot.messages import Kind
from broadcasts.outreach import OutreachService, find_source_code

logger = logging.getLogger(__name__)


def _service(ctx: Ctx) -> OutreachService:
    return OutreachService(session=ctx.services.session, now=ctx.services.now)


def _first_message(ctx: Ctx) -> bool:
    """Whether this is the resident's very first message to the bot (a new conversation)."""
    return ctx.flow == "menu" and ctx.state == "start"


async def _arrived(ctx: Ctx, code: str) -> bool:
    """The resident came through a source: attributed (unless an earlier source was), then
    greeted as with /start. False for a code that names no source."""
    new = _first_message(ctx)
    source = await _service(ctx).arrived(ctx.person.id, code, new=new)
    if source is None:
        return False
    logger.info("resident arrived through source %s%s", source.code, " (new)" if new else "")
    leave_flow(ctx)
    MenuFlow.welcome(ctx)
    ctx.goto("main", "menu")
    return True


async def source_start(ctx: Ctx) -> bool:
    """/start with a source's code (a Telegram deep link from a poster's QR code)."""
    code = find_source_code(ctx.inbound.command_arg or "")
    return code is not None and await _arrived(ctx, code)


async def source_typed(ctx: Ctx) -> bool:
    """A source's code in a typed text (the words a WhatsApp link fills in, sent as they are)."""
    if ctx.inbound.kind != Kind.TEXT or ctx.inbound.command:
        return False
    code = find_source_code(ctx.text[:300])
    return code is not None and await _arrived(ctx, code)


async def note_question(ctx: Ctx) -> None:
    """Count a question the resident typed (for the source that brought them, and for the
    campaigns that reached their kelurahan)."""
    if not ctx.inbound.is_group:
        await _service(ctx).question_asked(ctx.person.id)


class OutreachFlow(Flow):
    """No conversation of its own: the codes and answers above, whatever flow the resident is
    in."""

    name = "outreach"

    def routes(self) -> Routes:
        return Routes(buttons={PREFIX: heard_button}, start_args=(source_start,),
                      typed_codes=(source_typed, heard_typed))
