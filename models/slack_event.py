"""Slack deliveries already seen, so that retries never repeat a side effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class SlackDelivery(Base):
    """One row per Slack event_id or per natural key of an interaction."""

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
