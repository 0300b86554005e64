"""The flow machinery: a context per event, flows as classes of `ask_`/`on_` state methods."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from bot.flows.options import OptionId, resolve_option
from bot.flows.state import Navigation
from bot.messages import Inbound, Kind, Option, Reply

if TYPE_CHECKING:
    from bot.flows.state import FlowState
    from bot.services import Services


@dataclass(slots=True)
class Person:
    """Who is talking, as flows see them (never shown to other residents)."""

    id: int
    channel: str
    user_key: str
    locale: str
    display_name: str | None = None
    phone: str | None = None


@dataclass(slots=True)
class Ctx:
    """Everything one event's flow code may read or change."""

    inbound: Inbound
    person: Person
    flow: str
    state: str
    data: dict[str, Any]
    services: Services
    replies: list[Reply] = field(default_factory=list)
    # Set by goto(): the engine asks the new state's question after the handler returns.
    next_flow: str | None = None
    next_state: str | None = None
    locale_changed: str | None = None
    # Replies to other people (notifications) carry their reader's locale.
    reply_locales: dict[int, str] = field(default_factory=dict)
    # Typed flow states read from `data` this event, by class (None: dropped); see
    # bot.flows.state.
    states: dict[type[FlowState], Any] = field(default_factory=dict)
    # The router's bookkeeping (options last offered, the way back), taken out of the stored
    # `data` by the engine (`Navigation.take`) and written back with the states.
    nav: Navigation = field(default_factory=Navigation)

    def flush(self) -> None:
        """Write the typed flow states and the navigation back into `data`, as the conversation
        stores it."""
        for kind, state in self.states.items():
            kind.write(state, self.data)
        self.nav.write(self.data)

    # -- replies -----------------------------------------------------------------------------

    def say(self, text: str, **kwargs: Any) -> Reply:
        reply = Reply(text=text, **kwargs)
        self.replies.append(reply)
        return reply

    def notify(self, *, channel: str, user_key: str, locale: str, reply: Reply) -> None:
        """Queue a message to someone else (rendered in their locale by the caller)."""
        reply.channel, reply.to = channel, user_key
        self.reply_locales[id(reply)] = locale
        self.replies.append(reply)

    def remember_options(self) -> None:
        """Keep the options just offered, so a typed number or label can be understood next."""
        for reply in reversed(self.replies):
            if reply.options and reply.to is None:
                self.nav.offer(reply.options)
                return

    def offered(self) -> list[Option]:
        return self.nav.offered()

    # -- input -------------------------------------------------------------------------------

    @property
    def text(self) -> str:
        return (self.inbound.text or "").strip()

    def needs_text(self, ask: str) -> bool:
        """Whether the answer is missing because the message was not typed text; if so the
        resident is told `ask` and the question is asked again."""
        if self.inbound.kind == Kind.TEXT and self.text:
            return False
        self.say(ask)
        self.stay()
        return True

    def choice(self) -> str | None:
        """The option the resident picked: a button press, or a typed number or label."""
        if self.inbound.option_id:
            return self.inbound.option_id
        if self.inbound.kind in (Kind.TEXT, Kind.OPTION) and self.text:
            picked = resolve_option(self.text, self.offered())
            return picked.id if picked else None
        return None

    def picked(self) -> OptionId:
        """The option the resident picked, read into its parts (none when nothing was)."""
        return OptionId.parse(self.choice())

    # -- moving ------------------------------------------------------------------------------

    def goto(self, state: str, flow: str | None = None, *, remember: bool = True) -> None:
        """Move to a state (of this or another flow); the engine will ask its question."""
        target_flow = flow or self.flow
        if remember and target_flow == self.flow and state != self.state:
            self.nav.push(self.state)
        if target_flow != self.flow:
            self.nav.stack.clear()
        self.next_flow = target_flow
        self.next_state = state

    def stay(self) -> None:
        """Ask the current question again."""
        self.next_flow = self.flow
        self.next_state = self.state

    def back(self) -> bool:
        previous = self.nav.pop()
        if previous is None:
            return False
        self.goto(previous, remember=False)
        return True


# Takes an event before (or instead of) the person's current flow; True when it did.
Claim = Callable[[Ctx], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Routes:
    """What a flow answers outside its own states; the router collects these from every flow."""

    # /commands in a private chat, and in a group chat.
    commands: Mapping[str, Claim] = field(default_factory=dict)
    group_commands: Mapping[str, Claim] = field(default_factory=dict)
    # Buttons on notifications, by option id prefix ("st", "rate"): they work whatever flow
    # the person is in.
    buttons: Mapping[str, Claim] = field(default_factory=dict)
    # Any other group message a flow may claim (a staff member answering a question).
    group_messages: tuple[Claim, ...] = ()
    # /start with an argument (a deep link).
    start_args: tuple[Claim, ...] = ()
    # Codes typed as plain text (a relay's join code pre-filled by a WhatsApp link).
    typed_codes: tuple[Claim, ...] = ()


class Flow:
    """A conversation: for each state, `ask_<state>` asks and `on_<state>` handles the answer."""

    name: ClassVar[str]
    first_state: ClassVar[str] = "start"

    async def enter(self, ctx: Ctx) -> None:
        ctx.goto(self.first_state, self.name)

    async def ask(self, ctx: Ctx, state: str) -> None:
        method = getattr(self, f"ask_{state}", None)
        if method is None:
            raise LookupError(f"{self.name} has no state {state}")
        await method(ctx)

    async def handle(self, ctx: Ctx) -> None:
        method = getattr(self, f"on_{ctx.state}", None)
        if method is None:
            raise LookupError(f"{self.name} has no state {ctx.state}")
        await method(ctx)

    def has_state(self, state: str) -> bool:
        return hasattr(self, f"ask_{state}") and hasattr(self, f"on_{state}")

    async def on_cancel(self, ctx: Ctx) -> None:
        """Called when the resident cancels this flow; drop what it kept."""

    async def confirm_cancel(self, ctx: Ctx) -> bool:
        """When cancelling now would lose the resident's work, ask them first and return True
        (the flow has moved to its question)."""
        return False

    def routes(self) -> Routes:
        """The commands, buttons and codes this flow answers whatever state the person is in."""
        return Routes()
