"""The `emas` command line: serve, chat, database, seed, and the staff commands."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

from emas.settings import Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from emas.reports.city import City
    from emas.storage.db import Database

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def run_or_fail(coro: Coroutine[Any, Any, T], *errors: type[Exception]) -> T:
    """Run `coro`; any of `errors` ends the command with its message."""
    try:
        return run(coro)
    except errors as exc:
        raise click.ClickException(str(exc)) from None


@contextlib.asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database for one command, disposed of when it is done."""
    from emas.storage.db import Database

    database = Database(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@contextlib.asynccontextmanager
async def open_database_and_city(settings: Settings) -> AsyncIterator[tuple[Database, City]]:
    """The database and the city pack for one command."""
    from emas.reports.city import City
    from emas.storage.citypack import load_city_pack

    async with open_database(settings) as database:
        yield database, City(load_city_pack(settings.city_dir))


async def with_session(settings: Settings,
                       fn: Callable[[AsyncSession, City], Awaitable[T]]) -> T:
    """`fn(session, city)` in one transaction."""
    async with open_database_and_city(settings) as (database, city), \
            database.session() as session:
        return await fn(session, city)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def get_settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings") if ctx.obj else None
    if settings is None:
        settings = Settings()
        ctx.ensure_object(dict)["settings"] = settings
    return settings


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """e-Masyarakat bot for Kota Binjai."""
    ctx.ensure_object(dict)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Request URLs carry the bot token; the HTTP client logs them at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)


from emas.cli import campaign as _campaign  # noqa: E402
from emas.cli import core as _core  # noqa: E402
from emas.cli import evaluate as _evaluate  # noqa: E402
from emas.cli import faq as _faq  # noqa: E402
from emas.cli import report as _report  # noqa: E402
from emas.cli import staff as _staff  # noqa: E402
from emas.cli import subscribers as _subscribers  # noqa: E402

_core.register(main)
_report.register(main)
_staff.register(main)
_evaluate.register(main)
_faq.register(main)
_campaign.register(main)
_subscribers.register(main)
