"""`emas apikey create|list|revoke`: the keys of the partners who post Open311 requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from bot.cli import echo_json, get_settings, run, run_or_fail, with_session


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(moment: datetime | None) -> str:
    from bot.i18n import format_datetime

    return format_datetime(moment) if moment is not None else "never"


@click.group()
def apikey() -> None:
    """API keys for partners who post Open311 requests (/open311/v2/requests)."""


@apikey.command("create")
@click.option("--name", required=True, help="The partner, e.g. \"Aplikasi Qlue\" (unique).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create(ctx: click.Context, name: str, as_json: bool) -> None:
    """Make a key for a partner and print it, once: only its hash is kept."""
    from reports.partners import ApiKeyError, create_key
    from storage.types import utcnow

    async def go(session: Any, city: Any) -> dict[str, Any]:
        key, raw = await create_key(session=session, name=name, now=utcnow())
        return {"id": key.id, "name": key.name, "key": raw}

    data = run_or_fail(with_session(get_settings(ctx), go), ApiKeyError)
    if as_json:
        echo_json(data)
        return
    click.echo(data["key"])
    click.echo(f"key #{data['id']} for {data['name']}: give it to the partner now; it is not "
               "shown again (the database keeps only its hash). Revoke it with "
               f"`emas apikey revoke {data['id']}`.", err=True)


@apikey.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, as_json: bool) -> None:
    """Every key, active or revoked (never the key itself)."""
    from reports.partners import list_keys

    async def go(session: Any, city: Any) -> list[dict[str, Any]]:
        return await list_keys(session=session)

    rows = run(with_session(get_settings(ctx), go))
    if as_json:
        echo_json([{**r, "created_at": _iso(r["created_at"]),
                    "last_used_at": _iso(r["last_used_at"]),
                    "revoked_at": _iso(r["revoked_at"])} for r in rows])
        return
    if not rows:
        click.echo("no keys (make one with `emas apikey create --name NAME`)")
    for r in rows:
        state = "active" if r["active"] else f"revoked {_when(r['revoked_at'])}"
        click.echo(f"#{r['id']:<4} {r['name']:<30} {state}; created {_when(r['created_at'])}, "
                   f"last used {_when(r['last_used_at'])}, {r['requests']} request(s)")


@apikey.command("revoke")
@click.argument("key", metavar="ID|NAME")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def revoke(ctx: click.Context, key: str, as_json: bool) -> None:
    """Revoke a key at once: requests posted with it are refused from now on."""
    from reports.partners import ApiKeyError, revoke_key
    from storage.types import utcnow

    async def go(session: Any, city: Any) -> dict[str, Any]:
        found = await revoke_key(session=session, id_or_name=key, now=utcnow())
        return {"id": found.id, "name": found.name, "revoked_at": _iso(found.revoked_at)}

    data = run_or_fail(with_session(get_settings(ctx), go), ApiKeyError)
    if as_json:
        echo_json(data)
        return
    click.echo(f"revoked key #{data['id']} ({data['name']})")
