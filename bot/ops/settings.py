"""Settings from the environment (and an optional .env), under the names operators rely on."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
# What Telegram accepts as setWebhook's secret_token.
WEBHOOK_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    """Built once in the CLI; other packages receive plain values, never this object."""

    # An empty variable (as the example env file has) means "use the default".
    model_config = SettingsConfigDict(
        env_prefix="BRIDGES_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    telegram_token: SecretStr | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite:///bridges.db"
    tick_seconds: float = Field(default=5.0, gt=0, le=3600)
    log_level: str = "INFO"
    # `text` for people reading a terminal, `json` (one object per line) for log collectors.
    log_format: Literal["text", "json"] = "text"
    # `bridges run --webhook`: the public HTTPS URL Telegram posts updates to, and the
    # secret it sends back in X-Telegram-Bot-Api-Secret-Token so strangers get 403.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    # Where the webhook (and /healthz, /metrics) server listens.
    listen_host: str = "0.0.0.0"  # noqa: S104 - a server in a container listens on all interfaces
    listen_port: int = Field(default=8080, ge=1, le=65535)
    # Serve /healthz and /metrics on this port (as `--metrics-port`, which wins); unset: don't.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The bot's whole message budget across all its processes: Telegram's 30 a second,
    # up to 1,000 with paid broadcasts.
    send_per_second: float = Field(default=30.0, gt=0, le=1000)
    # When more learners are due than the budget serves at once, start up to this many
    # minutes before their time, earliest due first (0 = never early).
    send_early_minutes: float = Field(default=0.0, ge=0, le=120)
    # After this many lessons in a row without an answer, one gentle note, then a pause.
    auto_pause_after: int = Field(default=5, ge=1, le=365)


class SettingError(ValueError):
    """A setting a command needs is missing or malformed; the message says which, not its value."""


class TokenError(SettingError):
    """The token is missing or not shaped like one; says so without repeating it."""


def checked_token(settings: Settings) -> str:
    """The token, unwrapped once, for `bridges run` (the demo and tests never need one)."""
    if settings.telegram_token is None or not settings.telegram_token.get_secret_value().strip():
        raise TokenError(
            "BRIDGES_TELEGRAM_TOKEN is not set: put the token @BotFather gave you in the "
            "environment or in .env (see deploy/bridges.env.example)."
        )
    token = settings.telegram_token.get_secret_value().strip()
    if not TOKEN_SHAPE.match(token):
        raise TokenError(
            "BRIDGES_TELEGRAM_TOKEN does not look like a bot token (digits, a colon, then "
            "at least 20 letters, digits, - or _). Check for quotes or spaces."
        )
    return token
