"""What the reports domain reads of the configuration (the composition root passes Settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ReportsConfig(Protocol):
    """Where the city pack's workflow and the report photos are; `bot.settings.Settings` is one."""

    @property
    def city_dir(self) -> Path: ...
    @property
    def media_dir(self) -> Path: ...
