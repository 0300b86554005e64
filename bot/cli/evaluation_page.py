"""The evaluation page for the weekly meeting: the figures of reports.evaluation as one
self-contained HTML file (Jinja2 template, charts embedded), in the reader's language."""

from __future__ import annotations

import base64
import io
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.i18n import (
    TZ,
    _,
    format_date,
    format_datetime,
    format_number,
    get_locale,
    gettext,
    ngettext,
)

_env = Environment(loader=PackageLoader("bot.cli", "templates"),
                   autoescape=select_autoescape(["html"]), extensions=["jinja2.ext.i18n"],
                   trim_blocks=True, lstrip_blocks=True)
_env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]


def percent(value: float | None) -> str:
    """A share (0–1) as a percentage, 0–100%; a share with nothing due is "–"."""
    return "–" if value is None else f"{round(value * 100)}%"


def figure(value: float | None) -> str:
    return "–" if value is None else format_number(value)


_env.filters["percent"] = percent
_env.filters["figure"] = figure


def _chart(title: str, labels: list[str], values: list[float], *, xlabel: str) -> str:
    """A horizontal bar chart as an inline PNG (data: URI)."""
    from matplotlib.figure import Figure

    height = max(2.0, 0.35 * len(labels) + 1.0)
    fig = Figure(figsize=(7.5, height), dpi=96)
    ax = fig.subplots()
    positions = list(range(len(labels)))
    ax.barh(positions, values, color="#2b6cb0")
    ax.set_yticks(positions, labels=labels)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*values, 1]) * 1.15)  # room for the value labels
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    for pos, value in zip(positions, values, strict=True):
        ax.annotate(f"{value:g}", (value, pos), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _charts(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Only charts with something to show: an empty chart says nothing at a meeting."""
    received = figures["received"]
    specs: list[tuple[str, list[str], list[float], str]] = []
    for key, title in (("by_category", _("Reports by category")),
                       ("by_kecamatan", _("Reports by kecamatan"))):
        items = [i for i in received[key] if i["count"]]
        if items:
            specs.append((title, [i["name"] for i in items], [i["count"] for i in items],
                          _("reports")))
    answered = [a for a in figures["agencies"] if a["share_answered_on_time"] is not None]
    if answered:
        specs.append((_("Answered within the deadline"), [a["name"] for a in answered],
                      [round(a["share_answered_on_time"] * 100) for a in answered],
                      _("share of reports due (percent)")))
    timed = [a for a in figures["agencies"] if a["median_hours_to_first_response"] is not None]
    if timed:
        specs.append((_("Median time to first response"), [a["name"] for a in timed],
                      [a["median_hours_to_first_response"] for a in timed], _("hours")))
    return [{"title": title, "src": _chart(title, labels, values, xlabel=xlabel)}
            for title, labels, values, xlabel in specs]


def _day(value: str) -> str:
    day = date.fromisoformat(value)
    return format_date(datetime(day.year, day.month, day.day, 12, tzinfo=TZ), fmt="d MMM y")


def render_evaluation(figures: dict[str, Any], *, city_name: str) -> str:
    """The page, in the current locale, times in WIB."""
    period = figures["period"]
    received = figures["received"]
    title = _("{city}: reports from {start} to {end}").format(
        city=city_name, start=_day(period["from"]), end=_day(period["to"]))
    try:
        as_of = format_datetime(datetime.fromisoformat(period["as_of"]), fmt="d MMM y HH.mm")
    except ValueError:
        as_of = period["as_of"]
    breakdowns = [{"title": title_, "rows": received[key]} for title_, key in (
        (_("By kecamatan"), "by_kecamatan"), (_("By kelurahan"), "by_kelurahan"),
        (_("By category"), "by_category"), (_("By agency"), "by_agency"))]
    return _env.get_template("evaluation.html").render(
        locale=get_locale(), title=title, as_of=as_of, received=received,
        verification=figures["verification"], answer=figures["answer"],
        overdue_now=figures["overdue_now"], reopened=figures["reopened"],
        satisfaction=figures["satisfaction"], agencies=figures["agencies"],
        charts=_charts(figures), breakdowns=breakdowns)
