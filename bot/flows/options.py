"""Understanding a typed answer to a list of options: a number, the label, or a near miss."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.messages import Option

_NON_WORD = re.compile(r"[^\w\s]", re.UNICODE)


@dataclass(frozen=True, slots=True)
class OptionId:
    """An option id read once into its parts: "st:ver:42" is ("st", "ver", "42").

    Ids are built as `prefix:...:value`; a value may itself hold colons (a group key such as
    "kim:12.75.01"), so it is everything after the prefix asked for.
    """

    parts: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: str | None) -> OptionId:
        """The id's parts; nothing picked (None or "") has none."""
        return cls(tuple(raw.split(":")) if raw else ())

    def after(self, *prefix: str) -> str | None:
        """What follows `prefix`: OptionId.parse("c:g:kim:1").after("c", "g") == "kim:1";
        None when the id does not start with it or has nothing after it."""
        n = len(prefix)
        if self.parts[:n] != prefix or len(self.parts) <= n:
            return None
        return ":".join(self.parts[n:])

    def number_after(self, *prefix: str) -> int | None:
        """The whole number that follows `prefix` ("sup:17" → 17), else None."""
        value = self.after(*prefix)
        return int(value) if value is not None and value.isdigit() else None

    def part(self, index: int) -> str | None:
        """One part by position, if the id has it."""
        return self.parts[index] if 0 <= index < len(self.parts) else None


def normalize(text: str) -> str:
    """Lower-case, strip emoji, punctuation and extra spaces."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "S")
    text = _NON_WORD.sub(" ", text)
    return " ".join(text.split())


# Typed answers to a yes/no question (options "yes" and "no"), as residents write them.
YES_WORDS = frozenset({"ya", "iya", "iy", "y", "yes", "ok", "oke", "okay", "boleh", "mau", "sip",
                       "betul", "benar", "bener", "yup", "ya benar", "ya betul", "iya benar"})
NO_WORDS = frozenset({"tidak", "tdk", "gak", "ga", "nggak", "enggak", "ngga", "no", "nope",
                      "bukan", "salah", "jangan", "tidak usah", "gak usah", "ga usah",
                      "bukan itu"})


def yes_or_no(text: str) -> str | None:
    """"yes" or "no" when the text is one of the ways people write it."""
    typed = normalize(text)
    if typed in YES_WORDS:
        return "yes"
    if typed in NO_WORDS:
        return "no"
    return None


# Number words typed alone: neither an option ("satu" never picks item 1, which the resident
# could not have meant by a word) nor a question to search for.
NUMBER_WORDS = frozenset({"nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh",
                          "delapan", "sembilan", "sepuluh", "zero", "one", "two", "three", "four",
                          "five", "six", "seven", "eight", "nine", "ten"})


def is_stray(text: str) -> bool:
    """Typed input with no words to understand: a lone number, emoji or punctuation mark, or a
    number word. At the menu it gets the menu again rather than a search or a staff hand-off."""
    words = normalize(text)
    return not any(ch.isalpha() for ch in words) or words in NUMBER_WORDS


def resolve_option(text: str, options: list[Option], *, cutoff: float = 85.0) -> Option | None:
    """Which offered option the resident meant by typing `text`, if any. Where "yes" and "no"
    are offered, the ways people write them count too ("iya", "gak", "bukan")."""
    if not options or not text:
        return None
    cleaned = normalize(text)
    answer = yes_or_no(cleaned)
    if answer is not None:
        for option in options:
            if option.id == answer:
                return option
    if cleaned.isdigit():
        n = int(cleaned)
        return options[n - 1] if 1 <= n <= len(options) else None
    labels = [normalize(o.label) for o in options]
    for option, label in zip(options, labels, strict=True):
        if cleaned == label:
            return option
    if len(cleaned) < 3:
        return None
    # The first word(s) of one label only: "lewati" for "Lewati foto", "kirim" for "Kirim
    # laporan".
    starting = [o for o, label in zip(options, labels, strict=True)
                if label.startswith(cleaned + " ")]
    if len(starting) == 1:
        return starting[0]
    best = process.extractOne(cleaned, labels, scorer=fuzz.ratio, score_cutoff=cutoff)
    if best is None:
        return None
    return options[best[2]]
