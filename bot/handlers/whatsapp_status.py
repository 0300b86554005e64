"""Twilio's message status callbacks: move the stored message forward, note opt-outs and closed
windows."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.handlers.twilio_client import ERR_OPTED_OUT, ERR_OUTSIDE_WINDOW
from bot.handlers.whatsapp_parse import form_int
from storage import repo_outbound
from storage.db import Database
from storage.models.outbound import OutboundStatus

logger = logging.getLogger(__name__)

STATUS_PATH = "/webhooks/whatsapp/status"

_TWILIO_STATUS = {
    "accepted": OutboundStatus.QUEUED,
    "scheduled": OutboundStatus.QUEUED,
    "queued": OutboundStatus.QUEUED,
    "sending": OutboundStatus.QUEUED,
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.READ,
    "failed": OutboundStatus.FAILED,
    "undelivered": OutboundStatus.UNDELIVERED,
    "canceled": OutboundStatus.FAILED,
}


def outbound_status(twilio_status: object) -> OutboundStatus | None:
    """Our status for one of Twilio's (``MessageStatus``); None for one we do not know."""
    return _TWILIO_STATUS.get(str(twilio_status or "").lower())


def status_url(public_url: str | None, outbound_id: int | None = None) -> str | None:
    """Where Twilio posts a message's status changes; ``?m=`` names our stored message."""
    if not public_url:
        return None
    url = public_url.rstrip("/") + STATUS_PATH
    return url if outbound_id is None else f"{url}?m={outbound_id}"


async def record_status(form: Mapping[str, object], outbound_id: object, *, db: Database,
                        now: datetime, window_closed: Callable[[str], None]) -> None:
    """Apply one status callback; ``window_closed(user_key)`` hears of a 63016."""
    sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
    status = outbound_status(form.get("MessageStatus"))
    if not sid or status is None:
        return
    error_code = form_int(form.get("ErrorCode"))
    async with db.session() as session:
        message = await repo_outbound.advance_outbound(
            session=session, status=status, outbound_id=form_int(outbound_id),
            provider_id=sid, error_code=error_code, now=now,
        )
        if message is None:
            logger.info("status callback for an unknown message ignored")
        elif error_code == ERR_OUTSIDE_WINDOW:
            window_closed(message.user_key)
        elif error_code == ERR_OPTED_OUT and message.identity_id is not None:
            await repo_outbound.set_opted_out(
                session=session, identity_id=message.identity_id, opted_out=True)
