""""How did you hear of this service?": asked once of every resident, after their first
completed action, lightly and skippable.

The question comes with the main menu, never in its place, so it stands in the way of nothing:
the resident may answer, skip, or go on with whatever they came for. On Telegram the answers
are buttons on a message of their own. Where options are a numbered list (WhatsApp, the
terminal) the menu's numbers must stay the menu's, so the answers are lettered (A, B, C...) and
typed; the resident may also type the answer's name.
"""

from __future__ import annotations

import string

from bot.flows.base import Ctx
from bot.flows.options import OptionId, normalize
from bot.flows.state import FlowState
from bot.i18n import _
from bot.messages import Channel, Option
from broadcasts.outreach import OutreachPack, OutreachService, load_outreach

PREFIX = "hh"
SKIP = "skip"
SKIP_WORDS = frozenset({"lewati", "skip", "lewat", "tidak usah", "gak usah", "ga usah"})
LETTERS = string.ascii_uppercase


class HeardState(FlowState):
    """Whether the question was put to this resident, and whether a typed answer is awaited."""

    key = "heard"

    asked: bool | None = None
    waiting: bool | None = None


def pack_of(ctx: Ctx) -> OutreachPack:
    return load_outreach(ctx.services.settings.city_dir, ctx.services.city.reader)


def outreach(ctx: Ctx) -> OutreachService:
    return OutreachService(session=ctx.services.session, now=ctx.services.now)


async def ask_if_due(ctx: Ctx) -> bool:
    """Put the question (once, after the resident's first completed action) just before the
    main menu; True when it was put."""
    if ctx.inbound.is_group:
        return False
    state = HeardState.get(ctx)
    if state is not None and state.asked:
        return False
    pack = pack_of(ctx)
    if not pack.heard:
        return False
    service = outreach(ctx)
    if not await service.heard_due(ctx.person.id):
        return False
    await service.heard_asked(ctx.person.id)
    HeardState.start(ctx, asked=True, waiting=True)
    intro = _("One short question, which you may skip: how did you hear of this service?")
    if ctx.person.channel == Channel.TELEGRAM:
        options = [Option(f"{PREFIX}:{c.key}", c.name()) for c in pack.heard]
        # In place of the message whose button brought the resident here (the menu follows).
        ctx.say(intro, options=[*options, Option(f"{PREFIX}:{SKIP}", _("⏭ Skip"))], edit=True)
    else:
        lines = [intro, ""]
        lines += [f"{LETTERS[i]}. {c.name()}" for i, c in enumerate(pack.heard[:len(LETTERS)])]
        lines += ["", _("Reply with a letter (for example A), or type SKIP.")]
        ctx.say("\n".join(lines))
    return True


async def _answer(ctx: Ctx, key: str) -> None:
    """Store the answer (or the skip) and thank the resident."""
    state = HeardState.kept(ctx)
    state.asked, state.waiting = True, None
    if key == SKIP:
        await outreach(ctx).heard_asked(ctx.person.id)
        ctx.say(_("All right. Thank you!"))
        return
    if await outreach(ctx).heard(ctx.person.id, key):
        ctx.say(_("Thank you for telling us! 🙏 It helps the city reach more residents."))
    else:
        ctx.say(_("Thank you, we have already noted your answer."))


def _carry_on(ctx: Ctx) -> None:
    """After an answer, ask again whatever the resident was answering (the menu at least)."""
    flow = ctx.services.flows.get(ctx.flow)
    if flow is not None and flow.has_state(ctx.state):
        ctx.stay()
    else:
        ctx.goto("main", "menu")


async def heard_button(ctx: Ctx) -> bool:
    """A button under the question (Telegram), whenever it is pressed."""
    key = OptionId.parse(ctx.inbound.option_id).after(PREFIX)
    if key is None or ctx.inbound.is_group:
        return False
    if key != SKIP and pack_of(ctx).heard_choice(key) is None:
        return False
    await _answer(ctx, key)
    _carry_on(ctx)
    return True


def typed_choice(text: str, pack: OutreachPack) -> str | None:
    """The answer a typed text gives: a letter, SKIP, or an answer's name."""
    words = normalize(text)
    if words in SKIP_WORDS:
        return SKIP
    if len(words) == 1 and words.upper() in LETTERS[:len(pack.heard)]:
        return pack.heard[LETTERS.index(words.upper())].key
    for choice in pack.heard:
        names = {normalize(n) for n in choice.names.values()}
        # "Sekolah/kampus" is also answered by "sekolah" or "kampus".
        parts = {p for n in names for p in n.split() if len(p) >= 4}
        if words in names or words in parts:
            return choice.key
    return None


async def heard_typed(ctx: Ctx) -> bool:
    """A typed answer, right after the question, at the main menu (elsewhere the resident's
    words belong to what they are doing)."""
    state = HeardState.get(ctx)
    if state is None or not state.waiting or ctx.flow != "menu" or ctx.state != "main":
        return False
    pack = pack_of(ctx)
    key = typed_choice(ctx.text, pack)
    if key is None:
        return False
    await _answer(ctx, key)
    ctx.goto("main", "menu")
    return True
