"""Flows telling other people about a report: staff, groups, reporters and supporters."""

from __future__ import annotations

from collections.abc import Iterable

from bot.flows.base import Ctx
from bot.labels import RECORD_WORDS
from bot.notices import Notice, word_all
from reports.actions import ReportActions
from reports.notices import ReportNotice


def report_actions(ctx: Ctx) -> ReportActions:
    """The agencies' side of the report domain, for this event."""
    services = ctx.services
    return ReportActions(session=services.session, city=services.city,
                         settings=services.settings, now=services.now, words=RECORD_WORDS)


def send_notices(ctx: Ctx, notices: Iterable[ReportNotice]) -> None:
    """Word each notice for its recipients, in their language and channel, and queue it."""
    services = ctx.services
    tell(ctx, word_all(notices, city=services.city, media_dir=services.settings.media_dir))


def tell(ctx: Ctx, notices: Iterable[Notice]) -> None:
    """Queue messages already worded for their recipients."""
    for notice in notices:
        recipient = notice.recipient
        ctx.notify(channel=recipient.channel, user_key=recipient.user_key,
                   locale=recipient.locale, reply=notice.reply)
