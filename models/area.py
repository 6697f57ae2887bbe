"""Ownership directory: who owns a product area, feature, service, process or doc."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TeamScoped, Timestamped, UTCDateTime


class AreaKind(StrEnum):
    PRODUCT_AREA = "product_area"
    FEATURE = "feature"
    SERVICE = "service"
    PROCESS = "process"
    DOC = "doc"
    TEAM = "team"
    OTHER = "other"


class OwnerStatus(StrEnum):
    ACTIVE = "active"
    UNCONFIRMED = "unconfirmed"
    DEACTIVATED = "deactivated"
    MISSING = "missing"
    DISOWNED = "disowned"


class Area(TeamScoped, Timestamped, Base):
    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("team_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(32), default=AreaKind.PRODUCT_AREA)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String(32))
    team: Mapped[str | None] = mapped_column(String(200))
    backups: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str | None] = mapped_column(String(32))
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str] = mapped_column(String(32), default="manual")
    confirm_every_days: Mapped[int] = mapped_column(Integer, default=90)
    last_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_status: Mapped[str] = mapped_column(String(16), default=OwnerStatus.ACTIVE)
    confirm_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
