"""`emas campaign create|preview|send|approve|pause|resume|cancel|status|list` and
`emas dispatch`: broadcasts from the command line (operators are trusted)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli import count, echo_json, get_settings, open_database_and_city, run
from bot.settings import Settings

T = TypeVar("T")


async def _with_service(settings: Settings, fn: Callable[[Any], Awaitable[T]]) -> T:
    from broadcasts.campaigns import CampaignService
    from broadcasts.groups import load_catalog
    from storage.types import utcnow

    async with open_database_and_city(settings) as (database, city), \
            database.session() as session:
        service = CampaignService(session=session, city=city,
                                  catalog=load_catalog(city, settings.city_dir),
                                  settings=settings, now=utcnow)
        return await fn(service)


def _call(ctx: click.Context, fn: Callable[[Any], Awaitable[T]]) -> T:
    from bot.broadcast_texts import problem_texts
    from broadcasts.campaigns import CampaignError

    try:
        return run(_with_service(get_settings(ctx), fn))
    except CampaignError as error:
        raise click.ClickException("; ".join(problem_texts(error.problems))) from None


def _area_codes(city: Any, values: tuple[str, ...], *, kecamatan: bool) -> list[str]:
    from storage.places import fold

    codes = []
    for value in values:
        if kecamatan:
            found = city.kecamatan_by_code(value) or next(
                (k for k in city.kecamatan if fold(k.name) == fold(value)), None)
            if found is None:
                raise click.BadParameter(f"unknown kecamatan {value!r}")
            codes.append(found.code)
        else:
            if city.has_kelurahan(value):
                codes.append(value)
                continue
            matches, confident = city.match_kelurahan(value)
            if not (matches and confident):
                raise click.BadParameter(f"unknown kelurahan {value!r}")
            codes.append(matches[0].code)
    return codes


def _summary(campaign: Any) -> dict[str, Any]:
    return {"id": campaign.id, "title": campaign.title, "status": campaign.status,
            "send_at": campaign.send_at.isoformat() if campaign.send_at else None,
            "created_by": campaign.created_by, "approved_by": campaign.approved_by,
            "repeat_weekly": campaign.repeat_weekly}


def _print_preview(preview: dict[str, Any]) -> None:
    click.echo(f"recipients: {preview['recipients']} (opted out: {preview['opted_out']})")
    for channel, f in preview["channels"].items():
        state = "" if f["enabled"] else " [channel off]"
        click.echo(f"  {channel}{state}: {count(f['people'], 'person', 'people')}, "
                   f"{count(f['group_chats'], 'group', 'groups')}, "
                   f"{count(f['relays'], 'relay', 'relays')}, "
                   f"{count(f['messages'], 'message', 'messages')}, ~{f['seconds']} s at "
                   f"{f['rate_per_second']}/s")
    if preview["needs_template"]:
        click.echo(f"WhatsApp outside the 24-hour window: {preview['needs_template']} "
                   f"(skipped without a template: {preview['skipped_no_template']})")
    click.echo(f"time to send: ~{preview['seconds']} s")


@click.group()
def campaign() -> None:
    """Announcements to KIM, C-Gen, topics and kepala lingkungan."""


@campaign.command("create")
@click.option("--title", required=True)
@click.option("--text", "text_id", help="The Indonesian text (required unless --text-file).")
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-en", help="The English text (optional).")
@click.option("--image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--link", help="A link shown as a button (tracked through /l/<code>).")
@click.option("--link-label")
@click.option("--group", "groups", multiple=True,
              help="Group key or name: kim:12.75.01, 'KIM Binjai Utara', cgen, topic:acara ...")
@click.option("--kecamatan", multiple=True, help="Kecamatan code or name.")
@click.option("--kelurahan", multiple=True, help="Kelurahan code or name.")
@click.option("--role", "roles", multiple=True, type=click.Choice(["resident", "kim", "kepling"]))
@click.option("--channel", "channels", multiple=True, type=click.Choice(["telegram", "whatsapp"]))
@click.option("--language", "languages", multiple=True, type=click.Choice(["id", "en"]))
@click.option("--no-relays", is_flag=True, help="Do not send the kepala lingkungan their kit.")
@click.option("--at", "at", help="Send at this time, Asia/Jakarta: 'YYYY-MM-DD HH:MM'.")
@click.option("--weekly", is_flag=True, help="Repeat every week.")
@click.option("--template", help="WhatsApp ContentSid (HX...) for recipients outside 24 h.")
@click.option("--by", default="operator", show_default=True, help="Who writes it.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def create(ctx: click.Context, title: str, text_id: str | None, text_file: Path | None,
           text_en: str | None, image: Path | None, link: str | None, link_label: str | None,
           groups: tuple[str, ...], kecamatan: tuple[str, ...], kelurahan: tuple[str, ...],
           roles: tuple[str, ...], channels: tuple[str, ...], languages: tuple[str, ...],
           no_relays: bool, at: str | None, weekly: bool, template: str | None, by: str,
           as_json: bool) -> None:
    """Write a campaign (a draft: preview it, then send it)."""
    from broadcasts.audience import Audience
    from broadcasts.campaigns import CampaignDraft
    from storage.media import MediaRejected, MediaStore

    settings = get_settings(ctx)
    if text_file is not None:
        text_id = text_file.read_text(encoding="utf-8")
    if not text_id:
        raise click.UsageError("give the Indonesian text with --text or --text-file")
    send_at = None
    if at:
        try:
            send_at = datetime.strptime(at + " +0700", "%Y-%m-%d %H:%M %z")
        except ValueError:
            raise click.BadParameter("use 'YYYY-MM-DD HH:MM' (WIB)", param_hint="--at") from None
        if send_at <= datetime.now(UTC):
            raise click.BadParameter(f"{at} WIB has already passed; give a time to come, or "
                                     "leave --at out to send when you run `emas campaign "
                                     "send`", param_hint="--at")
    image_path = None
    if image is not None:
        store = MediaStore(settings.media_dir, max_bytes=settings.max_photo_bytes)
        try:
            image_path = store.save_image(image.read_bytes()).path
        except MediaRejected as error:
            raise click.BadParameter(f"not a usable picture ({error})",
                                     param_hint="--image") from None

    async def go(service: Any) -> dict[str, Any]:
        keys = []
        for name in groups:
            group = service.catalog.resolve(name)
            if group is None:
                raise click.BadParameter(f"unknown group {name!r}", param_hint="--group")
            keys.append(group.key)
        audience = Audience(
            groups=keys, kecamatan=_area_codes(service.city, kecamatan, kecamatan=True),
            kelurahan=_area_codes(service.city, kelurahan, kecamatan=False),
            roles=list(roles), channels=list(channels), languages=list(languages),
            relays=not no_relays)
        texts = {"id": text_id or ""}
        if text_en:
            texts["en"] = text_en
        draft = CampaignDraft(title=title, texts=texts, audience=audience,
                              image_path=image_path, link_url=link, link_label=link_label,
                              template_sid=template, send_at=send_at, repeat_weekly=weekly)
        created = await service.create(draft, created_by=by)
        return {**_summary(created), "preview": await service.preview(draft)}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(f"campaign #{data['id']} created ({data['status']})")
    _print_preview(data["preview"])
    click.echo(f"send it with: emas campaign send {data['id']}")


@campaign.command("preview")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def preview(ctx: click.Context, campaign_id: int, as_json: bool) -> None:
    """Audience size per channel, time to send, WhatsApp recipients needing the template."""
    from bot.broadcast_texts import describe_audience
    from broadcasts.campaigns import CampaignDraft

    async def go(service: Any) -> dict[str, Any]:
        found = await service.get(campaign_id)
        texts = await service.texts(found)
        draft = CampaignDraft.of(found, texts)
        return {**_summary(found), "texts": texts,
                "audience": describe_audience(draft.audience, service.catalog, service.city),
                "preview": await service.preview(draft)}

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(f"campaign #{data['id']} \u201c{data['title']}\u201d ({data['status']})")
    for language, text in sorted(data["texts"].items()):
        click.echo(f"text ({language}):")
        click.echo("\n".join(f"  | {line}" for line in text.splitlines() or [""]))
    click.echo(f"audience: {data['audience']}")
    click.echo(f"schedule: {_schedule(data)}")
    _print_preview(data["preview"])


def _schedule(data: dict[str, Any]) -> str:
    from bot.i18n import format_datetime

    if data["send_at"] is None:
        return f"not scheduled: it goes out when you run `emas campaign send {data['id']}`"
    when = format_datetime(datetime.fromisoformat(data["send_at"]))
    return when + (", then every week" if data["repeat_weekly"] else "")


def _mover(name: str, doc: str, needs_by: bool) -> click.Command:
    @click.argument("campaign_id", type=int)
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def command(ctx: click.Context, campaign_id: int, as_json: bool, by: str = "operator") -> None:
        async def go(service: Any) -> dict[str, Any]:
            method = getattr(service, name)
            moved = await (method(campaign_id, by=by) if needs_by else method(campaign_id))
            return _summary(moved)

        data = _call(ctx, go)
        if as_json:
            echo_json(data)
        else:
            click.echo(f"campaign #{data['id']}: {data['status']}")

    command.__doc__ = doc
    if needs_by:
        command = click.option("--by", default="operator", show_default=True,
                               help="Who does it.")(command)
    return campaign.command(name)(command)


_mover("send", "Send a campaign now (or at its time); waits for approval where required.", True)
_mover("approve", "Approve a campaign written by someone else (then it is sent).", True)
_mover("pause", "Pause a campaign that is sending or scheduled.", False)
_mover("resume", "Resume a paused campaign.", False)
_mover("cancel", "Cancel a campaign; nothing more of it is sent.", False)


@campaign.command("status")
@click.argument("campaign_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def status(ctx: click.Context, campaign_id: int, as_json: bool) -> None:
    """Reach: targeted, sent, delivered, read, failed and skipped by reason, clicks, relay
    forwards and joins, overall and per kecamatan and kelurahan; and the impact: new
    subscribers, reports and questions from the audience's kelurahan in the 14 days after it
    was sent against the 14 days before."""
    from broadcasts.impact import campaign_impact
    from storage.types import utcnow

    async def go(service: Any) -> dict[str, Any]:
        result: dict[str, Any] = await service.status(campaign_id)
        result["impact"] = await campaign_impact(
            session=service.session, city=service.city, catalog=service.catalog,
            campaign=await service.get(campaign_id), now=utcnow())
        return result

    data = _call(ctx, go)
    if as_json:
        echo_json(data)
        return
    click.echo(f"campaign #{data['id']} \u201c{data['title']}\u201d: {data['status']}")
    click.echo(f"  targeted {data['targeted']}, sent {data['sent']}, delivered "
               f"{data['delivered']}, read {data['read']}, queued {data['queued']}, failed "
               f"{data['failed']} {data['failed_by_reason'] or ''}, skipped {data['skipped']} "
               f"{data['skipped_by_reason'] or ''}")
    click.echo(f"  link clicks {data['clicks']}, relay forwards {data['forwards']}, new "
               f"subscribers through relays {data['joins']}")
    for kec in data["kecamatan"]:
        click.echo(f"  {kec['name']}: sent {kec['sent']}/{kec['targeted']}")
        for kel in kec["kelurahan"]:
            click.echo(f"    {kel['name']}: sent {kel['sent']}/{kel['targeted']}, clicks "
                       f"{kel['clicks']}, forwards {kel['forwards']}, joins {kel['joins']}")
    impact = data["impact"]
    if impact is not None:
        days = "" if impact["complete"] else f" (so far: {impact['days_after']:g} days)"
        click.echo(f"  impact, {impact['window_days']} days before → after{days}:")
        for measure in ("subscribers", "reports", "questions"):
            click.echo(f"    {measure}: {impact['before'][measure]} → "
                       f"{impact['after'][measure]}")


@campaign.command("list")
@click.option("--status", "statuses", multiple=True)
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_cmd(ctx: click.Context, statuses: tuple[str, ...], limit: int, as_json: bool) -> None:
    """The newest campaigns."""
    from storage import repo_broadcasts

    async def go(service: Any) -> list[dict[str, Any]]:
        rows = await repo_broadcasts.list_campaigns(session=service.session,
                                                    statuses=list(statuses), limit=limit)
        return [_summary(c) for c in rows]

    rows = _call(ctx, go)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("no campaigns")
    for r in rows:
        click.echo(f"#{r['id']:<5} {r['status']:<17} {r['title']}")


@click.command()
@click.pass_context
def dispatch(ctx: click.Context) -> None:
    """Run the broadcast dispatcher alone (no webhooks); several may share the work on
    PostgreSQL."""
    from bot.app import run_dispatcher

    with contextlib.suppress(KeyboardInterrupt):
        run(run_dispatcher(get_settings(ctx)))
