"""`emas evaluate`: the weekly meeting's figures, as text, JSON, CSV or an HTML page."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from bot.cli import echo_json, get_settings, open_database, run
from bot.i18n import get_locale, use_locale


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _figure(value: float | None) -> str:
    """A figure, or "-" when there is none (0 is a figure: answered within the hour)."""
    return "-" if value is None else f"{value:g}"


def _as_of(value: str) -> str:
    from datetime import datetime

    from bot.i18n import format_datetime

    return format_datetime(datetime.fromisoformat(value), fmt="d MMM y HH.mm")


def _print(figures: dict[str, Any]) -> None:
    period = figures["period"]
    received = figures["received"]
    click.echo(f"Reports filed {period['from']} to {period['to']} (as of {_as_of(period['as_of'])})")
    click.echo(f"  received: {received['total']}")
    for title, key in (("kecamatan", "by_kecamatan"), ("category", "by_category"),
                       ("agency", "by_agency")):
        items = ", ".join(f"{i['name']} {i['count']}" for i in received[key]) or "-"
        click.echo(f"  by {title}: {items}")
    for title, key in (("verified in time", "verification"), ("answered in time", "answer")):
        part = figures[key]
        click.echo(f"  {title}: {part['on_time']}/{part['due']} "
                   f"({_percent(part['share_on_time'])})")
    click.echo(f"  overdue now: {figures['overdue_now']['total']} "
               f"(verification {figures['overdue_now']['verification']})")
    click.echo(f"  reopened: {figures['reopened']}")
    sat = figures["satisfaction"]
    click.echo(f"  ratings: {sat['ratings']} (fixed {sat['fixed']}, not fixed "
               f"{sat['not_fixed']}), average stars {_figure(sat['average_stars'])}")
    click.echo("  agency        recv  in-time  resp(h)  resol(h)  overdue  reopened  stars")
    for a in figures["agencies"]:
        click.echo(f"  {a['name'][:12]:<12} {a['received']:>5}  "
                   f"{a['answered_on_time']:>3}/{a['answer_due']:<3}  "
                   f"{_figure(a['median_hours_to_first_response']):>7}  "
                   f"{_figure(a['median_hours_to_resolution']):>8}  {a['overdue_now']:>7}  "
                   f"{a['reopened']:>8}  {_figure(a['average_stars']):>5}")


@click.command()
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="First day (YYYY-MM-DD), city time.")
@click.option("--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="Last day, included.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an HTML page with charts to this file.")
@click.option("--lang", "locale", default="id", show_default=True,
              type=click.Choice(["id", "en"]), help="The language of the HTML page.")
@click.option("--as-of", "as_of", default=None,
              help="Count open and overdue reports as of this moment (ISO 8601); default now.")
@click.pass_context
def evaluate(ctx: click.Context, start: Any, end: Any, as_json: bool, as_csv: bool,
             html_file: Path | None, locale: str, as_of: str | None) -> None:
    """Figures for the weekly evaluation: received, on time, response times, overdue,
    reopened, satisfaction."""
    from bot.cli.evaluation_page import render_evaluation
    from reports.evaluation import evaluate as compute
    from reports.evaluation import to_csv
    from storage.city import City
    from storage.citypack import load_city_pack
    from storage.types import utcnow

    first: date = start.date()
    last: date = end.date()
    if last < first:
        raise click.UsageError("--to is before --from")
    settings = get_settings(ctx)
    city = City(load_city_pack(settings.city_dir), reader=get_locale)
    moment = utcnow()
    if as_of:
        try:
            moment = datetime.fromisoformat(as_of)
        except ValueError:
            raise click.UsageError(f"--as-of is not an ISO 8601 moment: {as_of!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=city.tz)

    async def go() -> tuple[dict[str, Any], dict[str, int]]:
        async with open_database(settings) as database, database.reader() as session:
            figures = await compute(session=session, city=city, start=first, end=last,
                                    as_of=moment)
            return figures, await _suggestions(session, city, first, last)

    figures, suggested = run(go())
    if html_file is not None:
        with use_locale(locale):
            page = render_evaluation(figures, city_name=city.name)
        html_file.write_text(page, encoding="utf-8")
    if as_json:
        # The suggestions (broadcasts) beside the reports' figures, joined here, above both.
        echo_json({**figures, "suggestions": suggested})
    elif as_csv:
        click.echo(to_csv(figures), nl=False)
        click.echo(_suggestions_csv(settings, suggested), nl=False)
    elif html_file is not None:
        click.echo(f"written to {html_file}")
    else:
        _print(figures)
        themes = ", ".join(f"{k} {n}" for k, n in sorted(suggested.items())) or "-"
        click.echo(f"  suggestions from residents: {sum(suggested.values())} ({themes})")


async def _suggestions(session: Any, city: Any, first: date, last: date) -> dict[str, int]:
    """Residents' suggestions filed in the period, per theme."""
    from broadcasts.suggestions import SuggestionService
    from reports.evaluation import period_bounds
    from storage.repo_outreach import SuggestionFilter
    from storage.types import utcnow

    start, end = period_bounds(city, first, last)
    return await SuggestionService(session=session, now=utcnow).by_theme(
        SuggestionFilter(start=start, end=end))


def _suggestions_csv(settings: Any, counts: dict[str, int]) -> str:
    import csv
    import io

    from bot.outreach_texts import suggestion_rows
    from broadcasts.outreach import load_outreach

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(
        suggestion_rows(counts, load_outreach(settings.city_dir)))
    return out.getvalue()
