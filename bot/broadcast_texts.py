"""The broadcasts domain as staff and relays read it: campaign statuses, problems, audiences,
the reach summary, and the words around an announcement (the relay's kit, the join link)."""

from __future__ import annotations

from typing import Any

from bot.i18n import N_, _, format_number, use_locale
from broadcasts.audience import Audience
from broadcasts.campaigns import CampaignStatus
from broadcasts.groups import GroupCatalog
from broadcasts.problems import Problem
from storage.city import City

CAMPAIGN_STATUS_LABELS = {
    CampaignStatus.DRAFT: N_("draft"),
    CampaignStatus.PENDING_APPROVAL: N_("waiting for approval"),
    CampaignStatus.APPROVED: N_("approved"),
    CampaignStatus.SCHEDULED: N_("scheduled"),
    CampaignStatus.SENDING: N_("sending"),
    CampaignStatus.PAUSED: N_("paused"),
    CampaignStatus.COMPLETED: N_("completed"),
    CampaignStatus.CANCELLED: N_("cancelled"),
}


def campaign_status_label(status: str) -> str:
    try:
        return _(CAMPAIGN_STATUS_LABELS[CampaignStatus(status)])
    except ValueError:
        return status


def problem_text(found: Problem) -> str:
    """One problem in the reader's language (a campaign status among its values is worded)."""
    values = {k: campaign_status_label(v) if isinstance(v, CampaignStatus) else v
              for k, v in found.values.items()}
    return _(found.msgid).format(**values)


def problem_texts(problems: list[Problem]) -> list[str]:
    return [problem_text(p) for p in problems]


def describe_audience(audience: Audience, catalog: GroupCatalog, city: City) -> str:
    """Who a campaign goes to, in one line."""
    parts: list[str] = []
    for key in audience.groups:
        group = catalog.get(key)
        parts.append(group.name() if group else key)
    for code in audience.kecamatan:
        kec = city.kecamatan_by_code(code)
        parts.append(_("Kecamatan {name}").format(name=kec.name if kec else code))
    for code in audience.kelurahan:
        name = city.kelurahan(code).name if city.has_kelurahan(code) else code
        parts.append(_("Kelurahan {name}").format(name=name))
    if audience.poll_respondents is not None:
        parts.append(_("the people who answered poll #{id}").format(
            id=audience.poll_respondents))
    text = ", ".join(parts) if parts else _("everyone subscribed")
    if audience.roles:
        text += " · " + _("roles: {roles}").format(roles=", ".join(audience.roles))
    if audience.channels:
        text += " · " + _("channels: {channels}").format(channels=", ".join(audience.channels))
    if audience.languages:
        text += " · " + _("languages: {languages}").format(
            languages=", ".join(audience.languages))
    if audience.relays:
        text += " · " + _("with kepala lingkungan")
    return text


_REASON_LABELS = {
    "opted_out": N_("opted out"),
    "no_template": N_("no template"),
    "blocked": N_("blocked the bot"),
    "cancelled": N_("cancelled"),
    "channel_off": N_("channel switched off"),
    "server_error": N_("platform error"),
    "too_many_attempts": N_("too many attempts"),
    "chat_not_found": N_("chat not found"),
    "bad_request": N_("refused by the platform"),
    "undelivered": N_("not delivered"),
    "group_chat": N_("group chat (a poll asks people)"),
}


def reason_label(reason: str) -> str:
    label = _REASON_LABELS.get(reason)
    return _(label) if label is not None else reason


def summary_text(reach: dict[str, Any]) -> str:
    """The reach summary sent to the staff member when their campaign finishes."""
    head = _("Campaign “{title}” (#{id}) has finished.").format(title=reach["title"],
                                                               id=reach["id"])
    return "\n".join([head, *summary_lines(reach)])


def summary_lines(reach: dict[str, Any]) -> list[str]:
    """The figures of the reach summary, one line each (without its heading)."""
    n = format_number
    lines = [
        _("Targeted: {n}").format(n=n(reach["targeted"])),
        _("Sent: {n} · delivered: {delivered} · read (WhatsApp): {read}").format(
            n=n(reach["sent"]), delivered=n(reach["delivered"]), read=n(reach["read"])),
    ]
    for key, label in (("failed", _("Failed")), ("skipped", _("Skipped"))):
        if reach[key]:
            reasons = ", ".join(f"{reason_label(r)} {n(c)}"
                                for r, c in sorted(reach[f"{key}_by_reason"].items()))
            lines.append(f"{label}: {n(reach[key])} ({reasons})")
    lines.append(_("Link clicks: {clicks} · relays' forwards: {forwards} · new subscribers "
                   "through relays: {joins}").format(clicks=n(reach["clicks"]),
                                                     forwards=n(reach["forwards"]),
                                                     joins=n(reach["joins"])))
    top = sorted(reach["kecamatan"], key=lambda k: -k["sent"])
    if top:
        lines.append(_("By kecamatan:"))
        lines += [f"• {k['name']}: {n(k['sent'])}/{n(k['targeted'])}" for k in top]
    return lines


class CampaignWords:
    """The words the dispatcher puts around an announcement, in the recipient's language
    (broadcasts.dispatcher.CampaignWords)."""

    def open_link(self, locale: str) -> str:
        with use_locale(locale):
            return _("Open the link")

    def join_invitation(self, locale: str, link: str) -> str:
        with use_locale(locale):
            return _("Get announcements from the city: {link}").format(link=link)

    def relay_kit(self, locale: str) -> str:
        with use_locale(locale):
            return _("You receive this as kepala lingkungan. Please forward the message "
                     "above to your neighbourhood's groups. Residents who join through the "
                     "link in it are counted for you. Press the button when you have "
                     "forwarded it.")

    def forwarded_button(self, locale: str) -> str:
        with use_locale(locale):
            return _("✅ Forwarded")

    def summary(self, locale: str, reach: dict[str, Any]) -> str:
        with use_locale(locale):
            return summary_text(reach)


CAMPAIGN_WORDS = CampaignWords()
