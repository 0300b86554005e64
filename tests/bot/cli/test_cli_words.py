"""The command line speaks to operators in one language, in sentences and tables: a campaign's
preview says what goes out to whom and when; a time in the past is refused; an empty list
says so and what to do next; a zero is a figure, not a dash."""

from __future__ import annotations

from bot.app import Container
from bot.cli.evaluate import _print
from bot.settings import Settings
from cli_kit import acli


async def _campaign(settings: Settings, *extra: str) -> tuple[int, str]:
    return await acli(settings, "campaign", "create", "--title", "Kerja bakti",
                      "--text", "Kerja bakti Minggu pagi.\nBawa cangkul.",
                      "--text-en", "Community clean-up on Sunday morning.",
                      "--kecamatan", "Binjai Kota", *extra)


async def test_a_time_in_the_past_is_refused(container: Container, settings: Settings) -> None:
    code, out = await _campaign(settings, "--at", "2020-01-05 08:00")
    assert code == 2 and "2020-01-05 08:00 WIB has already passed" in out
    code, out = await acli(settings, "campaign", "list", "--json")
    assert code == 0 and out.strip() == "[]"  # nothing was created


async def test_the_preview_says_what_goes_out_to_whom_and_when(
        container: Container, settings: Settings) -> None:
    code, out = await _campaign(settings, "--at", "2031-03-03 08:00", "--weekly")
    assert code == 0, out
    code, out = await acli(settings, "campaign", "preview", "1")
    assert code == 0, out
    assert "text (id):\n  | Kerja bakti Minggu pagi.\n  | Bawa cangkul." in out
    assert "text (en):\n  | Community clean-up on Sunday morning." in out
    assert "audience: Kecamatan Binjai Kota" in out
    assert "schedule: Monday, 3 Mar 2031 08:00 WIB, then every week" in out
    assert "time to send: ~" in out and "{" not in out  # sentences, not a raw dict


async def test_an_unscheduled_preview_says_how_it_goes_out(
        container: Container, settings: Settings) -> None:
    await _campaign(settings)
    code, out = await acli(settings, "campaign", "preview", "1")
    assert "schedule: not scheduled: it goes out when you run `emas campaign send 1`" in out


async def test_problems_are_in_the_same_language_as_the_rest(
        container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "campaign", "create", "--title", "x", "--text", "y")
    assert code == 1 and "Choose at least one group, area or role." in out


async def test_no_relays_says_so_and_how_to_invite_one(
        container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "subscribers", "relays")
    assert code == 0
    assert "No kepala lingkungan is registered as a relay yet" in out
    assert "emas subscribers invite-relay" in out


async def test_an_invitation_says_what_to_do_next(
        container: Container, settings: Settings) -> None:
    code, out = await acli(settings, "subscribers", "invite-relay", "--kelurahan", "Tangsi",
                           "--name", "Pak Amir")
    assert code == 0, out
    assert "invitation code:" in out and "Next:" in out


def test_zero_hours_is_a_figure_and_as_of_is_in_wib(capsys: object) -> None:
    figures = {
        "period": {"from": "2026-11-30", "to": "2026-12-06",
                   "as_of": "2026-12-07T02:00:00+00:00"},
        "received": {"total": 1, "by_kecamatan": [], "by_category": [], "by_agency": []},
        "verification": {"due": 1, "on_time": 0, "share_on_time": 0.0},
        "answer": {"due": 1, "on_time": 1, "share_on_time": 1.0},
        "overdue_now": {"total": 0, "verification": 0},
        "reopened": 0,
        "satisfaction": {"ratings": 0, "fixed": 0, "not_fixed": 0, "average_stars": None},
        "agencies": [{"name": "Dinas PUTR", "received": 1, "answered_on_time": 1,
                      "answer_due": 1, "median_hours_to_first_response": 0.0,
                      "median_hours_to_resolution": None, "overdue_now": 0, "reopened": 0,
                      "average_stars": None}],
    }
    _print(figures)
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "(as of 7 Des 2026 09.00 WIB)" in out or "(as of 7 Dec 2026 09.00 WIB)" in out
    assert "verified in time: 0/1 (0%)" in out
    row = next(line for line in out.splitlines() if "Dinas PUTR" in line)
    assert row.split()[4] == "0" and row.split()[5] == "-"
