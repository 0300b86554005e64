"""Phone numbers in one form, E.164 ("+6281234567890"), whatever way they were written."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "ID"


def to_e164(raw: str | None, *, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164, or None when `raw` is not a possible phone number.

    Accepts "whatsapp:+62 812-3456-7890", "6281234567890" (a WhatsApp id, no plus),
    "081234567890" (national, read in `region`).
    """
    if not raw:
        return None
    text = raw.strip().removeprefix("whatsapp:").strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    if not text.startswith(("+", "0")) and len(digits) > 10:
        # WhatsApp ids (WaId) carry the country code without the plus sign.
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_code(e164: str) -> int | None:
    """The calling code of an E.164 number (62 for Indonesia), or None."""
    try:
        return phonenumbers.parse(e164, None).country_code
    except phonenumbers.NumberParseException:
        return None


def mask(e164: str) -> str:
    """A number fit for logs: the country code and the last three digits only."""
    if len(e164) <= 6:
        return "***"
    return f"{e164[:3]}…{e164[-3:]}"
