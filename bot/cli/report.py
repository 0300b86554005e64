"""`emas report list|show|set-status`: reports from the command line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import click

from bot.cli import echo_json, get_settings, open_database, run, with_session
from bot.i18n import format_datetime, use_locale
from bot.settings import Settings
from reports.lifecycle import Status


def _move(settings: Settings, ticket: str, act: Callable[[Any, Any, Any], Awaitable[Any]], *,
          original: str | None = None) -> tuple[str, str]:
    """Look the report (and the original, for a duplicate) up, `act(actions, report, original)`
    on it and queue the notices it makes; the report's ticket and status after."""
    from bot.labels import RECORD_WORDS, refusal_text
    from bot.notice_outbox import NoticeOutbox
    from reports.actions import ActionError, ReportActions
    from reports.lifecycle import TransitionRefused
    from storage import repo
    from storage.types import utcnow

    async def go(session: Any, city: Any) -> tuple[str, str] | None:
        found = await repo.get_report_by_ticket(session=session, ticket=ticket)
        if found is None:
            return None
        first = None
        if original:
            first = await repo.get_report_by_ticket(session=session, ticket=original)
            if first is None:
                raise click.ClickException(f"no report {original}")
        actions = ReportActions(session=session, city=city, settings=settings, now=utcnow,
                                words=RECORD_WORDS)
        outcome = await act(actions, found, first)
        outbox = NoticeOutbox(city=city, media_dir=settings.media_dir)
        await outbox(session, outcome.notices, utcnow())
        return found.ticket, found.status

    with use_locale("en"):
        try:
            done = run(with_session(settings, go))
        except TransitionRefused as refused:
            raise click.ClickException(refusal_text(refused)) from None
        except ActionError as error:
            raise click.ClickException(str(error)) from None
    if done is None:
        raise click.ClickException(f"no report {ticket}")
    return done


@click.group()
def report() -> None:
    """Reports filed by residents."""


@report.command("list")
@click.option("--status", type=click.Choice([s.value for s in Status]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, status: str | None, limit: int, as_json: bool) -> None:
    """The newest reports, optionally of one status (times in WIB)."""
    from storage import repo

    async def go() -> list[dict[str, Any]]:
        async with open_database(get_settings(ctx)) as database, \
                database.reader() as session:
            rows = await repo.list_reports(session=session, status=status, limit=limit)
            names = await repo.kelurahan_names(session=session)
        return [{"ticket": r.ticket, "status": r.status, "category": r.category_key,
                 "agency": r.agency_key, "kelurahan": names.get(r.kelurahan_code or ""),
                 "created_at": r.created_at} for r in rows]

    rows = run(go())
    if as_json:
        echo_json([{**r, "created_at": r["created_at"].isoformat()} for r in rows])
        return
    if not rows:
        click.echo("no reports")
        return
    line = "{:<17} {:<12} {:<12} {:<10} {:<18} {}"
    click.echo(line.format("ticket", "status", "category", "agency", "kelurahan",
                           "filed (WIB)"))
    for r in rows:
        click.echo(line.format(r["ticket"], r["status"], r["category"], r["agency"] or "-",
                               (r["kelurahan"] or "-")[:18],
                               format_datetime(r["created_at"], fmt="d MMM y HH.mm")))


@report.command("show")
@click.argument("ticket")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def show(ctx: click.Context, ticket: str, as_json: bool) -> None:
    """One report with its history."""
    from reports.service import report_detail
    from storage import repo

    async def go(session: Any, city: Any) -> dict[str, Any] | None:
        found = await repo.get_report_by_ticket(session=session, ticket=ticket)
        if found is None:
            return None
        return await report_detail(session=session, city=city, report=found)

    data = run(with_session(get_settings(ctx), go))
    if data is None:
        raise click.ClickException(f"no report {ticket}")
    if as_json:
        echo_json(data)
        return
    for key in ("ticket", "status", "category", "agency", "kecamatan", "kelurahan", "address",
                "description", "latitude", "longitude", "photos", "voice_notes", "channel",
                "anonymous", "created_at"):
        click.echo(f"{key:>12}: {data[key]}")
    click.echo("     history:")
    for h in data["history"]:
        click.echo(f"              {h['at']}  {h['status']}  {h['note'] or ''}")


@report.command("set-status")
@click.argument("ticket")
@click.argument("status", type=click.Choice([s.value for s in Status]))
@click.option("--note", default=None, help="Why: required to resolve, reject or hand back.")
@click.option("--original", default=None, help="For duplicate: the original report's ticket.")
@click.pass_context
def set_status(ctx: click.Context, ticket: str, status: str, note: str | None,
               original: str | None) -> None:
    """Move a report to another status, as the lifecycle allows; the resident is told."""

    async def act(actions: Any, found: Any, first: Any) -> Any:
        return await actions.set_status(found, status, note=note, original=first)

    moved, _ = _move(get_settings(ctx), ticket, act, original=original)
    click.echo(f"{moved}: {status}")


@report.command("assign")
@click.argument("ticket")
@click.argument("agency")
@click.pass_context
def assign(ctx: click.Context, ticket: str, agency: str) -> None:
    """Pass a verified report to an agency (`set-status TICKET verified` first: assigning
    does not skip verification); an agency outside the city refers it. The resident is
    told."""

    async def act(actions: Any, found: Any, first: Any) -> Any:
        return await actions.assign(found, agency, actor_id=None)

    moved, now = _move(get_settings(ctx), ticket, act)
    click.echo(f"{moved}: {now} ({agency})")


@report.command("lift-limit")
@click.option("--telegram-id", help="The person's Telegram user id.")
@click.option("--phone", help="The person's WhatsApp number.")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 24 * 90))
@click.option("--by", default="kominfo", show_default=True, help="Who lifts it (audited).")
@click.pass_context
def lift_limit(ctx: click.Context, telegram_id: str | None, phone: str | None, hours: int,
               by: str) -> None:
    """Let one person file more reports and send more messages than the per-account limits
    allow (an office filing for many residents), for a number of hours."""
    from datetime import timedelta

    from reports.staff import StaffError, account_for
    from storage import repo
    from storage.types import utcnow

    try:
        account = account_for(telegram_id=telegram_id, phone=phone)
    except StaffError as error:
        raise click.UsageError(str(error)) from None

    async def go(session: Any, city: Any) -> str:
        who = await repo.get_identity(session=session, channel=account.channel,
                                      user_key=account.user_key)
        if who is None or who.id is None:
            raise click.ClickException(f"nobody has written to the bot from {account.user_key}"
                                       f" on {account.channel}")
        until = utcnow() + timedelta(hours=hours)
        await repo.lift_limits(session=session, identity_id=who.id, until=until, lifted_by=by)
        return format_datetime(until, fmt="d MMM y HH.mm")

    until = run(with_session(get_settings(ctx), go))
    click.echo(f"limits lifted for {account.user_key} on {account.channel} until {until}")
