"""The router: the flows' commands, buttons and codes come from the list it is given, only."""

from __future__ import annotations

import pytest

from bot.flows import Ctx, Flow, Router, Routes
from bot.flows.menu import MenuFlow
from bot.flows.staff import StaffFlow


async def _claim(ctx: Ctx) -> bool:
    return True


class _Notes(Flow):
    name = "notes"

    def routes(self) -> Routes:
        return Routes(commands={"link": _claim})


def test_a_router_knows_only_the_flows_it_was_given() -> None:
    # Importing a flow module (staff, above) adds nothing to a router built without it.
    assert Router([MenuFlow()]).commands == {}
    with_staff = Router([MenuFlow(), StaffFlow()])
    assert set(with_staff.commands) == {"link", "konsol", "console"}
    assert set(with_staff.buttons) == {"st"}
    assert set(with_staff.flows) == {"menu", "staff"}


def test_two_flows_cannot_answer_the_same_command() -> None:
    with pytest.raises(ValueError, match="link"):
        Router([StaffFlow(), _Notes()])
