"""Short codes in links: tracked link clicks, relay join codes, one-time invitation codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string

_B62 = string.digits + string.ascii_letters
_LOWER = string.ascii_lowercase + string.digits
SIGNATURE = 6

# A resident's join code through a relay: "j" + the relay's code, then optionally "-" + the
# campaign id in base 36. Fits Telegram's start parameter (64 chars of A-Za-z0-9_-).
JOIN_CODE = re.compile(r"^j([a-z0-9]{8})(?:-([0-9a-z]{1,12}))?$")
JOIN_TEXT = re.compile(r"^(?:gabung|join)?\s*(j[a-z0-9]{8}(?:-[0-9a-z]{1,12})?)\s*$",
                       re.IGNORECASE)
# A relay's "forwarded" answer where there are no buttons: "FW 123" (the delivery id).
FORWARD_TEXT = re.compile(r"^\s*fw\s*(\d{1,12})\s*$", re.IGNORECASE)
INVITE_PREFIX = "kl"
GROUP_PREFIX = "kim"


def b62(number: int) -> str:
    if number == 0:
        return "0"
    out = []
    while number:
        number, rest = divmod(number, 62)
        out.append(_B62[rest])
    return "".join(reversed(out))


def unb62(text: str) -> int | None:
    value = 0
    for ch in text:
        pos = _B62.find(ch)
        if pos < 0:
            return None
        value = value * 62 + pos
    return value


def new_salt() -> str:
    return secrets.token_hex(16)


def random_code(length: int = 8) -> str:
    return "".join(secrets.choice(_LOWER) for _ in range(length))


def _signature(salt: str, delivery_id: int) -> str:
    digest = hmac.new(salt.encode(), str(delivery_id).encode(), hashlib.sha256).digest()
    return b62(int.from_bytes(digest[:8], "big")).rjust(SIGNATURE, "0")[:SIGNATURE]


def click_code(salt: str, delivery_id: int) -> str:
    """An opaque code for one delivery's link: the id, signed with the campaign's salt."""
    return b62(delivery_id) + _signature(salt, delivery_id)


def click_delivery_id(code: str) -> int | None:
    """The delivery a click code claims to be for (check it with `click_code_valid`)."""
    if len(code) <= SIGNATURE or len(code) > 24:
        return None
    return unb62(code[:-SIGNATURE])


def click_code_valid(code: str, salt: str, delivery_id: int) -> bool:
    return hmac.compare_digest(code, click_code(salt, delivery_id))


def join_code(relay_code: str, campaign_id: int | None) -> str:
    if campaign_id is None:
        return f"j{relay_code}"
    return f"j{relay_code}-{_b36(campaign_id)}"


def parse_join_code(text: str) -> tuple[str, int | None] | None:
    """(relay code, campaign id or None) from a join code, or None."""
    found = JOIN_CODE.match(text.strip().lower())
    if found is None:
        return None
    campaign = int(found.group(2), 36) if found.group(2) else None
    return found.group(1), campaign


def _b36(number: int) -> str:
    digits = string.digits + string.ascii_lowercase
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def telegram_start_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def whatsapp_text_link(number: str, text: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    return f"https://wa.me/{digits}?text={text.replace(' ', '%20')}"
