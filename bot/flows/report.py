"""Filing an e-Masyarakat report: category, place, description, photos, identity, confirm."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, Field

from bot.flows.base import Ctx, Flow
from bot.flows.common import (
    emergency_text,
    kelurahan_options,
    nav_options,
    opt_back,
    opt_cancel,
    screen,
)
from bot.flows.menu import resumable_state
from bot.flows.notices import report_actions, send_notices
from bot.flows.options import normalize, yes_or_no
from bot.flows.state import FlowState, ReportDraft, StoredPhoto
from bot.flows.support import SupportStep
from bot.i18n import _, format_datetime, ngettext
from bot.messages import Kind, Option
from bot.report_views import receipt_text
from bot.services import FetchFirst, LatePhoto
from reports.service import DraftReport
from storage.media import MediaRejected

logger = logging.getLogger(__name__)

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 1000
ADDRESS_MAX = 200
# A description or an address shorter than this, or of one word, is asked about once.
ADDRESS_MIN = 6
# The steps of filing a report, in order; the last is the summary to confirm.
STEPS = ("description", "category", "place", "address", "similar", "photos", "identity",
         "confirm")
# States within a step: the emergency numbers, and narrowing the place down to a kelurahan.
SUBSTEPS = {"emergency": "description", "category_more": "category", "kecamatan": "place",
            "kelurahan": "place", "kelurahan_pick": "place", "place_confirm": "place"}


class Editing(FlowState):
    """After changing one field from the summary, back to the summary instead of onwards
    (kept as a top-level key of the conversation)."""

    model_config = ConfigDict(populate_by_name=True)

    editing: bool | None = Field(default=None, alias="_editing")


async def _photo_count(ctx: Ctx, draft: ReportDraft) -> tuple[int, int]:
    """The draft's photos: (in hand, still arriving); one that could not be received is not
    counted (the resident was told)."""
    if not draft.pending_photos:
        return len(draft.photos), 0
    fetches = await ctx.services.photo_fetches(list(draft.pending_photos))
    return (len(draft.photos) + sum(1 for f in fetches if f.status == "done"),
            sum(1 for f in fetches if f.status == "pending"))


def _photos_line(have: int, arriving: int) -> str:
    if not arriving:
        return _("Photos: {value}").format(value=have)
    return ngettext("Photos: {value} (and {n} still arriving, added when it is in)",
                    "Photos: {value} (and {n} still arriving, added when they are in)",
                    arriving).format(value=have, n=arriving)


def _words(text: str) -> int:
    return sum(1 for w in normalize(text).split() if any(ch.isalpha() for ch in w))


def _thin(text: str, *, characters: int) -> bool:
    """Too little to act on: fewer than two words, or fewer than `characters` characters
    (an emoji, "rusak", "sini")."""
    return _words(text) < 2 or len(text) < characters


def _nudge_once(ctx: Ctx, step: str, text: str) -> bool:
    """Ask for more detail the first time a step's answer is thin; True when asked. The second
    answer is taken as it is: the resident may know no more."""
    draft = _kept(ctx)
    if draft.nudged == step:
        draft.nudged = None
        return False
    draft.nudged = step
    ctx.say(text)
    ctx.stay()
    return True


def _fits(description: str | None) -> bool:
    return description is not None and DESCRIPTION_MIN <= len(description) <= DESCRIPTION_MAX


def _draft(ctx: Ctx) -> ReportDraft:
    """The draft being changed (its time of change is now)."""
    draft = ReportDraft.get(ctx) or ReportDraft.start(ctx)
    draft.saved_at = ctx.services.now()
    return draft


def _kept(ctx: Ctx) -> ReportDraft:
    """The draft as it is, to read."""
    return ReportDraft.get(ctx) or ReportDraft.start(ctx)


# Categories proposed from the resident's description, before "Other".
PROPOSED = 3
# Categories per screen when the resident looks through the rest: one message on WhatsApp (a
# numbered list well under 1,600 characters) and a short keyboard on Telegram.
PAGE = 8


class ReportFlow(SupportStep, Flow):
    name = "report"
    first_state = "description"

    def __init__(self, rank: Callable[[str, int], list[str]]) -> None:
        """``rank(description, at_least)``: the categories a description points to, most
        likely first, never the catch-all (the FAQ's classifier)."""
        self.rank = rank

    async def enter(self, ctx: Ctx) -> None:
        if resumable_state(ctx):
            ctx.goto("resume", self.name)
            return
        self._fresh(ctx)
        ctx.goto(STEPS[0], self.name)

    def _fresh(self, ctx: Ctx) -> None:
        ReportDraft.start(ctx, saved_at=ctx.services.now())
        Editing.drop(ctx)

    async def ask_resume(self, ctx: Ctx) -> None:
        ctx.say("\n".join([self.draft_summary(_kept(ctx)),
                           _("Continue the unfinished report?")]), options=[
            Option("yes", _("▶️ Continue it")),
            Option("new", _("🆕 Start a new report")),
            opt_cancel(),
        ])

    async def on_resume(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked == "yes":
            self._back_to_draft(ctx)
            return
        if picked is None and yes_or_no(ctx.text) == "no":
            picked = "drop"
        if picked not in ("new", "drop"):
            ctx.say(_("Please choose one of the options."))
            ctx.stay()
            return
        if self._has_content(ctx):
            self._ask_to_discard(ctx, then=picked)
        elif picked == "new":
            self._fresh(ctx)
            ctx.goto(STEPS[0], remember=False)
        else:
            await self._discard(ctx)

    def _back_to_draft(self, ctx: Ctx) -> None:
        state = _kept(ctx).state or STEPS[0]
        ctx.goto(state if self.has_state(state) and state not in ("resume", "discard")
                 else STEPS[0], remember=False)

    async def on_cancel(self, ctx: Ctx) -> None:
        ReportDraft.drop(ctx)
        Editing.drop(ctx)

    async def confirm_cancel(self, ctx: Ctx) -> bool:
        if ctx.state == "discard" or not self._has_content(ctx):
            return False
        self._ask_to_discard(ctx, then="drop")
        return True

    @staticmethod
    def _has_content(ctx: Ctx) -> bool:
        """Whether the draft holds what the resident wrote or sent."""
        draft = ReportDraft.get(ctx)
        return draft is not None and bool(
            draft.description or draft.address or draft.photos or draft.pending_photos
            or draft.lat is not None)

    def _ask_to_discard(self, ctx: Ctx, *, then: str) -> None:
        draft = _kept(ctx)
        if ctx.state not in ("resume", "discard"):
            draft.state = ctx.state  # where "no, keep it" returns
        draft.discarding = then
        ctx.goto("discard", self.name, remember=False)

    async def _discard(self, ctx: Ctx) -> None:
        await self.on_cancel(ctx)
        ctx.say(_("Cancelled. Nothing was sent."))
        ctx.goto("main", "menu")

    async def ask_discard(self, ctx: Ctx) -> None:
        ctx.say(_("The report you have not sent will be deleted. Are you sure?"), options=[
            Option("yes", _("Yes, delete it")),
            Option("no", _("No, keep my report")),
        ])

    async def on_discard(self, ctx: Ctx) -> None:
        draft = _kept(ctx)
        picked = ctx.choice()
        if picked == "yes" and draft.discarding == "new":
            self._fresh(ctx)
            ctx.goto(STEPS[0], remember=False)
        elif picked == "yes":
            await self._discard(ctx)
        elif picked == "no":
            draft.discarding = None
            self._back_to_draft(ctx)
        else:
            ctx.say(_("Please choose one of the options."))
            ctx.stay()

    def next_step(self, state: str) -> str:
        """The step after the one `state` belongs to."""
        step = SUBSTEPS.get(state, state)
        return STEPS[STEPS.index(step) + 1]

    def _advance(self, ctx: Ctx) -> None:
        """On to the next step; after changing one field from the summary, back to it."""
        editing = Editing.get(ctx)
        Editing.drop(ctx)
        if editing is not None and editing.editing:
            ctx.goto(STEPS[-1])
        else:
            ctx.goto(self.next_step(ctx.state))

    # -- category ----------------------------------------------------------------------------

    def _proposed(self, ctx: Ctx) -> list[str]:
        return self.rank(_kept(ctx).description or "", PROPOSED)[:PROPOSED]

    async def ask_category(self, ctx: Ctx) -> None:
        city = ctx.services.city
        options = []
        for key in self._proposed(ctx):
            category = city.category(key)
            assert category is not None
            options.append(Option(f"cat:{key}", category.name()))
        options.append(Option("more", _("Other ›")))
        ctx.say(_("Which of these fits the problem best?"), options=options + nav_options())

    async def on_category(self, ctx: Ctx) -> None:
        if await self._picked_category(ctx):
            return
        if ctx.choice() == "more":
            _draft(ctx).category_page = 0
            ctx.goto("category_more")
            return
        ctx.say(_("Please choose one of the categories from the list."))
        ctx.stay()

    def _others(self, ctx: Ctx) -> list[Any]:
        proposed = set(self._proposed(ctx))
        return [c for c in ctx.services.city.categories if c.key not in proposed]

    async def ask_category_more(self, ctx: Ctx) -> None:
        shown, following = screen(self._others(ctx), _kept(ctx).category_page, PAGE)
        options = [Option(f"cat:{c.key}", c.name()) for c in shown]
        if following:  # none after the last screen: "Kembali" goes back through them
            options.append(Option(f"pg:{following}", _("Other ›")))
        ctx.say(_("Choose the category:"), options=options + nav_options())

    async def on_category_more(self, ctx: Ctx) -> None:
        if await self._picked_category(ctx):
            return
        page = ctx.picked().after("pg")
        if page is not None and page.isdigit():
            _draft(ctx).category_page = int(page)
            ctx.stay()
            return
        ctx.say(_("Please choose one of the categories from the list."))
        ctx.stay()

    async def _picked_category(self, ctx: Ctx) -> bool:
        key = ctx.picked().after("cat")
        category = ctx.services.city.category(key) if key is not None else None
        if category is None:
            return False
        self._set_category(ctx, category)
        _draft(ctx).category_page = None
        self._advance(ctx)
        return True

    async def enter_with_category(self, ctx: Ctx, key: str, *,
                                  description: str | None = None) -> None:
        """Start a new report whose category is already known (the resident described the
        problem in their own words): their words are its description, and it goes straight on
        to where it is."""
        category = ctx.services.city.category(key)
        if category is None:
            await self.enter_described(ctx, description)
            return
        self._fresh(ctx)
        self._set_category(ctx, category)
        if _fits(description):
            _draft(ctx).description = description
            ctx.goto(self.next_step("category"), self.name)
        else:
            ctx.goto("description", self.name)

    async def enter_described(self, ctx: Ctx, description: str | None) -> None:
        """Start a new report with the resident's words as its description: on to choosing
        the category among those the words point to."""
        self._fresh(ctx)
        if _fits(description):
            _draft(ctx).description = description
            ctx.goto("category", self.name)
        else:
            ctx.goto("description", self.name)

    def _set_category(self, ctx: Ctx, category: Any) -> None:
        draft = _draft(ctx)
        draft.category = category.key
        if category.confidential and draft.anonymous is None:
            draft.anonymous = True
        if category.referral():
            ctx.say(category.referral())
        if category.emergency_hint:
            ctx.say(
                _("If anyone is in danger right now, please call {number} first. "
                  "You can still file this report.").format(
                    number=ctx.services.city.emergency_number)
            )

    async def ask_emergency(self, ctx: Ctx) -> None:
        ctx.say(emergency_text(ctx.services.city),
                options=[Option("continue", _("Continue the report")), opt_cancel()])

    async def on_emergency(self, ctx: Ctx) -> None:
        if ctx.choice() == "continue":
            ctx.goto("description", remember=False)
            return
        ctx.stay()

    # -- place -------------------------------------------------------------------------------

    async def ask_place(self, ctx: Ctx) -> None:
        draft = ReportDraft.get(ctx)
        if draft is not None and draft.lat is not None:
            # Back at this question (going back, or changing the place): the pin is stale.
            draft.lat = draft.lon = None
        options = [Option(f"kec:{k.code}", k.name) for k in ctx.services.city.kecamatan]
        options += nav_options()
        ctx.say(
            _("Where is the problem? Share your location with the button below, choose the "
              "kecamatan, or type the name of the kelurahan."),
            options=options,
            request_location=True,
        )

    async def on_place(self, ctx: Ctx) -> None:
        city = ctx.services.city
        if ctx.inbound.location is not None:
            loc = ctx.inbound.location
            if not city.in_city(loc.latitude, loc.longitude):
                ctx.say(
                    _("That location is outside Kota Binjai. We can only take reports about "
                      "places in Binjai. Please share another location, or choose the "
                      "kecamatan below.")
                )
                ctx.stay()
                return
            draft = _draft(ctx)
            draft.lat, draft.lon = loc.latitude, loc.longitude
            if loc.address and not draft.address:
                draft.address = loc.address[:ADDRESS_MAX]
            located = city.locate(loc.latitude, loc.longitude)
            if located is not None:
                # The boundaries say which kelurahan: one tap to confirm it.
                draft.candidates = [located.kelurahan_code]
                ctx.goto("place_confirm")
                return
            ctx.say(_("Location received. Which kelurahan is it in?"))
            ctx.goto("kecamatan")
            return
        if await self._kecamatan_or_typed_name(ctx):
            return
        ctx.say(_("Please share a location, choose a kecamatan, or type the kelurahan's name."))
        ctx.stay()

    async def ask_place_confirm(self, ctx: Ctx) -> None:
        draft = _kept(ctx)
        city = ctx.services.city
        code = (draft.candidates or [""])[0]
        kel = city.kelurahan(code) if code else None
        if kel is None or draft.lat is None or draft.lon is None:
            ctx.goto("place", remember=False)
            return
        kec = city.kecamatan_by_code(kel.kecamatan_code)
        located = city.locate(draft.lat, draft.lon)
        where = _("Kel. {kelurahan}, {kecamatan}").format(
            kelurahan=kel.name, kecamatan=kec.name if kec else "-")
        if located is not None and not located.inside:
            text = _("Your location is at the edge of Kota Binjai, near {where}. Is the problem "
                     "in that kelurahan?").format(where=where)
        else:
            text = _("Your location is in {where}. Is that right?").format(where=where)
        ctx.say(text, options=[Option("yes", _("Yes, that's right")),
                               Option("no", _("No, choose the kelurahan")), *nav_options()])

    async def on_place_confirm(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        draft = _draft(ctx)
        if picked == "yes" and draft.candidates:
            self._set_kelurahan(ctx, draft.candidates[0])
            return
        if picked == "no":
            draft.candidates = None
            ctx.goto("kecamatan")
            return
        if await self._kecamatan_or_typed_name(ctx):
            return
        ctx.say(_("Please choose one of the options."))
        ctx.stay()

    async def _kecamatan_or_typed_name(self, ctx: Ctx) -> bool:
        """A kecamatan button leads to its kelurahan; typed text is matched to a kelurahan."""
        kecamatan = ctx.picked().after("kec")
        if kecamatan is not None:
            _draft(ctx).kecamatan = kecamatan
            ctx.goto("kelurahan")
            return True
        if ctx.inbound.kind == Kind.TEXT and ctx.text:
            await self._match_typed_kelurahan(ctx)
            return True
        return False

    async def _match_typed_kelurahan(self, ctx: Ctx) -> None:
        matches, confident = ctx.services.city.match_kelurahan(ctx.text)
        if matches:
            draft = _draft(ctx)
            draft.lat = draft.lon = None  # a typed place replaces a shared pin
        if confident:
            self._set_kelurahan(ctx, matches[0].code)
            return
        if matches:
            _kept(ctx).candidates = [m.code for m in matches[:6]]
            ctx.goto("kelurahan_pick")
            return
        ctx.say(
            _("We could not find a kelurahan named \u201c{name}\u201d in Binjai. "
              "Please choose the kecamatan first.").format(name=ctx.text[:60])
        )
        ctx.stay()

    def _set_kelurahan(self, ctx: Ctx, code: str) -> None:
        city = ctx.services.city
        kel = city.kelurahan(code)
        draft = _draft(ctx)
        draft.kelurahan = kel.code
        draft.kecamatan = kel.kecamatan_code
        draft.candidates = None
        self._advance(ctx)

    async def ask_kecamatan(self, ctx: Ctx) -> None:
        options = [Option(f"kec:{k.code}", k.name) for k in ctx.services.city.kecamatan]
        ctx.say(_("Choose the kecamatan, or type the kelurahan's name:"),
                options=options + nav_options())

    async def on_kecamatan(self, ctx: Ctx) -> None:
        if await self._kecamatan_or_typed_name(ctx):
            return
        ctx.say(_("Please choose a kecamatan from the list."))
        ctx.stay()

    async def ask_kelurahan(self, ctx: Ctx) -> None:
        city = ctx.services.city
        code = _kept(ctx).kecamatan
        kec = city.kecamatan_by_code(code)
        options = [Option(f"kel:{k.code}", k.name) for k in city.kelurahan_in(code)]
        ctx.say(_("Which kelurahan in {kecamatan}?").format(kecamatan=kec.name if kec else "-"),
                options=options + nav_options())

    async def on_kelurahan(self, ctx: Ctx) -> None:
        kelurahan = ctx.picked().after("kel")
        if kelurahan is not None and ctx.services.city.has_kelurahan(kelurahan):
            self._set_kelurahan(ctx, kelurahan)
            return
        if ctx.inbound.kind == Kind.TEXT and ctx.text:
            await self._match_typed_kelurahan(ctx)
            return
        ctx.say(_("Please choose a kelurahan from the list."))
        ctx.stay()

    async def ask_kelurahan_pick(self, ctx: Ctx) -> None:
        options = kelurahan_options(ctx.services.city, _kept(ctx).candidates or [], "kel")
        ctx.say(_("Did you mean one of these?"), options=options + nav_options())

    on_kelurahan_pick = on_kelurahan

    # -- address -----------------------------------------------------------------------------

    async def ask_address(self, ctx: Ctx) -> None:
        ctx.say(
            _("Add the street address or a landmark (patokan) so the officers can find it, "
              "e.g. \u201cJl. Sudirman, depan Masjid Raya\u201d. Or tap Skip."),
            options=[Option("skip", _("Skip"))] + nav_options(),
        )

    async def on_address(self, ctx: Ctx) -> None:
        if ctx.choice() == "skip":
            self._advance(ctx)
            return
        if ctx.inbound.kind == Kind.TEXT and ctx.text:
            if len(ctx.text) > ADDRESS_MAX:
                ctx.say(_("That address is too long. Please keep it under {n} characters.")
                        .format(n=ADDRESS_MAX))
                ctx.stay()
                return
            if _thin(ctx.text, characters=ADDRESS_MIN) and _nudge_once(ctx, "address", _(
                    "Could you tell us a little more about where it is? A street name and a "
                    "landmark help the officers find it, e.g. \u201cJl. Sudirman, depan Masjid "
                    "Raya\u201d. (If that is all, send it again and we will take it as it is.)")):
                return
            _draft(ctx).address = ctx.text
            self._advance(ctx)
            return
        ctx.say(_("Please type the address or landmark as text, or tap Skip."))
        ctx.stay()

    # -- description -------------------------------------------------------------------------

    async def ask_description(self, ctx: Ctx) -> None:
        city = ctx.services.city
        lines = [
            _("Describe the problem: what is wrong, since when, and how it affects residents "
              "({min} to {max} characters).").format(min=DESCRIPTION_MIN, max=DESCRIPTION_MAX),
        ]
        options = nav_options()
        if not _kept(ctx).description:
            lines += ["", _("If lives are at risk (fire, accident, crime in progress, people "
                            "trapped by a flood), call {number} first.").format(
                                number=city.emergency_number)]
            options = [Option("emergency", _("🚨 Emergency")), *options]
        ctx.say("\n".join(lines), options=options)

    async def on_description(self, ctx: Ctx) -> None:
        if ctx.choice() == "emergency":
            ctx.goto("emergency")
            return
        if ctx.needs_text(_("Please describe the problem in a text message.")):
            return
        text = ctx.text
        if _thin(text, characters=DESCRIPTION_MIN) and _nudge_once(ctx, "description", _(
                "Could you tell us a little more? For example: what exactly is wrong, where, and "
                "since when. The more the officers know, the faster they can act. (If that is "
                "all, send it again and we will take it as it is.)")):
            return
        if len(text) > DESCRIPTION_MAX:
            ctx.say(_("The description is too long ({length} characters). Please shorten it to "
                      "at most {n} characters.").format(length=len(text), n=DESCRIPTION_MAX))
            ctx.stay()
            return
        draft = _draft(ctx)
        draft.description = text
        editing = Editing.get(ctx)
        if draft.category and not (editing and editing.editing):
            # The category came with the resident's first words (from the menu): on to where.
            ctx.goto(self.next_step("category"))
            return
        self._advance(ctx)

    # -- photos ------------------------------------------------------------------------------

    async def ask_photos(self, ctx: Ctx) -> None:
        have = sum(await _photo_count(ctx, _kept(ctx)))
        limit = ctx.services.settings.max_photos
        if have == 0:
            text = _("Send up to {n} photos of the problem (optional). Photos help the "
                     "officers act faster.").format(n=limit)
            options = [Option("skip", _("Skip photos"))]
        else:
            text = ngettext("{count} photo received. Send another, or tap Done.",
                            "{count} photos received. Send another, or tap Done.",
                            have).format(count=have)
            options = [Option("done", _("Done")), Option("clear", _("🗑️ Remove the photos"))]
        ctx.say(text, options=options + nav_options())

    async def on_photos(self, ctx: Ctx) -> None:
        draft = _draft(ctx)
        limit = ctx.services.settings.max_photos
        choice = ctx.choice()
        if choice in ("skip", "done"):
            self._advance(ctx)
            return
        if choice == "clear":
            draft.photos, draft.pending_photos = [], None
            ctx.say(_("The photos were removed from the report."))
            ctx.stay()
            return
        kind = ctx.inbound.kind
        if kind in (Kind.PHOTO, Kind.DOCUMENT) and ctx.inbound.media:
            have = await self._take_photos(ctx, draft)
            if have >= limit:
                self._advance(ctx)
            else:
                ctx.stay()
            return
        if kind == Kind.STICKER:
            ctx.say(_("Thank you, but a sticker is not a photo of the problem. Please send a "
                      "photo, or tap Skip."))
        elif kind == Kind.VOICE:
            ctx.say(_("Sorry, we cannot take voice messages. Please send a photo, or tap Skip."))
        elif kind == Kind.VIDEO:
            ctx.say(_("Sorry, we can only take photos, not videos. Please send a photo, or tap "
                      "Skip."))
        else:
            ctx.say(_("Please send a photo, or tap Skip to continue without one."))
        ctx.stay()

    async def _take_photos(self, ctx: Ctx, draft: ReportDraft) -> int:
        """Keep the photos of this message up to the limit, telling the resident about any
        beyond it; how many the draft has then."""
        limit = ctx.services.settings.max_photos
        have = sum(await _photo_count(ctx, draft))
        media = list(ctx.inbound.media)
        for index, item in enumerate(media):
            if have >= limit:
                first, last = have + 1, have + len(media) - index
                ctx.say(_("At most {n} photos; photo {first} was not kept.").format(
                    n=limit, first=first) if first == last else
                    _("At most {n} photos; photos {first} to {last} were not kept.").format(
                        n=limit, first=first, last=last))
                break
            before = len(draft.photos) + len(draft.pending_photos or [])
            error = await self._keep_photo(ctx, item, draft)
            if error:
                ctx.say(error)
            have += len(draft.photos) + len(draft.pending_photos or []) - before
        return have

    async def handle(self, ctx: Ctx) -> None:
        """A photo is welcome at any step of the report, not only when it is asked for: sent
        first, it goes with the description still to write; sent late, with the others. So is
        a voice note, kept for the officers to hear."""
        outside = ctx.state not in ("resume", "discard")
        if ctx.inbound.kind == Kind.VOICE and ctx.inbound.media and outside:
            await self._voice(ctx)
            return
        if (ctx.inbound.kind == Kind.PHOTO and ctx.inbound.media and outside
                and ctx.state != "photos"):
            await self._photo_out_of_step(ctx)
            return
        await super().handle(ctx)

    async def _voice(self, ctx: Ctx) -> None:
        try:
            stored = await ctx.services.save_media(ctx.inbound.media[0])
        except FetchFirst:
            raise
        except MediaRejected as exc:
            ctx.say(_("Sorry, we could not keep that voice note (the limit is {mb} MB). Please "
                      "write the problem in a message instead.").format(
                          mb=ctx.services.settings.max_photo_bytes // (1024 * 1024))
                    if exc.reason == "too_large" else
                    _("Sorry, we could not play that voice note. Please write the problem in a "
                      "message instead."))
            ctx.stay()
            return
        except Exception:
            logger.warning("voice note download failed", exc_info=True)
            ctx.say(_("Sorry, we could not receive that voice note. Please send it again, or "
                      "write the problem in a message."))
            ctx.stay()
            return
        draft = _draft(ctx)
        replaced = draft.voice is not None
        draft.voice = StoredPhoto.of(stored)
        ctx.say(_("🎙️ Voice note received: the officers handling the report can listen to it.")
                if not replaced else
                _("🎙️ Voice note received; it replaces the one sent before."))
        if ctx.state == "description" and not draft.description:
            ctx.say(_("Please also write in a few words what the problem is, so the report "
                      "reaches the right office."))
        ctx.stay()

    async def _photo_out_of_step(self, ctx: Ctx) -> None:
        draft = _draft(ctx)
        before = sum(await _photo_count(ctx, draft))
        have = await self._take_photos(ctx, draft)
        if ctx.state == "description" and ctx.text:
            await self.on_description(ctx)  # the caption is the description
            return
        if have > before:
            ctx.say(ngettext("Photo received ({count} of {n}).", "Photos received ({count} of {n}).",
                             have - before).format(count=have,
                                                   n=ctx.services.settings.max_photos))
        if ctx.state == "description" and have > before:
            ctx.say(_("Now please tell us in a few words what the problem is."))
        ctx.stay()

    async def _keep_photo(self, ctx: Ctx, media: Any, draft: ReportDraft) -> str | None:
        """Keep one photo with the draft; what to tell the resident about it, if anything."""
        photos = draft.photos
        limit_mb = ctx.services.settings.max_photo_bytes // (1024 * 1024)
        if media.size is not None and media.size > ctx.services.settings.max_photo_bytes:
            return _("That file is too large (the limit is {mb} MB). Please send a smaller "
                     "photo.").format(mb=limit_mb)
        if media.kind == Kind.DOCUMENT and media.content_type and \
                not media.content_type.startswith("image/"):
            return _("That file is not a photo. Please send a photo (JPG or PNG).")
        try:
            stored = await ctx.services.photo_or_later(ctx, media)
        except FetchFirst:
            raise
        except MediaRejected as exc:
            if exc.reason == "too_large":
                return _("That file is too large (the limit is {mb} MB). Please send a smaller "
                         "photo.").format(mb=limit_mb)
            return _("That file is not a photo. Please send a photo (JPG or PNG).")
        except Exception:
            logger.warning("photo download failed", exc_info=True)
            return _("Sorry, we could not receive that photo. Please try sending it again.")
        if isinstance(stored, LatePhoto):
            draft.pending_photos = [*(draft.pending_photos or []), stored.fetch_id]
            return _("Your photo is still arriving. You can go on: it will be added to the "
                     "report as soon as it is in.")
        if any(p.sha256 == stored.sha256 for p in photos):
            return _("You have already sent this photo.")
        photos.append(StoredPhoto.of(stored))
        return None

    # -- identity ----------------------------------------------------------------------------

    async def ask_identity(self, ctx: Ctx) -> None:
        category = ctx.services.city.category(_kept(ctx).category or "")
        if category is not None and category.confidential:
            text = _("Reports in this category are confidential by default: the agency will "
                     "not see your name. Keep it that way?")
            options = [Option("anon", _("Keep my name hidden (recommended)")),
                       Option("named", _("Show my name"))]
        else:
            text = _("May the agency handling the report see your name? Your name is never "
                     "shown to the public or to other residents.")
            options = [Option("named", _("Yes, show my name")),
                       Option("anon", _("No, keep me anonymous"))]
        ctx.say(text, options=options + nav_options())

    async def on_identity(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked in ("anon", "named"):
            _draft(ctx).anonymous = picked == "anon"
            Editing.drop(ctx)
            ctx.goto(self.next_step("identity"))
            return
        ctx.say(_("Please choose one of the options."))
        ctx.stay()

    # -- confirm and edit --------------------------------------------------------------------

    async def ask_confirm(self, ctx: Ctx) -> None:
        draft = _kept(ctx)
        city = ctx.services.city
        category = city.category(draft.category or "")
        kel = city.kelurahan(draft.kelurahan) if draft.kelurahan else None
        kec = city.kecamatan_by_code(kel.kecamatan_code) if kel else None
        place = f"{kel.name}, {kec.name}" if kel and kec else "-"
        if draft.lat is not None:
            place += " " + _("(location shared)")
        lines = [
            _("Please check your report:"),
            "",
            _("Category: {value}").format(value=category.name() if category else "-"),
            _("Kelurahan: {value}").format(value=place),
            _("Address/landmark: {value}").format(value=draft.address or "-"),
            _("Description: {value}").format(value=draft.description or "-"),
            _photos_line(*await _photo_count(ctx, draft)),
            *([_("Voice note: yes (for the officers only)")] if draft.voice else []),
            _("Your name: {value}").format(
                value=_("hidden from the agency") if draft.anonymous
                else _("visible to the agency")),
        ]
        ctx.say("\n".join(lines), options=[
            Option("submit", _("✅ Send report")),
            Option("edit", _("✏️ Change something")),
            opt_cancel(),
        ])

    async def on_confirm(self, ctx: Ctx) -> None:
        picked = ctx.choice()
        if picked == "edit":
            ctx.goto("edit")
            return
        if picked != "submit":
            ctx.say(_("Please choose Send, Change or Cancel."))
            ctx.stay()
            return
        draft = _kept(ctx)
        missing = [k for k in ("description", "category", "kelurahan") if not getattr(draft, k)]
        if missing:
            ctx.goto({"category": "category", "kelurahan": "place"}.get(missing[0],
                                                                        "description"))
            return
        if await _over_report_limit(ctx):
            # The draft stays: the resident can send it later, nothing is lost.
            ctx.say(ngettext(
                "You have sent {n} report in the last hour, the most one account may send. "
                "This report is kept: please send it again in a while, or call {number} if it "
                "is an emergency.",
                "You have sent {n} reports in the last hour, the most one account may send. "
                "This report is kept: please send it again in a while, or call {number} if it "
                "is an emergency.", ctx.services.settings.report_limit_per_hour).format(
                n=ctx.services.settings.report_limit_per_hour,
                number=ctx.services.city.emergency_number),
                options=[Option("submit", _("✅ Send report")), *nav_options()])
            ctx.stay()
            return
        result = await ctx.services.reports.submit(
            draft=DraftReport.model_validate(draft.dump()), reporter=ctx.person
        )
        send_notices(ctx, await report_actions(ctx).after_submit(result))
        ReportDraft.drop(ctx)
        Editing.drop(ctx)
        settings = ctx.services.settings
        ctx.say(receipt_text(ctx.services.city, result,
                             public_url=settings.base_url if settings.public_url else None),
                kind="report_receipt")
        ctx.goto("main", "menu")

    async def ask_edit(self, ctx: Ctx) -> None:
        ctx.say(_("What would you like to change?"), options=[
            Option("f:category", _("Category")),
            Option("f:place", _("Place")),
            Option("f:address", _("Address/landmark")),
            Option("f:description", _("Description")),
            Option("f:photos", _("Photos")),
            Option("f:identity", _("Name visibility")),
            opt_back(),
        ])

    async def on_edit(self, ctx: Ctx) -> None:
        field = ctx.picked().after("f")
        if field in ("category", "place", "address", "description", "photos", "identity"):
            Editing.start(ctx, editing=True)
            ctx.goto(field)
            return
        ctx.say(_("Please choose what to change."))
        ctx.stay()

    # -- drafts ------------------------------------------------------------------------------

    @staticmethod
    def draft_summary(draft: ReportDraft) -> str:
        when = format_datetime(draft.saved_at) if draft.saved_at else "-"
        return _("You have an unfinished report (last changed {when}).").format(when=when)


async def _over_report_limit(ctx: Ctx) -> bool:
    services = ctx.services
    return await services.reports.over_limit(
        reporter_id=ctx.person.id, per_hour=services.settings.report_limit_per_hour)
