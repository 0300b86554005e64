"""The `emas` command line: serve, chat, database, seed, and the staff commands."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot.settings import Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.city import City
    from storage.db import Database

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
    from storage.db import Database

    database = Database(settings.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@contextlib.asynccontextmanager
async def open_database_and_city(settings: Settings) -> AsyncIterator[tuple[Database, City]]:
    """The database and the city pack for one command."""
    from bot.i18n import get_locale
    from storage.city import City
    from storage.citypack import load_city_pack

    async with open_database(settings) as database:
        yield database, City(load_city_pack(settings.city_dir), reader=get_locale)


async def with_session(settings: Settings,
                       fn: Callable[[AsyncSession, City], Awaitable[T]]) -> T:
    """`fn(session, city)` in one transaction."""
    async with open_database_and_city(settings) as (database, city), \
            database.session() as session:
        return await fn(session, city)


def count(n: int, one: str, many: str) -> str:
    """ "1 person", "3 people": a number with its noun in the right form."""
    return f"{n} {one if n == 1 else many}"


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def get_settings(ctx: click.Context) -> Settings:
    settings = ctx.obj.get("settings") if ctx.obj else None
    if settings is None:
        settings = Settings()
        ctx.ensure_object(dict)["settings"] = settings
    return settings


def describe_failure(exc: BaseException) -> str | None:
    """One line for an operator's mistake or the database's state; None for a bug."""
    from storage.db import DatabaseMissing

    if isinstance(exc, DatabaseMissing):
        return (f"{exc}: create it with `emas db upgrade && emas seed` "
                "(or set EMAS_DATABASE_URL)")
    module = type(exc).__module__
    if module.startswith(("sqlalchemy", "asyncpg", "sqlite3", "aiosqlite")):
        text = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        if "no such table" in text or "does not exist" in text:
            return f"the database is not set up ({text}): run `emas db upgrade && emas seed`"
        return f"database error: {text}"
    if module.startswith("pydantic"):
        errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        return f"invalid configuration: {where}: {first.get('msg', exc)}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    return None


# Each command's module is imported only when that command runs (click's lazy subcommands),
# so `emas report list` does not pay for the server, the chat and the campaign tools.
COMMANDS = {
    "agency": "bot.cli.staff:agency",
    "apikey": "bot.cli.apikey:apikey",
    "campaign": "bot.cli.campaign:campaign",
    "chat": "bot.cli.core:chat",
    "db": "bot.cli.core:db",
    "dispatch": "bot.cli.campaign:dispatch",
    "evaluate": "bot.cli.evaluate:evaluate",
    "faq": "bot.cli.faq:faq",
    "poll": "bot.cli.poll:poll",
    "quiz": "bot.cli.poll:quiz",
    "report": "bot.cli.report:report",
    "seed": "bot.cli.core:seed",
    "serve": "bot.cli.core:serve",
    "source": "bot.cli.source:source",
    "staff": "bot.cli.staff:staff",
    "subscribers": "bot.cli.subscribers:subscribers",
}


class EmasGroup(click.Group):
    """Every command: loaded when used; an operator's mistake ends in one line and exit code
    1, never a traceback (`emas -v` logs the details)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, name = target.split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        from bot.i18n import use_locale

        try:
            # One language for operators: the domain's own sentences (a refusal, a campaign's
            # problems) in English like the rest of the output. `emas chat` speaks the
            # resident's language; `emas evaluate --lang` writes its page in the one asked.
            with use_locale("en"):
                return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit,
                click.exceptions.Abort, KeyboardInterrupt, SystemExit):
            raise
        except BrokenPipeError:
            # The reader went away (`emas chat | head`): nothing more to say, and nothing
            # to complain about. Python's own advice: point stdout at devnull, exit 1.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(1) from None
        except Exception as exc:
            line = describe_failure(exc)
            logging.getLogger("bot.cli").debug("command failed", exc_info=True)
            if line is None:
                line = f"unexpected error ({type(exc).__name__}: {exc}); run with -v for details"
            raise click.ClickException(line) from None


class OneLineFormatter(logging.Formatter):
    """One line per event for an operator's log: an exception folds into the same line."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text
        exc = record.exc_info[1] if record.exc_info else None
        record.exc_info, record.exc_text = None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info, record.exc_text = saved
        if exc is not None:
            line += f" [{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}]"
        return line


def configure_logging(*, verbose: bool, log_file: str | None = None,
                      level: int = logging.INFO) -> None:
    """stderr (or `log_file`) at INFO, one line per event; -v: DEBUG with tracebacks."""
    handler: logging.Handler = (logging.FileHandler(log_file, encoding="utf-8") if log_file
                                else logging.StreamHandler(sys.stderr))
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt) if verbose else OneLineFormatter(fmt))
    handler.set_name("emas")
    root = logging.getLogger()
    # Replace only what an earlier call installed; a host's own handlers (a test runner's
    # capture, an embedding application) stay.
    for old in [h for h in root.handlers if h.get_name() == "emas"]:
        root.removeHandler(old)
        old.close()
    if not root.handlers or log_file:
        root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else level)
    # Request URLs carry the bot token; the HTTP client logs them at INFO. Alembic's
    # progress lines are not news to an operator.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)


@click.group(cls=EmasGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG, with tracebacks.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """e-Masyarakat bot for Kota Binjai."""
    ctx.ensure_object(dict)["verbose"] = verbose
    configure_logging(verbose=verbose)
