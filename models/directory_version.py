"""A per-workspace counter bumped on every directory write, so replicas know when to re-index."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class DirectoryVersion(Base):
    __tablename__ = "directory_versions"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
