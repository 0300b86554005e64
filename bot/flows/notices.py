"""Flows telling other people about a report: staff, groups, reporters and supporters."""

from __future__ import annotations

from collections.abc import Iterable

from bot.flows.base import Ctx
from reports.actions import ReportActions
from reports.notices import Notice


def report_actions(ctx: Ctx) -> ReportActions:
    """The agencies' side of the report domain, for this event."""
    services = ctx.services
    return ReportActions(session=services.session, city=services.city,
                         settings=services.settings, now=services.now)


def send_notices(ctx: Ctx, notices: Iterable[Notice]) -> None:
    """Queue each notice for its recipient, in the recipient's language and channel."""
    for notice in notices:
        recipient = notice.recipient
        ctx.notify(channel=recipient.channel, user_key=recipient.user_key,
                   locale=recipient.locale, reply=notice.reply)
