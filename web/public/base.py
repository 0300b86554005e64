"""What every public route shares: the language of the page, the headers of a public response
(cacheable, no cookies, no script), and a report's status as the public reads it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request

from bot.i18n import DEFAULT_LOCALE, LOCALES, TZ, _, normalize_locale
from bot.labels import status_label
from reports.lifecycle import Status
from reports.publishing import PublicReport, PublicStep, Stage

# Nothing runs on a public page: no script at all, styles and images from this server only.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


@dataclass(frozen=True, slots=True)
class Language:
    """The page's language, and whether the address chose it (then links keep `?lang=`)."""

    code: str
    explicit: bool


def accepted_language(header: str | None) -> str:
    """The best of our languages in an Accept-Language header ("en-US,en;q=0.9,id;q=0.8");
    Indonesian when it names none of them."""
    best, best_q = DEFAULT_LOCALE, 0.0
    for part in (header or "").split(",")[:20]:
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([^;]*)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                continue
        locale = normalize_locale(tag.strip())
        if locale is not None and quality > best_q:
            best, best_q = locale, quality
    return best


def language_of(request: Request) -> Language:
    asked = request.query_params.get("lang")
    if asked in LOCALES:
        return Language(asked, True)
    return Language(accepted_language(request.headers.get("accept-language")), False)


def public_headers(locale: str, max_age: int) -> dict[str, str]:
    """A public response: cacheable by browsers and shared caches, per language."""
    return {"Cache-Control": f"public, max-age={max_age}", "Content-Language": locale,
            "Vary": "Accept-Language", "Content-Security-Policy": CSP}


def public_status(view: PublicReport) -> str:
    """The status as the public reads it: a report still being checked says only that."""
    if view.stage == Stage.CHECKING:
        return _("Received, being checked")
    return status_label(view.status)


def step_label(step: PublicStep) -> str:
    return _("Received") if step.status == Status.SUBMITTED else status_label(step.status)


def rfc3339(moment: datetime | None) -> str | None:
    """A moment in the city's time with its offset: 2026-12-07T09:00:00+07:00."""
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None
