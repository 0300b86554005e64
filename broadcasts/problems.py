"""What is wrong with a campaign or its audience, as data: a message id and its values.

The domain names the problem; the bot layer words it in the reader's language
(bot.broadcast_texts.problem_texts). `N_` only marks the message id for the catalogs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def N_(message: str) -> str:
    """Mark a message id for extraction into the catalogs; it is translated where it is shown."""
    return message


@dataclass(frozen=True, slots=True)
class Problem:
    msgid: str
    values: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:  # English, for logs and exceptions
        return self.msgid.format(**self.values)


def problem(msgid: str, **values: Any) -> Problem:
    return Problem(msgid, values)


class ProblemsError(ValueError):
    """A broadcast (a campaign, a poll) cannot be created or moved; `problems` say why, each
    worded by the bot layer in the reader's language."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
