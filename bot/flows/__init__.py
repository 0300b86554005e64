"""The conversations, as explicit state machines over the neutral message model."""

from __future__ import annotations

from bot.flows.base import Ctx, Flow, Person, Routes
from bot.flows.campaign import CampaignFlow
from bot.flows.faq import FaqFlow
from bot.flows.menu import MenuFlow
from bot.flows.outreach import OutreachFlow
from bot.flows.poll import PollFlow
from bot.flows.rating import RatingFlow
from bot.flows.report import ReportFlow
from bot.flows.router import Router
from bot.flows.staff import StaffFlow
from bot.flows.subscribe import SubscribeFlow
from bot.flows.suggestion import SuggestionFlow
from bot.flows.track import LanguageFlow, MyReportsFlow, TrackFlow
from faq.library import FaqLibrary

__all__ = ["Ctx", "Flow", "Person", "Router", "Routes", "build_flows"]


def build_flows(faq: FaqLibrary) -> dict[str, Flow]:
    """Every flow of the bot by name: the one list the router collects commands, buttons and
    codes from (`Router(build_flows(...).values())`)."""
    flows: list[Flow] = [
        MenuFlow(),
        ReportFlow(rank=lambda text, at_least: faq.rank_categories(text, at_least=at_least)),
        TrackFlow(),
        MyReportsFlow(),
        LanguageFlow(),
        StaffFlow(),
        RatingFlow(),
        FaqFlow(faq),
        SubscribeFlow(),
        CampaignFlow(),
        PollFlow(),
        SuggestionFlow(),
        OutreachFlow(),
    ]
    return {flow.name: flow for flow in flows}
