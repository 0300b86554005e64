"""Staff acting on reports from chat: the buttons on report posts, and their follow-up questions.

A button press carries the report ("st:<verb>:<report id>[:<arg>]"), so it works in the
agency's group or a private chat, whatever flow the staff member is in. Steps that need an
answer (a resolution note and photo, a reason, the original ticket) move the staff member into
StaffFlow, tied to the chat where the button was pressed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from bot.flows.base import Ctx, Flow, Routes
from bot.flows.common import more_option, screen
from bot.flows.console_link import console_link, console_link_in_group, console_link_typed
from bot.flows.notices import report_actions, send_notices
from bot.flows.options import OptionId
from bot.flows.state import FlowState, Moment, ReportDraft, StoredPhoto
from bot.i18n import _
from bot.labels import REJECT_REASONS, refusal_text, reject_reason
from bot.messages import Kind, Option, Reply
from reports import access
from reports.actions import ActionError, Outcome, ReportActions
from reports.lifecycle import TransitionRefused
from reports.roles import Role, can_act
from reports.service import parse_ticket
from reports.staff import LinkNotAllowed, redeem_link_code, staff_for
from storage.media import MediaRejected
from storage.models import Report
from storage.models.agency import StaffMember

logger = logging.getLogger(__name__)

PENDING = "staff"
# A question left unanswered this long no longer captures the staff member's messages.
PENDING_TTL = timedelta(hours=2)
NOTE_MIN = 3
NOTE_MAX = 1000

# Button verb -> the permission it needs.
VERBS = {
    "take": "take", "prog": "progress", "res": "resolve", "nobj": "notours", "dup": "duplicate",
    "ver": "verify", "route": "route", "rej": "reject", "asg": "assign",
}  # fmt: skip
# Answers to a question asked in StaffFlow.
ANSWERS = frozenset({"to", "why", "skip", "x", "more"})
# Agencies on one screen of the agency picker: with "Lainnya ›", "I don't know" and "Cancel",
# a Telegram message keeps to 12 buttons (the city has 15 agencies).
AGENCY_PAGE = 9
# The questions a button verb asks, in order; the action is taken after the last answer.
QUESTIONS = {
    "res": ("resolve_note", "resolve_photo"),
    "nobj": ("notours_reason", "notours_agency"),
    "dup": ("dup_original",),
    "route": ("route_agency",),
    "rej": ("reject_reason",),
}


@dataclass(frozen=True, slots=True)
class StaffButton:
    """A staff button's id, "st:<verb>:<report id>[:<arg>]", read into its parts."""

    verb: str
    report_id: int
    arg: str | None = None

    @classmethod
    def parse(cls, option: str | None) -> StaffButton | None:
        """The button's parts, or None when `option` is not a staff button."""
        parsed = OptionId.parse(option)
        verb, number = parsed.part(1), parsed.part(2)
        if parsed.part(0) != "st" or verb is None or number is None or not number.isdigit():
            return None
        return cls(verb, int(number), parsed.after("st", verb, number))


def _deny(ctx: Ctx, message: str) -> None:
    """A refusal: a pop-up on the button where the channel has one, else a message."""
    if ctx.inbound.is_group:
        ctx.replies.append(Reply(text="", alert=message))
    else:
        ctx.replies.append(Reply(text=message, alert=message))


def _why(error: TransitionRefused | ActionError) -> str:
    """What to tell the person whose action was refused."""
    return refusal_text(error) if isinstance(error, TransitionRefused) else str(error)


def _give_up(ctx: Ctx, error: TransitionRefused | ActionError) -> None:
    """Leave StaffFlow and say why the action could not be done."""
    _finish(ctx)
    _deny(ctx, _why(error))


async def _staff(ctx: Ctx) -> StaffMember | None:
    return await staff_for(session=ctx.services.session, channel=ctx.person.channel,
                           user_key=ctx.person.user_key)


def _chat(ctx: Ctx) -> str:
    return ctx.inbound.chat_key or ctx.inbound.user_key


class StaffQuestion(FlowState):
    """A follow-up question of a staff action, open in the chat where its button was pressed."""

    key = PENDING

    report: int
    ticket: str = ""
    chat: str | None = None
    group: bool = False
    name: str = ""
    # Where the staff member was ([flow, state]), to go back to after answering in a group.
    back: list[str] | None = None
    # The options offered before the question (id, label), so a typed number keeps its meaning.
    options: list[tuple[str, str]] | None = None
    started: Moment | None = None
    # The screen of the agency picker being looked at.
    page: int | None = None
    photos: list[StoredPhoto] = []
    note: str | None = None
    reason: str | None = None


def _question(ctx: Ctx) -> StaffQuestion | None:
    return StaffQuestion.get(ctx)


def _ticket(ctx: Ctx) -> str:
    """The ticket of the report the open question is about."""
    question = _question(ctx)
    return question.ticket if question is not None else ""


def _pending(ctx: Ctx) -> StaffQuestion | None:
    """The question still open: asked in StaffFlow, less than PENDING_TTL ago."""
    question = _question(ctx)
    if question is None or ctx.flow != StaffFlow.name or question.started is None:
        return None
    if ctx.services.now() - question.started > PENDING_TTL:
        return None
    return question


async def staff_button(ctx: Ctx) -> bool:
    """Handle any "st:" button: check who pressed it, then act or ask the next question."""
    button = StaffButton.parse(ctx.inbound.option_id)
    if button is None:
        _deny(ctx, _("This button is no longer valid."))
        return True
    verb, arg = button.verb, button.arg
    actions = report_actions(ctx)
    report = await actions.get(button.report_id)
    if report is None:
        _deny(ctx, _("That report no longer exists."))
        return True
    staff = await _staff(ctx)
    if verb in ANSWERS:
        await _answer(ctx, staff, report, verb, arg)
        return True
    permission = VERBS.get(verb)
    if permission is None:
        _deny(ctx, _("This button is no longer valid."))
        return True
    if not can_act(staff, report, permission):
        _deny(ctx, _("Only staff of the agency handling report {ticket} (or Kominfo) can do "
                     "this.").format(ticket=report.ticket))
        return True
    assert staff is not None
    try:
        await _act(ctx, actions, staff, report, verb, arg)
    except (TransitionRefused, ActionError) as error:
        _deny(ctx, _why(error))
    return True


async def _act(ctx: Ctx, actions: ReportActions, staff: StaffMember, report: Report, verb: str,
               arg: str | None) -> None:
    city = ctx.services.city
    if verb == "take":
        if report.handler_id is not None and report.handler_id != ctx.person.id:
            _deny(ctx, _("Someone else is already handling report {ticket}.").format(
                ticket=report.ticket))
            return
        await actions.take(report, actor_id=ctx.person.id)
        await access.record(session=ctx.services.session, staff=staff, action="report.take",
                            now=ctx.services.now(), source="chat", target=report.ticket)
        ctx.say(_("✋ {name} is handling report {ticket}.").format(name=staff.name,
                                                                  ticket=report.ticket))
        return
    if verb == "prog":
        await _done(ctx, await actions.progress(report, actor_id=ctx.person.id),
              _("🔧 Report {ticket} is in progress ({name}). The resident has been told.").format(
                  ticket=report.ticket, name=staff.name))
        return
    if verb == "ver":
        outcome = await actions.verify(report, actor_id=ctx.person.id)
        await _done(ctx, outcome, _("✅ Report {ticket} verified and passed to {agency} ({name}).")
              .format(ticket=report.ticket, agency=city.agency_label(report.agency_key),
                      name=staff.name))
        return
    if verb == "asg":
        if not arg or city.agency(arg) is None:
            _deny(ctx, _("This button is no longer valid."))
            return
        outcome = await actions.assign(report, arg, actor_id=ctx.person.id,
                                       verifying=staff.role == Role.KOMINFO)
        await _done(ctx, outcome, _("➡️ Report {ticket} passed to {agency} ({name}).").format(
            ticket=report.ticket, agency=city.agency_label(arg), name=staff.name))
        return
    state = QUESTIONS[verb][0]
    if verb == "res" and report.status not in ("assigned", "in_progress", "reopened"):
        raise TransitionRefused(ticket=report.ticket, current=report.status, target="resolved")
    _begin(ctx, state, report, staff)


def _next_question(state: str) -> str:
    """The question after `state` among those of its button (QUESTIONS)."""
    for questions in QUESTIONS.values():
        if state in questions[:-1]:
            return questions[questions.index(state) + 1]
    raise LookupError(f"no question follows {state}")


def _begin(ctx: Ctx, state: str, report: Report, staff: StaffMember) -> None:
    """Ask a follow-up question in the chat where the button was pressed."""
    previous = _question(ctx) if ctx.flow == StaffFlow.name else None
    back = previous.back if previous is not None and previous.back else [ctx.flow, ctx.state]
    if ctx.flow == "report":
        ReportDraft.kept(ctx).state = ctx.state
    options = previous.options if previous is not None else list(ctx.nav.options) or None
    assert report.id is not None
    StaffQuestion.start(
        ctx, report=report.id, ticket=report.ticket, chat=_chat(ctx),
        group=ctx.inbound.is_group, name=staff.name, back=back, options=options,
        started=ctx.services.now())
    ctx.goto(state, StaffFlow.name, remember=False)


def _finish(ctx: Ctx) -> None:
    """Leave StaffFlow: in a group, quietly back to where the person was; in private, the menu."""
    question = _question(ctx)
    StaffQuestion.drop(ctx)
    if question is not None and question.group:
        flow, state = question.back or ["menu", "main"]
        if flow == StaffFlow.name:
            flow, state = "menu", "main"
        ctx.flow, ctx.state = flow, state
        ctx.next_flow = ctx.next_state = None
        # The private chat's numbered options, so a typed number there still means what it did.
        ctx.nav.options = list(question.options or [])
        return
    ctx.goto("main", "menu")


async def _done(ctx: Ctx, outcome: Outcome, text: str) -> None:
    """Say what was done, queue the notices, and write the action into the audit log."""
    ctx.say(text)
    send_notices(ctx, outcome.notices)
    moved = outcome.event.status if outcome.event is not None else outcome.report.status
    await access.record(session=ctx.services.session, staff=await _staff(ctx),
                        action=f"report.{moved}", now=ctx.services.now(), source="chat",
                        target=outcome.report.ticket)


async def _answer(ctx: Ctx, staff: StaffMember | None, report: Report, verb: str,
                  arg: str | None) -> None:
    """A button answering StaffFlow's question (an agency, a reason, skip, cancel)."""
    pending = _pending(ctx)
    if pending is None or pending.report != report.id or staff is None:
        _deny(ctx, _("This question is no longer open."))
        return
    if verb == "x":
        _finish(ctx)
        ctx.say(_("Cancelled; report {ticket} is unchanged.").format(ticket=report.ticket))
        return
    flow = ctx.services.flows[StaffFlow.name]
    assert isinstance(flow, StaffFlow)
    try:
        if verb == "skip" and ctx.state == "resolve_photo":
            await flow.resolve(ctx, staff, report)
        elif verb == "why" and ctx.state == "reject_reason" and arg in REJECT_REASONS:
            outcome = await report_actions(ctx).reject(report, actor_id=ctx.person.id,
                                                       reason=arg)
            _finish(ctx)
            await _done(ctx, outcome, _("❌ Report {ticket} rejected ({name}). The resident has been "
                                  "told why.").format(ticket=report.ticket, name=staff.name))
        elif verb == "more" and ctx.state in ("route_agency", "notours_agency"):
            pending.page = int(arg) if arg and arg.isdigit() else 0
            ctx.stay()
        elif verb == "to" and ctx.state in ("route_agency", "notours_agency"):
            await flow.route(ctx, staff, report, None if arg in (None, "-") else arg)
        else:
            _deny(ctx, _("This question is no longer open."))
    except (TransitionRefused, ActionError) as error:
        _give_up(ctx, error)


async def _typed_choice(ctx: Ctx) -> bool:
    """On channels without buttons, a typed number or label answers like the button would."""
    if ctx.inbound.option_id:
        return False
    picked = ctx.choice()
    if StaffButton.parse(picked) is None:
        return False
    ctx.inbound.option_id = picked
    return await staff_button(ctx)


async def staff_group_message(ctx: Ctx) -> bool:
    """In a group, a staff member's message answers the question asked there, if one is open."""
    pending = _pending(ctx)
    if pending is None or pending.chat != _chat(ctx) or ctx.inbound.command:
        return False
    await ctx.services.flows[StaffFlow.name].handle(ctx)
    return True


async def link_group(ctx: Ctx) -> bool:
    """/link CODE in a group: the group receives its agency's reports from now on."""
    code = (ctx.inbound.command_arg or "").strip()
    if not code:
        ctx.say(_("Send /link followed by the code from Kominfo, e.g. /link ABCD-2345."))
        return True
    staff = await _staff(ctx)
    try:
        agency_key = await redeem_link_code(
            session=ctx.services.session, code=code, channel=ctx.person.channel,
            chat_key=_chat(ctx), linked_by=ctx.person.id, staff=staff,
            now=ctx.services.now())
    except LinkNotAllowed:
        ctx.say(_("Only the agency's staff or Kominfo can link a group. Ask Kominfo to register "
                  "you as staff, then send the code again."))
        return True
    if agency_key is None:
        ctx.say(_("That code is not valid, was used already, or has expired. Ask Kominfo for "
                  "a new one."))
        return True
    await access.record(session=ctx.services.session, staff=staff, action="group.link",
                        now=ctx.services.now(), source="chat", target=f"agency:{agency_key}")
    logger.info("a group was linked to agency %s", agency_key)
    ctx.say(_("✅ This group is now linked to {agency}. New reports for the agency will be "
              "posted here; its staff can act on them with the buttons.").format(
        agency=ctx.services.city.agency_label(agency_key)))
    return True


async def link_private(ctx: Ctx) -> bool:
    ctx.say(_("Use /link CODE in the agency's group chat, not here."))
    ctx.stay()
    return True


class StaffFlow(Flow):
    """The follow-up questions of staff actions."""

    name = "staff"
    first_state = "resolve_note"

    def routes(self) -> Routes:
        return Routes(buttons={"st": staff_button},
                      commands={"link": link_private, "konsol": console_link,
                                "console": console_link},
                      group_commands={"link": link_group, "konsol": console_link_in_group,
                                      "console": console_link_in_group},
                      group_messages=(staff_group_message,),
                      typed_codes=(console_link_typed,))

    def _prompt(self, ctx: Ctx, text: str, options: list[Option] | None = None) -> None:
        question = _question(ctx)
        if question is not None and question.group:
            text = _("{name}, reply to this message: {question}").format(
                name=question.name, question=text)
        else:
            text = text[:1].upper() + text[1:]
        report_id = question.report if question is not None else None
        ctx.say(text, options=[*(options or []),
                               Option(f"st:x:{report_id}", _("✖️ Cancel"))])

    def _report_id(self, ctx: Ctx) -> int:
        question = _question(ctx)
        return question.report if question is not None else 0

    async def _load(self, ctx: Ctx) -> tuple[StaffMember, Report] | None:
        report = await report_actions(ctx).get(self._report_id(ctx))
        staff = await _staff(ctx)
        if report is None or staff is None or not staff.active:
            _finish(ctx)
            return None
        return staff, report

    async def on_cancel(self, ctx: Ctx) -> None:
        StaffQuestion.drop(ctx)

    async def handle(self, ctx: Ctx) -> None:
        if _pending(ctx) is None:
            # The question went stale: nothing to answer any more.
            StaffQuestion.drop(ctx)
            ctx.goto("main", "menu")
            return
        await super().handle(ctx)

    # -- resolve -------------------------------------------------------------------------------

    def _keep_text(self, ctx: Ctx, field: Literal["note", "reason"], retry: str) -> None:
        """Keep a typed answer of at least NOTE_MIN characters as the question's `field` and go
        on to the next question; anything else is asked again with `retry`."""
        question = _question(ctx)
        if ctx.inbound.kind != Kind.TEXT or len(ctx.text) < NOTE_MIN or question is None:
            ctx.say(retry.format(n=NOTE_MIN))
            ctx.stay()
            return
        setattr(question, field, ctx.text[:NOTE_MAX])
        ctx.goto(_next_question(ctx.state), remember=False)

    async def ask_resolve_note(self, ctx: Ctx) -> None:
        self._prompt(ctx, _("what was done about report {ticket}? Write a short note for the "
                            "resident.").format(ticket=_ticket(ctx)))

    async def on_resolve_note(self, ctx: Ctx) -> None:
        self._keep_text(ctx, "note",
                        _("Please write the note as text (at least {n} characters)."))

    async def ask_resolve_photo(self, ctx: Ctx) -> None:
        self._prompt(ctx, _("send a photo of the result (optional), or tap Skip."),
                     [Option(f"st:skip:{self._report_id(ctx)}", _("Skip photo"))])

    async def on_resolve_photo(self, ctx: Ctx) -> None:
        loaded = await self._load(ctx)
        if loaded is None:
            return
        staff, report = loaded
        question = _question(ctx)
        if ctx.inbound.kind in (Kind.PHOTO, Kind.DOCUMENT) and ctx.inbound.media \
                and question is not None:
            photos = question.photos
            for media in ctx.inbound.media[:3]:
                try:
                    stored = await ctx.services.save_media(media)
                except MediaRejected:
                    ctx.say(_("That file is not a photo. Please send a photo (JPG or PNG)."))
                    ctx.stay()
                    return
                photos.append(StoredPhoto.of(stored))
            await self.resolve(ctx, staff, report)
            return
        if await _typed_choice(ctx):
            return
        ctx.say(_("Please send a photo, or tap Skip."))
        ctx.stay()

    async def resolve(self, ctx: Ctx, staff: StaffMember, report: Report) -> None:
        question = _question(ctx)
        try:
            outcome = await report_actions(ctx).resolve(
                report, actor_id=ctx.person.id, note=(question.note or "") if question else "",
                photos=[p.model_dump() for p in question.photos] if question else [])
        except TransitionRefused as refused:
            _give_up(ctx, refused)
            return
        _finish(ctx)
        await _done(ctx, outcome, _("✅ Report {ticket} resolved ({name}). The resident has been asked "
                              "to confirm.").format(ticket=report.ticket, name=staff.name))

    # -- not ours ------------------------------------------------------------------------------

    async def ask_notours_reason(self, ctx: Ctx) -> None:
        self._prompt(ctx, _("why is report {ticket} not for your agency?").format(
            ticket=_ticket(ctx)))

    async def on_notours_reason(self, ctx: Ctx) -> None:
        self._keep_text(ctx, "reason",
                        _("Please write the reason as text (at least {n} characters)."))

    def _agency_options(self, ctx: Ctx, *, exclude: str | None) -> list[Option]:
        """One screen of agencies, then "Lainnya ›" to the next (the last leads back)."""
        report_id = self._report_id(ctx)
        agencies = [a for a in ctx.services.city.agencies.values() if a.key != exclude]
        question = _question(ctx)
        shown, following = screen(agencies, question.page if question else None, AGENCY_PAGE)
        options = [Option(f"st:to:{report_id}:{a.key}", a.short_name) for a in shown]
        if following is not None:
            options.append(more_option(f"st:more:{report_id}:{following}", following))
        return options

    async def ask_notours_agency(self, ctx: Ctx) -> None:
        report = await report_actions(ctx).get(self._report_id(ctx))
        options = self._agency_options(ctx, exclude=report.agency_key if report else None)
        options.append(Option(f"st:to:{self._report_id(ctx)}:-", _("I don't know")))
        self._prompt(ctx, _("which agency should handle it? Kominfo will decide."), options)

    async def on_notours_agency(self, ctx: Ctx) -> None:
        if await _typed_choice(ctx):
            return
        ctx.say(_("Please choose one of the options."))
        ctx.stay()

    async def ask_route_agency(self, ctx: Ctx) -> None:
        question = _("which agency should handle report {ticket}?").format(ticket=_ticket(ctx))
        self._prompt(ctx, question, self._agency_options(ctx, exclude=None))

    on_route_agency = on_notours_agency

    async def route(self, ctx: Ctx, staff: StaffMember, report: Report,
                    agency_key: str | None) -> None:
        city = ctx.services.city
        actions = report_actions(ctx)
        if ctx.state == "notours_agency":
            question = _question(ctx)
            reason = (question.reason or "") if question is not None else ""
            outcome = await actions.hand_back(report, actor_id=ctx.person.id, reason=reason,
                                              suggested=agency_key)
            _finish(ctx)
            await _done(ctx, outcome, _("↩️ Report {ticket} handed back to Kominfo ({name}).").format(
                ticket=report.ticket, name=staff.name))
            return
        if agency_key is None or city.agency(agency_key) is None:
            ctx.say(_("Please choose one of the options."))
            ctx.stay()
            return
        if not can_act(staff, report, "route"):
            _finish(ctx)
            _deny(ctx, _("Only Kominfo can route reports."))
            return
        # Only Kominfo routes (checked above): choosing the agency is their verification.
        outcome = await actions.assign(report, agency_key, actor_id=ctx.person.id,
                                       verifying=True)
        _finish(ctx)
        await _done(ctx, outcome, _("➡️ Report {ticket} passed to {agency} ({name}).").format(
            ticket=report.ticket, agency=city.agency_label(agency_key), name=staff.name))

    # -- duplicate -----------------------------------------------------------------------------

    async def ask_dup_original(self, ctx: Ctx) -> None:
        self._prompt(ctx, _("report {ticket} repeats which earlier report? Send its ticket "
                            "number.").format(ticket=_ticket(ctx)))

    async def on_dup_original(self, ctx: Ctx) -> None:
        loaded = await self._load(ctx)
        if loaded is None:
            return
        staff, report = loaded
        city = ctx.services.city
        ticket = parse_ticket(ctx.text, city_code=city.code, year=ctx.services.now().year) \
            if ctx.inbound.kind == Kind.TEXT else None
        original = await ctx.services.reports.get(ticket) if ticket else None
        if original is None or original.id == report.id:
            ctx.say(_("We could not find that report. Please send the ticket number of the "
                      "original report, e.g. {example}.").format(
                example=f"{city.code}-{ctx.services.now().year}-000123"))
            ctx.stay()
            return
        try:
            outcome = await report_actions(ctx).mark_duplicate(report, original,
                                                               actor_id=ctx.person.id)
        except (TransitionRefused, ActionError) as error:
            _give_up(ctx, error)
            return
        _finish(ctx)
        await _done(ctx, outcome, _("🔁 Report {ticket} merged into {original} ({name}).").format(
            ticket=report.ticket, original=original.ticket, name=staff.name))

    # -- reject --------------------------------------------------------------------------------

    async def ask_reject_reason(self, ctx: Ctx) -> None:
        report_id = self._report_id(ctx)
        self._prompt(ctx, _("why is report {ticket} rejected?").format(ticket=_ticket(ctx)),
                     [Option(f"st:why:{report_id}:{code}", reject_reason(code))
                      for code in REJECT_REASONS])

    on_reject_reason = on_notours_agency
