"""The one Settings object: every `EMAS_` variable (or `.env` entry) the project reads."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

import content

DEV_SECRET_KEY = "dev-only-secret-key-change-me"
PLACEHOLDERS = {"", "changeme", "change-me", "secret", "placeholder", "xxx", "test", "token"}


class Settings(BaseSettings):
    """Configuration, read once from the environment (prefix `EMAS_`) or `.env`."""

    model_config = SettingsConfigDict(env_prefix="EMAS_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./data/emas.db"
    data_dir: Path = Path("./data")
    city: str = "binjai"
    content_dir: Path = Field(default_factory=lambda: content.ROOT)
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    # Signs console sessions' CSRF tokens and media links; production refuses the placeholder.
    secret_key: str = DEV_SECRET_KEY
    log_level: str = "INFO"
    # FAQ: how often (seconds) the server looks for edited articles and for answers given
    # with `emas faq answer`.
    faq_reload_seconds: float = 3.0
    faq_answer_poll_seconds: float = 5.0

    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    telegram_bot_username: str | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_whatsapp_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    # WhatsApp Content templates (ContentSid "HX..."), as JSON in the environment.
    # Message kind (e.g. "report_status", or "report_status:en" for one locale) -> the approved
    # template used outside the 24-hour window; its variables come from Reply.template_vars.
    twilio_templates: dict[str, str] = {}
    # Number of options -> an in-session template drawing them as quick-reply buttons (1-3) or a
    # list picker (1-10). Variables: "1" the text, "2" the list's button label, then per option
    # i (from 1) "{2i+1}" its title and "{2i+2}" its id. Without one, options are numbered.
    twilio_quick_reply_templates: dict[int, str] = {}
    twilio_list_picker_templates: dict[int, str] = {}

    # Limits residents meet while filing a report.
    max_photo_bytes: int = 10 * 1024 * 1024
    # Per account, against spam and runaway scripts (staff lift them for one person with
    # `emas report lift-limit`): reports filed per hour, and messages handled per minute.
    report_limit_per_hour: int = 5
    message_limit_per_minute: int = 30
    max_photos: int = 3
    draft_ttl_hours: int = 48
    # Open311 partners: requests one API key may post per hour (0: no limit).
    open311_posts_per_hour: int = 60

    # Broadcasts: platform limits per sender (messages per second), retries, approvals.
    broadcast_telegram_rate: float = 30.0
    broadcast_whatsapp_rate: float = 80.0
    broadcast_max_attempts: int = 5
    broadcast_require_approval: bool = False
    # A dispatcher silent for this long is presumed dead; its claimed deliveries go back.
    broadcast_lease_seconds: float = 30.0

    @model_validator(mode="after")
    def _refuse_placeholders(self) -> Settings:
        if self.public_url and self.telegram_token and not self.telegram_webhook_secret:
            raise ValueError("EMAS_TELEGRAM_WEBHOOK_SECRET is required when EMAS_PUBLIC_URL is set")
        if self.env != "production":
            return self
        if not self.public_url or not self.public_url.startswith("https://"):
            raise ValueError("EMAS_PUBLIC_URL must be an https:// URL in production")
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            raise ValueError("EMAS_SECRET_KEY must be set to a random value of 32 characters "
                             "or more in production")
        for name in ("telegram_token", "telegram_webhook_secret", "twilio_auth_token"):
            value = getattr(self, name)
            if value is not None and value.strip().lower() in PLACEHOLDERS:
                raise ValueError(f"EMAS_{name.upper()} is a placeholder; set a real secret")
        return self

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def whatsapp_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_whatsapp_from)

    @property
    def base_url(self) -> str:
        """Where people reach the web pages: EMAS_PUBLIC_URL, else this machine's address."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    @property
    def city_dir(self) -> Path:
        return self.content_dir / self.city

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def faq_dir(self) -> Path:
        return self.city_dir / "faq"

    @property
    def faq_reload_marker(self) -> Path:
        """Touched by `emas faq reload`; the server reloads the FAQ when it changes."""
        return self.data_dir / "faq.reload"


@lru_cache
def get_settings() -> Settings:
    """Settings for the process; tests build their own `Settings(...)` instead."""
    return Settings()
