"""The conversations, as explicit state machines over the neutral message model."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow, Person
from bot.flows.campaign import CampaignFlow
from bot.flows.faq import FaqFlow
from bot.flows.menu import MenuFlow, PlaceholderFlow
from bot.flows.rating import RatingFlow
from bot.flows.report import ReportFlow
from bot.flows.staff import StaffFlow
from bot.flows.subscribe import SubscribeFlow
from bot.flows.track import LanguageFlow, MyReportsFlow, TrackFlow
from bot.i18n import N_, _
from faq.library import FaqLibrary

__all__ = ["Ctx", "Flow", "Person", "build_flows", "default_understand"]


def build_flows(faq: FaqLibrary | None = None) -> dict[str, Flow]:
    """Every flow by name; features replace placeholders as they arrive. Without FAQ content
    (`faq`), the FAQ menu entry is a polite placeholder."""
    flows: list[Flow] = [
        MenuFlow(),
        ReportFlow(),
        TrackFlow(),
        MyReportsFlow(),
        LanguageFlow(),
        StaffFlow(),
        RatingFlow(),
        FaqFlow(faq) if faq is not None else
        PlaceholderFlow("faq", N_("Answers about the city's apps are coming soon. Meanwhile, "
                                  "you can ask at the Diskominfo office.")),
        SubscribeFlow(),
        CampaignFlow(),
    ]
    return {flow.name: flow for flow in flows}


async def default_understand(ctx: Ctx) -> None:
    """Free text at the menu, until a smarter reader is plugged in: say so kindly, show the menu."""
    ctx.say(_("Sorry, I did not understand that. Please choose from the menu."))
    ctx.stay()
