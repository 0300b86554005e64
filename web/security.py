"""Headers every web response carries, and the console's CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: htmx is served from /static and told not to inject its
# indicator styles (see base.html's htmx-config).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # A login link is a secret in the address bar: it must never leave in a Referer.
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """ASGI middleware adding HEADERS (and HSTS behind https) to every HTTP response."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.extra = [*HEADERS]
        if https:
            self.extra.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _value in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      *(h for h in self.extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


def csrf_token(secret_key: str, session_id: str) -> str:
    """The form token of one console session: derived from its secret id, so it needs no
    storage and dies with the session."""
    return hmac.new(secret_key.encode(), b"csrf:" + session_id.encode(),
                    hashlib.sha256).hexdigest()[:40]


def csrf_ok(secret_key: str, session_id: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret_key, session_id),
                                               (given or "").strip())


class HideSecretPaths(logging.Filter):
    """Access-log lines show no login link, media token or Open311 api_key: a one-time login
    link in a log file would open the console to whoever reads it, a partner's key would post
    in its name."""

    SECRET = re.compile(r"^(/console/login/|/media/)[^?\s]+")
    API_KEY = re.compile(r"([?&]api_key=)[^&\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            hidden = self.API_KEY.sub(r"\1…", self.SECRET.sub(r"\1…", args[2]))
            if hidden != args[2]:
                record.args = (*args[:2], hidden, *args[3:])
        return True


def hide_secret_paths(logger_name: str = "uvicorn.access") -> None:
    """Put HideSecretPaths on the access log once (the server's start calls it)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, HideSecretPaths) for f in logger.filters):
        logger.addFilter(HideSecretPaths())
