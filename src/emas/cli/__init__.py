"""The `emas` command line: serve, chat, database, seed, and the staff commands."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from emas.settings import Settings

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


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
