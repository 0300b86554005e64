"""`emas staff add|list|remove` and `emas agency link-code|groups|unlink`."""

from __future__ import annotations

from typing import Any

import click

from bot.cli import echo_json, get_settings, run, run_or_fail, with_session


def _staff_dict(staff: Any) -> dict[str, Any]:
    return {"id": staff.id, "name": staff.name, "role": staff.role, "agency": staff.agency_key,
            "channel": staff.channel, "user_key": staff.user_key, "active": staff.active}


def _account(telegram_id: str | None, phone: str | None, terminal: str | None) -> Any:
    from reports.staff import StaffError, account_for

    try:
        return account_for(telegram_id=telegram_id, phone=phone, terminal=terminal)
    except StaffError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
def staff() -> None:
    """Staff accounts: Kominfo triage, agency officers and heads."""


@staff.command("add")
@click.option("--role", required=True, type=click.Choice(["kominfo", "officer", "head", "leadership"]),
              help="kominfo: everything; officer/head: one agency's reports; leadership: "
                   "the evaluation and maps, read-only.")
@click.option("--agency", "agency", default=None, help="Agency key (officers and heads).")
@click.option("--telegram-id", default=None, help="The person's Telegram user id.")
@click.option("--phone", default=None, help="The person's WhatsApp number (E.164).")
@click.option("--terminal-user", "terminal", default=None, hidden=True,
              help="A local `emas chat --user` name, for trying the staff side.")
@click.option("--name", required=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def add(ctx: click.Context, role: str, agency: str | None, telegram_id: str | None,
        phone: str | None, terminal: str | None, name: str, as_json: bool) -> None:
    """Add a staff member (or update one with the same account)."""
    from reports.staff import StaffError, add_staff

    account = _account(telegram_id, phone, terminal)

    async def go(session: Any, city: Any) -> dict[str, Any]:
        member = await add_staff(session=session, city=city, role=role, name=name,
                                 account=account, agency_key=agency)
        return _staff_dict(member)

    data = run_or_fail(with_session(get_settings(ctx), go), StaffError)
    if as_json:
        echo_json(data)
        return
    click.echo(f"staff #{data['id']}: {data['name']} ({data['role']}"
               f"{', ' + data['agency'] if data['agency'] else ''}) on {data['channel']}")


@staff.command("list")
@click.option("--agency", default=None)
@click.option("--all", "show_all", is_flag=True, help="Include removed staff.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, agency: str | None, show_all: bool, as_json: bool) -> None:
    """Staff members, by agency."""
    from storage import repo_agencies

    async def go(session: Any, city: Any) -> list[dict[str, Any]]:
        rows = await repo_agencies.list_staff(session=session, agency_key=agency,
                                              active_only=not show_all)
        return [_staff_dict(s) for s in rows]

    rows = run(with_session(get_settings(ctx), go))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no staff")
    for s in rows:
        state = "" if s["active"] else "  (removed)"
        click.echo(f"#{s['id']:<4} {s['role']:<8} {s['agency'] or '-':<12} {s['channel']:<9} "
                   f"{s['name']}{state}")


@staff.command("remove")
@click.option("--telegram-id", default=None)
@click.option("--phone", default=None)
@click.option("--terminal-user", "terminal", default=None, hidden=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def remove(ctx: click.Context, telegram_id: str | None, phone: str | None,
           terminal: str | None, as_json: bool) -> None:
    """Remove a staff member: they can no longer act on reports."""
    from reports.staff import StaffError, remove_staff

    account = _account(telegram_id, phone, terminal)

    async def go(session: Any, city: Any) -> dict[str, Any]:
        return _staff_dict(await remove_staff(session=session, account=account))

    data = run_or_fail(with_session(get_settings(ctx), go), StaffError)
    if as_json:
        echo_json(data)
        return
    click.echo(f"removed staff #{data['id']}: {data['name']}")


@staff.command("login-link")
@click.option("--telegram-id", default=None)
@click.option("--phone", default=None)
@click.option("--terminal-user", "terminal", default=None, hidden=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def login_link_cmd(ctx: click.Context, telegram_id: str | None, phone: str | None,
                   terminal: str | None, as_json: bool) -> None:
    """Print a one-time console login link (15 minutes, single use) for a staff member."""
    from reports.access import LOGIN_LINK_TTL
    from reports.staff import StaffError, login_link
    from storage.types import utcnow

    settings = get_settings(ctx)
    account = _account(telegram_id, phone, terminal)

    async def go(session: Any, city: Any) -> str:
        return await login_link(session=session, account=account, now=utcnow())

    token = run_or_fail(with_session(settings, go), StaffError)
    url = f"{settings.base_url}/console/login/{token}"
    minutes = int(LOGIN_LINK_TTL.total_seconds() // 60)
    if as_json:
        echo_json({"url": url, "minutes": minutes})
        return
    click.echo(url)
    click.echo(f"Open it in a browser within {minutes} minutes; it works once.", err=True)


@click.group()
def agency() -> None:
    """Agencies' group chats."""


@agency.command("link-code")
@click.argument("agency_key", metavar="AGENCY")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def link_code(ctx: click.Context, agency_key: str, as_json: bool) -> None:
    """A one-time code: send `/link CODE` in the agency's group to link it."""
    from reports.staff import StaffError, make_link_code
    from reports.workflow import load_workflow
    from storage.types import utcnow

    settings = get_settings(ctx)
    hours = load_workflow(settings.city_dir).link_code_hours

    async def go(session: Any, city: Any) -> tuple[str, Any]:
        return await make_link_code(session=session, city=city, agency_key=agency_key,
                                    now=utcnow(), hours=hours)

    code, expires = run_or_fail(with_session(settings, go), StaffError)
    if as_json:
        echo_json({"agency": agency_key, "code": code, "expires_at": expires.isoformat()})
        return
    click.echo(f"code for {agency_key}: {code}")
    click.echo(f"In the agency's Telegram group, send: /link {code}  (valid {hours} hours, once)")


@agency.command("groups")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def groups(ctx: click.Context, as_json: bool) -> None:
    """Linked group chats, by agency."""
    from storage import repo_agencies

    async def go(session: Any, city: Any) -> list[dict[str, Any]]:
        rows = await repo_agencies.list_groups(session=session)
        return [{"agency": g.agency_key, "channel": g.channel, "chat": g.chat_key,
                 "linked_at": g.linked_at.isoformat()} for g in rows]

    rows = run(with_session(get_settings(ctx), go))
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no linked groups")
    for g in rows:
        click.echo(f"{g['agency']:<12} {g['channel']:<9} {g['chat']}  since {g['linked_at']}")


@agency.command("unlink")
@click.argument("agency_key", metavar="AGENCY")
@click.pass_context
def unlink(ctx: click.Context, agency_key: str) -> None:
    """Stop posting an agency's reports to its group chats."""
    from storage import repo_agencies

    async def go(session: Any, city: Any) -> int:
        return await repo_agencies.unlink_groups(session=session, agency_key=agency_key)

    count = run(with_session(get_settings(ctx), go))
    click.echo(f"{agency_key}: {count} group(s) unlinked")
