"""Running the `emas` command line from tests, as operators do."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner, Result

from bot.cli import main
from bot.settings import Settings


def invoke(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    """The command line against the test's database, data and content, through the environment
    (plus `env`); exceptions other than the command line's own reach the test."""
    base = {"EMAS_DATABASE_URL": settings.database_url, "EMAS_DATA_DIR": str(settings.data_dir),
            "EMAS_CONTENT_DIR": str(settings.content_dir)}
    return CliRunner().invoke(main, list(args), env={**base, **(env or {})},
                              catch_exceptions=False)


def cli(settings: Settings, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The exit code and the output."""
    result = invoke(settings, *args, env=env)
    return result.exit_code, result.output


async def ainvoke(settings: Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    """`invoke` from an async test: the command line runs its own event loop, in a thread."""
    return await asyncio.to_thread(invoke, settings, *args, env=env)


async def acli(settings: Settings, *args: str, env: dict[str, str] | None = None
               ) -> tuple[int, str]:
    """`cli` from an async test."""
    return await asyncio.to_thread(cli, settings, *args, env=env)


async def emas(settings: Settings, *args: str) -> Result:
    """The command line with these very settings (not rebuilt from the environment), from an
    async test."""
    return await asyncio.to_thread(CliRunner().invoke, main, list(args),
                                   obj={"settings": settings})
