"""Broadcasting for one process: the shared limiter, the channels' bulk senders, the dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from broadcasts.config import BroadcastConfig
from broadcasts.dispatcher import CampaignWords, Dispatcher, Notify
from broadcasts.groups import GroupCatalog, load_catalog
from broadcasts.limiter import Limiter
from broadcasts.sending import BulkSender
from storage.city import City
from storage.db import Database
from storage.types import utcnow

logger = logging.getLogger(__name__)


class BroadcastHub:
    """Built by the composition root: channels register their bulk senders here and their
    reply path takes slots from `limiter`; `run` is the background task of `emas serve`."""

    def __init__(self, *, db: Database, settings: BroadcastConfig, city: City,
                 words: CampaignWords, notify: Notify | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.settings = settings
        self.city = city
        self.now = now
        self.catalog: GroupCatalog = load_catalog(city, settings.city_dir)
        self.limiter = Limiter()
        self.senders: dict[str, BulkSender] = {}
        self.words = words
        self.notify = notify
        self.dispatcher: Dispatcher | None = None

    def register_sender(self, sender: BulkSender) -> None:
        """A channel's bulk sender; its limits become the channel's shared limiter."""
        self.senders[sender.channel] = sender
        if self.limiter.get(sender.channel) is None:
            self.limiter.configure(sender.channel, sender.limits)

    def build_dispatcher(self, **options: object) -> Dispatcher:
        self.dispatcher = Dispatcher(db=self.db, settings=self.settings, city=self.city,
                                     catalog=self.catalog, limiter=self.limiter,
                                     senders=self.senders, words=self.words, now=self.now,
                                     notify=self.notify,
                                     **options)  # type: ignore[arg-type]
        return self.dispatcher

    async def run(self) -> None:
        """The dispatcher, for the life of the server."""
        if not self.senders:
            logger.info("no channel can send broadcasts; the dispatcher is idle")
        dispatcher = self.dispatcher or self.build_dispatcher()
        await dispatcher.run()
