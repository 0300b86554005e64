"""Reply → WhatsApp message bodies: at most 1,600 characters, options as a numbered list or a
quick-reply / list-picker Content template."""

from __future__ import annotations

from bot.i18n import _
from bot.messages import Reply, split_text
from bot.settings import Settings

BODY_LIMIT = 1600
INTERACTIVE_BODY_LIMIT = 1024
QUICK_REPLY_MAX, QUICK_REPLY_TITLE = 3, 20
LIST_PICKER_MAX, LIST_ITEM_TITLE = 10, 24


def utf16_len(text: str) -> int:
    """Length as WhatsApp counts it (UTF-16 code units: an emoji may count twice)."""
    return len(text.encode("utf-16-le")) // 2


def split_body(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters as WhatsApp counts them, cut at paragraph or
    sentence boundaries where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        budget = limit
        while True:
            head = split_text(rest, budget)[0]
            over = utf16_len(head) - limit
            if over <= 0:
                break
            # Every character is at most two UTF-16 units, so half the limit always fits.
            budget = max(limit // 2, budget - over)
        pieces.append(head)
        rest = rest[len(head):].lstrip()
    return pieces


def location_help() -> str:
    return _("📍 To share a location in WhatsApp: tap 📎 (Attach), choose Location, then send "
             "your current location or pick the place on the map. You can also type the name "
             "of the kelurahan.")


def render_body(reply: Reply) -> str:
    """A reply as one WhatsApp text: the text, how to share a location, numbered options."""
    parts = [reply.text] if reply.text else []
    if reply.request_location:
        parts.append(location_help())
    if reply.url_button:
        label, url = reply.url_button
        if not url.startswith("private:"):  # a WhatsApp chat is always private
            parts.append(f"{label}: {url}")
    if reply.options:
        lines = [_("Reply with a number:")]
        lines += [f"{i}. {o.label}" for i, o in enumerate(reply.options, 1)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def receipt_note() -> str:
    return _("On WhatsApp we can only write to you within 24 hours of your last message. If "
             "there is news about your report after that, it will wait here until you next "
             "write to us; any message will do.")


def interactive_template(reply: Reply, settings: Settings) -> tuple[str, dict[str, str]] | None:
    """(ContentSid, variables) drawing the options as quick-reply buttons or a list picker,
    when such a template is configured and the reply fits WhatsApp's limits."""
    n = len(reply.options)
    if not n or reply.request_location or reply.url_button or \
            len(reply.text) > INTERACTIVE_BODY_LIMIT:
        return None
    titles = [o.label for o in reply.options]
    sid = settings.twilio_quick_reply_templates.get(n)
    if not (sid and n <= QUICK_REPLY_MAX and all(len(t) <= QUICK_REPLY_TITLE for t in titles)):
        sid = settings.twilio_list_picker_templates.get(n)
        if not (sid and n <= LIST_PICKER_MAX and all(len(t) <= LIST_ITEM_TITLE for t in titles)):
            return None
    variables = {"1": reply.text, "2": _("Choose")}
    for i, option in enumerate(reply.options, 1):
        variables[str(2 * i + 1)] = option.label
        variables[str(2 * i + 2)] = option.id
    return sid, variables
