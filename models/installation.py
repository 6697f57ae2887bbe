"""Workspaces that installed Switchboard through OAuth (multi-workspace mode)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class Installation(Base):
    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(32), default="")
    team_id: Mapped[str] = mapped_column(String(32), default="")
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    # `fernet:…` (bot/core/secrets.py), which outgrows any token's own length; a value without
    # the prefix was stored before encryption.
    bot_token: Mapped[str | None] = mapped_column(Text)
    # slack_sdk's installation, its token fields encrypted the same way.
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OAuthState(Base):
    __tablename__ = "oauth_states"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
