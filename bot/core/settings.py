"""Switchboard settings, read from the environment and `.env`."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SQLITE_DEFAULT = "sqlite+aiosqlite:///./switchboard.db"


def redact_url(url: str) -> str:
    """`postgresql://user:secret@host/db` → `postgresql://user:***@host/db`."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    database_url: str = SQLITE_DEFAULT
    # An unreachable or stalled database is told within seconds instead of the driver's own minute:
    # the admin API promises an answer within 5 s, so a stalled statement gives up after 4, leaving
    # the rest of the request its second. Slower statements count as an outage.
    database_connect_timeout_seconds: float = Field(default=2.0, gt=0, le=60)
    database_statement_timeout_seconds: float = Field(default=4.0, gt=0, le=3600)
    # How long a Slack listener may take before it must have acked: Slack gives up on the answer at
    # 3 s, network both ways included; a listener still working then is cancelled and the person
    # told to try again.
    slack_ack_budget_seconds: float = Field(default=2.0, gt=0, le=60)
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    admin_api_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # Slack user ids who act as workspace admins besides Slack's own admins and owners.
    switchboard_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Encrypts the installation tokens stored in the database; comma-separated to rotate keys.
    switchboard_secret_key: SecretStr | None = None
    switchboard_timezone: str = "UTC"
    switchboard_scheduler: Literal["on", "off"] = "on"
    feedback_channel: str | None = None
    feedback_emoji: str = "memo"
    # When the weekly feedback digest is posted, in SWITCHBOARD_TIMEZONE.
    feedback_digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    feedback_digest_time: str = "09:00"
    ownership_channel: str | None = None
    # YAML `handle: U012AB3CD` used to map CODEOWNERS/Backstage owners in imports (API and CLI).
    owners_handle_map: Path | None = None
    # Seconds between scheduler wake-ups; the database decides what is due.
    switchboard_tick_seconds: float = Field(default=15.0, gt=0, le=3600)
    # How long a claimed job (and each channel post of a release) stays with its process without a
    # heartbeat; renewed every third of it while the work runs, so a killed process's work is taken
    # over this long after its last heartbeat.
    switchboard_job_lease_seconds: float = Field(default=30.0, ge=3, le=300)
    # How long a message Slack cannot take right now (5xx, timeouts, 429) is retried, with capped
    # backoff, before it counts as failed (a release post, a ship notice, a standup prompt, an
    # ownership DM).
    switchboard_delivery_window_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    # Where work is tracked: each tracker's webhook secret (unset: its endpoint refuses everything).
    github_webhook_secret: SecretStr | None = None
    linear_webhook_secret: SecretStr | None = None
    jira_webhook_secret: SecretStr | None = None
    # Ship a theme as soon as every issue it is tracked in is closed, instead of with the release.
    ship_on_issue_close: bool = False
    # Who owns, and who approves, the draft announcement made from a published GitHub release.
    release_draft_owner: str | None = None
    release_draft_approver: str | None = None

    @field_validator("admin_api_tokens", "switchboard_admins", mode="before")
    @classmethod
    def _split_tokens(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith(("postgres://", "postgresql://")):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            return "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("must be a postgresql:// or sqlite:// URL")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("switchboard_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("github_webhook_secret", "linear_webhook_secret", "jira_webhook_secret")
    @classmethod
    def _blank_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("release_draft_owner", "release_draft_approver", mode="before")
    @classmethod
    def _slack_user_id(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip() or None
        if isinstance(value, str) and not re.fullmatch(r"[UW][A-Z0-9]{2,31}", value):
            raise ValueError("must be a Slack user id such as U012AB3CD")
        return value

    @field_validator("feedback_emoji")
    @classmethod
    def _emoji_name(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not name or " " in name:
            raise ValueError("must be an emoji name such as memo")
        return name

    @field_validator("feedback_digest_day", mode="before")
    @classmethod
    def _weekday(cls, value: object) -> object:
        return value.strip().lower()[:3] if isinstance(value, str) else value

    @field_validator("owners_handle_map")
    @classmethod
    def _readable_handle_map(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        from bot.ownership.importers import ImportFileError, load_handle_map

        try:
            load_handle_map(value.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ValueError(f"cannot read {value}: {exc.strerror}") from None
        except ImportFileError as exc:
            raise ValueError(f"{value}: {exc}") from None
        return value

    def handle_map(self) -> dict[str, str]:
        """The owner handle → Slack user id map from OWNERS_HANDLE_MAP (empty when unset)."""
        if self.owners_handle_map is None:
            return {}
        from bot.ownership.importers import load_handle_map

        return load_handle_map(self.owners_handle_map.read_text(encoding="utf-8"))

    @field_validator("feedback_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hour, _, minute = value.strip().partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError("must be a local time such as 09:00")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @field_validator("switchboard_secret_key")
    @classmethod
    def _secret_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            from bot.core.secrets import parse_secret_keys

            parse_secret_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _oauth_pair(self) -> Settings:
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise ValueError(f"{missing} is required when the other OAuth setting is set")
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # DATABASE_URL may carry a password; repr/str (and so logs) show it masked.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "database_url" else value

    @property
    def oauth_mode(self) -> bool:
        return bool(self.slack_client_id)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_slack(self) -> None:
        """Fail with one line when the settings needed to talk to Slack are absent."""
        if self.slack_signing_secret is None and not self.socket_mode:
            raise SettingsError("SLACK_SIGNING_SECRET is required (or SLACK_APP_TOKEN for Socket Mode)")
        if self.slack_bot_token is None and not self.oauth_mode:
            raise SettingsError(
                "SLACK_BOT_TOKEN is required (or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth)"
            )
        self.require_secret_key()

    def require_secret_key(self) -> None:
        """OAuth mode stores every workspace's token, and never without encrypting it."""
        if self.oauth_mode and self.switchboard_secret_key is None:
            raise SettingsError(
                "SWITCHBOARD_SECRET_KEY is required in OAuth mode: it encrypts the workspaces' tokens "
                "stored in the database (generate one with `switchboard secrets generate-key`)"
            )


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn validation errors into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        variable = "_".join(str(part) for part in error["loc"][:1]).upper() or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"{variable}: {message}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
